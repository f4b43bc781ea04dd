package player

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/bench/benchtest/livehls"
	"github.com/castd/castd/internal/bench/failure"
)

// playHLS plays url for d and returns the player's result and the metrics.
func playHLS(t *testing.T, url string, opt Options, d time.Duration) (Result, *Metrics) {
	t.Helper()
	p, err := New(url, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(*hlsPlayer); !ok {
		t.Fatalf("%s: %T, not an HLS player", url, p)
	}
	m := &Metrics{}
	rec := NewRecorder(m)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	rec.Connecting(time.Now())
	err = p.Play(ctx, rec)
	return rec.Finish(time.Now(), err), m
}

func TestHLSPlayer(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	live := livehls.New(t, 200*time.Millisecond)
	live.Start = time.Now().Add(-time.Second) // segments 0 to 4 listed
	srv := httptest.NewServer(live)
	defer srv.Close()
	res, m := playHLS(t, srv.URL+"/live/cam.m3u8", Options{HLSBuffer: time.Second}, 1500*time.Millisecond)
	if res.Err != nil || !res.WasUp {
		t.Fatalf("result %+v", res)
	}
	// From the live edge on, each segment once, in order.
	fetched := live.Fetched()
	if len(fetched) < 4 || fetched[0] != 4 {
		t.Fatalf("segments fetched %v, want the last listed (4) first", fetched)
	}
	for i := 1; i < len(fetched); i++ {
		if fetched[i] != fetched[i-1]+1 {
			t.Fatalf("segments fetched %v: not each once in order", fetched)
		}
	}
	hm := &m.HLS
	segs := hm.Segments.Load()
	framesPerSegment := int64(live.SegDur / livehls.FrameGap)
	if segs < int64(len(fetched))-1 || segs > int64(len(fetched)) {
		t.Errorf("%d segments read, %d fetched", segs, len(fetched)) // the last may be cut by the end
	}
	if res.Frames < framesPerSegment*segs || res.Stamps != res.Frames || res.Audio != res.Frames {
		t.Errorf("%d segments: %d frames, %d stamped, %d audio", segs, res.Frames, res.Stamps, res.Audio)
	}
	if res.Bytes < res.Frames*livehls.FrameSize || hm.SegmentBytes.Load() < res.Bytes {
		t.Errorf("%d media bytes in %d frames, %d segment bytes", res.Bytes, res.Frames, hm.SegmentBytes.Load())
	}
	if res.TTFF <= 0 || res.TTFF > time.Second {
		t.Errorf("time to first frame %v", res.TTFF)
	}
	// A frame is sent up to a segment before its segment is listed, which
	// the player sees within half a target duration.
	lat := m.Latency.Snapshot().Summary(1e-3)
	if lat.Count != res.Stamps || lat.Min < 30 || lat.Max > 2000 {
		t.Errorf("latency %+v ms", lat)
	}
	seg := hm.SegmentLatency.Snapshot().Summary(1e-3)
	if seg.Count != segs || seg.Max > 1000 {
		t.Errorf("segment latency %+v ms", seg)
	}
	if res.Stalls != 0 || hm.MissedSegments.Load() != 0 || hm.Errors.Total() != 0 || hm.Players.Load() != 1 {
		t.Errorf("stalls %d, missed %d, errors %s, players %d", res.Stalls, hm.MissedSegments.Load(), hm.Errors.String(), hm.Players.Load())
	}
	// Reloads every half target duration (100 ms) for 1.5 s.
	if loads := hm.PlaylistLoads.Load(); loads < 6 || loads > 20 {
		t.Errorf("%d playlist loads", loads)
	}
}

// castd and SRS send a new player to the playlist with its hls_ctx
// session, by a redirect or a master playlist; segment URIs carry it too.
func TestHLSPlayerSessions(t *testing.T) {
	t.Parallel()
	for _, master := range []bool{false, true} {
		live := livehls.New(t, 200*time.Millisecond)
		live.Start = time.Now().Add(-time.Second)
		live.Ctx, live.Master = "k3y9", master
		srv := httptest.NewServer(live)
		res, m := playHLS(t, srv.URL+"/live/cam.m3u8", Options{HLSBuffer: time.Second}, 800*time.Millisecond)
		srv.Close()
		if res.Err != nil || res.Stamps == 0 || m.HLS.Errors.Total() != 0 || live.WithoutSession() != 0 {
			t.Errorf("master %v: result %+v, errors %s, %d requests without the session", master, res, m.HLS.Errors.String(), live.WithoutSession())
		}
	}
}

func TestHLSPlayerStalls(t *testing.T) {
	t.Parallel()
	// Segments 7 to 13 come out together 1.2 s late, when the window of 6
	// no longer has 7: with a buffer of one target duration (0.2 s),
	// playback waits about 1 s.
	live := livehls.New(t, 200*time.Millisecond)
	live.Start = time.Now().Add(-time.Second)
	live.Frozen = [2]int{7, 14}
	srv := httptest.NewServer(live)
	defer srv.Close()
	res, m := playHLS(t, srv.URL+"/live/cam.m3u8", Options{}, 2200*time.Millisecond)
	if res.Err != nil || res.Stalls < 1 || res.StallTime < 700*time.Millisecond || res.StallTime > 1700*time.Millisecond {
		t.Errorf("freeze: %d stalls for %v, error %v", res.Stalls, res.StallTime, res.Err)
	}
	if missed := m.HLS.MissedSegments.Load(); missed != 1 {
		t.Errorf("%d segments missed, want 1 (%v fetched)", missed, live.Fetched())
	}
	// A playlist that stops growing stalls the player until the end.
	stuck := livehls.New(t, 200*time.Millisecond)
	stuck.Start = time.Now().Add(-time.Second)
	stuck.FreezeFrom = 6
	srv2 := httptest.NewServer(stuck)
	defer srv2.Close()
	res, _ = playHLS(t, srv2.URL+"/live/cam.m3u8", Options{}, 1500*time.Millisecond)
	if res.Err != nil || res.Stalls != 1 || res.StallTime < 500*time.Millisecond {
		t.Errorf("stuck: %d stalls for %v, error %v", res.Stalls, res.StallTime, res.Err)
	}
}

// A playlist that is not there yet is asked for again until the connect
// timeout: a server writes it once the first segment is cut.
func TestHLSPlayerWaitsForThePlaylist(t *testing.T) {
	t.Parallel()
	live := livehls.New(t, 300*time.Millisecond)
	srv := httptest.NewServer(live)
	defer srv.Close()
	res, _ := playHLS(t, srv.URL+"/live/cam.m3u8", Options{}, 1500*time.Millisecond)
	if res.Err != nil || !res.WasUp || res.Stamps == 0 || res.TTFF < 300*time.Millisecond {
		t.Errorf("result %+v", res)
	}
}

// Failed segments are skipped and failed reloads tried again; both are
// counted by kind, and the player plays on.
func TestHLSPlayerRecoversFromErrors(t *testing.T) {
	t.Parallel()
	live := livehls.New(t, 200*time.Millisecond)
	live.Start = time.Now().Add(-time.Second)
	live.Missing = func(k int) bool { return k%4 == 1 }
	live.Garbage = func(k int) bool { return k%4 == 2 }
	live.BadPlaylist = func(n int) bool { return n%5 == 3 }
	srv := httptest.NewServer(live)
	defer srv.Close()
	res, m := playHLS(t, srv.URL+"/live/cam.m3u8", Options{HLSBuffer: time.Second}, 1500*time.Millisecond)
	errs := m.HLS.Errors.Snapshot()
	if res.Err != nil || res.Stamps == 0 || errs[failure.HTTPStatus].Count == 0 || errs[failure.BadSegment].Count == 0 ||
		errs[failure.BadPlaylist].Count == 0 {
		t.Errorf("result %+v, errors %+v", res, errs)
	}
	if fetched := len(live.Fetched()); m.HLS.Segments.Load() > int64(fetched)-2 {
		t.Errorf("%d of %d segments read", m.HLS.Segments.Load(), fetched)
	}
	if !strings.Contains(errs[failure.HTTPStatus].Example, "404") || !strings.Contains(errs[failure.BadSegment].Example, "cam-") {
		t.Errorf("examples %+v", errs)
	}
}

func TestHLSPlayerFailures(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/garbage.m3u8", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html>not a playlist</html>")
	})
	mux.HandleFunc("/master.m3u8", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nmaster.m3u8\n")
	})
	mux.HandleFunc("/huge.m3u8", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "#EXTM3U\n#EXT-X-TARGETDURATION:1\n")
		_, _ = w.Write(bytes.Repeat([]byte("# a comment line\n"), 70000)) // 1.2 MB

	})
	mux.Handle("/loop.m3u8", http.RedirectHandler("/loop.m3u8", http.StatusFound))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ended := livehls.New(t, 100*time.Millisecond)
	ended.Start = time.Now().Add(-time.Second)
	ended.EndAfter = 3
	frozen := livehls.New(t, 100*time.Millisecond)
	frozen.Start = time.Now().Add(-time.Second)
	frozen.FreezeFrom = 5
	gone := livehls.New(t, 100*time.Millisecond)
	gone.Missing = func(int) bool { return true }
	var urls []string
	for _, l := range []*livehls.Stream{ended, frozen, gone} {
		s := httptest.NewServer(l)
		defer s.Close()
		urls = append(urls, s.URL+"/live/cam.m3u8")
	}
	mute := listen(t, func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c) // reads the request, never answers, until the player hangs up
	})
	tests := []struct {
		url  string
		want failure.Kind
		up   bool
	}{
		{srv.URL + "/missing.m3u8", failure.HTTPStatus, false},
		{srv.URL + "/garbage.m3u8", failure.BadPlaylist, false},
		{srv.URL + "/master.m3u8", failure.BadPlaylist, false},
		{srv.URL + "/huge.m3u8", failure.BadPlaylist, false},
		{srv.URL + "/loop.m3u8", failure.HTTPStatus, false},
		{"http://" + closedPort(t) + "/live/cam.m3u8", failure.Dial, false},
		{"http://" + mute + "/live/cam.m3u8", failure.Timeout, false},
		{urls[0], failure.EOF, true},        // EXT-X-ENDLIST
		{urls[1], failure.Timeout, true},    // no new segment
		{urls[2], failure.HTTPStatus, true}, // no segment could be fetched
	}
	// Timeouts generous enough for a loopback answer on a loaded CI machine.
	opt := Options{ConnectTimeout: 2 * time.Second, ReadTimeout: 1500 * time.Millisecond}
	for _, tt := range tests {
		res, _ := playHLS(t, tt.url, opt, 10*time.Second)
		if res.Kind != tt.want || res.WasUp != tt.up {
			t.Errorf("%s: kind %q (up %v), want %q (up %v): %v", tt.url, res.Kind, res.WasUp, tt.want, tt.up, res.Err)
		}
	}
}

func TestPlaybackModel(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	p := playback{initial: 500 * time.Millisecond}
	if p.waiting(at(0)) != 0 {
		t.Error("waiting before the first segment")
	}
	steps := []struct {
		ms      int           // download done
		seg     time.Duration // segment duration
		stall   time.Duration // the stall it ends
		waiting time.Duration // then, 1 ms before the next download
	}{
		// Plays from 500 ms; 2 s of media last until 2500 ms.
		{0, 2 * time.Second, 0, 0},
		{2400, 2 * time.Second, 0, 0},                      // until 4500
		{4500, 2 * time.Second, 0, 500 * time.Millisecond}, // just in time: until 6500
		{7000, 2 * time.Second, 500 * time.Millisecond, 0}, // waited 500 ms; until 9000
		{9000, 0, 0, 1000 * time.Millisecond},              // an empty segment adds nothing
		{10000, 2 * time.Second, time.Second, 0},
	}
	for i, s := range steps {
		if got := p.add(at(s.ms), s.seg); got != s.stall {
			t.Errorf("step %d: stall %v, want %v", i, got, s.stall)
		}
		next := 11000
		if i+1 < len(steps) {
			next = steps[i+1].ms
		}
		if got := p.waiting(at(next)); got != s.waiting {
			t.Errorf("step %d: waiting %v at %d ms, want %v", i, got, next, s.waiting)
		}
	}
}

// Reading a segment allocates nothing per frame or per segment: the
// scanner and the stamp reader reuse their buffers.
func TestHLSSegmentReadAllocatesNothing(t *testing.T) {
	live := livehls.New(t, 2*time.Second)
	seg := live.Segment(0)
	s := &hlsSession{rec: NewRecorder(&Metrics{})}
	s.frames.rec = s.rec
	r := bytes.NewReader(seg)
	if allocs := testing.AllocsPerRun(20, func() {
		r.Reset(seg)
		if _, err := s.ts.Scan(r, maxSegmentBytes, &s.frames); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("%v allocations per segment", allocs)
	}
	if want := int64(21 * (2 * time.Second / livehls.FrameGap)); s.rec.stamps.Load() != want {
		t.Errorf("%d stamps, want %d", s.rec.stamps.Load(), want)
	}
}

// BenchmarkHLSSegment measures an HLS player's cost per frame of a segment
// (a 2 KB stamped video frame and an audio frame each 40 ms): transport
// packets, timestamps, stamp reading, latency and byte accounting. The
// HTTP requests around it cost more, but once per segment or reload.
func BenchmarkHLSSegment(b *testing.B) {
	live := livehls.New(b, 2*time.Second)
	seg := live.Segment(0)
	frames := int(2 * time.Second / livehls.FrameGap)
	s := &hlsSession{rec: NewRecorder(&Metrics{})}
	s.frames.rec = s.rec
	r := bytes.NewReader(seg)
	b.ReportAllocs()
	b.SetBytes(int64(len(seg) / frames))
	for i := 0; i < b.N; i += frames {
		r.Reset(seg)
		if _, err := s.ts.Scan(r, maxSegmentBytes, &s.frames); err != nil {
			b.Fatal(err)
		}
	}
}
