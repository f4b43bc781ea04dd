package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/castd/castd/internal/bench"
	"github.com/castd/castd/internal/bench/benchtest"
	"github.com/castd/castd/internal/bench/source"
)

// castbenchHLSConf is castd with HLS (and SRS's default hls_ctx sessions)
// written into the HTTP root, one-second fragments.
const castbenchHLSConf = `
listen              127.0.0.1:{{rtmp}};
daemon              off;
srs_log_tank        console;
pid                 {{dir}}/castd.pid;
http_api { enabled on; listen 127.0.0.1:{{api}}; }
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
vhost __defaultVhost__ {
    hls { enabled on; hls_path {{dir}}; hls_fragment 1; hls_window 5; }
}
`

// castbench publishes a stamped stream to castd and reads it back with HLS
// players: castd's playlists, hls_ctx sessions and TS segments work for a
// real player, and its TS remuxer keeps the latency stamps.
func TestCastbenchHLSPlayers(t *testing.T) {
	c := startCastd(t, castbenchHLSConf)
	src, err := source.Load(benchtest.GenerateFLV(t, benchtest.FLVOptions{Duration: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := bench.Run(context.Background(), bench.Config{
		Publish: &bench.PublishConfig{Source: src, URL: c.rtmpURL("live/cb")},
		// The players wait for the playlist, which castd writes once the
		// first segment is cut.
		Play:     &bench.PlayConfig{URLs: []string{c.httpURL("live/cb.m3u8")}, Players: 3},
		Duration: 7 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	play := rep.Play
	h := play.HLS
	if len(rep.FailedChecks) != 0 || play.Players.EverUp != 3 || play.Players.Failed != 0 || len(play.Errors) != 0 {
		t.Fatalf("report:\n%s", js)
	}
	// About 5 one-second segments each; every frame of castbench's stream
	// is stamped, and castd's segments keep the stamps.
	if h == nil || h.Segments < 3*3 || len(h.Errors) != 0 || play.VideoFrames < 3*3*20 ||
		play.StampedFrames < play.VideoFrames*9/10 || play.AudioFrames == 0 || play.TTFFMs.Count != 3 {
		t.Errorf("report:\n%s", js)
	}
	// A frame waits for its segment to be cut (up to a fragment and a
	// GOP), then for the next reload.
	if l := play.LatencyMs; l.P50 <= 0 || l.P50 > 4000 || play.ClockSkewFrames != 0 {
		t.Errorf("latency %+v, report:\n%s", l, js)
	}
}
