package srtserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/protocol/srt"
	"github.com/castd/castd/internal/remux"
	"github.com/castd/castd/internal/stats"
)

// publish takes the stream (after on_publish, so a caller refused as busy
// is still reported, SRS's order), accepts the caller and feeds the hub
// until the caller leaves.
func (ss *session) publish(ctx, decide context.Context) error {
	opts := ss.vhost.Stream
	opts.MixCorrect = opts.MixCorrect || ss.set.MixCorrect
	ss.hr.StreamID = ss.srv.Hub.Ensure(ss.key, opts).ID
	if err := ss.srv.Hooks.OnPublish(decide, ss.vhost.Hooks, ss.hr); err != nil {
		return ss.refuse(RejectForbidden, err)
	}
	who := hub.ClientInfo{ID: ss.cid, Protocol: "srt", Addr: ss.req.RemoteAddr().String(), TcURL: ss.hr.TcURL, Param: ss.id.Param}
	pub, err := ss.srv.Hub.Publish(ss.key, who, opts)
	if err != nil {
		reason := RejectForbidden
		if errors.Is(err, hub.ErrStreamBusy) {
			reason = RejectBusy
		}
		return ss.refuse(reason, err)
	}
	defer func() {
		pub.Close()
		ss.srv.Hooks.OnUnpublish(context.Background(), ss.hooksOf(), ss.hr)
	}()
	if err := ss.accept(); err != nil {
		return err
	}
	defer ss.conn.Close()
	ss.register(stats.SRTPublish, pub.Stream().ID)
	defer ss.srv.Stats.Unregister(ss.cid, nil)
	ss.log.Info("srt: publish start", "stream", ss.key.String(), "param", ss.id.Param, "ip", ss.ip,
		"encrypted", ss.req.Encrypted(), "latency", ss.conn.Stats().RecvLatency)
	start := time.Now()
	conv := remux.NewTSToFLV(remux.TSToFLVOptions{Logger: ss.log, DropSEI: ss.vhost.SEIFilter})
	demux := mpegts.NewDemuxer(ss.conn)
	err = ingest(ctx, demux, conv, pub)
	cs, ds := conv.Stats(), demux.Stats()
	ss.log.Info("srt: publish end", "stream", ss.key.String(), "duration", time.Since(start).Round(time.Millisecond),
		"video", cs.VideoFrames, "audio", cs.AudioFrames, "dropped", cs.Dropped, "ts_continuity_errors", ds.ContinuityErrors,
		"reason", endReason(err), "srt", transportOf(ss.conn.Stats()))
	if isNormalEnd(err) {
		return nil
	}
	return err
}

// ingest moves what the demuxer reads from the caller into the hub.
func ingest(ctx context.Context, demux *mpegts.Demuxer, conv *remux.TSToFLV, pub *hub.Publisher) error {
	var packets []*av.Packet
	for ctx.Err() == nil {
		f, err := demux.ReadFrame()
		if err != nil {
			return err
		}
		packets = conv.AppendPackets(packets[:0], &f)
		for _, p := range packets {
			if err := pub.Write(p); err != nil {
				return fmt.Errorf("srt: publish: %w", err)
			}
		}
		clear(packets) // the hub owns them now
	}
	return ctx.Err()
}

// isNormalEnd reports the ways a connection ends that are no error: the
// caller closed, went silent, or was closed by castd (kick, shutdown).
func isNormalEnd(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, srt.ErrPeerIdle) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, context.Canceled) || errors.Is(err, errPublisherLeft)
}

func endReason(err error) string {
	switch {
	case err == nil:
		return "done"
	case errors.Is(err, errPublisherLeft):
		return "publisher left"
	case errors.Is(err, io.EOF):
		return "caller closed"
	case errors.Is(err, srt.ErrPeerIdle):
		return "caller silent (peer_idle_timeout)"
	case errors.Is(err, net.ErrClosed), errors.Is(err, context.Canceled):
		return "closed by castd (kick, reload or shutdown)"
	}
	return err.Error()
}
