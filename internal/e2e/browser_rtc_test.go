package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrowserWHEPPlaysRTMP plays an RTMP stream (H.264 Constrained
// Baseline and AAC, as a browser-bound encoder sends it) by WHEP in
// Chromium's own WebRTC: castd converts AAC to Opus, and the page must
// decode frames and hear the tone. The page is on the HTTP port and WHEP on
// the API port, so the cross-origin request (CORS preflight) is covered too.
func TestBrowserWHEPPlaysRTMP(t *testing.T) {
	c := startCastd(t, rtcConf("rtmp_to_rtc on;", ""))
	ffmpegPublish(t, c.rtmpURL("live/cam"), 40*time.Second, "-profile:v", "baseline", "-bf", "0", "-tune", "zerolatency")
	c.waitPublished(t, "cam", 10*time.Second)

	r := playInBrowser(t, c, "whep", c.apiURL("rtc/v1/whep/?app=live&stream=cam"), 6*time.Second)
	if problems := checkPlayback(r, wantPlayback{fps: 25, audio: true}); len(problems) > 0 {
		t.Fatalf("Chromium did not play RTMP by WHEP:\n%s\n%s", strings.Join(problems, "\n"), r.summary())
	}
	logLastSample(t, "WHEP from RTMP", r)
}

// TestBrowserWHIPToWHEP publishes Chromium's fake camera and microphone by
// WHIP from one page and plays the stream by WHEP in another browser; both
// go through the HTTP port, which shares the API here. The fake microphone
// plays a file with a steady tone: its default beeps now and then, too
// seldom for the audio check.
func TestBrowserWHIPToWHEP(t *testing.T) {
	c := startCastd(t, strings.Replace(rtcConf("", ""), "listen 127.0.0.1:{{api}};", "listen 127.0.0.1:{{http}};", 1))
	c.api = c.http // the API (waitPublished) is on the shared port
	tone := filepath.Join(t.TempDir(), "tone.wav")
	if out, err := exec.Command(requireTool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
		"-i", "sine=frequency=440:sample_rate=48000", "-t", "5", "-ac", "2", "-c:a", "pcm_s16le", tone).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg tone: %v\n%s", err, out)
	}
	publisher := openInBrowser(t, c, "whip", c.httpURL("rtc/v1/whip/?app=live&stream=cam"), 60*time.Second,
		"--use-file-for-fake-audio-capture="+tone)
	c.waitPublished(t, "cam", 20*time.Second)

	r := playInBrowser(t, c, "whep", c.httpURL("rtc/v1/whep/?app=live&stream=cam"), 6*time.Second)
	pub := publisher.stop(t)
	// The fake camera runs at 20 fps or less and the encoder may drop
	// frames on a busy machine: ask for 10 (checkPlayback wants half).
	if problems := checkPlayback(r, wantPlayback{fps: 10, audio: true}); len(problems) > 0 {
		t.Fatalf("Chromium did not play by WHEP what Chromium published by WHIP:\n%s\n%s\nWHIP page:\n%s",
			strings.Join(problems, "\n"), r.summary(), pub.summary())
	}
	logLastSample(t, "WHEP from WHIP", r)
	// The publishing page must have seen no error either.
	for _, e := range pub.Errors {
		t.Errorf("WHIP page error: %s", e)
	}
	if t.Failed() {
		t.Logf("WHIP page:\n%s", pub.summary())
	}
}

func logLastSample(t *testing.T, what string, r browserResult) {
	t.Helper()
	last := r.Samples[len(r.Samples)-1]
	t.Logf("%s: %d frames (%d dropped), currentTime %.2fs, audio peak %.3f", what, last.Frames, last.Dropped, last.CurrentTime, last.AudioPeak)
}
