package dash

import (
	"context"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/hub"
)

// egressHarness runs an Egress on a hub, as the server wires it, with the
// files in memory and the dash_dispose waits fired by the test.
type egressHarness struct {
	t      *testing.T
	hub    *hub.Hub
	eg     *Egress
	store  *memStore
	waits  chan disposeWait
	cancel context.CancelFunc

	mu  sync.Mutex
	set Settings
}

// disposeWait is one dash_dispose wait the egress started.
type disposeWait struct {
	d    time.Duration
	fire chan time.Time
}

var testKey = hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "s"}

func newEgressHarness(t *testing.T, c Config) *egressHarness {
	t.Helper()
	baseline := runtime.NumGoroutine()
	c.Path = "/d"
	h := &egressHarness{t: t, store: newMemStore(), waits: make(chan disposeWait, 16),
		set: Settings{Enabled: true, Config: c, Stream: hub.DefaultStreamOptions()}}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.hub = hub.New(hub.Options{IdleTimeout: 20 * time.Millisecond, Events: hub.Events{
		Published:   func(s *hub.Stream) { h.eg.Published(ctx, s) },
		Unpublished: func(s *hub.Stream) { h.eg.Unpublished(s) },
	}})
	h.eg = NewEgress(EgressOptions{
		Hub: h.hub, Store: h.store,
		Vhost: func(string) Settings {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.set
		},
		After: func(d time.Duration) <-chan time.Time {
			w := disposeWait{d: d, fire: make(chan time.Time, 1)}
			h.waits <- w
			return w.fire
		},
	})
	t.Cleanup(func() {
		cancel()
		h.eg.Wait()
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > baseline {
			t.Errorf("%d goroutines, %d before the test", n, baseline)
		}
	})
	return h
}

func (h *egressHarness) settings(f func(*Settings)) {
	h.mu.Lock()
	f(&h.set)
	h.mu.Unlock()
}

// publish publishes s through the hub as fast as it can and unpublishes.
func (h *egressHarness) publish(s stream) {
	h.t.Helper()
	p, err := h.hub.Publish(testKey, hub.ClientInfo{ID: "pub", Protocol: "rtmp"}, hub.DefaultStreamOptions())
	if err != nil {
		h.t.Fatal(err)
	}
	for _, pkt := range s.packets(h.t) {
		if err := p.Write(pkt); err != nil {
			h.t.Fatal(err)
		}
	}
	p.Close()
}

// nextWait returns the next dash_dispose wait: the session wrote what the
// publish sent and is idle.
func (h *egressHarness) nextWait() disposeWait {
	h.t.Helper()
	select {
	case w := <-h.waits:
		return w
	case <-time.After(5 * time.Second):
		h.t.Fatalf("no dash_dispose wait started; files %v", h.store.names())
		return disposeWait{}
	}
}

func (h *egressHarness) noWait() {
	h.t.Helper()
	select {
	case w := <-h.waits:
		h.t.Fatalf("a dash_dispose wait of %v started", w.d)
	default:
	}
}

// waitFor polls cond, which the egress's goroutine makes true.
func (h *egressHarness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("%s did not happen; files %v", what, h.store.names())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *egressHarness) mpd() mpdDoc {
	h.t.Helper()
	b, ok := h.store.get(testLayout.MPD)
	if !ok {
		h.t.Fatalf("no MPD; files %v", h.store.names())
	}
	return parseMPD(h.t, b)
}

func (h *egressHarness) streamFreed() bool { return h.hub.Stream(testKey) == nil }

func listedNumbers(t *testing.T, m mpdDoc, kind string) []uint64 {
	t.Helper()
	var out []uint64
	for _, p := range m.Periods {
		if set, ok := p.set(kind); ok {
			for _, l := range set.segments(t) {
				out = append(out, l.number)
			}
		}
	}
	return out
}

func testEgressConfig(dispose time.Duration) Config {
	return Config{Fragment: time.Second, UpdatePeriod: time.Second, Timeshift: time.Minute,
		MPDFile: "[app]/[stream].mpd", WindowSize: 10, Cleanup: true, Dispose: dispose}
}

func TestEgressDisposesAfterUnpublish(t *testing.T) {
	h := newEgressHarness(t, testEgressConfig(30*time.Second))
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 4000})

	w := h.nextWait()
	if w.d != 30*time.Second {
		t.Fatalf("dash_dispose wait of %v, want 30 s", w.d)
	}
	// Everything the publisher sent is written, the open segments too.
	m := h.mpd()
	checkListedSegments(t, h.store, m)
	if got := listedNumbers(t, m, "video"); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Fatalf("video segments %v, want 1-4", got)
	}
	// The session's viewer keeps the stream until the files go.
	time.Sleep(50 * time.Millisecond) // longer than the hub's idle timeout
	if h.streamFreed() {
		t.Fatal("the stream was freed before dash_dispose")
	}

	w.fire <- time.Now()
	h.waitFor("disposal", func() bool { return len(h.store.names()) == 0 })
	h.waitFor("freeing the stream", h.streamFreed)

	// A new publish after disposal starts afresh.
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 2000})
	h.nextWait()
	if got := listedNumbers(t, h.mpd(), "video"); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("video segments after disposal %v, want 1-2", got)
	}
}

func TestEgressRepublishBeforeDisposeContinues(t *testing.T) {
	h := newEgressHarness(t, testEgressConfig(30*time.Second))
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 3000})
	first := h.nextWait()
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 3000})
	second := h.nextWait()

	m := h.mpd()
	checkListedSegments(t, h.store, m)
	if len(m.Periods) != 2 {
		t.Fatalf("%d periods, want one per publish", len(m.Periods))
	}
	for _, kind := range []string{"video", "audio"} {
		if got := listedNumbers(t, m, kind); !slices.Equal(got, []uint64{1, 2, 3, 4, 5, 6}) {
			t.Fatalf("%s segments %v, want 1-6", kind, got)
		}
	}
	// The first publish's wait is over: firing it deletes nothing.
	first.fire <- time.Now()
	time.Sleep(20 * time.Millisecond)
	if _, ok := h.store.get(testLayout.MPD); !ok {
		t.Fatal("a stale dash_dispose wait deleted the files")
	}
	second.fire <- time.Now()
	h.waitFor("disposal", func() bool { return len(h.store.names()) == 0 })
}

func TestEgressDisposeZeroKeepsFiles(t *testing.T) {
	h := newEgressHarness(t, testEgressConfig(0))
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 3000})
	// Without a viewer the stream is freed, but the files and the
	// numbering stay.
	h.waitFor("freeing the stream", h.streamFreed)
	h.noWait()
	if got := listedNumbers(t, h.mpd(), "video"); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("video segments %v, want 1-3", got)
	}
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 2000})
	h.waitFor("the second publish's segments", func() bool {
		_, ok := h.store.get(path.Join(testLayout.Dir, "video-5.m4s"))
		return ok
	})
	h.waitFor("freeing the stream", h.streamFreed)
	m := h.mpd()
	checkListedSegments(t, h.store, m)
	if got := listedNumbers(t, m, "video"); !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) {
		t.Fatalf("video segments %v, want 1-5", got)
	}
	h.noWait()
}

func TestEgressStopKeepsFiles(t *testing.T) {
	h := newEgressHarness(t, testEgressConfig(30*time.Second))
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 2000})
	h.nextWait()
	h.cancel()
	h.eg.Wait()
	if names := h.store.names(); !slices.Contains(names, testLayout.MPD) {
		t.Fatalf("files after the server stopped: %v", names)
	}
}

func TestEgressReloadTurnsDASHOff(t *testing.T) {
	h := newEgressHarness(t, testEgressConfig(30*time.Second))
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 2000})
	h.nextWait()
	h.settings(func(s *Settings) { s.Enabled = false })
	// The next publish finds DASH off: the old files go at once, and
	// nothing new is written.
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 2000})
	h.waitFor("disposal", func() bool { return len(h.store.names()) == 0 })
	h.waitFor("freeing the stream", h.streamFreed)
	h.store.mu.Lock()
	n := h.store.writes
	h.store.mu.Unlock()
	if n == 0 {
		t.Fatal("nothing was ever written")
	}
	h.noWait()
}

func TestEgressMovedFilesStartAfresh(t *testing.T) {
	h := newEgressHarness(t, testEgressConfig(30*time.Second))
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 2000})
	h.nextWait()
	h.settings(func(s *Settings) { s.Config.MPDFile = "[app]/other/[stream].mpd" })
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 2000})
	h.nextWait()
	names := h.store.names()
	for _, n := range names {
		if !strings.HasPrefix(n, "/d/live/other/") {
			t.Fatalf("files %v: the old layout's files should be gone", names)
		}
	}
	b, ok := h.store.get("/d/live/other/s.mpd")
	if !ok {
		t.Fatalf("no MPD at the new place; files %v", names)
	}
	if got := listedNumbers(t, parseMPD(t, b), "video"); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("video segments at the new place %v, want 1-2", got)
	}
}

func TestEgressIgnoresDisabledVhosts(t *testing.T) {
	h := newEgressHarness(t, testEgressConfig(30*time.Second))
	h.settings(func(s *Settings) { s.Enabled = false })
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 2000})
	h.waitFor("freeing the stream", h.streamFreed)
	if names := h.store.names(); len(names) != 0 {
		t.Fatalf("files for a vhost without DASH: %v", names)
	}
	h.noWait()
}

func TestEgressRefusesBadStreamNames(t *testing.T) {
	h := newEgressHarness(t, testEgressConfig(30*time.Second))
	p, err := h.hub.Publish(hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: ".."}, hub.ClientInfo{ID: "pub"}, hub.DefaultStreamOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, pkt := range (stream{video: avc64x48, gop: 25, duration: 2000}).packets(t) {
		_ = p.Write(pkt)
	}
	p.Close()
	h.noWait()
	if names := h.store.names(); len(names) != 0 {
		t.Fatalf("files for stream \"..\": %v", names)
	}
}
