package rtc

import (
	"strings"
	"testing"

	"github.com/castd/castd/internal/conf"
)

func TestPlainRTPRefused(t *testing.T) {
	e := newTestEnv(t, nil)
	playOffer := func() string { return clientOffer(t, newTestPlayer(t, true, true).pc) }

	// Players asking for plain RTP are refused: {"code":400} from the
	// JSON API, a closed connection from WHEP.
	for _, c := range []struct{ api, streamURL string }{
		{"/rtc/v1/play/?encrypt=false", "webrtc://127.0.0.1/live/p"},
		{"/rtc/v1/play/", "webrtc://127.0.0.1/live/p?encrypt=false"},
		{"/rtc/v1/play/?dtls=false", "webrtc://127.0.0.1/live/p"},
	} {
		if ans := apiCall(t, e.http.URL+c.api, c.streamURL, playOffer()); len(ans) != 1 || ans["code"] != 400.0 {
			t.Errorf("%s %s: %v, want {code:400}", c.api, c.streamURL, ans)
		}
	}
	for _, path := range []string{"/rtc/v1/whep/?app=live&stream=p&encrypt=false", "/rtc/v1/whip/?app=live&stream=p&action=play&encrypt=false"} {
		if !refused(t, e.http.URL+path, playOffer()) {
			t.Errorf("%s was answered", path)
		}
	}
	// The same requests with SRTP, or a publisher's encrypt=false (SRS
	// publishes with SRTP whatever it says), are answered.
	if ans := apiCall(t, e.http.URL+"/rtc/v1/play/?encrypt=true", "webrtc://127.0.0.1/live/p", playOffer()); ans["code"] != 0.0 {
		t.Errorf("play with encrypt=true: %v", ans)
	}
	if refused(t, e.http.URL+"/rtc/v1/whep/?app=live&stream=p", playOffer()) {
		t.Error("WHEP without encrypt=false was refused")
	}
	whip(t, newTestPublisher(t).pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=p&encrypt=false")

	logs := e.logs.String()
	if n := strings.Count(logs, "players asking for plain RTP"); n != 1 {
		t.Errorf("the plain RTP explanation is logged %d times, want once", n)
	}
	if n := strings.Count(logs, errPlaintext.Error()); n != 5 {
		t.Errorf("%d refusals logged with their reason, want 5", n)
	}
}

func TestEncryptOffWarnsOnce(t *testing.T) {
	e := newTestEnv(t, func(c *conf.RTCServer, _ *Vhost) { c.Encrypt = false })
	e.reload(t, func(c *conf.RTCServer) { c.Listen = freePort(t, "udp4") })
	// Sessions still work, with SRTP.
	play := newTestPlayer(t, false, true)
	whip(t, play.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=e")
	waitConnected(t, play.pc)
	if n := strings.Count(e.logs.String(), "rtc_server.encrypt off is not supported"); n != 1 {
		t.Fatalf("encrypt off warned %d times, want once", n)
	}
}
