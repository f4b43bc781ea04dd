package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/bench"
	"github.com/castd/castd/internal/bench/benchtest"
	"github.com/castd/castd/internal/bench/benchtest/livehls"
	"github.com/castd/castd/internal/bench/castdtest"
	"github.com/castd/castd/internal/bench/player"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, false)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	code, out, _ := runCLI("-h")
	if code != exitOK || !strings.Contains(out, "castbench publish") || !strings.Contains(out, "Examples:") {
		t.Errorf("-h: code %d\n%s", code, out)
	}
	if code, _, _ := runCLI(); code != exitUsage {
		t.Errorf("no arguments: code %d", code)
	}
	for _, cmd := range []string{"publish", "play", "publish-play"} {
		code, _, errOut := runCLI(cmd, "-h")
		if code != exitOK || !strings.Contains(errOut, "-u") || !strings.Contains(errOut, "-json") {
			t.Errorf("%s -h: code %d\n%s", cmd, code, errOut)
		}
	}
	flvFile := filepath.Join(t.TempDir(), "x.flv")
	if err := os.WriteFile(flvFile, []byte("not an flv"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"frobnicate"},
		{"play"}, // no -u
		{"play", "-u", "rtmp://h/live/s", "extra"},          // stray argument
		{"play", "-u", "rtmp://h/live/s", "-n", "x"},        // bad number
		{"play", "-u", "rtmp://h/live/s", "-n", "0"},        // no players
		{"play", "-u", "srt://h:1/x"},                       // unsupported
		{"play", "-u", "rtmp://h/live/s", "--streams", "2"}, // no %d
		{"publish", "-u", "rtmp://h/live/s"},                // no -i
		{"publish", "-u", "rtmp://h/live/s", "-i", flvFile},
		{"publish", "-i", flvFile},
		{"play", "-u", "rtmp://h/live/s", "-d", "-1s"},
		{"play", "-u", "http://h/live/s.m3u8", "--hls-buffer", "-1s"},
		{"play", "-u", "http://h/live/s.mpd"},
	} {
		if code, _, errOut := runCLI(args...); code != exitUsage || errOut == "" {
			t.Errorf("%q: code %d, stderr %q", args, code, errOut)
		}
	}
}

func TestNothingConnectsExitsOne(t *testing.T) {
	code, out, errOut := runCLI("play", "-u", "rtmp://127.0.0.1:1/live/s", "-n", "2", "-d", "300ms", "--interval", "100ms")
	if code != exitFailed || !strings.Contains(errOut, "no player connected") {
		t.Errorf("code %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "error       dial: 2") {
		t.Errorf("summary without the errors:\n%s", out)
	}
}

func TestPublishPlayAgainstCastd(t *testing.T) {
	src := benchtest.GenerateFLV(t, benchtest.FLVOptions{Duration: time.Second})
	castd := castdtest.Start(t)
	report := filepath.Join(t.TempDir(), "report.json")
	code, out, errOut := runCLI("publish-play", "-i", src, "-u", castd.RTMPURL("live/s%d"),
		"--play-url", castd.RTMPURL("live/s%d"), "--play-url", castd.HTTPURL("live/s%d.flv"),
		"--streams", "2", "-n", "4", "-d", "2s", "--interval", "500ms", "--json", report)
	if code != exitOK {
		t.Fatalf("code %d\n%s\n%s", code, out, errOut)
	}
	if strings.Count(out, "\n") < 4 || !strings.Contains(out, "play 4/4 up") || !strings.Contains(out, "latency     p50") {
		t.Errorf("output:\n%s", out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != bench.SchemaVersion || rep.Play == nil || rep.Play.Players.EverUp != 4 || len(rep.Play.URLs) != 2 ||
		rep.Publish == nil || rep.Publish.Publishers.EverUp != 2 {
		t.Errorf("report:\n%s", b)
	}
	// --json - puts the report on stdout and progress on stderr.
	code, out, errOut = runCLI("play", "-u", castd.RTMPURL("live/none"), "-d", "300ms", "--json", "-")
	if code != exitFailed || !json.Valid([]byte(out)) || !strings.Contains(errOut, "castbench play:") {
		t.Errorf("--json -: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}

func TestLiveLine(t *testing.T) {
	p := bench.Progress{
		Elapsed: 12 * time.Second, Players: 300, PlayerCounts: player.Counts{Up: 298, Failed: 2},
		RecvKbps: 301200, LatencyCount: 10, LatencyP50Ms: 45, LatencyP99Ms: 120, TTFFP50Ms: 130, PlayErrors: "dial=2",
	}
	want := "   12s | play 298/300 up 2 failed recv 301.2 Mb/s | latency p50 45ms p99 120ms | ttff p50 130ms | stalls 0 | errors dial=2"
	if got := formatProgress(p); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	hls := p
	hls.HLSSegments, hls.SegmentP50Ms, hls.SegmentP99Ms, hls.HLSErrors = 120, 3.2, 41, "http_status=2"
	wantHLS := "   12s | play 298/300 up 2 failed recv 301.2 Mb/s | latency p50 45ms p99 120ms | ttff p50 130ms | stalls 0" +
		" | hls 120 seg, seg latency p50 3.2ms p99 41ms | errors dial=2 | hls errors http_status=2"
	if got := formatProgress(hls); got != wantHLS {
		t.Errorf("got  %q\nwant %q", got, wantHLS)
	}
	var tty, plain bytes.Buffer
	lt, lp := &liveLine{w: &tty, tty: true}, &liveLine{w: &plain}
	for range 2 {
		lt.print(p)
		lp.print(p)
	}
	lt.end()
	lp.end()
	if got := tty.String(); got != "\r"+want+"\x1b[K\r"+want+"\x1b[K\n" {
		t.Errorf("terminal output %q", got)
	}
	if got := plain.String(); got != want+"\n"+want+"\n" {
		t.Errorf("plain output %q", got)
	}
}

func TestPlayHLS(t *testing.T) {
	live := livehls.New(t, 200*time.Millisecond)
	live.Start = time.Now().Add(-time.Second)
	live.Garbage = func(k int) bool { return k%4 == 3 }
	srv := httptest.NewServer(live)
	defer srv.Close()
	report := filepath.Join(t.TempDir(), "report.json")
	code, out, errOut := runCLI("play", "-u", srv.URL+"/live/cam.m3u8", "-n", "2", "-d", "1500ms",
		"--interval", "500ms", "--hls-buffer", "1s", "--json", report)
	if code != exitOK {
		t.Fatalf("code %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"| hls ", "seg latency p50", "  hls         2 players", "  segments    latency p50", "  hls error   bad_segment: "} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the output:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Play == nil || rep.Play.HLS == nil || rep.Play.HLS.Segments == 0 || rep.Play.HLS.Errors["bad_segment"].Count == 0 {
		t.Errorf("report:\n%s", b)
	}
}

func TestWebRTCPublishURLs(t *testing.T) {
	src := benchtest.GenerateFLV(t, benchtest.FLVOptions{Duration: time.Second})
	whip := "http://127.0.0.1:1/rtc/v1/whip/?app=live&stream=s%d"
	code, _, errOut := runCLI("publish-play", "-i", src, "-u", whip, "-d", "1s")
	if code != exitUsage || !strings.Contains(errOut, "--play-url") {
		t.Errorf("WHIP publish-play without --play-url: code %d, %s", code, errOut)
	}
	if code, _, errOut := runCLI("publish", "-i", src, "-u", "webrtc://127.0.0.1/livestream"); code != exitUsage || errOut == "" {
		t.Errorf("webrtc:// without app: code %d, %s", code, errOut)
	}
	// Nothing listens: the publisher fails, and the summary says what
	// audio it would have sent.
	code, out, errOut := runCLI("publish", "-i", src, "-u", whip, "-d", "2s", "--timeout", "1s")
	if code != exitFailed || !strings.Contains(out, "  audio       ") || !strings.Contains(errOut, "no publisher connected") {
		t.Errorf("code %d\n%s\n%s", code, out, errOut)
	}
}
