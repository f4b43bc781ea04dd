package dvr

// unwrapper turns 31-bit RTMP timestamps into a 64-bit timeline, so a
// recording longer than 24.8 days (or one that starts just before the wrap)
// keeps increasing times.
type unwrapper struct {
	started bool
	prev    uint32
	ext     int64
}

const (
	tsBits = 31
	tsMask = 1<<tsBits - 1
)

// next returns ts on the 64-bit timeline. A step is read as the shortest
// way round the 31-bit circle, so small backward steps (audio and video
// interleaving) stay backward.
func (u *unwrapper) next(ts uint32) int64 {
	ts &= tsMask
	if !u.started {
		u.started, u.prev, u.ext = true, ts, int64(ts)
		return u.ext
	}
	d := int64((ts - u.prev) & tsMask)
	if d >= 1<<(tsBits-1) {
		d -= 1 << tsBits
	}
	u.prev = ts
	u.ext += d
	return u.ext
}

// fileClock is one file's time: media times relative to the file's first
// frame (when rebasing: SRS starts every DVR file's jitter afresh, so each
// file starts at 0), and the span of media written, which is the file's
// duration for the segment plan and the FLV metadata.
type fileClock struct {
	rebase  bool
	started bool
	base    int64 // timeline time of the file's first frame
	first   int64
	last    int64 // the largest media time written
}

// start fixes the file's origin at the first frame's time.
func (c *fileClock) start(t int64) {
	c.started, c.first, c.last = true, t, t
	if c.rebase {
		c.base = t
	}
}

// rel returns the file time (ms) of timeline time t, never below 0.
func (c *fileClock) rel(t int64) int64 {
	return max(0, t-c.base)
}

// media records a frame at timeline time t and returns its file time.
func (c *fileClock) media(t int64) int64 {
	if !c.started {
		c.start(t)
	}
	c.last = max(c.last, t)
	return c.rel(t)
}

// durationMs is the span of media written so far.
func (c *fileClock) durationMs() int64 {
	if !c.started {
		return 0
	}
	return c.last - c.first
}
