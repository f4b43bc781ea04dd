package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDashJSPlaysDASH plays castd's DASH with dash.js in Chromium: video
// frames keep coming, audio is heard and the player reports no error.
func TestDashJSPlaysDASH(t *testing.T) {
	c := startCastd(t, dashConf(dashOptions{fragment: "1", window: "6", dispose: "5"}))
	ffmpegPublish(t, c.rtmpURL("live/browserdash"), 30*time.Second)
	// dash.js starts a few seconds behind the newest segment: wait until the
	// MPD lists two, so playback starts as the page opens.
	waitMPD(t, c, "live/browserdash.mpd", 2, 15*time.Second)

	r := playInBrowser(t, c, "dash", c.httpURL("live/browserdash.mpd"), 6*time.Second)
	if problems := checkPlayback(r, wantPlayback{fps: 25, audio: true}); len(problems) > 0 {
		t.Fatalf("dash.js did not play DASH:\n%s\n%s", strings.Join(problems, "\n"), r.summary())
	}
	last := r.Samples[len(r.Samples)-1]
	t.Logf("dash.js: %d frames (%d dropped), currentTime %.2fs, audio peak %.3f", last.Frames, last.Dropped, last.CurrentTime, last.AudioPeak)
}

// TestDashJSPlaysAcrossRepublish: the publisher stops and comes back (an
// encoder restart) while dash.js plays; dash.js goes on with the new
// publish without an error. Every publish is a Period of its own: dash.js
// stalls for good at a gap inside a Period's timeline, and switches
// Periods well, whether the codec settings changed or not.
func TestDashJSPlaysAcrossRepublish(t *testing.T) {
	for _, tc := range []struct {
		name       string
		second     []string      // the second publish's encoder options
		gap, watch time.Duration // between the publishes; how long the page plays
	}{
		// dash.js waits at the end of the first Period's media, and jumps
		// to the second Period once its segments come.
		{"same settings, 4 s later", nil, 4 * time.Second, 18 * time.Second},
		{"new size, 1 s later", []string{"-tune", "zerolatency", "-vf", "scale=160:120"}, time.Second, 14 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startCastd(t, dashConf(dashOptions{fragment: "1", window: "20", dispose: "30"}))
			start := time.Now()
			first := ffmpegPublish(t, c.rtmpURL("live/again"), 6*time.Second)
			publishAfter(t, first, tc.gap, c.rtmpURL("live/again"), 30*time.Second, tc.second...)
			waitMPD(t, c, "live/again.mpd", 2, 15*time.Second)

			r := playInBrowser(t, c, "dash", c.httpURL("live/again.mpd"), tc.watch)
			m, _ := fetchMPD(t, c, "live/again.mpd")
			if len(m.Periods) != 2 {
				t.Fatalf("%d periods in the MPD, want one per publish", len(m.Periods))
			}
			// dash.js's currentTime counts from availabilityStartTime, as
			// Period@start does: playback reached the second publish, and
			// frames kept coming over the last 4 s.
			second, err := time.ParseDuration(strings.TrimSuffix(strings.TrimPrefix(m.Periods[len(m.Periods)-1].Start, "PT"), "S") + "s")
			if err != nil {
				t.Fatal(err)
			}
			last := r.Samples[len(r.Samples)-1]
			var before browserSample
			for _, s := range r.Samples {
				if s.T <= last.T-4 {
					before = s
				}
			}
			problems := []string{}
			for _, e := range r.Errors {
				problems = append(problems, "player error: "+e.String())
			}
			if last.CurrentTime < second.Seconds()+1 {
				problems = append(problems, fmt.Sprintf("currentTime %.2f, the second publish starts at %v", last.CurrentTime, second))
			}
			if last.Frames-before.Frames < 25 || last.CurrentTime-before.CurrentTime < 2 {
				problems = append(problems, fmt.Sprintf("from %.1fs to %.1fs: %d frames, currentTime %.2f to %.2f",
					before.T, last.T, last.Frames-before.Frames, before.CurrentTime, last.CurrentTime))
			}
			if len(problems) > 0 {
				t.Fatalf("dash.js did not play across the republish (%v after the first publish started):\n%s\n%s",
					time.Since(start).Round(time.Second), strings.Join(problems, "\n"), r.summary())
			}
			t.Logf("dash.js: %d frames, currentTime %.2fs", last.Frames, last.CurrentTime)
		})
	}
}

// publishAfter starts ffmpeg publishing as ffmpegPublish does, gap after
// the process prev ended, without blocking the test.
func publishAfter(t *testing.T, prev *proc, gap time.Duration, url string, dur time.Duration, extra ...string) {
	t.Helper()
	if len(extra) == 0 {
		extra = []string{"-tune", "zerolatency"}
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", fmt.Sprintf("%.1f", dur.Seconds()),
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-ac", "2"}
	args = append(append(args, extra...), "-f", "flv", url)
	cmd := exec.Command(requireTool(t, "ffmpeg"), args...)
	stop := make(chan struct{})
	ended := make(chan bool, 1) // whether the command was started
	go func() {
		select {
		case <-prev.done:
		case <-stop:
			ended <- false
			return
		}
		select {
		case <-time.After(gap):
		case <-stop:
			ended <- false
			return
		}
		ended <- cmd.Start() == nil
	}()
	t.Cleanup(func() {
		close(stop)
		if <-ended {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
}
