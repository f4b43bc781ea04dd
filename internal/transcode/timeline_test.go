package transcode

import (
	"testing"
	"time"
)

func TestSamplesToDuration(t *testing.T) {
	tests := []struct {
		n    int64
		rate int
		want time.Duration
	}{
		{0, 48000, 0},
		{960, 48000, 20 * time.Millisecond},
		{1024, 48000, 21333333 * time.Nanosecond},
		{1024, 44100, 23219954 * time.Nanosecond},
		{-960, 48000, -20 * time.Millisecond},
		// 100 hours: n*time.Second would overflow int64.
		{48000 * 3600 * 100, 48000, 100 * time.Hour},
		{48000*3600*100 + 480, 48000, 100*time.Hour + 10*time.Millisecond},
	}
	for _, tt := range tests {
		if got := samplesToDuration(tt.n, tt.rate); got != tt.want {
			t.Errorf("samplesToDuration(%d, %d) = %v, want %v", tt.n, tt.rate, got, tt.want)
		}
	}
	for _, d := range []time.Duration{0, 20 * time.Millisecond, 100 * time.Hour, 90 * time.Millisecond} {
		if got := samplesToDuration(durationToSamples(d, 48000), 48000); got != d {
			t.Errorf("round trip of %v gives %v", d, got)
		}
	}
}

// step is one call on a timeline: place a frame stamped pts and queue n
// samples, or ask the time of encoder position at.
type step struct {
	place time.Duration
	n     int
	at    int64

	wantSilence int64
	wantAnchor  bool
	wantPTS     time.Duration
	wantOK      bool
}

func TestTimeline(t *testing.T) {
	ms := time.Millisecond
	placeAt := func(pts time.Duration, n int, silence int64, anchor bool) step {
		return step{place: pts, n: n, wantSilence: silence, wantAnchor: anchor}
	}
	ask := func(pos int64, pts time.Duration, ok bool) step {
		return step{at: pos, wantPTS: pts, wantOK: ok, n: -1}
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first frame anchors the clock", []step{
			placeAt(1000*ms, 960, 0, false),
			ask(0, 1000*ms, true),
			ask(480, 1010*ms, true),
		}},
		{"priming before the first sample is dropped", []step{
			placeAt(0, 960, 0, false),
			ask(-312, 0, false),
			ask(648, 13500*time.Microsecond, true),
		}},
		{"jitter below the gap threshold is absorbed", []step{
			placeAt(0, 960, 0, false),
			placeAt(29*ms, 960, 0, false), // 9 ms early
			placeAt(31*ms, 960, 0, false), // 9 ms late
			ask(1920, 40*ms, true),
		}},
		{"a lost frame becomes silence", []step{
			placeAt(0, 960, 0, false),
			placeAt(40*ms, 960, 960, false), // frame at 20 ms lost
			ask(1920, 40*ms, true),
		}},
		{"lag accumulates up to the drift limit", []step{
			placeAt(0, 960, 0, false),
			placeAt(-60*ms, 960, 0, false), // 80 ms behind: kept
			placeAt(-81*ms, 960, 0, true),  // 121 ms behind: re-anchored; 1920 is a frame boundary
			ask(960, 20*ms, true),
			ask(1920, -81*ms, true),
			ask(2880, -61*ms, true),
		}},
		{"a jump pads the last frame and re-anchors", []step{
			placeAt(0, 1024, 0, false),
			placeAt(10*time.Second, 1024, 960-1024%960, true),
			ask(960, 20*ms, true),           // the padded frame keeps the old clock
			ask(1920, 10*time.Second, true), // the new stretch starts on a frame boundary
			ask(2880, 10*time.Second+20*ms, true),
		}},
		{"a backward reset re-anchors", []step{
			placeAt(5*time.Second, 960, 0, false),
			placeAt(0, 960, 0, true),
			ask(0, 5*time.Second, true),
			ask(960, 0, true),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := newTimeline(48000, 960)
			for i, s := range tt.steps {
				if s.n < 0 {
					pts, ok := tl.at(s.at)
					if ok != s.wantOK || (ok && pts != s.wantPTS) {
						t.Fatalf("step %d: at(%d) = %v, %v; want %v, %v", i, s.at, pts, ok, s.wantPTS, s.wantOK)
					}
					continue
				}
				silence, anchored := tl.place(s.place)
				if silence != s.wantSilence || anchored != s.wantAnchor {
					t.Fatalf("step %d: place(%v) = %d, %v; want %d, %v", i, s.place, silence, anchored, s.wantSilence, s.wantAnchor)
				}
				tl.queue(s.n)
			}
		})
	}
}

func TestTimelineAnchorsStayBounded(t *testing.T) {
	tl := newTimeline(48000, 960)
	for i := range 1000 {
		tl.place(time.Duration(i) * time.Second) // every frame jumps
		tl.queue(960)
		if len(tl.anchors) > maxAnchors {
			t.Fatalf("after %d jumps: %d anchors, limit %d", i, len(tl.anchors), maxAnchors)
		}
	}
	if pts, ok := tl.at(tl.queued - 960); !ok || pts != 999*time.Second {
		t.Fatalf("newest frame at %v, %v; want 999s", pts, ok)
	}
	if len(tl.anchors) != 1 {
		t.Fatalf("%d anchors left after asking for the newest position, want 1", len(tl.anchors))
	}
}
