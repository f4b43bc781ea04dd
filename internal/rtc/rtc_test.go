package rtc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/conf"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/stats"
)

// waitPublishing waits until the hub stream has a publisher and its video
// sequence header.
func waitPublishing(t *testing.T, h *hub.Hub, key hub.Key) hub.Snapshot {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st := h.Stream(key); st != nil {
			if sn := st.Snapshot(); sn.Publishing && sn.VideoSH != nil {
				return sn
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s never published", key)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWHIPPublishWHEPPlay(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := newTestPublisher(t)
	whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=s1")
	waitConnected(t, pub.pc)
	go pub.run(ctx, 250) // a keyframe every 10 s: the player's comes from its PLI
	key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "s1"}
	sn := waitPublishing(t, e.hub, key)
	if sn.Publisher.Protocol != "rtc" || sn.Video == nil || sn.Video.Codec != av.CodecH264 || sn.Video.Width != 320 {
		t.Fatalf("stream snapshot %+v video %+v", sn, sn.Video)
	}
	if sn.AudioSH != nil {
		t.Fatal("without rtc_to_rtmp the stream must carry no audio")
	}

	time.Sleep(300 * time.Millisecond) // join mid-GOP
	play := newTestPlayer(t, true, true)
	loc := whip(t, play.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=s1")
	waitConnected(t, play.pc)
	play.waitFrames(t, 25, 5*time.Second)
	play.mu.Lock()
	firstKey, audio, frames, first, keyframes := play.firstKey, play.audio, play.frames, play.first, play.keyframes
	play.mu.Unlock()
	if !firstKey {
		t.Fatal("the player's first frame must be a keyframe")
	}
	if audio == 0 {
		t.Fatal("the player got no Opus")
	}
	// A second player shares the stream's RTP packetizer.
	play2 := newTestPlayer(t, false, true)
	whip(t, play2.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=s1")
	waitConnected(t, play2.pc)
	play2.waitFrames(t, 10, 5*time.Second)
	e.srv.mu.Lock()
	relays := len(e.srv.relays)
	e.srv.mu.Unlock()
	if relays != 1 {
		t.Fatalf("%d RTP relays for one stream and two players, want 1", relays)
	}
	t.Logf("player: %d frames from frame %d, %d keyframes, %d audio packets", frames, first, keyframes, audio)

	var types []stats.ClientType
	for _, c := range e.stats.Clients() {
		types = append(types, c.Type)
		if c.StreamURL != "/live/s1" || c.StreamID != sn.ID {
			t.Errorf("client %+v", c.Client)
		}
	}
	if len(types) != 3 || types[0] == types[1] && types[1] == types[2] {
		t.Fatalf("API clients %v, want an rtc-publish and two rtc-play", types)
	}

	// DELETE ends the player's session.
	req, _ := http.NewRequest(http.MethodDelete, e.http.URL+loc, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE %s: %v %v", loc, resp, err)
	}
	resp.Body.Close()
	waitFor(t, "the player's session to end", func() bool { return e.srv.Sessions() == 2 && len(e.stats.Clients()) == 2 })
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// playSessions returns the server's play sessions.
func (e *testEnv) sessionsOf(play bool) []*session {
	e.srv.mu.Lock()
	defer e.srv.mu.Unlock()
	var out []*session
	for _, ss := range e.srv.sessions {
		if ss.play == play {
			out = append(out, ss)
		}
	}
	return out
}

func TestNACKRecoversLoss(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, _ := e.srv.Addrs()

	// The publisher loses 5% of its RTP on the way in.
	pub := newTestPublisher(t)
	up := newUDPRelay(t, udp, 0.05, 0)
	whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=lossy&eip="+relayAddr(up))
	waitConnected(t, pub.pc)
	go pub.run(ctx, 25)
	waitPublishing(t, e.hub, hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "lossy"})

	// The player loses 5% on the way out.
	play := newTestPlayer(t, false, true)
	down := newUDPRelay(t, udp, 0, 0.05)
	whip(t, play.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=lossy&eip="+relayAddr(down))
	waitConnected(t, play.pc)
	play.waitFrames(t, 60, 10*time.Second)

	play.mu.Lock()
	frames, first, last := play.frames, play.first, play.last
	play.mu.Unlock()
	if missing := last - first + 1 - frames; missing > 0 {
		t.Errorf("the player lost %d of %d frames despite NACK", missing, last-first+1)
	}
	var retransmits, nacksIn, nacksOut int64
	for _, ss := range e.sessionsOf(true) {
		retransmits += ss.stats.retransmits.Load()
		nacksIn += ss.stats.nacksIn.Load()
	}
	for _, ss := range e.sessionsOf(false) {
		nacksOut += ss.stats.nacksOut.Load()
	}
	t.Logf("dropped up %d down %d; server sent %d NACKs, got %d NACKed packets, resent %d", up.dropped.Load(), down.dropped.Load(), nacksOut, nacksIn, retransmits)
	if down.dropped.Load() == 0 || retransmits == 0 || nacksIn == 0 {
		t.Fatal("the server resent nothing to the lossy player")
	}
	if up.dropped.Load() == 0 || nacksOut == 0 {
		t.Fatal("the server asked the lossy publisher for nothing")
	}
}

func relayAddr(r *udpRelay) string { return "127.0.0.1:" + strconv.Itoa(r.port()) }

func TestSessionTimeoutFreesEverything(t *testing.T) {
	e := newTestEnv(t, func(_ *conf.RTCServer, v *Vhost) { v.RTC.STUNTimeout = 3 * time.Second })
	udp, _ := e.srv.Addrs()
	baseline := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	pub := newTestPublisher(t)
	pr := newUDPRelay(t, udp, 0, 0)
	whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=t&eip="+relayAddr(pr))
	waitConnected(t, pub.pc)
	go pub.run(ctx, 25)
	key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "t"}
	waitPublishing(t, e.hub, key)
	play := newTestPlayer(t, true, true)
	vr := newUDPRelay(t, udp, 0, 0)
	whip(t, play.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=t&eip="+relayAddr(vr))
	waitConnected(t, play.pc)
	play.waitFrames(t, 5, 5*time.Second)

	// A session whose client never even connects ends too.
	ghost := newClientPC(t)
	if _, err := ghost.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(e.http.URL+"/rtc/v1/whep/?app=live&stream=t", "application/sdp", strings.NewReader(clientOffer(t, ghost)))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("ghost: %v %v", resp, err)
	}
	resp.Body.Close()
	ghost.Close() // it never applies the answer, so it never sends a STUN request

	start := time.Now()
	pr.blackhole.Store(true)
	vr.blackhole.Store(true)
	waitFor(t, "every session to time out", func() bool { return e.srv.Sessions() == 0 })
	if took := time.Since(start); took < 2*time.Second || took > 8*time.Second {
		t.Errorf("sessions ended after %v with stun_timeout 3s", took)
	}
	if e.hub.Stream(key) != nil && e.hub.Stream(key).Publishing() {
		t.Fatal("the stream is still published")
	}
	if n := len(e.stats.Clients()); n != 0 {
		t.Fatalf("%d clients left in the API", n)
	}
	cancel()
	pub.pc.Close()
	play.pc.Close()
	pr.close()
	vr.close()
	// The relay keeps the stream packetizer warm for relayIdle, then stops.
	waitFor(t, "the RTP relay to stop", func() bool {
		e.srv.mu.Lock()
		defer e.srv.mu.Unlock()
		return len(e.srv.relays) == 0
	})
	checkGoroutines(t, baseline)
}

// apiCall posts SRS's JSON signalling request and decodes the answer.
func apiCall(t *testing.T, url, streamURL, sdp string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"api": url, "tid": "1a2b3c4", "streamurl": streamURL, "clientip": nil, "sdp": sdp})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s %v", url, resp.Status, err)
	}
	return out
}

func TestJSONAPIPublishPlay(t *testing.T) {
	e := newTestEnv(t, func(_ *conf.RTCServer, v *Vhost) { v.RTC.PLIForRTMP = 500 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := newTestPublisher(t)
	ans := apiCall(t, e.http.URL+"/rtc/v1/publish/", "webrtc://127.0.0.1/live/api?token=x", clientOffer(t, pub.pc))
	sdp, _ := ans["sdp"].(string)
	sid, _ := ans["sessionid"].(string)
	if ans["code"] != 0.0 || ans["server"] != "vid-test" || ans["service"] != "svc" || ans["pid"] != "42" || !strings.Contains(sid, ":") {
		t.Fatalf("answer %v", ans)
	}
	if !strings.Contains(sdp, "a=ice-lite") || !strings.Contains(sdp, "127.0.0.1") || !strings.Contains(sdp, "a=setup:passive") {
		t.Fatalf("answer SDP:\n%s", sdp)
	}
	if err := pub.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, pub.pc)
	go pub.run(ctx, 25)
	sn := waitPublishing(t, e.hub, hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "api"})
	if sn.Publisher.Param != "?token=x&upstream=rtc" {
		t.Errorf("publish param %q, want upstream=rtc added", sn.Publisher.Param)
	}
	plis := pub.pliCount.Load()
	time.Sleep(1200 * time.Millisecond)
	if got := pub.pliCount.Load() - plis; got < 2 {
		t.Errorf("%d PLIs in 1.2 s with pli_for_rtmp 0.5 s", got)
	}

	play := newTestPlayer(t, true, true)
	ans = apiCall(t, e.http.URL+"/rtc/v1/play/", "webrtc://127.0.0.1/live/api", clientOffer(t, play.pc))
	if ans["code"] != 0.0 {
		t.Fatalf("play answer %v", ans)
	}
	if err := play.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans["sdp"].(string)}); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, play.pc)
	play.waitFrames(t, 10, 5*time.Second)

	// Errors are {"code":400}, whatever failed.
	for _, c := range []struct{ path, url, sdp string }{
		{"/rtc/v1/play/", "webrtc://127.0.0.1/live/api", "not sdp"},
		{"/rtc/v1/publish/", "webrtc://127.0.0.1/live/api", clientOffer(t, newTestPublisher(t).pc)}, // busy
		{"/rtc/v1/publish/", "nonsense", chromeOffer},
	} {
		if got := apiCall(t, e.http.URL+c.path, c.url, c.sdp); len(got) != 1 || got["code"] != 400.0 {
			t.Errorf("%s %s: %v, want {code:400}", c.path, c.url, got)
		}
	}
}

func TestRefusals(t *testing.T) {
	e := newTestEnv(t, nil)
	post := func(path, sdp string) (int, error) {
		resp, err := http.Post(e.http.URL+path, "application/sdp", strings.NewReader(sdp))
		if err != nil {
			return 0, err // SRS closes a refused WHIP request without an answer
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	offerPlay := func() string {
		return clientOffer(t, newTestPlayer(t, true, true).pc)
	}

	// An RTMP publisher: WebRTC players are refused while rtmp_to_rtc is off.
	key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "fromrtmp"}
	rp, err := e.hub.Publish(key, hub.ClientInfo{ID: "rtmp1", Protocol: "rtmp"}, hub.DefaultStreamOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	if code, err := post("/rtc/v1/whep/?app=live&stream=fromrtmp", offerPlay()); err == nil {
		t.Fatalf("WHEP of an RTMP stream with rtmp_to_rtc off answered %d", code)
	}
	// Nor may a WebRTC publisher take it (stream busy).
	if code, err := post("/rtc/v1/whip/?app=live&stream=fromrtmp", clientOffer(t, newTestPublisher(t).pc)); err == nil {
		t.Fatalf("WHIP of a busy stream answered %d", code)
	}
	e.setVhost(func(v *Vhost) { v.RTC.RTMPToRTC = true })
	if code, err := post("/rtc/v1/whep/?app=live&stream=fromrtmp", offerPlay()); err != nil || code != http.StatusCreated {
		t.Fatalf("WHEP with rtmp_to_rtc on: %d %v", code, err)
	}

	// Security denies, and a vhost with rtc off refuses everyone.
	e.setVhost(func(v *Vhost) {
		v.Security = conf.Security{Enabled: true, Rules: []conf.SecurityRule{{Action: conf.Deny, Scope: conf.ScopePlay, All: true}}}
	})
	if code, err := post("/rtc/v1/whep/?app=live&stream=x", offerPlay()); err == nil {
		t.Fatalf("WHEP denied by security answered %d", code)
	}
	e.setVhost(func(v *Vhost) { v.Security = conf.Security{}; v.RTC.Enabled = false })
	if code, err := post("/rtc/v1/whep/?app=live&stream=x", offerPlay()); err == nil {
		t.Fatalf("WHEP with rtc off answered %d", code)
	}
	if !strings.Contains(e.logs.String(), "code 5021") || !strings.Contains(e.logs.String(), "rtmp_to_rtc is off") ||
		!strings.Contains(e.logs.String(), "stream busy") || !strings.Contains(e.logs.String(), "code 1053") {
		t.Fatalf("the refusals are not all logged with their reason")
	}
}

func TestICEOverTCP(t *testing.T) {
	e := newTestEnv(t, func(c *conf.RTCServer, _ *Vhost) { c.TCP.Enabled, c.TCP.Listen, c.Protocol = true, 0, "tcp" })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := newTestPublisher(t, webrtc.NetworkTypeTCP4)
	whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=tcp")
	waitConnected(t, pub.pc)
	go pub.run(ctx, 25)
	waitPublishing(t, e.hub, hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "tcp"})
	pair, err := pub.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Remote.Protocol != webrtc.ICEProtocolTCP {
		t.Fatalf("selected pair %v, %v; want TCP", pair, err)
	}
}

func TestNATRebindingKeepsSession(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, _ := e.srv.Addrs()
	pub := newTestPublisher(t)
	whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=nat")
	waitConnected(t, pub.pc)
	go pub.run(ctx, 25)
	waitPublishing(t, e.hub, hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "nat"})
	// Consent checks every 500 ms, as browsers send them often (pion's
	// default is one only after 2 s without any packet sent).
	play := newTestPlayerWith(t, false, true, func(se *webrtc.SettingEngine) {
		se.SetICETimeouts(5*time.Second, 25*time.Second, 500*time.Millisecond)
	})
	nat := newUDPRelay(t, udp, 0, 0)
	whip(t, play.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=nat&eip="+relayAddr(nat))
	waitConnected(t, play.pc)
	play.waitFrames(t, 10, 5*time.Second)
	nat.rebind(t)
	rebound := time.Now()
	play.mu.Lock()
	before := play.frames
	play.mu.Unlock()
	play.waitFrames(t, before+25, 10*time.Second)
	t.Logf("25 frames %v after the rebinding", time.Since(rebound).Round(time.Millisecond))
	if n := len(e.sessionsOf(true)); n != 1 {
		t.Fatalf("%d play sessions after the rebinding, want the same one", n)
	}
}

func TestFeedbackFollowsVhost(t *testing.T) {
	for _, c := range []struct{ nack, twcc bool }{{true, true}, {false, false}} {
		t.Run(fmt.Sprintf("nack=%v twcc=%v", c.nack, c.twcc), func(t *testing.T) {
			e := newTestEnv(t, func(_ *conf.RTCServer, v *Vhost) { v.RTC.NACK, v.RTC.TWCC = c.nack, c.twcc })
			play := newTestPlayer(t, true, true)
			whip(t, play.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=fb")
			sdp := play.pc.RemoteDescription().SDP
			if got := strings.Contains(sdp, " nack\r\n"); got != c.nack {
				t.Errorf("nack in the answer: %v\n%s", got, sdp)
			}
			if got := strings.Contains(sdp, "transport-cc"); got != c.twcc {
				t.Errorf("transport-cc in the answer: %v\n%s", got, sdp)
			}
			if !strings.Contains(sdp, "nack pli") || !strings.Contains(sdp, "ccm fir") || !strings.Contains(sdp, "a=ice-lite") {
				t.Errorf("PLI, FIR and ICE-lite must always be there:\n%s", sdp)
			}
		})
	}
}

// TestKeyframeRequestsCoalesce: requests inside the 500 ms interval are
// not dropped (a player joining just after the publisher's first PLI
// would wait for the encoder's next keyframe) but sent once when the
// interval ends.
func TestKeyframeRequestsCoalesce(t *testing.T) {
	// No periodic PLI (pli_for_rtmp) during the test.
	e := newTestEnv(t, func(_ *conf.RTCServer, v *Vhost) { v.RTC.PLIForRTMP = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := newTestPublisher(t)
	whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=pli")
	waitConnected(t, pub.pc)
	go pub.run(ctx, 250)
	key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "pli"}
	waitPublishing(t, e.hub, key)
	time.Sleep(keyframeInterval) // past the publish's own request
	before := pub.pliCount.Load()
	for range 4 {
		e.srv.requestKeyframe(key) // the first is sent, the others wait
	}
	deadline := time.Now().Add(3 * time.Second)
	for pub.pliCount.Load()-before < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(2 * keyframeInterval) // nothing more may follow
	if got := pub.pliCount.Load() - before; got != 2 {
		t.Errorf("%d PLIs for 4 requests in one interval, want 2 (one now, one at the interval's end)", got)
	}
}
