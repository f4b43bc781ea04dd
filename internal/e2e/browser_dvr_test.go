package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrowserPlaysDVRMP4 records a publish with B-frames to MP4 in the
// HTTP server's directory and plays the file, served by castd, in a plain
// <video> element of headless Chromium: video and audio must keep coming.
func TestBrowserPlaysDVRMP4(t *testing.T) {
	c := startCastd(t, `
listen              127.0.0.1:{{rtmp}};
daemon              off;
srs_log_tank        console;
pid                 {{dir}}/castd.pid;
http_api {
    enabled         on;
    listen          127.0.0.1:{{api}};
}
http_server {
    enabled         on;
    listen          127.0.0.1:{{http}};
    dir             {{dir}};
}
vhost __defaultVhost__ {
    dvr {
        enabled     on;
        dvr_path    {{dir}}/dvr/[app]/[stream].mp4;
    }
}
`)
	pub := ffmpegPublish(t, c.rtmpURL("live/browser"), 9*time.Second, "-bf", "2")
	if err := pub.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, pub.out.String())
	}
	file := filepath.Join(c.dir, "dvr", "live", "browser.mp4")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(file); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recording at %s", file)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p := probeFile(t, file); p.codecs() != "h264 320x240/aac" {
		t.Fatalf("%s: codecs %s", file, p.codecs())
	}

	r := playInBrowser(t, c, "file", c.httpURL("dvr/live/browser.mp4"), 6*time.Second)
	if problems := checkPlayback(r, wantPlayback{fps: 25, audio: true}); len(problems) > 0 {
		t.Fatalf("Chromium did not play the DVR MP4:\n%s\n%s", strings.Join(problems, "\n"), r.summary())
	}
	last := r.Samples[len(r.Samples)-1]
	t.Logf("<video>: %d frames (%d dropped), currentTime %.2fs, audio peak %.3f", last.Frames, last.Dropped, last.CurrentTime, last.AudioPeak)
}
