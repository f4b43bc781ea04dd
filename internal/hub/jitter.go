package hub

import (
	"fmt"

	"github.com/castd/castd/internal/av"
)

// JitterMode is SRS's play.time_jitter: how a viewer's timestamps are
// corrected before they are written.
type JitterMode uint8

const (
	// JitterFull makes every viewer's timeline start near 0 and only increase:
	// a jump beyond ±250 ms is replaced by a 10 ms step. Metadata gets 0.
	JitterFull JitterMode = iota
	// JitterZero subtracts the first timestamp the viewer sees.
	JitterZero
	// JitterOff passes timestamps through (also what ATC means).
	JitterOff
)

// ParseJitterMode reads the time_jitter directive value.
func ParseJitterMode(s string) (JitterMode, error) {
	switch s {
	case "full", "":
		return JitterFull, nil
	case "zero":
		return JitterZero, nil
	case "off":
		return JitterOff, nil
	}
	return 0, fmt.Errorf("hub: time_jitter %q: want full, zero or off", s)
}

func (m JitterMode) String() string {
	switch m {
	case JitterFull:
		return "full"
	case JitterZero:
		return "zero"
	}
	return "off"
}

// SRS's limits: deltas outside ±250 ms are treated as a discontinuity and
// replaced by a 10 ms step (its docs say 40 ms; the code uses 10).
const (
	maxJitterMs      = 250
	defaultFrameTime = 10
)

// Jitter corrects one viewer's timestamps. It is not safe for concurrent use;
// each viewer owns one.
type Jitter struct {
	mode    JitterMode
	started bool
	lastIn  int64 // the last original AV timestamp
	lastOut int64 // the last corrected AV timestamp
	base    int64 // JitterZero: the first timestamp seen
}

// NewJitter returns a corrector for mode.
func NewJitter(mode JitterMode) Jitter { return Jitter{mode: mode} }

// Correct returns the timestamp to write for p.
func (j *Jitter) Correct(p *av.Packet) uint32 {
	ts := int64(p.Timestamp)
	switch j.mode {
	case JitterOff:
		return p.Timestamp
	case JitterZero:
		if !j.started {
			j.started = true
			j.base = ts
		}
		return uint32(max(0, ts-j.base)) & av.TimestampMask
	}
	if p.Kind == av.KindData {
		return 0
	}
	if !j.started {
		j.started = true
		j.lastIn = ts
		j.lastOut = 0
		return 0
	}
	delta := ts - j.lastIn
	if delta < -maxJitterMs || delta > maxJitterMs {
		delta = defaultFrameTime
	}
	j.lastOut = max(0, j.lastOut+delta)
	j.lastIn = ts
	return uint32(j.lastOut) & av.TimestampMask
}
