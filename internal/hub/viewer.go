package hub

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/av"
)

// ViewerOptions are a viewer's play settings, from the vhost's play{} block
// and the egress protocol.
type ViewerOptions struct {
	Jitter JitterMode // play.time_jitter
	ATC    bool       // play.atc: no correction; cached headers take the GOP's time
	// MWLatency and MWMsgs are SRS's merged write: once data is pending, wait
	// up to MWLatency (unless it already spans MWLatency of stream time and
	// more than MWMsgs packets) so one write carries many packets.
	MWLatency time.Duration
	MWMsgs    int
	// StopOnUnpublish ends Read with io.EOF once the publisher has left and
	// everything it sent was read: HTTP players close, RTMP players wait.
	StopOnUnpublish bool
	// ReduceSequenceHeader skips a sequence header identical to the last one
	// this viewer got (play.reduce_sequence_header).
	ReduceSequenceHeader bool
	// LiveOnly starts the viewer at the newest packet, after the cached
	// headers, instead of at the GOP cache (WebRTC: a player's jitter buffer
	// turns a burst of old frames into lasting delay).
	LiveOnly bool
}

// Delivery is one packet for a viewer, with the viewer's corrected timestamp.
type Delivery struct {
	Packet    *av.Packet
	Timestamp uint32
}

// Viewer is one reader of a stream with its own cursor. Read must be called
// from one goroutine; Close and the counters are safe from any.
type Viewer struct {
	s    *Stream
	info ClientInfo
	opt  atomic.Pointer[ViewerOptions]

	// Read-side state, owned by the reading goroutine.
	cursor    uint64
	prefix    [3]*av.Packet // metadata and sequence headers to send first
	prefixLen int
	prefixPos int
	needKey   bool // skip video until a keyframe (no GOP cache, or after a skip)
	unpubs    uint64
	jitter    Jitter
	jmode     JitterMode
	started   bool
	pending   time.Time // when data became pending, for merged writes
	timer     *time.Timer
	lastASH   *av.Packet
	lastVSH   *av.Packet

	drops   atomic.Int64 // packets skipped because the viewer fell behind
	skips   atomic.Int64 // times it fell behind
	skipReq atomic.Bool  // SkipToLive asked for a jump to the newest keyframe
	closed  bool         // guarded by s.mu
}

// SkipToLive makes the viewer restart cleanly at the live stream (a player
// resuming from pause should not get a backlog): the next Read starts at the
// newest cached keyframe when it is ahead of the viewer, otherwise at the
// next keyframe to arrive, with the sequence headers sent again first.
func (v *Viewer) SkipToLive() { v.skipReq.Store(true) }

// newViewer positions a viewer as SRS's consumer dump does: metadata, the
// audio then the video sequence header, then the GOP cache, then live data.
// Called with s.mu held.
func newViewer(s *Stream, who ClientInfo, opt ViewerOptions) *Viewer {
	v := &Viewer{s: s, info: who, unpubs: s.unpublishes, jmode: opt.Jitter, jitter: NewJitter(opt.Jitter)}
	v.opt.Store(&opt)
	v.setPrefix(s.meta, s.audioSH, s.videoSH)
	switch {
	case s.opt.GopCache && s.gopValid && !opt.LiveOnly:
		v.cursor = s.gopStart
	case s.opt.StartBack > 0 && !opt.LiveOnly:
		v.cursor = s.startBackLocked(s.opt.StartBack)
	default:
		v.cursor = s.ring.head
		v.needKey = s.videoSH != nil || s.videoSeen > 0
	}
	return v
}

func (v *Viewer) setPrefix(ps ...*av.Packet) {
	v.prefixLen, v.prefixPos = 0, 0
	for _, p := range ps {
		if p != nil {
			v.prefix[v.prefixLen] = p
			v.prefixLen++
		}
	}
}

// Stream returns the stream being read.
func (v *Viewer) Stream() *Stream { return v.s }

// Info returns who the viewer is.
func (v *Viewer) Info() ClientInfo { return v.info }

// Options returns the viewer's current play settings.
func (v *Viewer) Options() ViewerOptions { return *v.opt.Load() }

// SetOptions changes the play settings (on reload); Read applies them next.
func (v *Viewer) SetOptions(opt ViewerOptions) { v.opt.Store(&opt) }

// Drops returns how many packets the viewer skipped because it fell behind.
func (v *Viewer) Drops() int64 { return v.drops.Load() }

// Skips returns how many times the viewer fell behind and skipped ahead.
func (v *Viewer) Skips() int64 { return v.skips.Load() }

// Read fills out with the next packets, blocking until at least one is ready,
// ctx is done, or (StopOnUnpublish) the publisher left and all was read.
func (v *Viewer) Read(ctx context.Context, out []Delivery) (int, error) {
	return v.read(ctx, out, 0)
}

// ReadWithin is Read that gives up after idle with nothing to deliver and
// returns 0 and no error: a writer that also watches its connection for
// input wakes up at least that often while the stream is quiet.
func (v *Viewer) ReadWithin(ctx context.Context, out []Delivery, idle time.Duration) (int, error) {
	return v.read(ctx, out, idle)
}

func (v *Viewer) read(ctx context.Context, out []Delivery, idle time.Duration) (int, error) {
	if len(out) == 0 {
		return 0, nil
	}
	opt := v.opt.Load()
	if !opt.ATC && v.s.atc() {
		o := *opt
		o.ATC = true // atc_auto: the publisher asked for absolute time
		opt = &o
	}
	if opt.Jitter != v.jmode {
		v.jmode, v.jitter = opt.Jitter, NewJitter(opt.Jitter)
	}
	s := v.s
	for {
		s.mu.RLock()
		if v.skipReq.Swap(false) {
			if s.gopValid && s.gopStart > v.cursor {
				v.cursor = s.gopStart
			} else {
				v.needKey = true
			}
			v.setPrefix(s.audioSH, s.videoSH)
		} else if v.behindLocked() {
			v.skipLocked()
		}
		avail := s.ring.head - v.cursor
		if avail == 0 && v.prefixPos == v.prefixLen {
			if opt.StopOnUnpublish && s.unpublishes != v.unpubs {
				s.mu.RUnlock()
				return 0, io.EOF
			}
			ch := s.waitChan()
			s.mu.RUnlock()
			v.pending = time.Time{}
			if idle > 0 {
				woke, err := v.waitIdle(ctx, ch, idle)
				if err != nil || !woke {
					return 0, err
				}
				continue
			}
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		if wait := v.mergeWaitLocked(opt, avail, len(out)); wait > 0 {
			s.mu.RUnlock()
			if err := v.sleep(ctx, wait); err != nil {
				return 0, err
			}
			continue
		}
		n := v.fillLocked(opt, out)
		caughtUp := v.cursor == s.ring.head
		s.mu.RUnlock()
		if caughtUp {
			v.pending = time.Time{}
		}
		if n > 0 {
			v.started = true
			return n, nil
		}
	}
}

// behindLocked reports whether the viewer lost packets it has not read, or
// lags more than queue_length behind the newest packet.
func (v *Viewer) behindLocked() bool {
	s := v.s
	if v.cursor < s.ring.tail {
		return true
	}
	if v.cursor >= s.ring.head {
		return false
	}
	return s.clock-s.ring.at(v.cursor).clock > s.queueLengthMs()
}

// skipLocked moves a viewer that fell behind to the newest keyframe (or to
// live, waiting for the next one), re-sending the sequence headers first.
// SRS keeps only the sequence headers when it shrinks a queue; castd also
// resumes at a keyframe so the player does not decode garbage.
func (v *Viewer) skipLocked() {
	s := v.s
	from := max(v.cursor, s.ring.tail)
	lost := int64(from - v.cursor)
	if s.gopValid && s.gopStart > from && s.clock-s.ring.at(s.gopStart).clock <= s.queueLengthMs() {
		v.cursor = s.gopStart
	} else {
		v.cursor = s.ring.head
		v.needKey = s.videoSH != nil || s.videoSeen > 0
	}
	v.drops.Add(lost + int64(v.cursor-from))
	v.skips.Add(1)
	s.hub.droppedPackets.Add(lost + int64(v.cursor-from))
	s.hub.viewerSkips.Add(1)
	v.setPrefix(s.audioSH, s.videoSH)
}

// mergeWaitLocked returns how long to wait before writing, for merged writes.
func (v *Viewer) mergeWaitLocked(opt *ViewerOptions, avail uint64, room int) time.Duration {
	if opt.MWLatency <= 0 || !v.started || avail >= uint64(room) || avail == 0 {
		return 0
	}
	s := v.s
	now := time.Now()
	if v.pending.IsZero() {
		v.pending = now
	}
	span := s.ring.at(s.ring.head-1).clock - s.ring.at(v.cursor).clock
	if span >= int64(opt.MWLatency/time.Millisecond) && avail > uint64(opt.MWMsgs) {
		return 0
	}
	return opt.MWLatency - now.Sub(v.pending)
}

// waitIdle waits for ch for at most d; woke is false when d passed.
func (v *Viewer) waitIdle(ctx context.Context, ch <-chan struct{}, d time.Duration) (woke bool, err error) {
	t := v.resetTimer(d)
	select {
	case <-ch:
		t.Stop()
		return true, nil
	case <-t.C:
		return false, nil
	case <-ctx.Done():
		t.Stop()
		return false, ctx.Err()
	}
}

// resetTimer arms the viewer's one timer, made on first use.
func (v *Viewer) resetTimer(d time.Duration) *time.Timer {
	if v.timer == nil {
		v.timer = time.NewTimer(d)
	} else {
		v.timer.Reset(d)
	}
	return v.timer
}

func (v *Viewer) sleep(ctx context.Context, d time.Duration) error {
	t := v.resetTimer(d)
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		v.timer.Stop()
		return ctx.Err()
	}
}

// fillLocked copies the next deliveries into out and returns how many.
func (v *Viewer) fillLocked(opt *ViewerOptions, out []Delivery) int {
	s := v.s
	n := 0
	for v.prefixPos < v.prefixLen && n < len(out) {
		p := v.prefix[v.prefixPos]
		v.prefix[v.prefixPos] = nil
		v.prefixPos++
		if v.filter(opt, p) {
			continue
		}
		ts := p.Timestamp
		if opt.ATC && v.cursor < s.ring.head {
			ts = s.ring.at(v.cursor).pkt.Timestamp // SRS: cached headers take the GOP's time
		}
		out[n] = Delivery{Packet: p, Timestamp: v.stamp(opt, p, ts)}
		n++
	}
	for v.cursor < s.ring.head && n < len(out) {
		p := s.ring.at(v.cursor).pkt
		v.cursor++
		if v.filter(opt, p) {
			continue
		}
		out[n] = Delivery{Packet: p, Timestamp: v.stamp(opt, p, p.Timestamp)}
		n++
	}
	return n
}

// filter reports whether p must be skipped for this viewer.
func (v *Viewer) filter(opt *ViewerOptions, p *av.Packet) bool {
	switch {
	case p.Kind == av.KindVideo && p.SequenceHeader:
		if opt.ReduceSequenceHeader && v.lastVSH != nil && bytes.Equal(v.lastVSH.Payload, p.Payload) {
			return true
		}
		v.lastVSH = p
	case p.Kind == av.KindAudio && p.SequenceHeader:
		if opt.ReduceSequenceHeader && v.lastASH != nil && bytes.Equal(v.lastASH.Payload, p.Payload) {
			return true
		}
		v.lastASH = p
	case p.Kind == av.KindVideo && v.needKey:
		if !p.Keyframe {
			return true
		}
		v.needKey = false
	}
	return false
}

// stamp returns the timestamp to write: ts itself under ATC (for cached
// headers it is the GOP's time), else the jitter-corrected one.
func (v *Viewer) stamp(opt *ViewerOptions, p *av.Packet, ts uint32) uint32 {
	if opt.ATC {
		return ts
	}
	return v.jitter.Correct(p)
}

// Close detaches the viewer; the stream is freed later if nothing else uses it.
func (v *Viewer) Close() {
	s := v.s
	s.mu.Lock()
	if v.closed {
		s.mu.Unlock()
		return
	}
	v.closed = true
	delete(s.viewers, v)
	s.mu.Unlock()
	s.hub.maybeIdle(s)
}
