package srt

import "time"

// Round-trip time estimation (draft-sharabayko-srt, "Round-Trip Time
// Estimation"): RTT = 7/8 RTT + 1/8 rtt, RTTVar = 3/4 RTTVar + 1/4 |RTT-rtt|,
// starting from 100 ms and 50 ms. The receiver samples ACK/ACKACK pairs, the
// sender the RTT its peer reports in ACKs; a connection that does both
// keeps one estimate.
const (
	initialRTT    = 100 * time.Millisecond
	initialRTTVar = 50 * time.Millisecond
)

type rttEstimator struct {
	rtt, rttVar time.Duration
	sampled     bool
	measured    bool // has samples of its own (ACK/ACKACK)
}

func newRTTEstimator() rttEstimator { return rttEstimator{rtt: initialRTT, rttVar: initialRTTVar} }

// measure adds a sample timed by this side (an ACKACK answering our ACK).
func (r *rttEstimator) measure(s time.Duration) {
	r.measured = true
	r.sample(s)
}

// reported adds the RTT the peer put in an ACK. It is ignored when this
// side measures the RTT itself, and when the peer still reports the
// initial guess: mixing guesses in would keep both ends' estimates (and
// their NAK periods) far from the real RTT when both send.
func (r *rttEstimator) reported(rtt, rttVar time.Duration) {
	if r.measured || rtt == initialRTT && rttVar == initialRTTVar {
		return
	}
	r.sample(rtt)
}

func (r *rttEstimator) sample(s time.Duration) {
	if s < 0 {
		return
	}
	if !r.sampled {
		// The first sample replaces the guess, as libsrt does.
		r.rtt, r.rttVar, r.sampled = s, s/2, true
		return
	}
	diff := r.rtt - s
	if diff < 0 {
		diff = -diff
	}
	r.rttVar = (3*r.rttVar + diff) / 4
	r.rtt = (7*r.rtt + s) / 8
}

// Drift tracing (draft-sharabayko-srt, "Drift Management"): the receiver
// compares when ACKACKs arrive with the sender's timestamps on them. The
// average of driftSamples comparisons becomes the drift added to delivery
// times; beyond ±maxDrift the excess moves into the TSBPD time base, so a
// sender clock that runs slow or fast does not drain or fill the buffer.
const (
	driftSamples = 1000
	maxDrift     = 5 * time.Millisecond
)

type driftTracer struct {
	sum       time.Duration
	count     int
	drift     time.Duration // applied to every delivery time
	overdrift time.Duration // last excess moved into the time base
}

// update adds a sample and reports whether a new average was formed.
func (d *driftTracer) update(sample time.Duration) bool {
	d.sum += sample
	d.count++
	if d.count < driftSamples {
		return false
	}
	avg := d.sum / time.Duration(d.count)
	d.sum, d.count = 0, 0
	d.overdrift = 0
	switch {
	case avg > maxDrift:
		d.overdrift, avg = avg-maxDrift, maxDrift
	case avg < -maxDrift:
		d.overdrift, avg = avg+maxDrift, -maxDrift
	}
	d.drift = avg
	return true
}
