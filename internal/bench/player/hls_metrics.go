package player

import (
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/stats"
)

// HLSMetrics gathers what HLS players measure beyond the figures every
// player reports. Safe for concurrent use.
type HLSMetrics struct {
	// SegmentLatency holds one value per segment, in microseconds: from
	// the moment the player read the playlist that first listed it to the
	// end of its download.
	SegmentLatency stats.Histogram
	Players        atomic.Int64 // HLS players started
	PlaylistLoads  atomic.Int64 // playlists read, masters included
	Segments       atomic.Int64 // segments downloaded whole
	SegmentBytes   atomic.Int64 // segment bytes as sent (transport packets)
	// MissedSegments counts segments that left the playlist's window
	// before the player got to them.
	MissedSegments atomic.Int64
	// Errors counts the errors HLS players got over: a segment that could
	// not be fetched or read (skipped), or a playlist reload that failed
	// (tried again at the next reload). Errors that end a player are in
	// Metrics.Errors.
	Errors failure.Counter
}

// playback models an HLS player's buffer to tell when it would stall:
// playback starts initial after the first segment is downloaded; from then
// on the playhead follows the wall clock while there is media ahead of it
// and waits at the end of the media when there is none. A segment that
// arrives while the playhead waits ends a stall as long as the wait.
type playback struct {
	initial time.Duration
	started bool
	// zero is the wall time at which the playhead was at media time 0,
	// moved later by each stall.
	zero     time.Time
	buffered time.Duration // media time downloaded
}

// add counts a segment of d media time downloaded at now, and returns the
// stall it ends (0 for none).
func (p *playback) add(now time.Time, d time.Duration) time.Duration {
	if !p.started {
		p.started, p.zero, p.buffered = true, now.Add(p.initial), d
		return 0
	}
	stall := p.waiting(now)
	p.zero = p.zero.Add(stall)
	p.buffered += d
	return stall
}

// waiting returns how long the playhead has been waiting at the end of the
// media at now: 0 while it plays.
func (p *playback) waiting(now time.Time) time.Duration {
	if !p.started {
		return 0
	}
	return max(now.Sub(p.zero.Add(p.buffered)), 0)
}
