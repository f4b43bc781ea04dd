package rtmpserver

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/hub"
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

// playWriter moves a viewer's packets to the player's connection: one
// Read, one writev, shared payloads. It owns its buffers; nothing is
// allocated per packet.
type playWriter struct {
	sc          *rtmp.ServerConn
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

func (w *playWriter) run(ctx context.Context) error {
	// Sized for a usual merged write and doubled, up to maxBatch, when a
	// read fills it: per-player memory is what limits how many fit.
	buf := make([]hub.Delivery, initialBatch)
	w.msgs = make([]rtmp.MediaMessage, 0, initialBatch)
	nc := w.sc.NetConn()
	var first uint32
	started := false
	for {
		if w.paused.Load() {
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
		n, err := w.viewer.Read(ctx, buf)
		if err != nil {
			return err
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
		if n == len(buf) && len(buf) < maxBatch {
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
