package bench_test

import (
	"context"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/castd/castd/internal/bench"
	"github.com/castd/castd/internal/bench/benchtest"
	"github.com/castd/castd/internal/bench/benchtest/livehls"
	"github.com/castd/castd/internal/bench/failure"
)

// HLS players report through the same figures as the others, plus the
// report's hls section; one of the streams loses every third segment.
func TestRunHLSPlayers(t *testing.T) {
	good := livehls.New(t, 200*time.Millisecond)
	good.Start = time.Now().Add(-time.Second)
	lossy := livehls.New(t, 200*time.Millisecond)
	lossy.Start = good.Start
	lossy.Missing = func(k int) bool { return k%3 == 0 }
	goodSrv, lossySrv := httptest.NewServer(good), httptest.NewServer(lossy)
	defer goodSrv.Close()
	defer lossySrv.Close()
	baseline := runtime.NumGoroutine()
	var lines []bench.Progress
	rep, err := bench.Run(context.Background(), bench.Config{
		Play: &bench.PlayConfig{
			URLs:    []string{goodSrv.URL + "/live/s%d.m3u8", lossySrv.URL + "/live/s%d.m3u8"},
			Players: 4, Streams: 2,
		},
		Duration: 2 * time.Second,
		Interval: 500 * time.Millisecond,
		Progress: func(p bench.Progress) { lines = append(lines, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	play := rep.Play
	if len(rep.FailedChecks) != 0 || play.Players.EverUp != 4 || play.Players.Failed != 0 || len(play.Errors) != 0 {
		t.Fatalf("checks %v, players %+v, errors %+v", rep.FailedChecks, play.Players, play.Errors)
	}
	h := play.HLS
	if h == nil || h.Players != 4 || h.Segments < 4*5 || h.SegmentLatencyMs.Count != h.Segments || h.PlaylistLoads < 4*10 {
		t.Fatalf("hls report %+v", h)
	}
	if h.Errors[failure.HTTPStatus].Count == 0 || h.SegmentBytes <= play.BytesReceived {
		t.Errorf("hls errors %+v, %d segment bytes for %d media bytes", h.Errors, h.SegmentBytes, play.BytesReceived)
	}
	if play.TTFFMs.Count != 4 || play.LatencyMs.Count != play.StampedFrames || play.StampedFrames < h.Segments*5 ||
		play.AudioFrames != play.VideoFrames || play.Bitrate.PerPlayer.Count != 4 {
		t.Errorf("ttff %+v, latency %+v, %d stamped, %d video, %d audio, per-player bitrate %+v",
			play.TTFFMs, play.LatencyMs, play.StampedFrames, play.VideoFrames, play.AudioFrames, play.Bitrate.PerPlayer)
	}
	if n := len(lines); n < 3 || lines[n-1].HLSSegments == 0 || lines[n-1].SegmentP50Ms <= 0 || lines[n-1].HLSErrors == "" {
		t.Errorf("progress %+v", lines)
	}
	// The run closed its HTTP client's connections: their goroutines, and
	// the servers', have ended.
	benchtest.CheckGoroutines(t, baseline)
}
