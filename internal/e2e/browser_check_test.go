package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// wantPlayback is what a healthy stream shows in the page.
type wantPlayback struct {
	fps   float64 // the stream's frame rate
	audio bool    // the stream has a non-silent audio track
}

// checkPlayback lists what is wrong with a run: player errors, frames that
// do not keep coming (a stall of a second or more after the first frame, or
// fewer than half the frames the watch should give once playing),
// currentTime that stands still or runs back, missing audio.
func checkPlayback(r browserResult, want wantPlayback) []string {
	var problems []string
	if r.Fatal != "" {
		problems = append(problems, "driver: "+r.Fatal)
	}
	for _, e := range r.Errors {
		problems = append(problems, "player error: "+e.String())
	}
	first := -1
	for i, s := range r.Samples {
		if s.Frames > 0 {
			first = i
			break
		}
	}
	if first < 0 {
		return append(problems, fmt.Sprintf("no video frame decoded in %d samples", len(r.Samples)))
	}
	start, last := r.Samples[first], r.Samples[len(r.Samples)-1]
	playing := last.T - start.T
	if playing < 3 {
		problems = append(problems, fmt.Sprintf("the first frame came at %.1fs, leaving %.1fs of playback to judge", start.T, playing))
	}
	// The first second may still fill the buffer; judge from then on.
	if got, need := last.Frames-start.Frames, int((playing-1)*want.fps*0.5); got < need {
		problems = append(problems, fmt.Sprintf("%d frames decoded in %.1fs of playback, want at least %d", got, playing, need))
	}
	if got, need := last.CurrentTime-start.CurrentTime, (playing-1)*0.5; got < need {
		problems = append(problems, fmt.Sprintf("currentTime advanced %.2fs in %.1fs of playback, want at least %.2fs", got, playing, need))
	}
	for i := first + 1; i < len(r.Samples); i++ {
		s, prev := r.Samples[i], r.Samples[i-1]
		if s.CurrentTime < prev.CurrentTime {
			problems = append(problems, fmt.Sprintf("currentTime ran back from %.2f to %.2f at %.1fs", prev.CurrentTime, s.CurrentTime, s.T))
		}
		// Frames must grow over every second of playback.
		for j := i - 1; j >= first; j-- {
			if s.T-r.Samples[j].T >= 0.99 {
				if s.Frames <= r.Samples[j].Frames {
					problems = append(problems, fmt.Sprintf("no new frame from %.1fs to %.1fs (frames %d)", r.Samples[j].T, s.T, s.Frames))
				}
				break
			}
		}
	}
	if want.audio {
		audible := 0
		for _, s := range r.Samples[first:] {
			if s.Audio {
				audible++
			}
		}
		if n := len(r.Samples) - first; audible*2 < n {
			problems = append(problems, fmt.Sprintf("audio heard in %d of %d samples since the first frame", audible, n))
		}
	}
	return problems
}

// healthyRun is what a 25 fps stream with sound looks like when the first
// frame comes at 1 s and the page is watched for 6 s.
func healthyRun() browserResult {
	var r browserResult
	for i := 0; i <= 12; i++ {
		s := browserSample{T: float64(i) / 2}
		if s.T >= 1 {
			playing := s.T - 1
			s.Frames = 1 + int(playing*25)
			s.CurrentTime = playing
			s.Audio = true
		}
		r.Samples = append(r.Samples, s)
	}
	return r
}

func TestCheckPlayback(t *testing.T) {
	want := wantPlayback{fps: 25, audio: true}
	for _, tc := range []struct {
		name   string
		change func(r *browserResult)
		want   wantPlayback
		found  []string // substrings of the problems; none means healthy
	}{
		{"healthy", func(r *browserResult) {}, want, nil},
		{"healthy without audio when none is wanted", func(r *browserResult) {
			for i := range r.Samples {
				r.Samples[i].Audio = false
			}
		}, wantPlayback{fps: 25}, nil},
		{"player error", func(r *browserResult) {
			r.Errors = append(r.Errors, browserEvent{Source: "mpegts.js", T: 2, Detail: []byte(`{"type":"MediaError"}`)})
		}, want, []string{`player error: 2.0s mpegts.js {"type":"MediaError"}`}},
		{"driver failure", func(r *browserResult) { r.Fatal = "the page crashed" }, want, []string{"driver: the page crashed"}},
		{"no samples", func(r *browserResult) { r.Samples = nil }, want, []string{"no video frame decoded in 0 samples"}},
		{"no frames", func(r *browserResult) {
			for i := range r.Samples {
				r.Samples[i].Frames = 0
			}
		}, want, []string{"no video frame decoded in 13 samples"}},
		{"late start", func(r *browserResult) { r.Samples = r.Samples[:7] }, want, []string{"leaving 2.0s of playback"}},
		{"stall of one second", func(r *browserResult) {
			for i := 7; i < len(r.Samples); i++ {
				r.Samples[i].Frames = r.Samples[6].Frames + max(0, i-8)*12
			}
		}, want, []string{"no new frame from 3.0s to 4.0s"}},
		{"frames stop", func(r *browserResult) {
			for i := 4; i < len(r.Samples); i++ {
				r.Samples[i].Frames = r.Samples[3].Frames
			}
		}, want, []string{"frames decoded in 5.0s of playback, want at least 50", "no new frame from 1.5s to 2.5s"}},
		{"currentTime stands still", func(r *browserResult) {
			for i := range r.Samples {
				r.Samples[i].CurrentTime = 0
			}
		}, want, []string{"currentTime advanced 0.00s"}},
		{"currentTime runs back", func(r *browserResult) { r.Samples[8].CurrentTime = 0.5 }, want, []string{"currentTime ran back from 2.50 to 0.50 at 4.0s"}},
		{"silence", func(r *browserResult) {
			for i := 5; i < len(r.Samples); i++ {
				r.Samples[i].Audio = false
			}
		}, want, []string{"audio heard in 3 of 11 samples"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := healthyRun()
			tc.change(&r)
			problems := checkPlayback(r, tc.want)
			all := strings.Join(problems, "\n")
			if len(tc.found) == 0 && len(problems) > 0 {
				t.Fatalf("problems in a healthy run:\n%s", all)
			}
			for _, f := range tc.found {
				if !strings.Contains(all, f) {
					t.Errorf("problems %q lack %q", all, f)
				}
			}
		})
	}
}
