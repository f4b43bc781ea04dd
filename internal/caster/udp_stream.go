package caster

import (
	"context"
	"log/slog"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/remux"
)

// udpStream is one UDP cast stream: TS frames from the demuxer become
// FLV packets (the SRT publisher's converter) that are pushed to the
// output. The publish starts with the first packet the converter makes, so
// stray datagrams that hold no media never publish anything. After a
// failed publish the input is dropped for opt.Retry, then a new publish
// starts with a new converter: the target gets fresh sequence headers and
// a timeline from 0, as from a new encoder.
type udpStream struct {
	u     *udpCaster
	cid   string
	log   *slog.Logger
	demux *mpegts.Demuxer

	conv    *remux.TSToFLV // nil between publishes
	out     mediaOutput    // nil between publishes
	retryAt time.Time
	packets []*av.Packet
	msgs    []rtmp.MediaMessage

	publishes int
	totals    remux.TSToFLVStats // of the converters already dropped
}

func newUDPStream(u *udpCaster, cid string, log *slog.Logger, r *datagramReader) *udpStream {
	return &udpStream{u: u, cid: cid, log: log, demux: mpegts.NewDemuxer(r)}
}

// run pushes the stream until its input ends (idle, or the socket closed).
func (s *udpStream) run(ctx context.Context) error {
	defer s.unpublish()
	for {
		f, err := s.demux.ReadFrame()
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.out == nil && time.Now().Before(s.retryAt) {
			continue
		}
		if s.conv == nil {
			s.conv = remux.NewTSToFLV(remux.TSToFLVOptions{Logger: s.log})
		}
		s.packets = s.conv.AppendPackets(s.packets[:0], &f)
		if len(s.packets) == 0 {
			continue
		}
		err = s.push(ctx)
		clear(s.packets) // the output has them, or they are dropped
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("caster: publish failed; input dropped until the retry", "output", s.u.output,
				"retry_in", s.u.opt.Retry, "err", err)
			s.unpublish()
			s.retryAt = time.Now().Add(s.u.opt.Retry)
		}
	}
}

// push publishes when not publishing yet, then writes the packets.
func (s *udpStream) push(ctx context.Context) error {
	if s.out == nil {
		p, err := s.u.dial(ctx, s.u.output, s.cid, s.u.opt)
		if err != nil {
			return err
		}
		s.out = p
		s.publishes++
		s.log.Info("caster: publishing", "output", s.u.output)
	}
	s.msgs = s.msgs[:0]
	for _, p := range s.packets {
		s.msgs = append(s.msgs, rtmp.MediaMessage{Type: uint8(p.Kind), Timestamp: p.Timestamp, Payload: p.Payload})
	}
	err := s.out.write(s.msgs)
	clear(s.msgs)
	return err
}

// unpublish ends the publish, if any, and drops the converter.
func (s *udpStream) unpublish() {
	if s.out != nil {
		s.out.close()
		s.out = nil
	}
	if s.conv != nil {
		st := s.conv.Stats()
		s.totals.VideoFrames += st.VideoFrames
		s.totals.AudioFrames += st.AudioFrames
		s.totals.Dropped += st.Dropped
		s.conv = nil
	}
}

// udpStreamStats are the counters logged when a stream ends.
type udpStreamStats struct {
	video, audio, dropped          uint64
	continuityErrors, skippedBytes uint64
}

// stats sums the counters of every publish; call after run.
func (s *udpStream) stats() udpStreamStats {
	d := s.demux.Stats()
	return udpStreamStats{
		video: s.totals.VideoFrames, audio: s.totals.AudioFrames, dropped: s.totals.Dropped,
		continuityErrors: d.ContinuityErrors, skippedBytes: d.SkippedBytes,
	}
}
