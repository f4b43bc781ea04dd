package relay

import (
	"context"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/hub"
)

func packet(t *testing.T, kind av.Kind, ts uint32, payload []byte) *av.Packet {
	t.Helper()
	p, err := av.NewPacket(kind, ts, payload)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKey(t *testing.T) {
	main := hub.Key{Vhost: "v", App: "live", Name: "cam"}
	if k := Key(main, TS); k.Variant != "ts" || k.Name != "cam" {
		t.Errorf("main stream: %+v", k)
	}
	hidden := main
	hidden.Variant = "srt"
	if k := Key(hidden, TS); k.Variant != "srt.ts" {
		t.Errorf("hidden stream: %+v", k)
	}
}

func TestOptions(t *testing.T) {
	src := hub.StreamOptions{GopCache: true, GopCacheMaxFrames: 9, QueueLength: 5 * time.Second, StartBack: time.Second}
	if o := Options(src, TS); !o.GopCache || o.GopCacheMaxFrames != 9 || o.StartBack != 0 || o.QueueLength != src.QueueLength {
		t.Errorf("ts: %+v", o)
	}
	if o := Options(src, AAC); o.GopCache || o.StartBack != time.Second {
		t.Errorf("aac: %+v", o)
	}
}

// TestOneRelayPerStream: two protocols asking for the same format share
// one relay, whose viewers get the muxed bytes; it stops once unwatched.
func TestOneRelayPerStream(t *testing.T) {
	h := hub.New(hub.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &Relays{Hub: h, Context: func() context.Context { return ctx }, idle: 60 * time.Millisecond}
	src := hub.Key{Vhost: "__defaultVhost__", App: "live", Name: "cam"}
	pub, err := h.Publish(src, hub.ClientInfo{ID: "pub", Protocol: "rtmp"}, hub.DefaultStreamOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

	key := r.Ensure(src, AAC, hub.DefaultStreamOptions(), "http-aac")
	if again := r.Ensure(src, AAC, hub.DefaultStreamOptions(), "srt-aac"); again != key {
		t.Fatalf("second Ensure: %+v, want %+v", again, key)
	}
	r.mu.Lock()
	running := len(r.running)
	r.mu.Unlock()
	if running != 1 {
		t.Fatalf("%d relays running, want 1", running)
	}
	if who := h.Stream(key).Snapshot().Publisher.Protocol; who != "http-aac" {
		t.Errorf("the relay publishing is %q, want the first one's", who)
	}

	// The relay reads the source from where it joins: wait for it.
	for deadline := time.Now().Add(2 * time.Second); h.Stream(src).Snapshot().Viewers == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the relay never started reading the source")
		}
		time.Sleep(5 * time.Millisecond)
	}
	v := h.Play(key, hub.ClientInfo{ID: "viewer"}, Options(hub.DefaultStreamOptions(), AAC), hub.ViewerOptions{Jitter: hub.JitterOff})
	for i, p := range []*av.Packet{
		packet(t, av.KindAudio, 0, []byte{0xaf, 0x00, 0x12, 0x10}),
		packet(t, av.KindAudio, 0, []byte{0xaf, 0x01, 0x21, 0x22}),
		packet(t, av.KindAudio, 23, []byte{0xaf, 0x01, 0x21, 0x22}),
	} {
		if err := pub.Write(p); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	buf := make([]hub.Delivery, 8)
	rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer rcancel()
	n, err := v.Read(rctx, buf)
	if err != nil || n == 0 {
		t.Fatalf("viewer read: %d %v", n, err)
	}
	if b := buf[0].Packet.Payload; len(b) < 9 || b[0] != 0xff || b[1]&0xf0 != 0xf0 {
		t.Fatalf("not ADTS: % x", b)
	}
	v.Close()

	done := make(chan struct{})
	go func() { r.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the relay kept running with nobody watching")
	}
}
