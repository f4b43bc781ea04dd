package stats

import (
	"time"
)

// SampleInterval is how often the server calls Registry.Sample. With a
// 30-second window, seven samples per counter are enough.
const SampleInterval = 5 * time.Second

const rateWindow = 30 * time.Second

type sample struct {
	at         time.Time
	recv, send int64
}

// rate keeps the last samples of a byte counter pair.
type rate struct {
	s   [8]sample
	n   int // samples held
	pos int // next slot
}

func (r *rate) add(at time.Time, recv, send int64) {
	r.s[r.pos] = sample{at: at, recv: recv, send: send}
	r.pos = (r.pos + 1) % len(r.s)
	if r.n < len(r.s) {
		r.n++
	}
}

// kbps returns the rates in kbit/s between the oldest sample within the
// 30-second window and the current counts.
func (r *rate) kbps(now time.Time, recv, send int64) (int, int) {
	var base *sample
	for i := 0; i < r.n; i++ {
		s := &r.s[(r.pos-1-i+2*len(r.s))%len(r.s)]
		if now.Sub(s.at) > rateWindow {
			break
		}
		base = s
	}
	if base == nil {
		return 0, 0
	}
	ms := now.Sub(base.at).Milliseconds()
	if ms <= 0 {
		return 0, 0
	}
	// bytes*8 bits over ms milliseconds is bits/ms, which is kbit/s.
	return int((recv - base.recv) * 8 / ms), int((send - base.send) * 8 / ms)
}
