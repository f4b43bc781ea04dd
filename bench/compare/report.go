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
	goBench, _ := os.ReadFile(os.Getenv("CASTD_BENCH_OUTPUT")) // none: no Go benchmarks section
	text := renderReport(o, results, time.Now().UTC().Format("2006-01-02"), machine(o), string(goBench))
	return os.WriteFile(o.out, []byte(text), 0o644)
}

// renderReport is the report's markdown: results of one run on date, on
// machine, with goBench the Go benchmarks' output ("" for none).
func renderReport(o options, all []result, date, machine, goBench string) string {
	var results, rtc []result
	for _, r := range all {
		if r.section == sectionWebRTC {
			rtc = append(rtc, r)
		} else {
			results = append(results, r)
		}
	}
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
	p("castd alone is also measured over WebRTC, which nginx-rtmp does not\n")
	p("speak: the same stream without B-frames published over RTMP and played\n")
	p("by N WHEP players (`castbench play -u webrtc://...`), one step per N, and\n")
	p("published by a castbench WHIP publisher (`castbench publish -u\n")
	p("http://.../rtc/v1/whip/...`, the AAC sent as Opus) and played over RTMP.\n\n")
	p("## How to reproduce\n\n```sh\n./bench/compare.sh            # installs nginx + libnginx-mod-rtmp and ffmpeg when missing\n./bench/compare.sh -n 100,500 -d 10s   # other player counts or durations\n")
	p("./bench/compare.sh -rtc-n 50,100,200 -rtc-d 10s   # WHEP player steps and their duration; -rtc-n '' skips WebRTC\n```\n\n")
	p("Run on %s, %s, with `-n %s -d %s -rtc-n '%s' -rtc-d %s`.\n\n", date, machine, joinInts(o.players), o.duration, joinInts(o.rtcPlayers), o.rtcDuration)
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
	if len(rtc) > 0 {
		webrtcSection(&b, rtc)
	}
	if goBench != "" {
		p("\n## Go benchmarks\n\nThe fan-out benchmarks publish one packet and write it to N viewers through\n")
		p("the production paths; `0 allocs/op` means nothing is allocated per viewer\n")
		p("per packet. Reproduce with `go test -run '^$' -bench 'FanOut|WriteMedia' -benchmem ./internal/...`.\n\n```\n%s```\n", goBench)
	}
	p("\n## Profiling\n\nSet `http_api { pprof on; }` (castd's own directive, off by default) and use\n")
	p("`go tool pprof http://127.0.0.1:1985/debug/pprof/profile?seconds=20` while a\n")
	p("load runs. Keep it off on untrusted networks.\n")
	return b.String()
}

// fullBitrate is the share of the source's bitrate the slowest player
// (p1) must get for a step to count as "at full bitrate".
const fullBitrate = 0.9

// webrtcSection writes the WebRTC table and what it shows.
func webrtcSection(b *strings.Builder, rtc []result) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("\n## WebRTC (castd only)\n\n")
	p("| path | players | up | server CPU (s/s) | RSS (MB) | RSS per player (KB) | delivered (Mbps) | source (kbps) | per player p1 / p50 (kbps) | latency p50 / p99 (ms) | first frame p50 / p99 (ms) | stalls | castbench CPU (s/s) |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rtc {
		p("| %s | %d | %d | %.3f | %.1f | %.1f | %.0f | %.0f | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f | %d | %.2f |\n",
			r.protocol, r.players, r.up, r.cpu, r.rssMB, perPlayerKB(r), r.totalMbps, r.sourceKbps, r.p1Kbps, r.p50Kbps,
			r.latP50, r.latP99, r.ttffP50, r.ttffP99, r.stalls, r.benchCPU)
	}
	p("\n*rtmp → webrtc (WHEP)* publishes the stream over RTMP and plays it with N\n")
	p("WHEP players (castd transcodes the AAC to Opus once, `rtmp_to_rtc on`):\n")
	p("the steps show how many WebRTC players castd holds on this machine, and\n")
	p("what each costs it. *webrtc (WHIP) → rtmp* publishes with castbench's\n")
	p("WHIP publisher (H.264 over RTP, Opus transcoded from the file's AAC) and\n")
	p("plays over RTMP (`rtc_to_rtmp on`). Latency is from the SEI stamps, which\n")
	p("travel inside the RTP; a WHEP player's first frame waits for a keyframe\n")
	p("(2 s GOP). castbench's own WebRTC players cost it DTLS and SRTP, so its\n")
	p("CPU column matters here: castbench and castd share the machine.\n\n")
	p("- %s\n", capacityLine(rtc))
}

// capacityLine says up to which step every WHEP player was up at full
// bitrate.
func capacityLine(rtc []result) string {
	held, failed := 0, ""
	for _, r := range rtc {
		if !strings.HasSuffix(r.protocol, "(WHEP)") {
			continue
		}
		ok := r.up == int64(r.players) && r.sourceKbps > 0 && r.p1Kbps >= fullBitrate*r.sourceKbps
		switch {
		case ok && failed == "":
			held = r.players
		case !ok && failed == "":
			failed = fmt.Sprintf("at %d: %d up, slowest player (p1) %.0f kbps of the source's %.0f", r.players, r.up, r.p1Kbps, r.sourceKbps)
		}
	}
	switch {
	case failed == "":
		return fmt.Sprintf("WHEP players at full bitrate (all up, p1 ≥ %.0f%% of the source): every step held, up to %d.", fullBitrate*100, held)
	case held == 0:
		return fmt.Sprintf("WHEP players at full bitrate (all up, p1 ≥ %.0f%% of the source): no step held; %s.", fullBitrate*100, failed)
	}
	return fmt.Sprintf("WHEP players at full bitrate (all up, p1 ≥ %.0f%% of the source): held up to %d; %s.", fullBitrate*100, held, failed)
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
			if f, ok := find("castd", "http-flv", r.players); ok {
				fkb := perPlayerKB(f)
				out = append(out, fmt.Sprintf("… and for HTTP-FLV players: %.1f KB at %d %s", fkb, f.players, verdict(fkb <= 40)))
			}
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
