package bench

import (
	"time"

	"github.com/castd/castd/internal/bench/stats"
)

// buildReport gathers a finished run's counters into its Report and runs
// the sanity checks.
func buildReport(cfg Config, started, ended time.Time, pubs *publishRun, plays *playRun) *Report {
	secs := ended.Sub(started).Seconds()
	r := &Report{Schema: SchemaVersion, Started: started.UTC(), DurationS: secs, FailedChecks: []string{}}
	switch {
	case pubs != nil && plays != nil:
		r.Mode = "publish-play"
	case pubs != nil:
		r.Mode = "publish"
	default:
		r.Mode = "play"
	}
	if pubs != nil {
		r.Publish = publishReport(pubs, secs)
		if r.Publish.Publishers.EverUp == 0 {
			r.FailedChecks = append(r.FailedChecks, "no publisher connected")
		} else if r.Publish.FramesSent == 0 {
			r.FailedChecks = append(r.FailedChecks, "no frame was published")
		}
	}
	if plays != nil {
		r.Play = playReport(plays, secs)
		switch {
		case r.Play.Players.Started == 0:
			r.FailedChecks = append(r.FailedChecks, "no player started")
		case r.Play.Players.EverUp == 0:
			r.FailedChecks = append(r.FailedChecks, "no player connected")
		case r.Play.VideoFrames+r.Play.AudioFrames == 0:
			r.FailedChecks = append(r.FailedChecks, "no audio or video was received")
		}
	}
	return r
}

func publishReport(r *publishRun, secs float64) *PublishReport {
	src := r.cfg.Source
	rep := &PublishReport{
		URL: r.cfg.URL,
		Source: SourceReport{
			File: src.Name, VideoCodec: src.VideoCodec.String(), PeriodS: src.Period.Seconds(),
			BitrateKbps: src.Bitrate() / 1000, Frames: len(src.Frames),
		},
		Publishers: Conns{
			Wanted: int64(len(r.pubs)), Started: int64(len(r.pubs)), Up: r.everUp.Load() - r.dropped.Load(),
			EverUp: r.everUp.Load(), Failed: r.failed.Load(), Dropped: r.dropped.Load(),
		},
		Errors: r.errors.Snapshot(),
	}
	if r.rtc != nil {
		rep.WebRTCAudio = r.rtc.media.Audio
	}
	var maxLag int64
	for _, p := range r.pubs {
		rep.FramesSent += p.frames.Load()
		rep.StampedFrames += p.stamps.Load()
		rep.BytesSent += p.bytes.Load()
		maxLag = max(maxLag, p.maxLag.Load())
	}
	rep.MaxLagMs = float64(maxLag) / 1e6
	if secs > 0 {
		rep.BitrateKbps = float64(rep.BytesSent) * 8 / 1000 / secs
	}
	return rep
}

func playReport(r *playRun, secs float64) *PlayReport {
	m := r.metrics
	rep := &PlayReport{
		URLs: r.cfg.URLs, Streams: r.cfg.Streams,
		TTFFMs:          m.TTFF.Snapshot().Summary(1e-3),
		LatencyMs:       m.Latency.Snapshot().Summary(1e-3),
		ClockSkewFrames: m.ClockSkew.Load(),
		Errors:          m.Errors.Snapshot(),
	}
	rep.Players.Wanted = int64(r.cfg.Players)
	var perPlayer []float64
	var stallTime time.Duration
	for _, res := range r.results[:r.launched] {
		rep.Players.Started++
		switch {
		case res.Err != nil:
			rep.Players.Failed++
			if res.WasUp {
				rep.Players.Dropped++
			}
		case res.WasUp:
			rep.Players.Up++
		}
		if res.WasUp {
			rep.Players.EverUp++
		}
		rep.BytesReceived += res.Bytes
		rep.VideoFrames += res.Frames
		rep.AudioFrames += res.Audio
		rep.StampedFrames += res.Stamps
		rep.Stalls.Count += res.Stalls
		if res.Stalls > 0 {
			rep.Stalls.Players++
		}
		stallTime += res.StallTime
		if res.BitrateSpan > 0 {
			perPlayer = append(perPlayer, res.Bitrate/1000)
		}
	}
	rep.Stalls.TotalS = stallTime.Seconds()
	if h := &m.HLS; h.Players.Load() > 0 {
		rep.HLS = &HLSReport{
			Players: h.Players.Load(), PlaylistLoads: h.PlaylistLoads.Load(), Segments: h.Segments.Load(),
			SegmentBytes: h.SegmentBytes.Load(), MissedSegments: h.MissedSegments.Load(),
			SegmentLatencyMs: h.SegmentLatency.Snapshot().Summary(1e-3), Errors: h.Errors.Snapshot(),
		}
	}
	rep.Bitrate.PerPlayer = stats.Summarize(perPlayer)
	if secs > 0 {
		rep.Bitrate.Total = float64(rep.BytesReceived) * 8 / 1000 / secs
	}
	return rep
}
