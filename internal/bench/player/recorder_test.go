package player

import (
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/stamp"
)

func TestRecorder(t *testing.T) {
	m := &Metrics{}
	r := NewRecorder(m)
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	r.Connecting(t0)
	if c := m.Counts(); c.Started != 1 || c.Up != 0 {
		t.Errorf("counts %+v", c)
	}
	r.Up(at(50))
	r.Up(at(60)) // once only
	if c := m.Counts(); c.Up != 1 || c.EverUp != 1 {
		t.Errorf("counts %+v", c)
	}
	// A second of frames every 40 ms, 1000 bytes each, stamped 30 ms before.
	for i := range 26 {
		now := at(100 + 40*i)
		r.Media(now, 1000)
		r.VideoFrame(now, uint32(5000+40*i))
		r.Stamp(now, stamp.Stamp{SentAt: now.Add(-30 * time.Millisecond).UnixNano()})
	}
	// A 1.5 s gap is a stall; 1 s exactly is not.
	r.Media(at(100+40*25+1500), 1000)
	r.Media(at(100+40*25+2500), 1000)
	res := r.Finish(at(100+40*25+2500+500), nil)
	if res.TTFF != 100*time.Millisecond || m.TTFF.Percentile(50) != 100000 {
		t.Errorf("ttff %v, histogram %d µs", res.TTFF, m.TTFF.Percentile(50))
	}
	if res.Stalls != 1 || res.StallTime != 1500*time.Millisecond {
		t.Errorf("stalls %d for %v", res.Stalls, res.StallTime)
	}
	if res.Bytes != 28000 || res.Frames != 26 || res.Stamps != 26 || !res.WasUp || res.Err != nil {
		t.Errorf("result %+v", res)
	}
	if s := m.Latency.Snapshot().Summary(1e-3); s.Count != 26 || s.P50 != 30 || s.Max != 30 {
		t.Errorf("latency %+v", s)
	}
	// Wall time from the first message: 100 ms to 4100 ms.
	if res.BitrateSpan != 4*time.Second || math.Abs(res.Bitrate-28000*8/4.0) > 1e-9 {
		t.Errorf("bitrate %v over %v", res.Bitrate, res.BitrateSpan)
	}
	if c := m.Counts(); c.Up != 0 || c.Failed != 0 {
		t.Errorf("counts after finish %+v", c)
	}
}

// A GOP cache burst carries more stream time than wall time: the bitrate
// divides by the stream time.
func TestRecorderBitrateOverStreamTime(t *testing.T) {
	m := &Metrics{}
	r := NewRecorder(m)
	t0 := time.Unix(1000, 0)
	r.Connecting(t0)
	r.Up(t0)
	// 2 s of frames at once, then 1 s in real time: 3 s of stream in 1 s.
	for i := range 50 {
		r.Media(t0, 500)
		r.VideoFrame(t0, uint32(40*i))
	}
	for i := range 25 {
		now := t0.Add(time.Duration(40*(i+1)) * time.Millisecond)
		r.Media(now, 500)
		r.VideoFrame(now, uint32(2000+40*i))
	}
	res := r.Finish(t0.Add(time.Second), nil)
	if res.BitrateSpan != 2960*time.Millisecond {
		t.Errorf("span %v, want the 2.96 s of stream time", res.BitrateSpan)
	}
	// Timestamps far ahead of the wall clock are not trusted.
	r = NewRecorder(m)
	r.Connecting(t0)
	r.Media(t0, 100)
	r.VideoFrame(t0, 0)
	r.Media(t0.Add(time.Second), 100)
	r.VideoFrame(t0.Add(time.Second), 3_600_000)
	if res := r.Finish(t0.Add(2*time.Second), nil); res.BitrateSpan != 2*time.Second {
		t.Errorf("span %v with a jump of an hour", res.BitrateSpan)
	}
}

func TestRecorderFailures(t *testing.T) {
	m := &Metrics{StallGap: 200 * time.Millisecond}
	t0 := time.Unix(1000, 0)
	never := NewRecorder(m)
	never.Connecting(t0)
	res := never.Finish(t0.Add(time.Second), failure.Mark(failure.Dial, errors.New("refused")))
	if res.WasUp || res.Kind != failure.Dial || res.Bitrate != 0 || res.Stalls != 0 {
		t.Errorf("never up: %+v", res)
	}
	dropped := NewRecorder(m)
	dropped.Connecting(t0)
	dropped.Up(t0)
	dropped.Media(t0, 10)
	// The stream stopped 300 ms before the end: a stall at the end.
	res = dropped.Finish(t0.Add(300*time.Millisecond), io.EOF)
	if !res.WasUp || res.Kind != failure.EOF || res.Stalls != 1 || res.TTFF != 0 {
		t.Errorf("dropped: %+v", res)
	}
	if c := m.Counts(); c.Started != 2 || c.Up != 0 || c.EverUp != 1 || c.Failed != 2 || c.Dropped != 1 {
		t.Errorf("counts %+v", c)
	}
	if got := m.Errors.String(); got != "dial=1 eof=1" {
		t.Errorf("errors %q", got)
	}
	// A stamp from the future is a clock problem, recorded as 0.
	r := NewRecorder(m)
	r.Stamp(t0, stamp.Stamp{SentAt: t0.Add(time.Second).UnixNano()})
	if m.ClockSkew.Load() != 1 || m.Latency.Snapshot().Summary(1).Max != 0 {
		t.Errorf("skew %d, latency %+v", m.ClockSkew.Load(), m.Latency.Snapshot().Summary(1))
	}
}

// A player that reports its own stalls (HLS) gets no stall from gaps
// between media messages, at the end of the run neither.
func TestRecorderBufferStalls(t *testing.T) {
	r := NewRecorder(&Metrics{})
	t0 := time.Unix(1000, 0)
	r.Connecting(t0)
	r.UseBufferStalls()
	r.Media(t0, 100)
	r.Media(t0.Add(5*time.Second), 100) // a segment later
	r.Stall(0)                          // not a stall
	r.Stall(-time.Second)               // nor this
	r.Stall(700 * time.Millisecond)
	res := r.Finish(t0.Add(20*time.Second), nil)
	if res.Stalls != 1 || res.StallTime != 700*time.Millisecond || r.HLS() != &r.m.HLS {
		t.Errorf("%d stalls for %v", res.Stalls, res.StallTime)
	}
}
