package rtc

import (
	"sync"
	"time"
)

// mediaClock is a publisher's media time origin: when its first packet
// arrived, on any track.
type mediaClock struct {
	once  sync.Once
	start time.Time
}

func (c *mediaClock) origin(now time.Time) time.Time {
	c.once.Do(func() { c.start = now })
	return c.start
}

// trackClock maps one track's RTP timestamps to media time. Its first
// packet is placed at its arrival after the media origin, later ones by
// their RTP time, so audio and video stay in step without waiting for RTCP
// sender reports. Timestamps are unwrapped past 32 bits.
type trackClock struct {
	media   *mediaClock
	rate    int64 // RTP clock rate, Hz
	started bool
	last    uint32
	ext     int64 // the unwrapped timestamp of last
	first   int64
	offset  time.Duration
}

func (t *trackClock) at(ts uint32, arrival time.Time) time.Duration {
	if !t.started {
		t.started = true
		t.last, t.ext, t.first = ts, int64(ts), int64(ts)
		t.offset = arrival.Sub(t.media.origin(arrival))
		return t.offset
	}
	t.ext += int64(int32(ts - t.last))
	t.last = ts
	d := t.ext - t.first
	return t.offset + time.Duration(d/t.rate)*time.Second + time.Duration(d%t.rate)*time.Second/time.Duration(t.rate)
}

// rtpTicks converts a media time to RTP clock ticks, modulo 2^32 as RTP
// timestamps are.
func rtpTicks(d time.Duration, rate int64) uint32 {
	us := d.Microseconds()
	return uint32(us/1_000_000*rate + us%1_000_000*rate/1_000_000)
}
