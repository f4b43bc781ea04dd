// Package benchtest has helpers for castbench's tests: test media made
// with ffmpeg, goroutine and scheduler checks. Only tests import it; the
// in-process castd is in package castdtest, so packages below the server
// can test without it.
package benchtest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FLVOptions describe the test stream GenerateFLV makes.
type FLVOptions struct {
	Duration     time.Duration // default 2 s
	VideoKbps    int           // default 900, constant bitrate
	AudioKbps    int           // default 64; AAC stereo 44.1 kHz
	FPS          int           // default 25
	GOP          int           // frames; default FPS (one second)
	Size         string        // default 320x240
	NoAudio      bool
	ExtraOptions []string // more encoder options, before the output
}

// GenerateFLV encodes an H.264 + AAC FLV file with ffmpeg's lavfi sources
// (a test pattern with noise, so frames have even sizes, and a sine) into
// the test's temp dir and returns its path. It fails the test when ffmpeg
// is missing: scripts/test.sh installs it.
func GenerateFLV(t testing.TB, o FLVOptions) string {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatal("ffmpeg is not installed; castbench's tests make their media with it (scripts/test.sh installs it)")
	}
	if o.Duration == 0 {
		o.Duration = 2 * time.Second
	}
	if o.VideoKbps == 0 {
		o.VideoKbps = 900
	}
	if o.AudioKbps == 0 {
		o.AudioKbps = 64
	}
	if o.FPS == 0 {
		o.FPS = 25
	}
	if o.GOP == 0 {
		o.GOP = o.FPS
	}
	if o.Size == "" {
		o.Size = "320x240"
	}
	out := filepath.Join(t.TempDir(), "source.flv")
	kbps := strconv.Itoa(o.VideoKbps) + "k"
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=%s:rate=%d,noise=alls=30:allf=t", o.Size, o.FPS)}
	if !o.NoAudio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100")
	}
	args = append(args, "-t", fmt.Sprintf("%.3f", o.Duration.Seconds()),
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-bf", "0",
		"-g", strconv.Itoa(o.GOP), "-b:v", kbps, "-minrate", kbps, "-maxrate", kbps,
		"-bufsize", strconv.Itoa(o.VideoKbps/6)+"k", "-x264-params", "nal-hrd=cbr")
	if !o.NoAudio {
		args = append(args, "-c:a", "aac", "-b:a", strconv.Itoa(o.AudioKbps)+"k", "-ac", "2")
	}
	args = append(args, o.ExtraOptions...)
	args = append(args, "-f", "flv", out)
	if b, err := exec.Command(ffmpeg, args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// CheckGoroutines fails the test when more goroutines run than baseline
// after a grace period, listing them.
func CheckGoroutines(t testing.TB, baseline int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutine leak: %d running, %d before\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SchedulerWatch measures how late a goroutine that wakes every 10 ms
// runs: on a machine overloaded by other work (parallel test packages,
// fuzzing) every real-time measurement is off by about that much.
type SchedulerWatch struct {
	stop chan struct{}
	done chan time.Duration
}

// WatchScheduler starts a SchedulerWatch.
func WatchScheduler() *SchedulerWatch {
	w := &SchedulerWatch{stop: make(chan struct{}), done: make(chan time.Duration, 1)}
	go func() {
		var worst time.Duration
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-w.stop:
				w.done <- worst
				return
			case now := <-tick.C:
				worst = max(worst, now.Sub(last)-10*time.Millisecond)
				last = now
			}
		}
	}()
	return w
}

// Stop ends the watch and returns the worst delay seen.
func (w *SchedulerWatch) Stop() time.Duration {
	close(w.stop)
	return <-w.done
}
