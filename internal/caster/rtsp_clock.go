package caster

import (
	"slices"

	"github.com/castd/castd/internal/format/mpegts"
)

// The caster puts every track on one timeline in 90 kHz ticks (MPEG-TS's
// clock, which remux.TSToFLV takes and turns into RTMP milliseconds).

// ntpSyncLimit: tracks whose RTCP sender reports place their starts
// further apart than this are not aligned by them (a sender with a broken
// wall clock); each then starts at 0.
const ntpSyncLimit = 5 * mpegts.ClockRate

// rtpUnwrap extends 32-bit RTP timestamps to 64 bits across wraparounds,
// taking each step as the shorter way round.
type rtpUnwrap struct {
	started bool
	last    uint32
	ext     int64
}

func (u *rtpUnwrap) at(ts uint32) int64 {
	if !u.started {
		u.started, u.last, u.ext = true, ts, int64(ts)
		return u.ext
	}
	u.ext += int64(int32(ts - u.last))
	u.last = ts
	return u.ext
}

// peek extends ts like at, without moving the reference (for a sender
// report's timestamp).
func (u *rtpUnwrap) peek(ts uint32) int64 { return u.ext + int64(int32(ts-u.last)) }

// senderReport is the timing of an RTCP SR (RFC 3550 6.4.1): the NTP wall
// clock (32.32 fixed point) at an RTP timestamp.
type senderReport struct {
	ntp uint64
	rtp uint32
}

// sessionClock is the part of the timeline the tracks share: the NTP time
// of timeline 0, set by the first track that starts with a sender report.
type sessionClock struct {
	ntpOrigin uint64
	haveNTP   bool
}

// trackClock maps one track's RTP timestamps to the timeline.
type trackClock struct {
	rate    int64
	unwrap  rtpUnwrap
	mapped  bool
	base    int64 // the extended RTP timestamp at origin
	origin  int64 // where base is on the timeline, in ticks
	sr      senderReport
	haveSR  bool
	ntpUsed bool // the mapping came from a sender report
}

// report records a sender report; it aligns the track if it comes before
// the track's first packet (ffmpeg sends one before its first packet).
// Later ones do not move a mapped track: a jump would be worse than drift.
func (c *trackClock) report(sr senderReport) { c.sr, c.haveSR = sr, true }

// at returns ts on the timeline, mapping the track at its first packet:
// by the sender report when there is one, else at timeline 0.
func (c *trackClock) at(ts uint32, s *sessionClock) int64 {
	ext := c.unwrap.at(ts)
	if !c.mapped {
		c.mapped, c.base = true, ext
		if c.haveSR {
			c.alignByReport(ext, s)
		}
	}
	return c.origin + (ext-c.base)*mpegts.ClockRate/c.rate
}

// alignByReport places the track's first packet, at extended timestamp
// ext, on the timeline by its wall clock time from the sender report.
// Reports far from the packet, or far from the other tracks, are ignored.
func (c *trackClock) alignByReport(ext int64, s *sessionClock) {
	delta := c.unwrap.peek(c.sr.rtp) - ext // RTP ticks from the packet to the report
	if delta > 60*c.rate || delta < -60*c.rate {
		return
	}
	ntp := c.sr.ntp - uint64(delta<<32/c.rate) // wraps as NTP time does
	if !s.haveNTP {
		s.ntpOrigin, s.haveNTP = ntp, true
	}
	diff := int64(ntp - s.ntpOrigin)
	const limit = int64(ntpSyncLimit/mpegts.ClockRate) << 32
	if diff <= -limit || diff >= limit {
		return
	}
	c.origin, c.ntpUsed = diff*mpegts.ClockRate>>32, true
}

// Reorder depths the DTS estimator assumes and allows.
const (
	maxReorderDepth = 8
	// reorderWindow frames without the assumed depth being needed lower it
	// to what was needed, so a guess that was too deep stops delaying.
	reorderWindow = 128
	// dtsLead is how far apart, in ticks, the DTS of the first frames are
	// put before the first frame's PTS when frames may be reordered.
	dtsLead = mpegts.ClockRate / 1000
)

// dtsEstimator derives decoding timestamps for video, which RTP does not
// carry: frames arrive in decoding order with their presentation times, and
// with a reorder depth of N, the DTS of frame i is the (i-N)-th smallest
// PTS (the PTS values sorted, delayed by N frames). That keeps DTS rising
// and never after the PTS, with no latency. N starts from what the SPS
// tells and follows what the stream shows: a frame presented before more
// earlier frames than N raises it (that frame alone is shown a little
// late); a long run that needed less lowers it.
type dtsEstimator struct {
	depth   int
	pending []int64 // PTS not used as a DTS yet, ascending
	recent  []int64 // the last maxReorderDepth PTS, oldest first
	needed  int     // the largest depth needed in this window
	frames  int     // frames in this window
	last    int64
	started bool
}

func newDTSEstimator(depth int) *dtsEstimator {
	return &dtsEstimator{depth: min(max(depth, 0), maxReorderDepth)}
}

// next returns the DTS of the next frame in decoding order.
func (e *dtsEstimator) next(pts int64) int64 {
	need := 0
	for _, p := range e.recent {
		if p > pts {
			need++
		}
	}
	if len(e.recent) == maxReorderDepth {
		e.recent = e.recent[1:]
	}
	e.recent = append(e.recent, pts)
	e.needed = max(e.needed, need)
	if need > e.depth {
		e.depth = need
	}
	if e.frames++; e.frames == reorderWindow {
		e.depth = min(e.depth, e.needed)
		e.frames, e.needed = 0, 0
	}

	i, _ := slices.BinarySearch(e.pending, pts)
	e.pending = slices.Insert(e.pending, i, pts)
	var dts int64
	switch {
	case len(e.pending) > e.depth:
		n := len(e.pending) - e.depth
		dts = e.pending[n-1]
		e.pending = slices.Delete(e.pending, 0, n)
	case !e.started:
		dts = pts - int64(e.depth)*dtsLead
	default:
		dts = min(e.last+dtsLead, pts)
	}
	if e.started {
		dts = max(dts, e.last)
	}
	e.last, e.started = dts, true
	return dts
}
