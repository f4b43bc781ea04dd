package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/conf"
)

// rtcTestConfig is a config with the HTTP API on apiPort and WebRTC on
// UDP rtcPort (enabled or not).
func rtcTestConfig(t *testing.T, dir string, apiPort, rtcPort int, enabled string) *conf.Config {
	t.Helper()
	text := fmt.Sprintf(`
listen 127.0.0.1:%d;
daemon off;
pid %s/castd.pid;
grace_start_wait 100;
grace_final_wait 0;
http_api { enabled on; listen 127.0.0.1:%d; }
rtc_server { enabled %s; listen %d; candidate 127.0.0.1; }
vhost __defaultVhost__ { rtc { enabled on; } }
`, dvrFreePort(t), dir, apiPort, enabled, rtcPort)
	cfg, err := conf.Parse("test.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func rtcFreePort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

func udpPortInUse(port int) bool {
	pc, err := net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", port))
	if err != nil {
		return true
	}
	pc.Close()
	return false
}

// whipPublish connects a pion client that publishes (without sending
// media) to stream; it returns an error when castd refuses it.
func whipPublish(t *testing.T, apiPort int, stream string) (*webrtc.PeerConnection, error) {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264}, "video", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	url := fmt.Sprintf("http://127.0.0.1:%d/rtc/v1/whip/?app=live&stream=%s", apiPort, stream)
	resp, err := http.Post(url, "application/sdp", strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		return nil, err // refused: closed without an answer
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHIP: %s %s", resp.Status, answer)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		if time.Now().After(deadline) {
			t.Fatalf("the WebRTC client never connected: %s", pc.ConnectionState())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return pc, nil
}

// kickAll ends every client, as the API's kick does.
func kickAll(t *testing.T, s *Server) {
	t.Helper()
	for _, c := range s.stats.Clients() {
		if err := s.stats.Kick(c.ID); err != nil {
			t.Fatal(err)
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startRTCServer(t *testing.T, cfg *conf.Config) (*Server, context.CancelFunc) {
	t.Helper()
	s := New(cfg, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		s.Wait()
	})
	return s, cancel
}

// TestDrainWaitsForRTCSessions: a graceful quit counts WebRTC sessions as
// connections: it waits for them to end, and refuses new ones meanwhile.
func TestDrainWaitsForRTCSessions(t *testing.T) {
	api := dvrFreePort(t)
	s, cancel := startRTCServer(t, rtcTestConfig(t, t.TempDir(), api, rtcFreePort(t), "on"))
	if _, err := whipPublish(t, api, "drain"); err != nil {
		t.Fatal(err)
	}
	drained := make(chan struct{})
	go func() {
		s.Drain(context.Background())
		close(drained)
	}()
	select {
	case <-drained:
		t.Fatal("Drain returned while a WebRTC session was live")
	case <-time.After(600 * time.Millisecond): // grace_start_wait is 100 ms
	}
	if s.rtc.Sessions() != 1 {
		t.Fatalf("%d WebRTC sessions during the graceful quit, want the live one", s.rtc.Sessions())
	}
	kickAll(t, s)
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
		t.Fatal("Drain did not return after the last WebRTC session ended")
	}
	cancel()
}

// TestReloadRTCServer: a reload moves the WebRTC port without a restart
// (the old one stays open for the session on it), and turning WebRTC off
// refuses new sessions.
func TestReloadRTCServer(t *testing.T) {
	dir, api := t.TempDir(), dvrFreePort(t)
	oldPort, newPort := rtcFreePort(t), rtcFreePort(t)
	s, _ := startRTCServer(t, rtcTestConfig(t, dir, api, oldPort, "on"))
	if _, err := whipPublish(t, api, "a"); err != nil {
		t.Fatal(err)
	}

	s.Reload(rtcTestConfig(t, dir, api, newPort, "on"))
	if got := s.Addrs()["rtc"]; len(got) != 1 || got[0].(*net.UDPAddr).Port != newPort {
		t.Fatalf("rtc addresses %v after moving the port to %d", got, newPort)
	}
	if !udpPortInUse(oldPort) {
		t.Fatal("the old WebRTC port closed under its live session")
	}
	pc, err := whipPublish(t, api, "b")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || int(pair.Remote.Port) != newPort {
		t.Fatalf("the new session's pair %v, %v; want server port %d", pair, err, newPort)
	}

	s.Reload(rtcTestConfig(t, dir, api, newPort, "off"))
	if got, ok := s.Addrs()["rtc"]; ok {
		t.Fatalf("rtc addresses %v with WebRTC off", got)
	}
	if _, err := whipPublish(t, api, "c"); err == nil {
		t.Fatal("a WebRTC publisher was accepted after WebRTC was turned off")
	}
	kickAll(t, s)
	waitUntil(t, "both WebRTC ports to close with their sessions", func() bool {
		return s.rtc.Sessions() == 0 && !udpPortInUse(oldPort) && !udpPortInUse(newPort)
	})
}
