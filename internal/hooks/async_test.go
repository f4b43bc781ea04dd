package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func segment(seq int64) HLSSegment {
	return HLSSegment{URI: "livestream-0.ts", M3U8URL: "live/livestream.m3u8", SeqNo: seq, Duration: 2 * time.Second}
}

// seqs decodes the seq_no of on_hls requests, per stream.
func seqs(t *testing.T, reqs []received) map[string][]int64 {
	t.Helper()
	out := map[string][]int64{}
	for _, r := range reqs {
		var b HLSBody
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatal(err)
		}
		out[b.Stream] = append(out[b.Stream], b.SeqNo)
	}
	return out
}

func TestAsyncOrderPerStream(t *testing.T) {
	hs := newHookServer(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		time.Sleep(time.Millisecond) // let the two streams interleave
		io.WriteString(w, "0")
	})
	c := New(Options{})
	h := allHooks(hs.URL)
	a, b := rtmpPublisher, rtmpPublisher
	a.Stream, b.Stream = "a", "b"
	for i := range int64(20) {
		c.OnHLS(h, a, segment(i))
		c.OnHLS(h, b, segment(100+i))
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := seqs(t, hs.requests())
	for stream, base := range map[string]int64{"a": 0, "b": 100} {
		if len(got[stream]) != 20 {
			t.Fatalf("stream %s: %d hooks, want 20", stream, len(got[stream]))
		}
		for i, s := range got[stream] {
			if s != base+int64(i) {
				t.Fatalf("stream %s out of order: %v", stream, got[stream])
			}
		}
	}
}

func TestAsyncSlowStreamDoesNotBlockOthers(t *testing.T) {
	release := make(chan struct{})
	hs := newHookServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.Contains(string(body), `"stream":"slow"`) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "0")
	})
	c := newTestClient(t, Options{})
	h := allHooks(hs.URL)
	slow, fast := rtmpPublisher, rtmpPublisher
	slow.Stream, fast.Stream = "slow", "fast"
	c.OnDVR(h, slow, DVRFile{File: "slow.flv"})
	c.OnDVR(h, slow, DVRFile{File: "slow2.flv"})
	c.OnDVR(h, fast, DVRFile{File: "fast.flv"})
	waitFor(t, "the fast stream's on_dvr while the slow one hangs", func() bool {
		for _, r := range hs.requests() {
			if strings.Contains(string(r.Body), "fast.flv") {
				return true
			}
		}
		return false
	})
	for _, r := range hs.requests() {
		if strings.Contains(string(r.Body), "slow2.flv") {
			t.Fatal("second slow hook sent before the first finished")
		}
	}
	close(release)
	waitFor(t, "the second slow hook", func() bool { return len(hs.requests()) == 3 })
}

func TestAsyncOverflow(t *testing.T) {
	release := make(chan struct{})
	hs := newHookServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "0")
	})
	logs := &logRecorder{}
	c := newTestClient(t, Options{QueuePerStream: 2, QueueTotal: 3, Log: slogLogger(logs)})
	h := allHooks(hs.URL)
	a, b := rtmpPublisher, rtmpPublisher
	a.Stream, b.Stream = "a", "b"

	c.OnHLS(h, a, segment(0)) // in flight
	waitFor(t, "the first hook", func() bool { return len(hs.requests()) == 1 })
	for i := range int64(4) {
		c.OnHLS(h, a, segment(1+i)) // 1 and 2 queue; 3 and 4 exceed the stream's 2
	}
	if got := c.Counters().Get(OnHLS).Drops; got != 2 {
		t.Fatalf("%d drops, want 2", got)
	}
	// b's first hook leaves the queue at once for its own worker; wait
	// until it is in flight so that the next ones stay queued.
	c.OnDVR(h, b, DVRFile{})
	waitFor(t, "b's first hook", func() bool { return len(hs.requests()) == 2 })
	c.OnDVR(h, b, DVRFile{}) // the 3rd queued hook in all
	c.OnDVR(h, b, DVRFile{}) // over the total of 3
	if got := c.Counters().Get(OnDVR).Drops; got != 1 {
		t.Fatalf("%d on_dvr drops, want 1", got)
	}
	if n := c.queue.len(); n > 3 {
		t.Fatalf("%d hooks queued, bound is 3", n)
	}
	if _, ok := logs.attr("hook: queue full, dropped", "stream"); !ok {
		t.Fatal("drop not logged")
	}
	close(release)
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := seqs(t, filterAction(hs.requests(), OnHLS))["a"]; len(got) != 3 || got[0] != 0 || got[1] != 1 || got[2] != 2 {
		t.Fatalf("stream a sent %v, want [0 1 2]", got)
	}
}

func filterAction(reqs []received, e Event) []received {
	var out []received
	for _, r := range reqs {
		if strings.Contains(string(r.Body), `"action":"`+string(e)+`"`) {
			out = append(out, r)
		}
	}
	return out
}

func TestShutdownDeadlineDropsAndEnds(t *testing.T) {
	before := runtime.NumGoroutine()
	hs := newHookServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { <-r.Context().Done() })
	c := New(Options{})
	h := allHooks(hs.URL)
	for i := range int64(5) {
		c.OnHLS(h, rtmpPublisher, segment(i))
	}
	waitFor(t, "the first hook", func() bool { return len(hs.requests()) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want deadline exceeded", err)
	}
	if got := c.Counters().Get(OnHLS); got.Drops != 4 || got.Calls != 1 || got.Failures != 1 {
		t.Fatalf("counters %+v, want 4 drops and 1 cancelled call", got)
	}
	c.OnHLS(h, rtmpPublisher, segment(9)) // after Close: dropped at once
	if got := c.Counters().Get(OnHLS).Drops; got != 5 {
		t.Fatalf("%d drops after close, want 5", got)
	}
	hs.CloseClientConnections()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	c.http.CloseIdleConnections()
	waitFor(t, "goroutines to return to baseline", func() bool { return runtime.NumGoroutine() <= before+2 })
}

func TestShutdownWaitsForQueue(t *testing.T) {
	var mu sync.Mutex
	n := 0
	hs := newHookServer(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		n++
		mu.Unlock()
		io.WriteString(w, "0")
	})
	c := New(Options{})
	for i := range int64(10) {
		c.OnDVR(allHooks(hs.URL), rtmpPublisher, DVRFile{File: string(rune('a' + i))})
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 10 {
		t.Fatalf("%d of 10 queued hooks sent before Shutdown returned", n)
	}
}
