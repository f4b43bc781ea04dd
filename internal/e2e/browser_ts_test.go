package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestMpegtsJSPlaysHTTPTS plays castd's HTTP-TS (muxed once per stream by
// its relay) with mpegts.js in Chromium.
func TestMpegtsJSPlaysHTTPTS(t *testing.T) {
	c := startCastd(t, remuxConf)
	ffmpegPublish(t, c.rtmpURL("live/browserts"), 30*time.Second)
	c.waitPublished(t, "browserts", 10*time.Second)

	r := playInBrowser(t, c, "ts", c.httpURL("live/browserts.ts"), 6*time.Second)
	if problems := checkPlayback(r, wantPlayback{fps: 25, audio: true}); len(problems) > 0 {
		t.Fatalf("mpegts.js did not play HTTP-TS:\n%s\n%s", strings.Join(problems, "\n"), r.summary())
	}
	last := r.Samples[len(r.Samples)-1]
	t.Logf("mpegts.js (TS): %d frames (%d dropped), currentTime %.2fs, audio peak %.3f", last.Frames, last.Dropped, last.CurrentTime, last.AudioPeak)
}
