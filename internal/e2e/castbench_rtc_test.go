package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/castd/castd/internal/bench"
	"github.com/castd/castd/internal/bench/benchtest"
	"github.com/castd/castd/internal/bench/source"
)

// castbench publishes a stamped stream over RTMP and plays it back with
// WebRTC players (rtmp_to_rtc): castd's WHEP, ICE-lite, DTLS and H.264
// packetizer work for a pion client, and the RTP keeps the latency stamps
// (SEI). One player uses the webrtc:// form, the others the WHEP URL.
func TestCastbenchWebRTCPlayers(t *testing.T) {
	c := startCastd(t, rtcConf("rtmp_to_rtc on;", ""))
	src, err := source.Load(benchtest.GenerateFLV(t, benchtest.FLVOptions{Duration: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	baseline := runtime.NumGoroutine()
	urls := []string{
		fmt.Sprintf("webrtc://127.0.0.1:%d/live/cbrtc", c.api),
		"whep+" + c.apiURL("rtc/v1/whep/?app=live&stream=cbrtc"),
	}
	rep, err := bench.Run(context.Background(), bench.Config{
		Publish:  &bench.PublishConfig{Source: src, URL: c.rtmpURL("live/cbrtc")},
		Play:     &bench.PlayConfig{URLs: urls, Players: 3},
		Duration: 6 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	t.Logf("report:\n%s", js)
	play := rep.Play
	if len(rep.FailedChecks) != 0 || play.Players.EverUp != 3 || play.Players.Failed != 0 || len(play.Errors) != 0 {
		t.Fatalf("report:\n%s", js)
	}
	// About 5 s of 25 fps video each, nearly every frame stamped.
	if play.VideoFrames < 3*3*25 || play.StampedFrames < play.VideoFrames*9/10 || play.TTFFMs.Count != 3 || play.Bitrate.Total <= 0 {
		t.Errorf("report:\n%s", js)
	}
	// Every player's peer connection, pion's goroutines included, and
	// castd's sessions (DELETEd by the players) are gone.
	checkGoroutines(t, baseline)
	if l := play.LatencyMs; l.P50 <= 0 || l.P50 >= 2000 || play.ClockSkewFrames != 0 {
		t.Errorf("latency %+v, report:\n%s", l, js)
	}
}
