package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestMpegtsJSPlaysHTTPFLV plays castd's HTTP-FLV with mpegts.js, the
// player most SRS users embed, and checks that video and audio keep coming.
func TestMpegtsJSPlaysHTTPFLV(t *testing.T) {
	c := startCastd(t, defaultConf)
	ffmpegPublish(t, c.rtmpURL("live/browser"), 30*time.Second)
	c.waitPublished(t, "browser", 10*time.Second)

	r := playInBrowser(t, c, "flv", c.httpURL("live/browser.flv"), 6*time.Second)
	if problems := checkPlayback(r, wantPlayback{fps: 25, audio: true}); len(problems) > 0 {
		t.Fatalf("mpegts.js did not play HTTP-FLV:\n%s\n%s", strings.Join(problems, "\n"), r.summary())
	}
	last := r.Samples[len(r.Samples)-1]
	t.Logf("mpegts.js: %d frames (%d dropped), currentTime %.2fs, audio peak %.3f", last.Frames, last.Dropped, last.CurrentTime, last.AudioPeak)
}

// TestBrowserCheckCatchesNoPlayback keeps the browser check honest: a
// stream nobody publishes plays nothing, and a file castd does not have
// is a player error.
func TestBrowserCheckCatchesNoPlayback(t *testing.T) {
	c := startCastd(t, defaultConf)
	for _, tc := range []struct {
		name, stream, want string
	}{
		{"unpublished stream", "live/nobody.flv", "no video frame decoded"},
		{"missing file", "playertest/missing.txt", "HttpStatusCodeInvalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := playInBrowser(t, c, "flv", c.httpURL(tc.stream), 2*time.Second)
			problems := strings.Join(checkPlayback(r, wantPlayback{fps: 25, audio: true}), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Fatalf("the check found %q, want a problem with %q\n%s", problems, tc.want, r.summary())
			}
		})
	}
}
