package srtserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/stats"
)

// writeTimeout drops a player whose send buffer stays full this long.
const writeTimeout = 30 * time.Second

// play runs on_play, accepts the caller and sends it the stream's TS,
// muxed once by a relay for every SRT player, until either side leaves.
func (ss *session) play(ctx, decide context.Context) error {
	source := ss.srv.Hub.Ensure(ss.key, ss.vhost.Stream)
	ss.hr.StreamID = source.ID
	if err := ss.srv.Hooks.OnPlay(decide, ss.vhost.Hooks, ss.hr); err != nil {
		return ss.refuse(RejectForbidden, err)
	}
	defer ss.srv.Hooks.OnStop(context.Background(), ss.hooksOf(), ss.hr)
	if err := ss.accept(); err != nil {
		return err
	}
	derived := ss.srv.relayFor(ctx, ss.key, ss.vhost.Stream)
	viewer := ss.srv.Hub.Play(derived, hub.ClientInfo{ID: ss.cid, Protocol: "srt", Addr: ss.req.RemoteAddr().String(), TcURL: ss.hr.TcURL},
		derivedOptions(ss.vhost.Stream), hub.ViewerOptions{Jitter: hub.JitterOff, StopOnUnpublish: true})
	defer viewer.Close()
	ss.register(stats.SRTPlay, source.ID)
	defer ss.srv.Stats.Unregister(ss.cid, nil)
	ss.log.Info("srt: play start", "stream", ss.key.String(), "param", ss.id.Param, "ip", ss.ip,
		"encrypted", ss.req.Encrypted(), "latency", ss.conn.Stats().PeerLatency)
	start := time.Now()

	// The caller sends nothing but control packets; reading notices when it
	// closes or goes silent while no media flows.
	pctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var rerr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel()
		buf := make([]byte, mpegts.PacketSize*7)
		for {
			if _, rerr = ss.conn.ReadMessage(buf); rerr != nil {
				return
			}
		}
	}()
	werr := ss.send(pctx, viewer)
	cancel()
	ss.conn.Close() // ends the reader
	wg.Wait()
	err := werr
	if errors.Is(werr, context.Canceled) && rerr != nil {
		err = rerr // the caller left
	}
	ss.log.Info("srt: play end", "stream", ss.key.String(), "duration", time.Since(start).Round(time.Millisecond),
		"drops", viewer.Drops(), "reason", endReason(err), "srt", transportOf(ss.conn.Stats()))
	if isNormalEnd(err) {
		return nil
	}
	return err
}

// send writes the viewer's TS packets in messages of whole TS packets, as
// large as the connection allows (1316 bytes: seven TS packets). A full
// send buffer blocks only this player; meanwhile its hub cursor falls
// behind and skips to a newer keyframe.
func (ss *session) send(ctx context.Context, viewer *hub.Viewer) error {
	size := ss.conn.PayloadSize() / mpegts.PacketSize * mpegts.PacketSize
	if size == 0 {
		return fmt.Errorf("srt: payload size %d cannot carry a TS packet", ss.conn.PayloadSize())
	}
	msg := make([]byte, 0, size)
	buf := make([]hub.Delivery, maxBatch)
	for {
		n, err := viewer.Read(ctx, buf)
		if n > 0 {
			_ = ss.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		}
		for _, d := range buf[:n] {
			for data := d.Packet.Payload; len(data) > 0; {
				k := min(size-len(msg), len(data))
				msg, data = append(msg, data[:k]...), data[k:]
				if len(msg) == size {
					if _, werr := ss.conn.WriteMessage(msg); werr != nil {
						return fmt.Errorf("srt: send to %s: %w", ss.ip, werr)
					}
					msg = msg[:0]
				}
			}
		}
		clear(buf[:n]) // do not keep shared packets alive
		if len(msg) > 0 {
			if _, werr := ss.conn.WriteMessage(msg); werr != nil {
				return fmt.Errorf("srt: send to %s: %w", ss.ip, werr)
			}
			msg = msg[:0]
		}
		if errors.Is(err, io.EOF) {
			return errPublisherLeft
		}
		if err != nil {
			return err
		}
	}
}

// errPublisherLeft ends a player when the stream is unpublished: its TS
// stream ends there, as an HTTP-TS response does.
var errPublisherLeft = errors.New("srt: the publisher left")
