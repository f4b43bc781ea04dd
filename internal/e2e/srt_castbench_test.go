package e2e

import (
	"context"
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/castd/castd/internal/bench"
	"github.com/castd/castd/internal/bench/benchtest"
	"github.com/castd/castd/internal/bench/source"
)

// castbench publishes a stamped stream over SRT and plays it back over SRT,
// RTMP and HTTP-FLV: castd's TS ingest and TS relay keep every frame and
// its latency stamp (SEI) on the way through the hub, once sei_filter is
// off.
func TestCastbenchSRT(t *testing.T) {
	c := startCastd(t, srtConf("sei_filter off;", ""))
	src, err := source.Load(benchtest.GenerateFLV(t, benchtest.FLVOptions{Duration: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := bench.Run(context.Background(), bench.Config{
		Publish: &bench.PublishConfig{Source: src, URL: c.srtURL("#!::r=live/cb,m=publish")},
		Play: &bench.PlayConfig{URLs: []string{c.srtURL("#!::r=live/cb,m=request"), c.rtmpURL("live/cb"), c.httpURL("live/cb.flv")},
			Players: 3},
		Duration: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	play := rep.Play
	t.Logf("frames %d, stamped %d, latency %+v", play.VideoFrames, play.StampedFrames, play.LatencyMs)
	if len(rep.FailedChecks) != 0 || rep.Publish.Publishers.EverUp != 1 || play.Players.EverUp != 3 || play.Players.Failed != 0 {
		t.Fatalf("report:\n%s", js)
	}
	// About 4 s of 25 fps each, nearly every frame stamped; the latency is
	// SRT's (120 ms each way for the SRT player) plus the GOP cache start.
	if play.VideoFrames < 3*60 || play.StampedFrames < play.VideoFrames*9/10 || play.AudioFrames == 0 || play.TTFFMs.Count != 3 {
		t.Errorf("report:\n%s", js)
	}
	if l := play.LatencyMs; l.P50 <= 0 || l.P50 > 2000 || play.ClockSkewFrames != 0 {
		t.Errorf("latency %+v, report:\n%s", l, js)
	}
}

// TestSRTSEIFilter: srt_server's sei_filter (on by default, as SRS)
// drops the SEI NAL units of SRT publishers, castbench's stamps with them.
func TestSRTSEIFilter(t *testing.T) {
	c := startCastd(t, srtConf("", ""))
	src, err := source.Load(benchtest.GenerateFLV(t, benchtest.FLVOptions{Duration: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := bench.Run(context.Background(), bench.Config{
		Publish:  &bench.PublishConfig{Source: src, URL: c.srtURL("#!::r=live/sei,m=publish")},
		Play:     &bench.PlayConfig{URLs: []string{c.rtmpURL("live/sei")}, Players: 1},
		Duration: 3 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if play := rep.Play; play.VideoFrames < 25 || play.StampedFrames != 0 || rep.Publish.StampedFrames == 0 {
		js, _ := json.MarshalIndent(rep, "", "  ")
		t.Fatalf("want stamped frames published and none played: report:\n%s", js)
	}
}

// TestSRTManyConnectionsLeaveNothing: castbench opens a publisher and 100
// SRT players at once, twice. After each round has left and its stream is
// freed, castd is back to the goroutines and the heap it had after the
// first round (which warmed pools and caches): no connection leaves
// anything behind.
func TestSRTManyConnectionsLeaveNothing(t *testing.T) {
	const players = 100
	c := startCastd(t, srtConf("", ""))
	src, err := source.Load(benchtest.GenerateFLV(t, benchtest.FLVOptions{Duration: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	round := func(name string) {
		t.Helper()
		rep, err := bench.Run(context.Background(), bench.Config{
			Publish:  &bench.PublishConfig{Source: src, URL: c.srtURL("#!::r=live/many,m=publish")},
			Play:     &bench.PlayConfig{URLs: []string{c.srtURL("#!::r=live/many,m=request")}, Players: players},
			Duration: 4 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		if p := rep.Play.Players; p.EverUp != players || p.Failed != 0 || rep.Play.VideoFrames < players*25 {
			js, _ := json.MarshalIndent(rep, "", "  ")
			t.Fatalf("%s: report:\n%s", name, js)
		}
		waitNoStreams(t, c, 10*time.Second)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	round("first round")
	goroutines, before := runtime.NumGoroutine(), heap()
	round("second round")
	checkGoroutines(t, goroutines)
	after := heap()
	t.Logf("after the first round: %d goroutines, heap %d bytes; after the second: heap %d bytes", goroutines, before, after)
	if after > before+4<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d SRT connections that left", before, after, players+1)
	}
}

// waitNoStreams waits until castd has no client and no stream left.
func waitNoStreams(t *testing.T, c *castd, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var streams struct{ Streams []json.RawMessage }
		var clients struct{ Clients []json.RawMessage }
		getJSON(t, "GET", c.apiURL("api/v1/streams/"), &streams)
		getJSON(t, "GET", c.apiURL("api/v1/clients/"), &clients)
		if len(streams.Streams) == 0 && len(clients.Clients) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d streams and %d clients still there", len(streams.Streams), len(clients.Clients))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
