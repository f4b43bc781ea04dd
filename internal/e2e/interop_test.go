package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// checkProbe asserts the stream ffmpegPublish generates: H.264 320x240 at
// 25 fps and AAC 44.1 kHz stereo.
func checkProbe(t *testing.T, what string, p probeResult) {
	t.Helper()
	vi, ok := p.stream("video")
	if !ok {
		t.Fatalf("%s: no video stream in %+v", what, p.Streams)
	}
	v := p.Streams[vi]
	if v.CodecName != "h264" || v.Width != 320 || v.Height != 240 || v.RFrameRate != "25/1" {
		t.Errorf("%s: video %s %dx%d %s, want h264 320x240 25/1", what, v.CodecName, v.Width, v.Height, v.RFrameRate)
	}
	ai, ok := p.stream("audio")
	if !ok {
		t.Fatalf("%s: no audio stream", what)
	}
	a := p.Streams[ai]
	if a.CodecName != "aac" || a.SampleRate != "44100" || a.Channels != 2 {
		t.Errorf("%s: audio %s %s Hz %d ch, want aac 44100 Hz 2 ch", what, a.CodecName, a.SampleRate, a.Channels)
	}
}

func TestFFmpegPublishProbeRTMPAndFLVAtOnce(t *testing.T) {
	c := startCastd(t, defaultConf)
	ffmpegPublish(t, c.rtmpURL("live/livestream"), 20*time.Second)
	c.waitPublished(t, "livestream", 10*time.Second)

	// Two players at once, one per protocol.
	var wg sync.WaitGroup
	var rtmpProbe, flvProbe probeResult
	wg.Add(2)
	go func() { defer wg.Done(); rtmpProbe = ffprobe(t, c.rtmpURL("live/livestream"), 0) }()
	go func() { defer wg.Done(); flvProbe = ffprobe(t, c.httpURL("live/livestream.flv"), 0) }()
	wg.Wait()
	checkProbe(t, "rtmp", rtmpProbe)
	checkProbe(t, "http-flv", flvProbe)
}

func TestBFramesKeepCompositionTimes(t *testing.T) {
	c := startCastd(t, defaultConf)
	ffmpegPublish(t, c.rtmpURL("live/bframes"), 20*time.Second, "-preset", "veryfast", "-bf", "2")
	c.waitPublished(t, "bframes", 10*time.Second)
	for _, url := range []string{c.rtmpURL("live/bframes"), c.httpURL("live/bframes.flv")} {
		p := ffprobe(t, url, 120)
		reordered := 0
		for _, pk := range p.Packets {
			if pk.CodecType != "video" {
				continue
			}
			if pk.PTS < pk.DTS {
				t.Fatalf("%s: video packet with pts %d < dts %d", url, pk.PTS, pk.DTS)
			}
			if pk.PTS > pk.DTS {
				reordered++
			}
		}
		if reordered == 0 {
			t.Errorf("%s: no video packet has pts > dts: composition times were lost", url)
		}
	}
}

func TestSecondPublisherIsRefused(t *testing.T) {
	c := startCastd(t, defaultConf)
	ffmpegPublish(t, c.rtmpURL("live/busy"), 20*time.Second)
	c.waitPublished(t, "busy", 10*time.Second)

	second := ffmpegPublish(t, c.rtmpURL("live/busy"), 10*time.Second)
	select {
	case <-second.done:
		if second.err == nil {
			t.Fatal("the second publisher's ffmpeg succeeded")
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the second publisher was not refused")
	}
	c.waitLog(t, "stream busy (published by client", 2*time.Second)
}

// TestRepublishKeepsRTMPPlayer plays with ffmpeg while one publisher stops
// and another starts: the player stays connected and gets frames from both.
func TestRepublishKeepsRTMPPlayer(t *testing.T) {
	c := startCastd(t, defaultConf)
	first := ffmpegPublish(t, c.rtmpURL("live/re"), 4*time.Second)
	c.waitPublished(t, "re", 10*time.Second)

	player := startCmd(t, requireTool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error",
		"-i", c.rtmpURL("live/re"), "-map", "0:v", "-f", "framecrc", "-")
	// framecrc prints one line per frame, after "#" header lines.
	count := func() int {
		n := 0
		for _, l := range strings.Split(player.out.String(), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				n++
			}
		}
		return n
	}

	_ = first.Wait()
	afterFirst := count()
	if afterFirst < 25 {
		t.Fatalf("the player got %d frames from the first publisher", afterFirst)
	}
	ffmpegPublish(t, c.rtmpURL("live/re"), 4*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for count() < afterFirst+50 {
		if time.Now().After(deadline) {
			t.Fatalf("after republish the player got %d more frames, want 50+", count()-afterFirst)
		}
		if player.Exited() {
			t.Fatalf("the player exited at republish: %v", player.err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEnvOnly starts the castd binary with -e and SRS_* variables only.
func TestEnvOnly(t *testing.T) {
	bin := buildCastd(t)
	rtmpPort, httpPort, apiPort := freePort(t), freePort(t), freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "-e")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("SRS_LISTEN=127.0.0.1:%d", rtmpPort),
		"SRS_HTTP_API_ENABLED=on", fmt.Sprintf("SRS_HTTP_API_LISTEN=127.0.0.1:%d", apiPort),
		"SRS_HTTP_SERVER_ENABLED=on", fmt.Sprintf("SRS_HTTP_SERVER_LISTEN=127.0.0.1:%d", httpPort),
		"SRS_VHOST_HTTP_REMUX_ENABLED=on", "SRS_VHOST_HTTP_REMUX_MOUNT=[vhost]/[app]/[stream].flv",
	)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("castd output:\n%s", out.String())
		}
	}()
	c := &castd{rtmp: rtmpPort, http: httpPort, api: apiPort, logs: out}
	waitHTTP(t, c.apiURL("api/v1/versions"), 10*time.Second)
	ffmpegPublish(t, c.rtmpURL("live/env"), 20*time.Second)
	c.waitPublished(t, "env", 10*time.Second)
	checkProbe(t, "http-flv", ffprobe(t, c.httpURL("live/env.flv"), 0))
	checkProbe(t, "rtmp", ffprobe(t, c.rtmpURL("live/env"), 0))
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// buildCastd builds the castd binary once per test run.
func buildCastd(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "castd-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = dir + "/castd"
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-race", "-o", buildPath, "github.com/castd/castd/cmd/castd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// waitHTTP waits until url answers.
func waitHTTP(t *testing.T, url string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var v map[string]any
		if ok := tryGetJSON(url, &v); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered", url)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
