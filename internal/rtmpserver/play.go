package rtmpserver

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/netx"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// maxBatch is the most messages written at once (SRS's merged write sends
// up to 128).
const maxBatch = 128

// initialBatch is a player's first batch size: 350 ms of a usual stream.
const initialBatch = 32

// publishReadBuffer is a publisher connection's read buffer: players keep
// the small default, which is what limits how many fit in memory.
const publishReadBuffer = 64 << 10

// writeTimeout drops a player that accepts nothing for this long.
const writeTimeout = 30 * time.Second

// controlPoll is how often a player's requests (pause, closeStream) are
// looked for between batches, and how long its writer waits for media
// before it looks anyway. A poll costs one poll(2) call.
const controlPoll = 200 * time.Millisecond

// controlReadTimeout bounds the read of a request that has begun to arrive.
const controlReadTimeout = 5 * time.Second

// joinBurst is how long after the start of a play a full read is taken for
// the GOP cache's burst rather than a sign of a busy stream.
const joinBurst = 3 * time.Second

// playerReadBuffer is a player's read buffer once it plays.
const playerReadBuffer = 512

// playWriter moves a viewer's packets to the player's connection: one
// Read, one writev, shared payloads. It owns its buffers; nothing is
// allocated per packet.
type playWriter struct {
	sc          *rtmp.ServerConn
	probe       *netx.InputProbe // set when one goroutine both writes and polls the player's requests
	viewer      *hub.Viewer
	minInterval time.Duration // play.send_min_interval
	limit       time.Duration // the play command's duration; 0 plays forever
	paused      atomic.Bool
	resume      chan struct{}
	msgs        []rtmp.MediaMessage
	afterFirst  func() // runs once after the first batch is written
}

// send writes one batch of deliveries as RTMP messages in one writev; the
// shared payloads are referenced, not copied.
func (w *playWriter) send(ds []hub.Delivery) error {
	msgs := w.msgs[:0]
	for _, d := range ds {
		msgs = append(msgs, rtmp.MediaMessage{Type: uint8(d.Packet.Kind), Timestamp: d.Timestamp, Payload: d.Packet.Payload})
	}
	err := w.sc.WriteMedia(msgs)
	clear(msgs) // do not keep shared packets alive
	w.msgs = msgs[:0]
	return err
}

// poll serves the requests the player sent since the last poll.
func (w *playWriter) poll() error {
	for {
		c, ok, err := w.sc.PollPlayControl(w.probe.Pending, controlReadTimeout)
		if err != nil || !ok {
			return err
		}
		if err := w.handle(c, nil); err != nil {
			return err
		}
	}
}

// handle applies one player request.
func (w *playWriter) handle(c rtmp.PlayControl, err error) error {
	if err != nil {
		return err
	}
	switch c.Kind {
	case rtmp.PlayPause:
		w.paused.Store(true)
	case rtmp.PlayUnpause:
		w.paused.Store(false)
		if w.probe == nil {
			select {
			case w.resume <- struct{}{}: // wake the writer goroutine
			default:
			}
		}
	case rtmp.PlayStop:
		return errPlayStopped
	}
	return nil
}

func (w *playWriter) run(ctx context.Context) error {
	// Sized for a usual merged write and doubled, up to maxBatch, when a
	// read fills it: per-player memory is what limits how many fit.
	buf := make([]hub.Delivery, initialBatch)
	w.msgs = make([]rtmp.MediaMessage, 0, initialBatch)
	nc := w.sc.NetConn()
	var first uint32
	started := false
	var lastPoll time.Time
	began := time.Now()
	for {
		if w.probe != nil && time.Since(lastPoll) >= controlPoll {
			if err := w.poll(); err != nil {
				return err
			}
			lastPoll = time.Now()
		}
		if w.paused.Load() {
			if w.probe != nil {
				// Only the player's requests matter now: wait for them.
				if err := w.handle(w.sc.ReadPlayControl()); err != nil {
					return err
				}
				if !w.paused.Load() {
					w.viewer.SkipToLive()
				}
				continue
			}
			// A paused player gets nothing. SRS queues while paused and sends
			// the backlog on unpause; castd resumes at the newest keyframe
			// so the player is live again.
			select {
			case <-w.resume:
				w.viewer.SkipToLive()
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		var n int
		var err error
		if w.probe != nil {
			n, err = w.viewer.ReadWithin(ctx, buf, controlPoll)
		} else {
			n, err = w.viewer.Read(ctx, buf)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			continue // quiet stream: time to look at the player's requests
		}
		if w.paused.Load() {
			clear(buf[:n]) // paused while this batch was waited for
			continue
		}
		_ = nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		err = w.send(buf[:n])
		batchFirst, last := buf[0].Timestamp, buf[n-1].Timestamp
		clear(buf[:n]) // do not keep shared packets alive
		if err != nil {
			return err
		}
		// The GOP cache fills every read at first; only a stream that fills
		// them once live needs bigger batches. Growing for the burst would
		// keep every player's scratch (here, in rtmp.Conn and in the net
		// package's iovec array) four times too big for its whole life.
		if n == len(buf) && len(buf) < maxBatch && time.Since(began) > joinBurst {
			buf = make([]hub.Delivery, min(2*len(buf), maxBatch))
		}
		if w.afterFirst != nil {
			w.afterFirst()
			w.afterFirst = nil
		}
		if w.limit > 0 {
			if !started {
				first, started = batchFirst, true
			}
			if time.Duration(last-first)*time.Millisecond >= w.limit {
				return errDurationReached
			}
		}
		if w.minInterval > 0 {
			t := time.NewTimer(w.minInterval)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
	}
}
