package dash

import "time"

// The media clock maps publisher timestamps (RTMP milliseconds, which
// restart at every publish and may jump) to one increasing timeline per
// stream, in milliseconds since availabilityStartTime.

const (
	// anchorBase is the media time of a stream's first frame. It leaves room
	// below for frames a little older than the first one and for the
	// composition shift (see Packager), so no time is ever negative.
	anchorBase = 10_000
	// A timestamp this far behind or ahead of the previous one of its kind
	// is a discontinuity (a wrapped or reset encoder clock, a long stall).
	maxBackwardMs = 1_000
	maxForwardMs  = 10_000
	// gapAfterJump separates the timeline after a discontinuity from what
	// came before: more than a frame, so the last sample's duration fits.
	gapAfterJump = 250
)

// Kinds of track, also indexes of per-track arrays.
const (
	video = 0
	audio = 1
)

func kindName(k int) string {
	if k == video {
		return "video"
	}
	return "audio"
}

type mediaClock struct {
	started  bool
	ast      time.Time // availabilityStartTime
	anchored bool      // offset is valid for the current publish
	offset   int64     // added to timestamps
	last     [2]int64  // the last mapped time per kind
	lastOK   [2]bool
	maxMs    int64 // the largest mapped time
}

// restart makes the next frame re-anchor the timeline (a new publish).
func (c *mediaClock) restart() {
	c.anchored = false
	c.lastOK = [2]bool{}
}

// wallMs is now on the media timeline.
func (c *mediaClock) wallMs(now time.Time) int64 {
	return now.Sub(c.ast).Milliseconds()
}

// toMedia maps a timestamp of the given kind. jumped reports a
// discontinuity: the timeline was re-anchored at this frame.
func (c *mediaClock) toMedia(kind int, ts uint32, now time.Time) (ms int64, jumped bool) {
	if !c.started {
		c.started = true
		c.ast = now.Add(-anchorBase * time.Millisecond)
	}
	if !c.anchored {
		c.anchor(ts, max(c.maxMs+gapAfterJump, c.wallMs(now)))
	}
	ms = int64(ts) + c.offset
	if c.lastOK[kind] && (ms < c.last[kind]-maxBackwardMs || ms > c.last[kind]+maxForwardMs) {
		c.anchor(ts, max(c.maxMs+gapAfterJump, c.wallMs(now)))
		ms, jumped = int64(ts)+c.offset, true
	}
	c.last[kind], c.lastOK[kind] = ms, true
	c.maxMs = max(c.maxMs, ms)
	return ms, jumped
}

// anchor makes ts map to at.
func (c *mediaClock) anchor(ts uint32, at int64) {
	c.offset = at - int64(ts)
	c.anchored = true
	c.lastOK = [2]bool{}
}
