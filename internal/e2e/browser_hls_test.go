package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/hls"
)

// TestHlsJSPlaysHLS plays castd's HLS with hls.js in Chromium, through an
// hls_ctx session as SRS's default gives players: video frames keep
// coming, audio is heard and the player reports no error.
func TestHlsJSPlaysHLS(t *testing.T) {
	c := startCastd(t, hlsConf("hls_fragment 1; hls_window 6;", "", ""))
	ffmpegPublish(t, c.rtmpURL("live/browserhls"), 30*time.Second)
	// hls.js starts three segments behind the newest: wait until the
	// playlist has them, so playback starts as the page opens.
	w := newPlaylistWatch(t, c, "live/browserhls.m3u8")
	w.watchUntil(15*time.Second, "three segments", func(p *hls.MediaPlaylist) bool { return len(p.Segments) >= 3 })

	r := playInBrowser(t, c, "hls", c.httpURL("live/browserhls.m3u8"), 6*time.Second)
	if problems := checkPlayback(r, wantPlayback{fps: 25, audio: true}); len(problems) > 0 {
		t.Fatalf("hls.js did not play HLS:\n%s\n%s", strings.Join(problems, "\n"), r.summary())
	}
	last := r.Samples[len(r.Samples)-1]
	t.Logf("hls.js: %d frames (%d dropped), currentTime %.2fs, audio peak %.3f", last.Frames, last.Dropped, last.CurrentTime, last.AudioPeak)
}
