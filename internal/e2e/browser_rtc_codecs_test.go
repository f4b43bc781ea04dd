package e2e

import (
	"strings"
	"testing"
	"time"
)

// streamVideoCodec returns the video codec the API reports for a stream.
func streamVideoCodec(t *testing.T, c *castd, name string) string {
	t.Helper()
	var r struct {
		Streams []struct {
			Name  string
			Video *struct{ Codec string }
		}
	}
	getJSON(t, "GET", c.apiURL("api/v1/streams/?count=100"), &r)
	for _, s := range r.Streams {
		if s.Name == name && s.Video != nil {
			return s.Video.Codec
		}
	}
	return ""
}

// TestBrowserWHIPWHEPCodecs publishes Chromium's fake camera by WHIP in
// VP8, VP9 and AV1 (?codec= makes castd's answer keep that codec alone,
// whatever the page prefers) and plays each stream back by WHEP in
// Chromium, which must decode frames steadily. Headless Chromium has no
// H.265 encoder (and no decoder without hardware), so H.265 is covered by
// the Go tests only.
func TestBrowserWHIPWHEPCodecs(t *testing.T) {
	c := startCastd(t, strings.Replace(rtcConf("", ""), "listen 127.0.0.1:{{api}};", "listen 127.0.0.1:{{http}};", 1))
	c.api = c.http // the API (waitPublished) is on the shared port
	for _, codec := range []struct{ param, api string }{{"vp8", "VP8"}, {"vp9", "VP9"}, {"av1", "AV1"}} {
		t.Run(codec.api, func(t *testing.T) {
			name := "cam-" + codec.param
			publisher := openInBrowser(t, c, "whip", c.httpURL("rtc/v1/whip/?app=live&stream="+name+"&codec="+codec.param), 40*time.Second)
			c.waitPublished(t, name, 20*time.Second)
			if got := streamVideoCodec(t, c, name); got != codec.api {
				publisher.stop(t)
				t.Fatalf("Chromium published %q video, want %s", got, codec.api)
			}
			r := playInBrowser(t, c, "whep", c.httpURL("rtc/v1/whep/?app=live&stream="+name), 5*time.Second)
			pub := publisher.stop(t)
			// The fake camera runs at 20 fps or less and the encoder may
			// drop frames on a busy machine: ask for 10 (checkPlayback
			// wants half).
			if problems := checkPlayback(r, wantPlayback{fps: 10}); len(problems) > 0 {
				t.Fatalf("Chromium did not play its own %s by WHEP:\n%s\n%s\nWHIP page:\n%s",
					codec.api, strings.Join(problems, "\n"), r.summary(), pub.summary())
			}
			logLastSample(t, "WHEP "+codec.api+" from WHIP", r)
			for _, e := range pub.Errors {
				t.Errorf("WHIP page error: %s", e)
			}
		})
	}
}
