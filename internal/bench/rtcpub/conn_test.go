package rtcpub

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/bench/benchtest"
	"github.com/castd/castd/internal/bench/failure"
)

// whipServer is a WHIP endpoint backed by pion: it answers each offer with
// a receive-only peer connection and counts the RTP packets of each kind.
type whipServer struct {
	t        *testing.T
	api      *webrtc.API
	mu       sync.Mutex
	pcs      []*webrtc.PeerConnection
	video    atomic.Int64
	audio    atomic.Int64
	deletes  atomic.Int64
	offer    atomic.Value // the last offer's SDP
	readers  sync.WaitGroup
	mimeSeen sync.Map
}

func newWHIPServer(t *testing.T) (*whipServer, *httptest.Server) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	w := &whipServer{t: t, api: webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))}
	srv := httptest.NewServer(w)
	t.Cleanup(func() {
		srv.Close()
		w.closeAll()
		w.readers.Wait()
	})
	return w, srv
}

func (w *whipServer) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodDelete {
		w.deletes.Add(1)
		return
	}
	offer, _ := io.ReadAll(r.Body)
	w.offer.Store(string(offer))
	pc, err := w.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		w.t.Error(err)
		return
	}
	w.mu.Lock()
	w.pcs = append(w.pcs, pc)
	w.mu.Unlock()
	pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		w.readers.Add(1)
		defer w.readers.Done()
		w.mimeSeen.Store(track.Codec().MimeType, true)
		n := &w.video
		if track.Kind() == webrtc.RTPCodecTypeAudio {
			n = &w.audio
		}
		for {
			if _, _, err := track.ReadRTP(); err != nil {
				return
			}
			n.Add(1)
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		w.t.Errorf("offer: %v", err)
		return
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		w.t.Error(err)
		return
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		w.t.Error(err)
		return
	}
	<-gathered
	rw.Header().Set("Location", "/session/1")
	rw.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(rw, pc.LocalDescription().SDP)
}

func (w *whipServer) closeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, pc := range w.pcs {
		_ = pc.Close()
	}
}

// quickAPI is NewAPI's setup with ICE timeouts short enough for a test to
// see a connection fail when its server goes away.
func quickAPI(t *testing.T) *webrtc.API {
	t.Helper()
	me, err := publisherCodecs()
	if err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(500*time.Millisecond, time.Second, 200*time.Millisecond)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
}

func TestDialSendClose(t *testing.T) {
	baseline := runtime.NumGoroutine()
	w, srv := newWHIPServer(t)
	api := quickAPI(t)
	ep, err := ParseURL(srv.URL + "/whip")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, cctx, api, srv.Client(), ep, true, "1")
	if err != nil {
		t.Fatal(err)
	}
	src := testLoop(t)
	s := NewSender(c.Video, c.Audio, src.NALULengthSize)
	deadline := time.Now().Add(10 * time.Second)
	for loop := uint32(0); w.video.Load() < 8 || w.audio.Load() < 6; loop++ {
		if time.Now().After(deadline) {
			t.Fatalf("the server got %d video and %d audio packets", w.video.Load(), w.audio.Load())
		}
		batch, payloads := batchOf(t, src, loop*80, time.Now().UnixNano())
		if _, _, err := s.Send(batch, payloads); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, mime := range []string{webrtc.MimeTypeH264, webrtc.MimeTypeOpus} {
		if _, ok := w.mimeSeen.Load(mime); !ok {
			t.Errorf("no %s track", mime)
		}
	}
	// The offer has only what a publisher sends.
	if offer, _ := w.offer.Load().(string); !strings.Contains(offer, "H264/90000") || !strings.Contains(offer, "opus/48000/2") ||
		strings.Contains(offer, "VP8") || strings.Contains(offer, "AV1") {
		t.Errorf("offer:\n%s", offer)
	}
	if c.Failed() != nil || c.Context().Err() != nil {
		t.Errorf("a live connection: failed %v, context %v", c.Failed(), c.Context().Err())
	}
	c.Close()
	if w.deletes.Load() != 1 || c.Failed() != nil {
		t.Errorf("after Close: %d DELETEs, failed %v", w.deletes.Load(), c.Failed())
	}

	// The server going away ends the connection's context, as failed.
	c, err = Dial(ctx, cctx, api, srv.Client(), ep, false, "2")
	if err != nil {
		t.Fatal(err)
	}
	if c.Audio != nil {
		t.Error("a video-only connection has an audio track")
	}
	w.closeAll()
	select {
	case <-c.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the connection never noticed the server leaving")
	}
	if err := c.Failed(); failure.KindOf(err) != failure.EOF {
		t.Errorf("Failed() = %v", err)
	}
	c.Close()
	srv.Close()
	w.readers.Wait()
	benchtest.CheckGoroutines(t, baseline)
}

func TestDialRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	api, err := NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ep, _ := ParseURL(srv.URL + "/whip")
	if _, err := Dial(ctx, ctx, api, srv.Client(), ep, true, "1"); failure.KindOf(err) != failure.HTTPStatus {
		t.Errorf("404: %v", err)
	}
	// A server that never answers: the connect context bounds the wait.
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	ep, _ = ParseURL(hang.URL + "/whip")
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, cctx, api, hang.Client(), ep, true, "1"); failure.KindOf(err) != failure.Timeout || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("no answer: %v", err)
	}
}
