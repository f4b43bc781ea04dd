package rtc

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
)

// reload changes the running rtc_server as a SIGHUP would.
func (e *testEnv) reload(t *testing.T, edit func(*conf.RTCServer)) {
	t.Helper()
	e.mu.Lock()
	edit(&e.cfg)
	cfg := e.cfg
	e.mu.Unlock()
	if err := e.srv.Reload(cfg); err != nil {
		t.Fatalf("reload: %v", err)
	}
}

// freePort finds a port nothing listens on (network "udp4" or "tcp4").
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "tcp4" {
		ln, err := net.Listen(network, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
	pc, err := net.ListenPacket(network, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// portInUse reports whether castd still holds a port (binding it fails).
func portInUse(network string, port int) bool {
	addr := "0.0.0.0:" + strconv.Itoa(port)
	if network == "tcp4" {
		ln, err := net.Listen(network, addr)
		if err != nil {
			return true
		}
		ln.Close()
		return false
	}
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		return true
	}
	pc.Close()
	return false
}

func portOf(a net.Addr) int {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.Port
	case *net.TCPAddr:
		return a.Port
	}
	return 0
}

// remotePort is the server port a client's ICE selected.
func remotePort(t *testing.T, pc *webrtc.PeerConnection) int {
	t.Helper()
	pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("selected pair %v, %v", pair, err)
	}
	return int(pair.Remote.Port)
}

// refused posts a WHIP/WHEP offer and reports whether castd closed the
// request without an answer, as SRS does when it refuses one.
func refused(t *testing.T, url, offer string) bool {
	t.Helper()
	resp, err := http.Post(url, "application/sdp", strings.NewReader(offer))
	if err != nil {
		return true
	}
	resp.Body.Close()
	return false
}

// deleteSession ends a session by its WHIP Location.
func deleteSession(t *testing.T, base, location string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, base+location, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE %s: %v %v", location, resp, err)
	}
	resp.Body.Close()
}

func (p *testPlayer) frameCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frames
}

func TestReloadMovesUDPPort(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, _ := e.srv.Addrs()
	oldPort := portOf(udp)
	pub := newTestPublisher(t)
	pubLoc := whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=mv")
	waitConnected(t, pub.pc)
	go pub.run(ctx, 25)
	waitPublishing(t, e.hub, hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "mv"})
	old := newTestPlayer(t, false, true)
	oldLoc := whip(t, old.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=mv")
	waitConnected(t, old.pc)
	old.waitFrames(t, 5, 5*time.Second)

	newPort := freePort(t, "udp4")
	e.reload(t, func(c *conf.RTCServer) { c.Listen = newPort })
	if udp, _ := e.srv.Addrs(); portOf(udp) != newPort {
		t.Fatalf("media port %v after a reload to %d", udp, newPort)
	}
	if !portInUse("udp4", oldPort) {
		t.Fatal("the old port closed while sessions still use it")
	}
	// The old sessions go on on the old port...
	old.waitFrames(t, old.frameCount()+10, 5*time.Second)
	if p := remotePort(t, old.pc); p != oldPort {
		t.Fatalf("the old player moved to port %d", p)
	}
	// ...and a new one gets the new port.
	fresh := newTestPlayer(t, false, true)
	whip(t, fresh.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=mv")
	sdp := fresh.pc.RemoteDescription().SDP
	if !strings.Contains(sdp, " "+strconv.Itoa(newPort)+" typ host") || strings.Contains(sdp, " "+strconv.Itoa(oldPort)+" typ host") {
		t.Fatalf("the new session's candidates are not on port %d:\n%s", newPort, sdp)
	}
	waitConnected(t, fresh.pc)
	fresh.waitFrames(t, 5, 5*time.Second)
	if p := remotePort(t, fresh.pc); p != newPort {
		t.Fatalf("the new player uses port %d, want %d", p, newPort)
	}

	// The old port closes with its last session.
	deleteSession(t, e.http.URL, oldLoc)
	waitFor(t, "the old player's session to end", func() bool { return e.srv.Sessions() == 2 })
	if !portInUse("udp4", oldPort) {
		t.Fatal("the old port closed while the publisher still uses it")
	}
	deleteSession(t, e.http.URL, pubLoc)
	waitFor(t, "the old port to close", func() bool { return !portInUse("udp4", oldPort) })
	if !portInUse("udp4", newPort) {
		t.Fatal("the new port closed")
	}
}

func TestReloadMovesTCPPort(t *testing.T) {
	e := newTestEnv(t, func(c *conf.RTCServer, _ *Vhost) { c.TCP.Enabled, c.TCP.Listen, c.Protocol = true, 0, "tcp" })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, tcp := e.srv.Addrs()
	oldTCP := portOf(tcp)
	pub := newTestPublisher(t, webrtc.NetworkTypeTCP4)
	whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=t1")
	waitConnected(t, pub.pc)
	go pub.run(ctx, 25)
	waitPublishing(t, e.hub, hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "t1"})

	newTCP := freePort(t, "tcp4")
	e.reload(t, func(c *conf.RTCServer) { c.TCP.Listen = newTCP })
	udp2, tcp2 := e.srv.Addrs()
	if portOf(tcp2) != newTCP || portOf(udp2) != portOf(udp) {
		t.Fatalf("ports udp %v tcp %v after moving TCP to %d (UDP was %v)", udp2, tcp2, newTCP, udp)
	}
	pub2 := newTestPublisher(t, webrtc.NetworkTypeTCP4)
	whip(t, pub2.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=t2")
	waitConnected(t, pub2.pc)
	go pub2.run(ctx, 25)
	waitPublishing(t, e.hub, hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "t2"})
	if p := remotePort(t, pub2.pc); p != newTCP {
		t.Fatalf("the new publisher uses TCP port %d, want %d", p, newTCP)
	}
	if p := remotePort(t, pub.pc); p != oldTCP || !portInUse("tcp4", oldTCP) {
		t.Fatalf("the old publisher is on port %d (want %d, still open)", p, oldTCP)
	}
	// TCP off: new sessions are refused (protocol tcp), the live ones go on.
	e.reload(t, func(c *conf.RTCServer) { c.TCP.Enabled = false })
	if _, tcp := e.srv.Addrs(); tcp != nil {
		t.Fatalf("TCP port %v after turning TCP off", tcp)
	}
	if !refused(t, e.http.URL+"/rtc/v1/whip/?app=live&stream=t3", clientOffer(t, newTestPublisher(t, webrtc.NetworkTypeTCP4).pc)) {
		t.Fatal("a TCP-only publisher was accepted with TCP off")
	}
	if n := e.srv.Sessions(); n != 2 || !portInUse("tcp4", newTCP) || !portInUse("tcp4", oldTCP) {
		t.Fatalf("%d sessions left; TCP ports in use: %v %v", n, portInUse("tcp4", oldTCP), portInUse("tcp4", newTCP))
	}
}

func TestReloadCandidate(t *testing.T) {
	e := newTestEnv(t, nil)
	offer := func() string {
		pc := newTestPlayer(t, false, true).pc
		ans := apiCall(t, e.http.URL+"/rtc/v1/play/", "webrtc://127.0.0.1/live/c", clientOffer(t, pc))
		sdp, _ := ans["sdp"].(string)
		return sdp
	}
	if sdp := offer(); !strings.Contains(sdp, " 127.0.0.1 ") {
		t.Fatalf("answer before the reload:\n%s", sdp)
	}
	e.reload(t, func(c *conf.RTCServer) { c.Candidate = "127.0.0.2" })
	if sdp := offer(); !strings.Contains(sdp, " 127.0.0.2 ") || strings.Contains(sdp, " 127.0.0.1 ") {
		t.Fatalf("answer after moving the candidate to 127.0.0.2:\n%s", sdp)
	}
}

func TestReloadDisablesAndEnables(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	udp, _ := e.srv.Addrs()
	port := portOf(udp)
	pub := newTestPublisher(t)
	pubLoc := whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=off")
	waitConnected(t, pub.pc)
	go pub.run(ctx, 25)
	waitPublishing(t, e.hub, hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "off"})
	play := newTestPlayer(t, false, true)
	playLoc := whip(t, play.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=off")
	waitConnected(t, play.pc)
	play.waitFrames(t, 5, 5*time.Second)

	e.reload(t, func(c *conf.RTCServer) { c.Enabled = false })
	if udp, tcp := e.srv.Addrs(); udp != nil || tcp != nil {
		t.Fatalf("ports %v %v with WebRTC off", udp, tcp)
	}
	if !refused(t, e.http.URL+"/rtc/v1/whep/?app=live&stream=off", clientOffer(t, newTestPlayer(t, false, true).pc)) {
		t.Fatal("WHEP accepted with rtc_server off")
	}
	ans := apiCall(t, e.http.URL+"/rtc/v1/play/", "webrtc://127.0.0.1/live/off", clientOffer(t, newTestPlayer(t, false, true).pc))
	if len(ans) != 1 || ans["code"] != 400.0 {
		t.Fatalf("JSON play with rtc_server off: %v, want {code:400}", ans)
	}
	if !strings.Contains(e.logs.String(), "code 5021") {
		t.Fatal("the refusal is not logged as RtcDisabled (5021)")
	}
	play.waitFrames(t, play.frameCount()+10, 5*time.Second) // the live sessions go on
	if !portInUse("udp4", port) || e.srv.Sessions() != 2 {
		t.Fatalf("sessions %d, port in use %v, after turning WebRTC off", e.srv.Sessions(), portInUse("udp4", port))
	}

	// On again: the port that is still open serves new sessions too.
	e.reload(t, func(c *conf.RTCServer) { c.Enabled = true })
	if udp, _ := e.srv.Addrs(); portOf(udp) != port {
		t.Fatalf("port %v after turning WebRTC on again, want %d", udp, port)
	}
	play2 := newTestPlayer(t, false, true)
	play2Loc := whip(t, play2.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=off")
	waitConnected(t, play2.pc)
	play2.waitFrames(t, 5, 5*time.Second)

	// Off again: the port closes once the last session ends.
	e.reload(t, func(c *conf.RTCServer) { c.Enabled = false })
	for _, loc := range []string{playLoc, play2Loc, pubLoc} {
		deleteSession(t, e.http.URL, loc)
	}
	waitFor(t, "the sessions to end and the port to close", func() bool { return e.srv.Sessions() == 0 && !portInUse("udp4", port) })
}

func TestStopAcceptingKeepsLiveSessions(t *testing.T) {
	e := newTestEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := newTestPublisher(t)
	pubLoc := whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=q")
	waitConnected(t, pub.pc)
	go pub.run(ctx, 25)
	waitPublishing(t, e.hub, hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "q"})
	play := newTestPlayer(t, false, true)
	playLoc := whip(t, play.pc, e.http.URL+"/rtc/v1/whep/?app=live&stream=q")
	waitConnected(t, play.pc)
	play.waitFrames(t, 5, 5*time.Second)

	e.srv.StopAccepting()
	e.reload(t, func(c *conf.RTCServer) { c.Enabled = true }) // a reload does not undo a graceful quit
	if !refused(t, e.http.URL+"/rtc/v1/whep/?app=live&stream=q", clientOffer(t, newTestPlayer(t, false, true).pc)) {
		t.Fatal("a new player was accepted during a graceful quit")
	}
	ans := apiCall(t, e.http.URL+"/rtc/v1/publish/", "webrtc://127.0.0.1/live/q2", clientOffer(t, newTestPublisher(t).pc))
	if ans["code"] != 400.0 {
		t.Fatalf("a new publisher during a graceful quit: %v", ans)
	}
	play.waitFrames(t, play.frameCount()+10, 5*time.Second)
	if n := e.srv.Sessions(); n != 2 {
		t.Fatalf("%d sessions during the graceful quit, want the 2 live ones", n)
	}
	deleteSession(t, e.http.URL, playLoc)
	deleteSession(t, e.http.URL, pubLoc)
	waitFor(t, "the live sessions to end", func() bool { return e.srv.Sessions() == 0 })
}
