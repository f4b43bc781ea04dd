package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRenderReport(t *testing.T) {
	o := options{players: []int{100}, duration: 20 * time.Second, bitrate: "900k", rtcPlayers: []int{50, 100}, rtcDuration: 10 * time.Second}
	results := []result{
		{server: "castd", protocol: "rtmp", players: 100, up: 100, cpu: 0.03, rssMB: 43, baseMB: 32, p1Kbps: 981, p50Kbps: 983},
		{server: "nginx-rtmp", protocol: "rtmp", players: 100, up: 100, cpu: 0.06, rssMB: 18, baseMB: 16},
		{section: sectionWebRTC, server: "castd", protocol: "rtmp → webrtc (WHEP)", players: 50, up: 50, cpu: 0.2,
			rssMB: 60, baseMB: 40, totalMbps: 47, sourceKbps: 964, p1Kbps: 940, p50Kbps: 946, latP50: 3, latP99: 20, ttffP50: 1100, ttffP99: 2100, benchCPU: 0.4},
		{section: sectionWebRTC, server: "castd", protocol: "rtmp → webrtc (WHEP)", players: 100, up: 97, cpu: 0.5,
			rssMB: 90, baseMB: 40, totalMbps: 80, sourceKbps: 964, p1Kbps: 400, p50Kbps: 900},
		{section: sectionWebRTC, server: "castd", protocol: "webrtc (WHIP) → rtmp", players: 10, up: 10, cpu: 0.05,
			sourceKbps: 964, p1Kbps: 950, p50Kbps: 952, latP50: 190, latP99: 360},
	}
	got := renderReport(o, results, "2026-11-24", "2 CPUs", "")
	for _, want := range []string{
		"Run on 2026-11-24, 2 CPUs, with `-n 100 -d 20s -rtc-n '50,100' -rtc-d 10s`.",
		"-rtc-n 50,100,200 -rtc-d 10s",
		"## WebRTC (castd only)",
		"| path | players | up | server CPU (s/s) |",
		"| rtmp → webrtc (WHEP) | 50 | 50 | 0.200 | 60.0 | 409.6 | 47 | 964 | 940 / 946 | 3 / 20 | 1100 / 2100 | 0 | 0.40 |",
		"| rtmp → webrtc (WHEP) | 100 | 97 | 0.500 |",
		"| webrtc (WHIP) → rtmp | 10 | 10 | 0.050 |",
		"held up to 50; at 100: 97 up, slowest player (p1) 400 kbps of the source's 964.",
		"| 100 | castd | rtmp | 100 | 0.030 | 0.50× |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in the report:\n%s", want, got)
		}
	}
	// WebRTC rows stay out of the comparison table and its targets.
	main := got[strings.Index(got, "## Results"):strings.Index(got, "## WebRTC")]
	if strings.Contains(main, "webrtc") || strings.Count(main, "\n| 100 | ") != 2 {
		t.Errorf("the comparison table has WebRTC rows:\n%s", main)
	}
	if strings.Contains(got, "## Go benchmarks") {
		t.Error("a Go benchmarks section without benchmarks")
	}

	// Without WebRTC steps there is no WebRTC section.
	o.rtcPlayers = nil
	if got := renderReport(o, results[:2], "2026-11-24", "2 CPUs", "BenchmarkX 1 ns/op\n"); strings.Contains(got, "## WebRTC") ||
		!strings.Contains(got, "```\nBenchmarkX 1 ns/op\n```") {
		t.Errorf("report without WebRTC:\n%s", got)
	}
}

func TestCapacityLine(t *testing.T) {
	whep := func(n, up int, p1 float64) result {
		return result{section: sectionWebRTC, protocol: "rtmp → webrtc (WHEP)", players: n, up: int64(up), p1Kbps: p1, sourceKbps: 1000}
	}
	whip := result{section: sectionWebRTC, protocol: "webrtc (WHIP) → rtmp", players: 10, up: 1, sourceKbps: 1000}
	for _, tt := range []struct {
		rtc  []result
		want string
	}{
		{[]result{whep(50, 50, 950), whep(100, 100, 920), whip}, "every step held, up to 100."},
		{[]result{whep(50, 50, 950), whep(100, 100, 899), whep(200, 200, 990)}, "held up to 50; at 100: 100 up, slowest player (p1) 899 kbps"},
		{[]result{whep(50, 49, 950)}, "no step held; at 50: 49 up"},
	} {
		if got := capacityLine(tt.rtc); !strings.Contains(got, tt.want) {
			t.Errorf("got %q, want %q in it", got, tt.want)
		}
	}
}

func TestParseCounts(t *testing.T) {
	if got, err := parseCounts(" 50, 100,200 "); err != nil || len(got) != 3 || got[2] != 200 {
		t.Errorf("got %v, %v", got, err)
	}
	if got, err := parseCounts(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"0", "-5", "x", "10,y"} {
		if _, err := parseCounts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPublishedKbps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "publish.json")
	report := `{"schema":"castbench/1","mode":"publish","publish":{"url":"rtmp://h/live/bench",
		"source":{"file":"source.flv","video_codec":"H264","period_s":30.04,"bitrate_kbps":964.5,"frames":2000}}}`
	if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := publishedKbps(path); got != 964.5 {
		t.Errorf("got %v", got)
	}
	if got := publishedKbps(filepath.Join(t.TempDir(), "none.json")); got != 0 {
		t.Errorf("no report: %v", got)
	}
}
