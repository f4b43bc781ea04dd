package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
)

// Packet makers: minimal valid FLV bodies.
func vsh(ts uint32) *av.Packet {
	return mustPkt(av.KindVideo, ts, []byte{0x17, 0x00, 0, 0, 0, 1, 0x64})
}
func vkey(ts uint32) *av.Packet   { return mustPkt(av.KindVideo, ts, []byte{0x17, 0x01, 0, 0, 0, 0xAA}) }
func vint(ts uint32) *av.Packet   { return mustPkt(av.KindVideo, ts, []byte{0x27, 0x01, 0, 0, 0, 0xBB}) }
func ash(ts uint32) *av.Packet    { return mustPkt(av.KindAudio, ts, []byte{0xAF, 0x00, 0x12, 0x10}) }
func araw(ts uint32) *av.Packet   { return mustPkt(av.KindAudio, ts, []byte{0xAF, 0x01, 0x21}) }
func meta(ts uint32) *av.Packet   { return mustPkt(av.KindData, ts, []byte{0x02, 0x00, 0x0a, 'o', 'n'}) }
func vp6key(ts uint32) *av.Packet { return mustPkt(av.KindVideo, ts, []byte{0x14, 0x00}) }

func mustPkt(k av.Kind, ts uint32, b []byte) *av.Packet {
	p, err := av.NewPacket(k, ts, b)
	if err != nil {
		panic(err)
	}
	return p
}

var key = Key{Vhost: DefaultVhost, App: "live", Name: "cam"}

func newTestHub(t *testing.T) *Hub {
	t.Helper()
	return New(Options{IdleTimeout: 50 * time.Millisecond})
}

func publish(t *testing.T, h *Hub, opt StreamOptions) *Publisher {
	t.Helper()
	p, err := h.Publish(key, ClientInfo{ID: "pub00001", Protocol: "rtmp"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func write(t *testing.T, p *Publisher, pkts ...*av.Packet) {
	t.Helper()
	for _, pk := range pkts {
		if err := p.Write(pk); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll reads whatever is available right now (with a short deadline).
func readAll(t *testing.T, v *Viewer) []Delivery {
	t.Helper()
	var got []Delivery
	buf := make([]Delivery, 16)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		n, err := v.Read(ctx, buf)
		cancel()
		got = append(got, buf[:n]...)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return got
			}
			t.Fatalf("read: %v", err)
		}
	}
}

func describe(ds []Delivery) string {
	var parts []string
	for _, d := range ds {
		p := d.Packet
		name := p.Kind.String()
		switch {
		case p.SequenceHeader:
			name += "-sh"
		case p.Kind == av.KindVideo && p.Keyframe:
			name += "-key"
		}
		parts = append(parts, fmt.Sprintf("%s@%d", name, p.Timestamp))
	}
	return strings.Join(parts, " ")
}

func TestLiveViewerGetsEverythingInOrder(t *testing.T) {
	h := newTestHub(t)
	v := h.Play(key, ClientInfo{ID: "v1"}, DefaultStreamOptions(), ViewerOptions{Jitter: JitterOff})
	defer v.Close()
	p := publish(t, h, DefaultStreamOptions())
	write(t, p, meta(0), ash(0), vsh(0), vkey(0), araw(10), vint(40))
	got := describe(readAll(t, v))
	want := "data@0 audio-sh@0 video-sh@0 video-key@0 audio@10 video@40"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestLateJoinerGetsHeadersThenLastGOP(t *testing.T) {
	h := newTestHub(t)
	p := publish(t, h, DefaultStreamOptions())
	write(t, p, meta(0), ash(0), vsh(0), vkey(0), araw(20), vint(40), vkey(80), araw(100), vint(120))
	v := h.Play(key, ClientInfo{ID: "late"}, DefaultStreamOptions(), ViewerOptions{Jitter: JitterOff})
	defer v.Close()
	got := describe(readAll(t, v))
	want := "data@0 audio-sh@0 video-sh@0 video-key@80 audio@100 video@120"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestGOPCacheRules(t *testing.T) {
	cases := []struct {
		name string
		opt  StreamOptions
		pkts []*av.Packet
		want string // what a late joiner gets after the headers
	}{
		{
			name: "pure audio caches nothing",
			opt:  DefaultStreamOptions(),
			pkts: []*av.Packet{ash(0), araw(10), araw(20)},
			want: "audio-sh@0",
		},
		{
			name: "gop_cache off starts live",
			opt:  StreamOptions{GopCache: false, QueueLength: 30 * time.Second},
			pkts: []*av.Packet{vsh(0), vkey(0), vint(40)},
			want: "video-sh@0",
		},
		{
			name: "max frames drops the cache",
			opt:  StreamOptions{GopCache: true, GopCacheMaxFrames: 3, QueueLength: 30 * time.Second},
			pkts: []*av.Packet{vsh(0), vkey(0), vint(40), vint(80), vint(120)},
			want: "video-sh@0",
		},
		{
			name: "max frames not reached keeps it",
			opt:  StreamOptions{GopCache: true, GopCacheMaxFrames: 3, QueueLength: 30 * time.Second},
			pkts: []*av.Packet{vsh(0), vkey(0), vint(40), vint(80)},
			want: "video-sh@0 video-key@0 video@40 video@80",
		},
		{
			name: "video codecs the cache cannot parse are ignored",
			opt:  DefaultStreamOptions(),
			pkts: []*av.Packet{vp6key(0), vp6key(40)},
			want: "",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newTestHub(t)
			p := publish(t, h, c.opt)
			write(t, p, c.pkts...)
			v := h.Play(key, ClientInfo{ID: "late"}, c.opt, ViewerOptions{Jitter: JitterOff})
			defer v.Close()
			if got := describe(readAll(t, v)); got != c.want {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestGOPCacheClearsAfter115AudioPackets(t *testing.T) {
	h := newTestHub(t)
	p := publish(t, h, DefaultStreamOptions())
	write(t, p, vsh(0), vkey(0))
	for i := 1; i <= pureAudioGuessCount+1; i++ {
		write(t, p, araw(uint32(i*23)))
	}
	if sn := p.Stream().Snapshot(); sn.GOPPackets != 0 {
		t.Fatalf("GOP cache should be empty after %d audio packets, holds %d", pureAudioGuessCount+1, sn.GOPPackets)
	}
	// The next keyframe restarts it.
	write(t, p, vkey(5000))
	if sn := p.Stream().Snapshot(); sn.GOPPackets != 1 {
		t.Fatalf("GOP cache should restart at the keyframe, holds %d", sn.GOPPackets)
	}
}

func TestSecondPublisherIsBusy(t *testing.T) {
	h := newTestHub(t)
	p := publish(t, h, DefaultStreamOptions())
	_, err := h.Publish(key, ClientInfo{ID: "pub00002", Protocol: "rtmp"}, DefaultStreamOptions())
	if !errors.Is(err, ErrStreamBusy) {
		t.Fatalf("second publish: %v, want ErrStreamBusy", err)
	}
	if !strings.Contains(err.Error(), "pub00001") {
		t.Fatalf("busy error must name the holder: %v", err)
	}
	p.Close()
	p2, err := h.Publish(key, ClientInfo{ID: "pub00002"}, DefaultStreamOptions())
	if err != nil {
		t.Fatalf("publish after unpublish: %v", err)
	}
	p2.Close()
	if err := p.Write(vkey(0)); !errors.Is(err, ErrUnpublished) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestRepublishKeepsRTMPViewerAndEndsHTTPViewer(t *testing.T) {
	h := newTestHub(t)
	rtmp := h.Play(key, ClientInfo{ID: "rtmp"}, DefaultStreamOptions(), ViewerOptions{Jitter: JitterFull})
	defer rtmp.Close()
	httpv := h.Play(key, ClientInfo{ID: "http"}, DefaultStreamOptions(), ViewerOptions{Jitter: JitterFull, StopOnUnpublish: true})
	defer httpv.Close()

	p := publish(t, h, DefaultStreamOptions())
	write(t, p, vsh(0), vkey(1000), vint(1040))
	p.Close()

	// The HTTP viewer drains what was sent, then ends.
	buf := make([]Delivery, 16)
	n, err := httpv.Read(context.Background(), buf)
	if err != nil || n != 3 {
		t.Fatalf("http viewer first read: n=%d err=%v", n, err)
	}
	if _, err := httpv.Read(context.Background(), buf); err != io.EOF {
		t.Fatalf("http viewer after unpublish: %v, want EOF", err)
	}

	p2 := publish(t, h, DefaultStreamOptions())
	write(t, p2, vsh(0), vkey(0), vint(40))
	got := readAll(t, rtmp)
	if len(got) != 6 {
		t.Fatalf("rtmp viewer should see both publishes, got %s", describe(got))
	}
	// Full jitter keeps the timeline increasing across the republish.
	for i := 1; i < len(got); i++ {
		if got[i].Timestamp < got[i-1].Timestamp {
			t.Fatalf("timestamps go back across republish: %v", got)
		}
	}
	p2.Close()
}

func TestUnpublishClearsHeadersForLaterViewers(t *testing.T) {
	h := newTestHub(t)
	keep := h.Play(key, ClientInfo{ID: "keep"}, DefaultStreamOptions(), ViewerOptions{})
	defer keep.Close()
	p := publish(t, h, DefaultStreamOptions())
	write(t, p, meta(0), ash(0), vsh(0), vkey(0))
	p.Close()
	v := h.Play(key, ClientInfo{ID: "after"}, DefaultStreamOptions(), ViewerOptions{})
	defer v.Close()
	if got := readAll(t, v); len(got) != 0 {
		t.Fatalf("a viewer joining an unpublished stream got stale packets: %s", describe(got))
	}
}

func TestSlowViewerSkipsToNewestKeyframeWithBoundedMemory(t *testing.T) {
	h := newTestHub(t)
	opt := StreamOptions{GopCache: true, GopCacheMaxFrames: 2500, QueueLength: 2 * time.Second}
	p := publish(t, h, opt)
	slow := h.Play(key, ClientInfo{ID: "slow"}, opt, ViewerOptions{Jitter: JitterOff})
	defer slow.Close()
	write(t, p, ash(0), vsh(0))
	// 60 s of 25 fps video with a keyframe every second, never read.
	ts := uint32(0)
	for i := 0; i < 1500; i++ {
		if i%25 == 0 {
			write(t, p, vkey(ts))
		} else {
			write(t, p, vint(ts))
		}
		ts += 40
	}
	if n := p.Stream().ringLen(); n > 2*25+60 {
		t.Fatalf("ring holds %d packets; queue_length 2s at 25 fps should bound it near 50", n)
	}
	got := readAll(t, slow)
	if slow.Drops() == 0 || slow.Skips() != 1 {
		t.Fatalf("drops=%d skips=%d, want drops>0 and one skip", slow.Drops(), slow.Skips())
	}
	if packets, skips := h.ViewerDrops(); packets != slow.Drops() || skips != 1 {
		t.Fatalf("hub totals: %d packets, %d skips; the viewer counted %d", packets, skips, slow.Drops())
	}
	want := "audio-sh@0 video-sh@0 video-key@59000"
	if d := describe(got); !strings.HasPrefix(d, want) {
		t.Fatalf("after a skip: %s\nwant prefix %s", d, want)
	}
}

func TestRingBoundedWithoutGOP(t *testing.T) {
	h := newTestHub(t)
	opt := StreamOptions{GopCache: true, QueueLength: time.Second}
	p := publish(t, h, opt)
	for i := 0; i < 10000; i++ {
		write(t, p, araw(uint32(i*23)))
	}
	if n := p.Stream().ringLen(); n > 50 {
		t.Fatalf("pure audio ring holds %d packets for a 1 s queue", n)
	}
}

func TestMergedWriteBatches(t *testing.T) {
	h := newTestHub(t)
	p := publish(t, h, DefaultStreamOptions())
	v := h.Play(key, ClientInfo{ID: "mw"}, DefaultStreamOptions(), ViewerOptions{Jitter: JitterOff, MWLatency: 150 * time.Millisecond, MWMsgs: 8})
	defer v.Close()
	buf := make([]Delivery, 128)
	write(t, p, vsh(0), vkey(0))
	if n, err := v.Read(context.Background(), buf); err != nil || n != 2 {
		t.Fatalf("first read must not wait: n=%d err=%v", n, err)
	}
	start := time.Now()
	// One burst soon after the read starts waiting: spaced writes can
	// straddle the 150 ms window on a loaded machine.
	go func() {
		time.Sleep(5 * time.Millisecond)
		for i := 1; i <= 5; i++ {
			_ = p.Write(vint(uint32(i * 10)))
		}
	}()
	n, err := v.Read(context.Background(), buf)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 100*time.Millisecond {
		t.Fatalf("merged write returned after %v, want about 150ms", el)
	}
	if n < 4 {
		t.Fatalf("merged write returned %d packets, want the batch", n)
	}
}

func TestReadHonoursContext(t *testing.T) {
	h := newTestHub(t)
	v := h.Play(key, ClientInfo{ID: "ctx"}, DefaultStreamOptions(), ViewerOptions{})
	defer v.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := v.Read(ctx, make([]Delivery, 8))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("read returned %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("read did not return on cancel")
	}
}

func TestIdleStreamIsFreed(t *testing.T) {
	removed := make(chan string, 1)
	h := New(Options{IdleTimeout: 30 * time.Millisecond, Events: Events{Removed: func(s *Stream) { removed <- s.ID }}})
	p, err := h.Publish(key, ClientInfo{ID: "p"}, DefaultStreamOptions())
	if err != nil {
		t.Fatal(err)
	}
	id := p.Stream().ID
	if h.StreamByID(id) == nil {
		t.Fatal("stream not found by id")
	}
	v := h.Play(key, ClientInfo{ID: "v"}, DefaultStreamOptions(), ViewerOptions{})
	p.Close()
	time.Sleep(60 * time.Millisecond)
	if h.Stream(key) == nil {
		t.Fatal("stream freed while a viewer is attached")
	}
	v.Close()
	select {
	case got := <-removed:
		if got != id {
			t.Fatalf("removed %s, want %s", got, id)
		}
	case <-time.After(time.Second):
		t.Fatal("idle stream not freed")
	}
	if h.Stream(key) != nil || h.StreamByID(id) != nil {
		t.Fatal("freed stream still listed")
	}
}

func TestHoldKeepsStream(t *testing.T) {
	h := New(Options{IdleTimeout: 20 * time.Millisecond})
	p, _ := h.Publish(key, ClientInfo{ID: "p"}, DefaultStreamOptions())
	release := h.Hold(p.Stream())
	p.Close()
	time.Sleep(60 * time.Millisecond)
	if h.Stream(key) == nil {
		t.Fatal("held stream freed")
	}
	release()
	release() // idempotent
	deadline := time.Now().Add(time.Second)
	for h.Stream(key) != nil {
		if time.Now().After(deadline) {
			t.Fatal("released stream not freed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEventsFire(t *testing.T) {
	var mu sync.Mutex
	var log []string
	h := New(Options{Events: Events{
		Published:   func(s *Stream) { mu.Lock(); log = append(log, "pub "+s.Key.String()); mu.Unlock() },
		Unpublished: func(s *Stream) { mu.Lock(); log = append(log, "unpub "+s.Key.String()); mu.Unlock() },
	}})
	p, _ := h.Publish(Key{Vhost: "v.com", App: "a", Name: "s"}, ClientInfo{}, DefaultStreamOptions())
	p.Close()
	p.Close()
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(log, ","); got != "pub v.com/a/s,unpub v.com/a/s" {
		t.Fatalf("events: %s", got)
	}
}

func TestConcurrentFanOut(t *testing.T) {
	h := newTestHub(t)
	p := publish(t, h, DefaultStreamOptions())
	const viewers, packets = 40, 2000
	var wg sync.WaitGroup
	errs := make(chan error, viewers)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < viewers; i++ {
		v := h.Play(key, ClientInfo{ID: fmt.Sprint(i)}, DefaultStreamOptions(), ViewerOptions{Jitter: JitterOff, StopOnUnpublish: true})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer v.Close()
			buf := make([]Delivery, 32)
			var last int64 = -1
			count := 0
			for {
				n, err := v.Read(ctx, buf)
				for _, d := range buf[:n] {
					if int64(d.Timestamp) <= last {
						errs <- fmt.Errorf("viewer saw %d after %d", d.Timestamp, last)
						return
					}
					last = int64(d.Timestamp)
					count++
				}
				if err == io.EOF {
					if count != packets {
						errs <- fmt.Errorf("viewer got %d packets, want %d", count, packets)
					}
					return
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	write(t, p, vkey(0))
	for i := 1; i < packets; i++ {
		write(t, p, vint(uint32(i)))
	}
	p.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestKeyString(t *testing.T) {
	if got := (Key{Vhost: DefaultVhost, App: "live", Name: "s"}).String(); got != "/live/s" {
		t.Fatal(got)
	}
	if got := (Key{Vhost: "a.com", App: "live/x", Name: "s"}).String(); got != "a.com/live/x/s" {
		t.Fatal(got)
	}
}

// BenchmarkFanOutRead measures one viewer reading packets already in the
// ring: steady state must allocate nothing per packet.
func BenchmarkFanOutRead(b *testing.B) {
	h := New(Options{})
	p, _ := h.Publish(key, ClientInfo{}, DefaultStreamOptions())
	pkts := make([]*av.Packet, 64)
	for i := range pkts {
		if i == 0 {
			pkts[i] = vkey(uint32(i * 10))
		} else {
			pkts[i] = vint(uint32(i * 10))
		}
	}
	const nViewers = 100
	viewers := make([]*Viewer, nViewers)
	for i := range viewers {
		viewers[i] = h.Play(key, ClientInfo{}, DefaultStreamOptions(), ViewerOptions{})
	}
	buf := make([]Delivery, 128)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pk := pkts[i%len(pkts)]
		q := *pk
		q.Timestamp = uint32(i * 10)
		_ = p.Write(&q) // the publisher's own packet allocation is not per viewer
		for _, v := range viewers {
			if _, err := v.Read(ctx, buf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func TestSkipToLiveJumpsToNewerKeyframeOnly(t *testing.T) {
	h := newTestHub(t)
	p := publish(t, h, DefaultStreamOptions())
	v := h.Play(key, ClientInfo{ID: "p"}, DefaultStreamOptions(), ViewerOptions{Jitter: JitterOff})
	defer v.Close()
	write(t, p, vsh(0), vkey(0), vint(40))
	readAll(t, v)
	// No newer keyframe: wait for the next one (the viewer may have lost
	// frames, e.g. a batch dropped while paused).
	write(t, p, vint(80))
	v.SkipToLive()
	if got := describe(readAll(t, v)); got != "video-sh@0" {
		t.Fatalf("without a newer keyframe: %s", got)
	}
	// A newer keyframe exists: jump to it, headers first.
	write(t, p, vint(120), vkey(160), vint(200))
	v.SkipToLive()
	if got := describe(readAll(t, v)); got != "video-sh@0 video-key@160 video@200" {
		t.Fatalf("after a newer keyframe: %s", got)
	}
	if v.Drops() != 0 {
		t.Fatalf("a requested skip is not a drop: %d", v.Drops())
	}
}

func TestEnsureGivesAnIDAndFreesUnusedStreams(t *testing.T) {
	h := New(Options{IdleTimeout: 20 * time.Millisecond})
	s := h.Ensure(key, DefaultStreamOptions())
	if s.ID == "" || h.Stream(key) != s {
		t.Fatal("Ensure did not create the stream")
	}
	p, err := h.Publish(key, ClientInfo{ID: "p"}, DefaultStreamOptions())
	if err != nil || p.Stream() != s {
		t.Fatalf("publish after Ensure: %v, same stream %v", err, p.Stream() == s)
	}
	p.Close()
	h.Ensure(Key{Vhost: DefaultVhost, App: "live", Name: "unused"}, DefaultStreamOptions())
	deadline := time.Now().Add(time.Second)
	for len(h.Streams()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("unused streams not freed: %d left", len(h.Streams()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStartBackForAudioMounts(t *testing.T) {
	h := newTestHub(t)
	opt := StreamOptions{GopCache: true, QueueLength: 30 * time.Second, StartBack: 100 * time.Millisecond}
	p := publish(t, h, opt)
	for i := 0; i < 20; i++ {
		write(t, p, araw(uint32(i*23)))
	}
	v := h.Play(key, ClientInfo{ID: "fc"}, opt, ViewerOptions{Jitter: JitterOff})
	defer v.Close()
	// The newest is at 437 ms: the viewer starts at the packets within 100 ms of it.
	if got := describe(readAll(t, v)); got != "audio@345 audio@368 audio@391 audio@414 audio@437" {
		t.Fatalf("fast cache start: %s", got)
	}
}

// TestJoinedAndCountViewers: the Joined event names each viewer as it
// attaches, and CountViewers counts the viewers a filter keeps (an edge
// counts players, not its HLS muxer).
func TestJoinedAndCountViewers(t *testing.T) {
	var joined []string
	h := New(Options{IdleTimeout: 50 * time.Millisecond, Events: Events{Joined: func(s *Stream, who ClientInfo) {
		joined = append(joined, s.Key.Name+"/"+who.Protocol)
	}}})
	key := Key{Vhost: DefaultVhost, App: "live", Name: "s"}
	a := h.Play(key, ClientInfo{ID: "a", Protocol: "rtmp"}, DefaultStreamOptions(), ViewerOptions{})
	b := h.Play(key, ClientInfo{ID: "b", Protocol: "hls"}, DefaultStreamOptions(), ViewerOptions{})
	players := func(c ClientInfo) bool { return c.Protocol != "hls" }
	if got := strings.Join(joined, ","); got != "s/rtmp,s/hls" {
		t.Errorf("joined %q", got)
	}
	st := h.Stream(key)
	if st.CountViewers(players) != 1 || st.CountViewers(func(ClientInfo) bool { return true }) != 2 {
		t.Errorf("counts %d/%d", st.CountViewers(players), st.CountViewers(func(ClientInfo) bool { return true }))
	}
	a.Close()
	if st.CountViewers(players) != 0 {
		t.Error("a closed viewer is still counted")
	}
	b.Close()
}
