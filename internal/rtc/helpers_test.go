package rtc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/stats"
)

// testEnv is a WebRTC server on loopback with its signalling on an HTTP
// test server.
type testEnv struct {
	srv   *Server
	hub   *hub.Hub
	stats *stats.Registry
	http  *httptest.Server
	logs  *syncBuffer

	mu    sync.Mutex
	cfg   conf.RTCServer
	vhost Vhost
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func defaultTestVhost() Vhost {
	return Vhost{
		Name: hub.DefaultVhost, Enabled: true, Stream: hub.DefaultStreamOptions(),
		RTC: conf.VhostRTC{Enabled: true, NACK: true, TWCC: true, STUNTimeout: 30 * time.Second, DTLSRole: "passive",
			KeepAVCNaluSEI: true, PLIForRTMP: 6 * time.Second, OpusBitrate: 48000, AACBitrate: 48000},
	}
}

// newTestEnv starts a server; edit changes the defaults (candidate
// 127.0.0.1, a random UDP port, the default vhost with rtc on).
func newTestEnv(t *testing.T, edit func(*conf.RTCServer, *Vhost)) *testEnv {
	t.Helper()
	baseline := runtime.NumGoroutine()
	e := &testEnv{logs: &syncBuffer{}, vhost: defaultTestVhost(), cfg: conf.RTCServer{
		Enabled: true, Listen: 0, Protocol: "udp", Candidate: "127.0.0.1", IPFamily: "ipv4", ECDSA: true, Encrypt: true,
		UseAutoDetectNetworkIP: true,
	}}
	if edit != nil {
		edit(&e.cfg, &e.vhost)
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.hub = hub.New(hub.Options{Logger: log})
	e.stats = stats.New(nil)
	hc := hooks.New(hooks.Options{ServerID: "vid-test", ServiceID: "svc", Log: log})
	e.srv = &Server{
		Hub: e.hub, Stats: e.stats, Hooks: hc, Log: log, Identity: Identity{ServerID: "vid-test", ServiceID: "svc", PID: 42},
		relayIdle: 300 * time.Millisecond,
		Vhost: func(string) (Vhost, bool) {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.vhost, true
		},
		Config: func() conf.RTCServer {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.cfg
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.srv.Start(ctx, e.cfg); err != nil {
		cancel()
		t.Fatal(err)
	}
	mux := httpx.NewMux()
	e.srv.Mount(mux)
	e.http = httptest.NewServer(httpx.CORS(true, mux))
	t.Cleanup(func() {
		e.http.Close()
		cancel()
		e.srv.Wait()
		hc.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs.String())
		}
		checkGoroutines(t, baseline)
	})
	return e
}

func (e *testEnv) setVhost(f func(*Vhost)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(&e.vhost)
}

// checkGoroutines fails when goroutines outlive the test.
func checkGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("goroutine leak: %d running, %d before\n%s", runtime.NumGoroutine(), baseline, buf)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newClientPC is a pion peer connection as a client would make it, with
// loopback candidates (pion skips them by default).
func newClientPC(t *testing.T, networks ...webrtc.NetworkType) *webrtc.PeerConnection {
	t.Helper()
	return newClientPCWith(t, nil, networks...)
}

// newClientPCWith is newClientPC with the client's settings changed by tweak.
func newClientPCWith(t *testing.T, tweak func(*webrtc.SettingEngine), networks ...webrtc.NetworkType) *webrtc.PeerConnection {
	t.Helper()
	if len(networks) == 0 {
		networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes(networks)
	if tweak != nil {
		tweak(&se)
	}
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
	return pc
}

// offer makes the client's offer with its candidates gathered.
func clientOffer(t *testing.T, pc *webrtc.PeerConnection) string {
	t.Helper()
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-done
	return pc.LocalDescription().SDP
}

// whip posts the offer of pc to url (WHIP or WHEP) and applies the answer;
// it returns the Location header.
func whip(t *testing.T, pc *webrtc.PeerConnection, url string) string {
	t.Helper()
	resp, err := http.Post(url, "application/sdp", strings.NewReader(clientOffer(t, pc)))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Content-Type") != "application/sdp" {
		t.Fatalf("POST %s: %s %q: %s", url, resp.Status, resp.Header.Get("Content-Type"), body)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		t.Fatalf("answer: %v\n%s", err, body)
	}
	return resp.Header.Get("Location")
}

// waitConnected waits for pc to connect.
func waitConnected(t *testing.T, pc *webrtc.PeerConnection) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		if time.Now().After(deadline) {
			t.Fatalf("client never connected: %s", pc.ConnectionState())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testPublisher sends synthetic H.264 (a keyframe every gop frames, or on
// PLI) and Opus at 25 fps.
type testPublisher struct {
	pc           *webrtc.PeerConnection
	video, audio *webrtc.TrackLocalStaticSample
	plis         chan struct{}
	pliCount     atomic.Int64
}

func newTestPublisher(t *testing.T, networks ...webrtc.NetworkType) *testPublisher {
	t.Helper()
	p := &testPublisher{pc: newClientPC(t, networks...), plis: make(chan struct{}, 16)}
	var err error
	p.video, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264}, "video", "test")
	if err != nil {
		t.Fatal(err)
	}
	p.audio, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "test")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := p.pc.AddTrack(p.video)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.pc.AddTrack(p.audio); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			pkts, _, err := vs.ReadRTCP()
			if err != nil {
				return
			}
			for _, pk := range pkts {
				if _, ok := pk.(*rtcp.PictureLossIndication); ok {
					p.pliCount.Add(1)
					select {
					case p.plis <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	return p
}

// opusSilence is a 20 ms Opus frame (CELT, fullband, silence).
var opusSilence = []byte{0xf8, 0xff, 0xfe}

// testFrame is the Annex-B access unit number n: a keyframe carries SPS
// and PPS; slices are large enough to need FU-A.
func testFrame(n int, key bool) []byte {
	var b []byte
	if key {
		for _, u := range [][]byte{testSPS, testPPS} {
			b = append(append(b, 0, 0, 0, 1), u...)
		}
		return append(append(b, 0, 0, 0, 1), testSlice(true, n, 4000)...)
	}
	return append(append(b, 0, 0, 0, 1), testSlice(false, n, 600+n%7*300)...)
}

// run sends frames until ctx ends: keyframes every gop frames and right
// after a PLI.
func (p *testPublisher) run(ctx context.Context, gop int) {
	t := time.NewTicker(40 * time.Millisecond)
	defer t.Stop()
	for n := 0; ; n++ {
		key := n%gop == 0
		select {
		case <-p.plis:
			key = true
		default:
		}
		_ = p.video.WriteSample(media.Sample{Data: testFrame(n, key), Duration: 40 * time.Millisecond})
		_ = p.audio.WriteSample(media.Sample{Data: opusSilence, Duration: 20 * time.Millisecond})
		_ = p.audio.WriteSample(media.Sample{Data: opusSilence, Duration: 20 * time.Millisecond})
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// frameNumber reads the number testSlice put in a slice.
func frameNumber(slice []byte) int {
	return int(slice[2]&0x7f)<<14 | int(slice[3]&0x7f)<<7 | int(slice[4]&0x7f)
}

// checkSlice reports whether a received slice is exactly what testSlice made.
func checkSlice(slice []byte) error {
	if len(slice) < 8 {
		return fmt.Errorf("slice of %d bytes", len(slice))
	}
	n := frameNumber(slice)
	if want := testSlice(slice[0] == 0x65, n, len(slice)); !bytes.Equal(slice, want) {
		return fmt.Errorf("slice of frame %d (%d bytes) is corrupt", n, len(slice))
	}
	return nil
}
