package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/castd/castd/internal/bench"
	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/stats"
)

// liveLine prints progress: on a terminal one line rewritten in place,
// otherwise one line per interval.
type liveLine struct {
	w       io.Writer
	tty     bool
	printed bool
}

func (l *liveLine) print(p bench.Progress) {
	line := formatProgress(p)
	if l.tty {
		fmt.Fprintf(l.w, "\r%s\x1b[K", line) // \x1b[K clears what a longer line left
	} else {
		fmt.Fprintln(l.w, line)
	}
	l.printed = true
}

// end moves past the rewritten line before more output.
func (l *liveLine) end() {
	if l.tty && l.printed {
		fmt.Fprintln(l.w)
	}
}

func formatProgress(p bench.Progress) string {
	parts := []string{fmt.Sprintf("%5.0fs", p.Elapsed.Seconds())}
	if p.Publishers > 0 {
		s := fmt.Sprintf("pub %d/%d up", p.PublishersUp, p.Publishers)
		if p.PublishersFail > 0 {
			s += fmt.Sprintf(" %d failed", p.PublishersFail)
		}
		parts = append(parts, s+fmt.Sprintf(" send %s", kbps(p.SendKbps)))
		if p.PublishErrors != "" {
			parts = append(parts, "pub errors "+p.PublishErrors)
		}
	}
	if p.Players > 0 {
		c := p.PlayerCounts
		s := fmt.Sprintf("play %d/%d up", c.Up, p.Players)
		if c.Failed > 0 {
			s += fmt.Sprintf(" %d failed", c.Failed)
		}
		parts = append(parts, s+fmt.Sprintf(" recv %s", kbps(p.RecvKbps)))
		if p.LatencyCount > 0 {
			parts = append(parts, fmt.Sprintf("latency p50 %s p99 %s", ms(p.LatencyP50Ms), ms(p.LatencyP99Ms)))
		} else {
			parts = append(parts, "latency -")
		}
		parts = append(parts, "ttff p50 "+ms(p.TTFFP50Ms), fmt.Sprintf("stalls %d", p.Stalls))
		if p.HLSSegments > 0 {
			parts = append(parts, fmt.Sprintf("hls %d seg, seg latency p50 %s p99 %s", p.HLSSegments, ms(p.SegmentP50Ms), ms(p.SegmentP99Ms)))
		}
		if p.PlayErrors != "" {
			parts = append(parts, "errors "+p.PlayErrors)
		}
		if p.HLSErrors != "" {
			parts = append(parts, "hls errors "+p.HLSErrors)
		}
	}
	return strings.Join(parts, " | ")
}

// kbps formats a bitrate given in kbps.
func kbps(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f Gb/s", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f Mb/s", v/1e3)
	}
	return fmt.Sprintf("%.0f kb/s", v)
}

// ms formats milliseconds.
func ms(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.1fs", v/1000)
	case v < 10:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}

// printSummary prints the report for people; --json has all of it.
func printSummary(w io.Writer, r *bench.Report) {
	fmt.Fprintf(w, "castbench %s: %.1fs\n", r.Mode, r.DurationS)
	if p := r.Publish; p != nil {
		fmt.Fprintf(w, "  source      %s: %s, %.2fs loop, %s\n", p.Source.File, p.Source.VideoCodec, p.Source.PeriodS, kbps(p.Source.BitrateKbps))
		if p.WebRTCAudio != "" {
			fmt.Fprintf(w, "  audio       %s\n", p.WebRTCAudio)
		}
		fmt.Fprintf(w, "  publishers  %s\n", conns(p.Publishers))
		fmt.Fprintf(w, "  sent        %d frames (%d stamped), %s, max lag %s\n", p.FramesSent, p.StampedFrames, kbps(p.BitrateKbps), ms(p.MaxLagMs))
		printErrors(w, "error", p.Errors)
	}
	if p := r.Play; p != nil {
		fmt.Fprintf(w, "  players     %s\n", conns(p.Players))
		fmt.Fprintf(w, "  ttff        %s\n", summaryMs(p.TTFFMs))
		fmt.Fprintf(w, "  latency     %s", summaryMs(p.LatencyMs))
		if p.ClockSkewFrames > 0 {
			fmt.Fprintf(w, " (%d stamps from the future: clocks differ)", p.ClockSkewFrames)
		}
		fmt.Fprintln(w)
		b := p.Bitrate.PerPlayer
		fmt.Fprintf(w, "  bitrate     total %s, per player p1 %s p50 %s (%d players)\n", kbps(p.Bitrate.Total), kbps(b.P1), kbps(b.P50), b.Count)
		fmt.Fprintf(w, "  stalls      %d in %d players, %.1fs in all\n", p.Stalls.Count, p.Stalls.Players, p.Stalls.TotalS)
		printErrors(w, "error", p.Errors)
		if h := p.HLS; h != nil {
			fmt.Fprintf(w, "  hls         %d players, %d playlist loads, %d segments (%d missed), %.1f MB\n",
				h.Players, h.PlaylistLoads, h.Segments, h.MissedSegments, float64(h.SegmentBytes)/1e6)
			fmt.Fprintf(w, "  segments    latency %s\n", summaryMs(h.SegmentLatencyMs))
			printErrors(w, "hls error", h.Errors)
		}
	}
}

func conns(c bench.Conns) string {
	return fmt.Sprintf("%d wanted, %d started, %d up at the end, %d failed (%d after connecting)", c.Wanted, c.Started, c.Up, c.Failed, c.Dropped)
}

func summaryMs(s stats.Summary) string {
	if s.Count == 0 {
		return "none measured"
	}
	return fmt.Sprintf("p50 %s p99 %s max %s (%d samples)", ms(s.P50), ms(s.P99), ms(s.Max), s.Count)
}

// printErrors lists errors by kind, under label ("error": those that ended
// publishers or players; "hls error": those HLS players got over).
func printErrors(w io.Writer, label string, errs map[failure.Kind]failure.Count) {
	kinds := make([]string, 0, len(errs))
	for k := range errs {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		c := errs[failure.Kind(k)]
		fmt.Fprintf(w, "  %-11s %s: %d, e.g. %s\n", label, k, c.Count, c.Example)
	}
}
