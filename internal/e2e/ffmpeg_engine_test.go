package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
)

// ffmpegPIDs lists the running processes whose command line contains s
// (castd's ffmpeg children are found by their output URL).
func ffmpegPIDs(t *testing.T, s string) []int {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte(s)) || !bytes.Contains(cmd, []byte("ffmpeg")) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join(d, "stat")); err == nil && bytes.Contains(stat, []byte(") Z ")) {
			continue // a zombie has exited
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		pids = append(pids, pid)
	}
	return pids
}

// waitNoFFmpeg waits until no ffmpeg whose command line contains s runs.
func waitNoFFmpeg(t *testing.T, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		left := ffmpegPIDs(t, s)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ffmpeg %v (%s) still running after %v", left, s, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTranscodeEngine: a transcode engine re-encodes a published stream
// to the [stream]_[engine] stream with the engine's size and audio
// settings; the output is not transcoded again; unpublishing stops the
// ffmpeg for good (no restart).
func TestTranscodeEngine(t *testing.T) {
	ff := requireTool(t, "ffmpeg")
	c := startCastd(t, fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
ff_log_dir {{dir}};
ff_log_level warning;
vhost __defaultVhost__ {
    transcode live {
        enabled on;
        ffmpeg %s;
        engine small {
            enabled on;
            vcodec libx264; vbitrate 300; vfps 25; vwidth 160; vheight 120; vthreads 1;
            vprofile baseline; vpreset ultrafast; vparams { g 25; }
            acodec aac; abitrate 32; asample_rate 22050; achannels 1;
            output rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine];
        }
    }
}
`, ff))
	pub := ffmpegPublish(t, c.rtmpURL("live/tc"), 20*time.Second)
	c.waitPublishing(t, liveKey("tc_small"), true, 10*time.Second)
	r := ffprobe(t, c.rtmpURL("live/tc_small"), 0)
	v, okV := r.stream("video")
	a, okA := r.stream("audio")
	if !okV || !okA {
		t.Fatalf("transcoded stream has %+v, want video and audio", r.Streams)
	}
	if s := r.Streams[v]; s.CodecName != "h264" || s.Width != 160 || s.Height != 120 {
		t.Errorf("video %s %dx%d, want h264 160x120", s.CodecName, s.Width, s.Height)
	}
	if s := r.Streams[a]; s.CodecName != "aac" || s.SampleRate != "22050" || s.Channels != 1 {
		t.Errorf("audio %s %s Hz %d ch, want aac 22050 Hz mono", s.CodecName, s.SampleRate, s.Channels)
	}
	// The output is in the transcode's scope too: it must not be
	// transcoded again.
	if st := c.srv.Hub().Stream(liveKey("tc_small_small")); st != nil && st.Publishing() {
		t.Error("the transcoder's output was transcoded again")
	}
	if _, err := os.Stat(filepath.Join(c.dir, "ffmpeg-encoder-__defaultVhost__-live-tc-small.log")); err != nil {
		t.Errorf("ffmpeg log: %v", err)
	}
	pids := ffmpegPIDs(t, "/live/tc_small")
	if len(pids) != 1 {
		t.Fatalf("transcoder processes %v, want one", pids)
	}

	// Unpublish: the transcoder gets SIGTERM and is not started again.
	if err := pub.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.waitPublishing(t, liveKey("tc"), false, 5*time.Second)
	waitNoFFmpeg(t, "/live/tc_small", 5*time.Second)
	time.Sleep(3500 * time.Millisecond) // past the 3 s restart delay
	if left := ffmpegPIDs(t, "/live/tc_small"); len(left) > 0 {
		t.Fatalf("transcoder restarted after unpublish: %v", left)
	}
}

// TestIngestFile: an ingest of a FLV file starts with castd and publishes
// the file (copied) to the engine's output, which players can read.
func TestIngestFile(t *testing.T) {
	ff := requireTool(t, "ffmpeg")
	src := filepath.Join(t.TempDir(), "source.flv")
	gen := exec.Command(ff, "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc=size=176x144:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "32k", "-f", "flv", "-y", src)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("generate %s: %v\n%s", src, err, out)
	}
	const text = `
listen 127.0.0.1:%d;
ff_log_dir /dev/null;
vhost __defaultVhost__ {
    ingest file1 {
        enabled %s;
        input { type file; url %s; }
        ffmpeg %s;
        engine { enabled off; output rtmp://127.0.0.1:[port]/live?vhost=[vhost]/ingested; }
    }
}
`
	c := startCastd(t, fmt.Sprintf(strings.Replace(text, "%d", "{{rtmp}}", 1), "on", src, ff))
	reload := func(enabled string) {
		cfg, err := conf.Parse("reload.conf", []byte(fmt.Sprintf(text, c.rtmp, enabled, src, ff)), conf.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c.srv.Reload(cfg)
	}
	c.waitPublishing(t, liveKey("ingested"), true, 10*time.Second)
	r := ffprobe(t, c.rtmpURL("live/ingested"), 0)
	v, okV := r.stream("video")
	_, okA := r.stream("audio")
	if !okV || !okA || r.Streams[v].CodecName != "h264" || r.Streams[v].Width != 176 {
		t.Fatalf("ingested stream has %+v, want h264 176x144 and audio", r.Streams)
	}
	if pids := ffmpegPIDs(t, src); len(pids) != 1 {
		t.Fatalf("ingest processes %v, want one", pids)
	}

	// A reload that disables the ingest stops it; enabling it starts it.
	reload("off")
	c.waitPublishing(t, liveKey("ingested"), false, 5*time.Second)
	waitNoFFmpeg(t, src, 5*time.Second)
	reload("on")
	c.waitPublishing(t, liveKey("ingested"), true, 10*time.Second)
	c.stop()
	if left := ffmpegPIDs(t, src); len(left) > 0 {
		t.Fatalf("ingest ffmpeg %v still running after castd stopped", left)
	}
}
