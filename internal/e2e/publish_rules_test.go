package e2e

import (
	"testing"
	"time"
)

// TestKickoffForIdle: a publisher nobody plays is disconnected after
// publish.kickoff_for_idle; one with a player is not.
func TestKickoffForIdle(t *testing.T) {
	c := startCastd(t, `
listen 127.0.0.1:{{rtmp}};
vhost __defaultVhost__ {
    publish { kickoff_for_idle 2; }
    hls { enabled on; hls_path {{dir}}; }
}
`)
	watched := ffmpegPublish(t, c.rtmpURL("live/watched"), 20*time.Second)
	c.waitPublishing(t, liveKey("watched"), true, 10*time.Second)
	player := dialPlay(t, c, "watched")
	defer player.Close()
	idle := ffmpegPublish(t, c.rtmpURL("live/idle"), 20*time.Second)
	c.waitPublishing(t, liveKey("idle"), true, 10*time.Second)
	start := time.Now()
	select {
	case <-idle.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the publisher nobody played (HLS only) is still connected")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("kicked after %v, want about 2 s", d)
	}
	c.waitLog(t, "publish: kicked off, nobody played the stream", 0)
	readMedia(t, player, 10, 5*time.Second)
	if watched.Exited() {
		t.Error("the watched publisher was kicked")
	}
}
