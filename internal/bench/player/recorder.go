package player

import (
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/stamp"
	"github.com/castd/castd/internal/bench/stats"
)

// DefaultStallGap is the stall gap unless Metrics.StallGap says otherwise.
const DefaultStallGap = time.Second

// maxStreamAhead bounds how much more stream time than wall time a player
// may receive (a server's GOP cache) before its timestamps are not trusted
// for its bitrate.
const maxStreamAhead = time.Minute

// Metrics gathers what every player of a run reports. Its methods and
// fields are safe for concurrent use.
type Metrics struct {
	// StallGap is the gap between media messages that counts as a stall;
	// DefaultStallGap when 0. Set before players start.
	StallGap time.Duration

	// Latency holds end-to-end latencies in microseconds for the whole run,
	// LatencyInterval since the caller last reset it (for live output).
	Latency, LatencyInterval stats.Histogram
	// TTFF holds times to first frame in microseconds.
	TTFF stats.Histogram
	// ClockSkew counts stamps from the future: the publisher's clock is
	// ahead of the player's, and the latency was recorded as 0.
	ClockSkew atomic.Int64
	// Errors counts the errors that ended players, by kind.
	Errors failure.Counter
	// HLS gathers what HLS players measure beyond the figures above.
	HLS HLSMetrics

	started, up, everUp, failed, dropped atomic.Int64
}

func (m *Metrics) stallGap() time.Duration {
	if m.StallGap > 0 {
		return m.StallGap
	}
	return DefaultStallGap
}

// Counts is how many players are where.
type Counts struct {
	Started int64 // began connecting
	Up      int64 // playing now
	EverUp  int64 // were playing at some point
	Failed  int64 // ended with an error
	Dropped int64 // failed after they were up
}

// Counts returns the player counts now.
func (m *Metrics) Counts() Counts {
	return Counts{Started: m.started.Load(), Up: m.up.Load(), EverUp: m.everUp.Load(), Failed: m.failed.Load(), Dropped: m.dropped.Load()}
}

// Recorder is what one player reports to. The player's goroutine calls its
// methods; the counters it exposes may be read from anywhere.
type Recorder struct {
	m *Metrics

	bytes    atomic.Int64 // media payload bytes
	frames   atomic.Int64 // video frames, sequence headers aside
	audio    atomic.Int64 // audio messages
	stamps   atomic.Int64 // frames with a castbench stamp
	stalls   atomic.Int64
	stallDur atomic.Int64 // nanoseconds

	// Player goroutine only.
	start        time.Time // the connection attempt began
	isUp         bool
	bufferStalls bool // the player reports stalls itself (UseBufferStalls)
	firstMedia   time.Time
	lastMedia    time.Time
	firstFrame   time.Time
	// Timestamps of the first and latest video frames, in milliseconds.
	firstFrameTS, lastFrameTS int64
}

// NewRecorder returns a recorder reporting to m.
func NewRecorder(m *Metrics) *Recorder { return &Recorder{m: m} }

// Connecting marks the start of the connection attempt, from which the time
// to first frame counts.
func (r *Recorder) Connecting(now time.Time) {
	r.start = now
	r.m.started.Add(1)
}

// Up marks the player as playing (RTMP NetStream.Play.Start, HTTP 200).
func (r *Recorder) Up(now time.Time) {
	if r.isUp {
		return
	}
	r.isUp = true
	r.m.up.Add(1)
	r.m.everUp.Add(1)
}

// Media counts a media message (audio, video or data) of n payload bytes.
func (r *Recorder) Media(now time.Time, n int) {
	switch {
	case r.firstMedia.IsZero():
		r.firstMedia = now
	case !r.bufferStalls && now.Sub(r.lastMedia) > r.m.stallGap():
		r.stalls.Add(1)
		r.stallDur.Add(int64(now.Sub(r.lastMedia)))
	}
	r.lastMedia = now
	r.bytes.Add(int64(n))
}

// VideoFrame counts a video frame (not a sequence header) with its
// timestamp in milliseconds; the first one sets the time to first frame.
func (r *Recorder) VideoFrame(now time.Time, timestamp uint32) {
	if r.firstFrame.IsZero() {
		r.firstFrame = now
		r.firstFrameTS = int64(timestamp)
		r.m.TTFF.Record(now.Sub(r.start).Microseconds())
	}
	r.lastFrameTS = int64(timestamp)
	r.frames.Add(1)
}

// AudioFrame counts an audio message (its bytes go to Media).
func (r *Recorder) AudioFrame() { r.audio.Add(1) }

// Stamp records the latency of a stamped frame received at now.
func (r *Recorder) Stamp(now time.Time, s stamp.Stamp) {
	lat := now.UnixNano() - s.SentAt
	if lat < 0 {
		r.m.ClockSkew.Add(1)
		lat = 0
	}
	us := lat / 1e3
	r.m.Latency.Record(us)
	r.m.LatencyInterval.Record(us)
	r.stamps.Add(1)
}

// UseBufferStalls makes the player report its stalls with Stall instead of
// the recorder counting gaps between media messages: an HLS player gets its
// media a segment at a time, seconds apart, and models a playback buffer
// to tell when it would run dry. Call it before the first Media.
func (r *Recorder) UseBufferStalls() { r.bufferStalls = true }

// Stall records a stall that lasted d.
func (r *Recorder) Stall(d time.Duration) {
	if d <= 0 {
		return
	}
	r.stalls.Add(1)
	r.stallDur.Add(int64(d))
}

// HLS returns the HLS metrics of the run, for HLS players to report to.
func (r *Recorder) HLS() *HLSMetrics { return &r.m.HLS }

// Bytes returns the media payload bytes received so far.
func (r *Recorder) Bytes() int64 { return r.bytes.Load() }

// Stalls returns the stalls so far.
func (r *Recorder) Stalls() int64 { return r.stalls.Load() }

// Finish ends the player at now with the error Play returned (nil for a
// normal stop) and returns its result. A gap since the last media message
// longer than the stall gap counts as a stall too (unless the player
// reports its own stalls).
func (r *Recorder) Finish(now time.Time, err error) Result {
	if !r.bufferStalls && !r.lastMedia.IsZero() && now.Sub(r.lastMedia) > r.m.stallGap() {
		r.stalls.Add(1)
		r.stallDur.Add(int64(now.Sub(r.lastMedia)))
	}
	if r.isUp {
		r.m.up.Add(-1)
	}
	if err != nil {
		r.m.failed.Add(1)
		if r.isUp {
			r.m.dropped.Add(1)
		}
		r.m.Errors.Add(err)
	}
	res := Result{
		WasUp:     r.isUp,
		Bytes:     r.bytes.Load(),
		Frames:    r.frames.Load(),
		Audio:     r.audio.Load(),
		Stamps:    r.stamps.Load(),
		Stalls:    r.stalls.Load(),
		StallTime: time.Duration(r.stallDur.Load()),
		Err:       err,
	}
	if !r.firstFrame.IsZero() {
		res.TTFF = r.firstFrame.Sub(r.start)
	}
	if !r.firstMedia.IsZero() {
		res.BitrateSpan = r.bitrateSpan(now)
		if res.BitrateSpan > 0 {
			res.Bitrate = float64(res.Bytes) * 8 / res.BitrateSpan.Seconds()
		}
	}
	if err != nil {
		res.Kind = failure.KindOf(err)
	}
	return res
}

// bitrateSpan is the time a player's bytes are spread over: the wall time
// from its first media message to now, or the stream time its video frames
// cover when that is longer. A server's GOP cache sends a new player up to
// a GOP at once, and servers that merge writes send a few hundred
// milliseconds at a time; dividing by the stream time those bursts carry
// keeps them from inflating the bitrate, while a player that receives less
// than real time still shows it through the wall time.
func (r *Recorder) bitrateSpan(now time.Time) time.Duration {
	wall := now.Sub(r.firstMedia)
	stream := time.Duration(r.lastFrameTS-r.firstFrameTS) * time.Millisecond
	if stream > wall && stream <= wall+maxStreamAhead {
		return stream
	}
	return wall
}

// Result is what one player did.
type Result struct {
	WasUp  bool
	TTFF   time.Duration // 0 when no video frame came
	Bytes  int64         // media payload bytes
	Frames int64         // video frames
	Audio  int64         // audio messages
	Stamps int64
	Stalls int64
	// StallTime is the sum of the stalled gaps.
	StallTime time.Duration
	// Bitrate is the media bitrate in bits per second: Bytes over
	// BitrateSpan (see Recorder.bitrateSpan); 0 when no media came.
	Bitrate     float64
	BitrateSpan time.Duration
	Err         error
	Kind        failure.Kind
}
