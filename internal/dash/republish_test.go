package dash

import (
	"path"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every publish starts a new Period, anchored to the wall clock of its
// first frame, with its own init segments; the segment numbers go on. A
// Period's timeline never has a gap (dash.js stalls at one, see
// TestDashJSPlaysAcrossRepublish), and between Periods nothing is listed.
func TestRepublishStartsAPeriod(t *testing.T) {
	cases := []struct {
		name   string
		second stream
		width  int
		codecs string
	}{
		{"same configuration", stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 6000}, 64, "avc1.42C00A"},
		{"new size", stream{video: avc160x120, audio: aacLC44k, gop: 25, duration: 6000}, 160, "avc1.42C00B"},
		{"B-frames from now on", stream{video: avc64x48, audio: aacLC44k, gop: 25, bframes: true, duration: 6000}, 64, "avc1.42C00A"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Fragment, cfg.WindowSize = 2*time.Second, 10
			h := newHarness(t, cfg)
			h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 6000}, t0)
			// The encoder comes back 20 s later, its timestamps from 0.
			h.publish(c.second, t0.Add(20*time.Second))

			m := h.mpd()
			if len(m.Periods) != 2 || m.Periods[0].ID != "0" || m.Periods[1].ID != "1" {
				t.Fatalf("periods %+v, want 0 and 1", m.Periods)
			}
			parsed := checkListedSegments(t, h.store, m)
			for i, per := range m.Periods {
				for _, kind := range []string{"video", "audio"} {
					set, ok := per.set(kind)
					if !ok {
						t.Fatalf("period %s has no %s", per.ID, kind)
					}
					tpl := set.Rep.Template
					if len(tpl.S) == 0 || tpl.S[0].T == nil {
						t.Fatalf("period %s %s timeline %+v", per.ID, kind, tpl.S)
					}
					for _, e := range tpl.S[1:] {
						if e.T != nil {
							t.Fatalf("period %s %s timeline has a gap: %+v", per.ID, kind, tpl.S)
						}
					}
					var numbers []uint64
					for _, l := range set.segments(t) {
						numbers = append(numbers, l.number)
					}
					want := []uint64{1, 2, 3}
					if i == 1 {
						want = []uint64{4, 5, 6}
					}
					if !slices.Equal(numbers, want) {
						t.Fatalf("period %s %s numbers %v, want %v", per.ID, kind, numbers, want)
					}
					wantInit := "$RepresentationID$-init.mp4"
					if i == 1 {
						wantInit = "$RepresentationID$-init-1.mp4"
					}
					if tpl.Init != wantInit {
						t.Fatalf("period %s %s initialization %q, want %q", per.ID, kind, tpl.Init, wantInit)
					}
					// presentationTimeOffset is the Period's start on the
					// media timeline, and the first segment starts there or
					// a little later (audio within a frame; video by the
					// composition shift that audio does not have).
					start := parseXSDuration(t, per.Start)
					if got := time.Duration(tpl.PTO) * time.Second / time.Duration(tpl.Timescale); got-start > time.Millisecond || start-got > time.Millisecond {
						t.Fatalf("period %s %s: presentationTimeOffset %d for start %v", per.ID, kind, tpl.PTO, start)
					}
					if d := int64(*tpl.S[0].T) - int64(tpl.PTO); d < 0 || d > int64(tpl.Timescale)/10 {
						t.Fatalf("period %s %s: first segment at %d, offset %d", per.ID, kind, *tpl.S[0].T, tpl.PTO)
					}
				}
			}
			// The second Period starts at the wall clock of the republish:
			// 10 s of anchor plus 20 s (less the composition shift with
			// B-frames: audio presents first).
			if start := parseXSDuration(t, m.Periods[1].Start); start < 30*time.Second-100*time.Millisecond || start > 30*time.Second+50*time.Millisecond {
				t.Fatalf("period 1 starts at %v, want 30 s", start)
			}
			video, _ := m.Periods[1].set("video")
			if video.Rep.Width != c.width || video.Rep.Codecs != c.codecs {
				t.Fatalf("period 1 video %+v", video.Rep)
			}
			// Every Period's first video frame presents at its start.
			for _, seg := range parsed["video"] {
				if first := seg.samples[0]; first.PTS != first.DTS {
					t.Fatalf("a segment at %d starts presenting at %d", first.DTS, first.PTS)
				}
			}
			for _, name := range []string{"video-init.mp4", "audio-init.mp4", "video-init-1.mp4", "audio-init-1.mp4"} {
				if _, ok := h.store.get(path.Join(testLayout.Dir, name)); !ok {
					t.Fatalf("%s missing; files %v", name, h.store.names())
				}
			}
		})
	}
}

// Old Periods leave the MPD with their last segment, and their init
// segments leave the disk with it.
func TestOldPeriodsGo(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Fragment, cfg.WindowSize = 2*time.Second, 4
	h := newHarness(t, cfg)
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 4000}, t0)
	h.publish(stream{video: avc160x120, audio: aacLC44k, gop: 25, duration: 4000}, t0.Add(10*time.Second))
	if m := h.mpd(); len(m.Periods) != 2 {
		t.Fatalf("%d periods, want 2", len(m.Periods))
	}
	h.publish(stream{video: avc160x120, audio: aacLC44k, gop: 25, duration: 20000}, t0.Add(20*time.Second))
	m := h.mpd()
	if len(m.Periods) != 1 || m.Periods[0].ID != "2" {
		t.Fatalf("periods %+v, want only 2", m.Periods)
	}
	checkListedSegments(t, h.store, m)
	var inits []string
	for _, n := range h.store.names() {
		if strings.Contains(n, "init") {
			inits = append(inits, path.Base(n))
		}
	}
	if !slices.Equal(inits, []string{"audio-init-2.mp4", "video-init-2.mp4"}) {
		t.Fatalf("init segments %v, want only period 2's", inits)
	}
}

// A stream that gains a track (audio-only, then with video) gets a Period
// for the new set of tracks.
func TestRepublishWithAnotherTrackSet(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Fragment, cfg.WindowSize = 2*time.Second, 10
	h := newHarness(t, cfg)
	h.publish(stream{audio: aacLC44k, duration: 4000}, t0)
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 4000}, t0.Add(5*time.Second))
	m := h.mpd()
	if len(m.Periods) != 2 || len(m.Periods[0].Sets) != 1 || len(m.Periods[1].Sets) != 2 {
		t.Fatalf("periods %+v: want audio, then audio and video", m.Periods)
	}
	checkListedSegments(t, h.store, m)
}
