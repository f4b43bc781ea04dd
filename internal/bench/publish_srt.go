package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/source"
	"github.com/castd/castd/internal/bench/srturl"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/protocol/srt"
	"github.com/castd/castd/internal/remux"
)

// publishSRT sends the source over SRT as an encoder does: the FLV frames
// (stamped as for RTMP) muxed to MPEG-TS by castd's TS writer, in messages
// of seven TS packets, paced in real time. It returns the error that ended
// the publisher, nil when ctx did.
func (p *publisher) publishSRT(ctx context.Context, up func()) error {
	u, err := srturl.Parse(p.url)
	if err != nil {
		return failure.Mark(failure.Other, err)
	}
	cctx, cancel := context.WithTimeout(ctx, p.owner.cfg.ConnectTimeout)
	c, err := srt.Dial(cctx, "udp", u.Addr, u.Options(p.owner.cfg.ConnectTimeout))
	cancel()
	if err != nil {
		return endedErr(ctx, err)
	}
	defer c.Close()
	tw, err := remux.NewTSWriter(nil, remux.TSOptions{})
	if err != nil {
		return failure.Mark(failure.Other, err)
	}
	p.owner.up.Add(1)
	p.owner.everUp.Add(1)
	defer p.owner.up.Add(-1)
	up()

	// When the run ends, a write blocked on a full send buffer gets a
	// second, then fails.
	stop := context.AfterFunc(ctx, func() { _ = c.SetWriteDeadline(time.Now().Add(time.Second)) })
	defer stop()
	// A reader notices the server closing the connection (a kick, a
	// rejection after the fact) and stops the pacer.
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	var readErr error
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		buf := make([]byte, srt.DefaultPayloadSize)
		for {
			if _, err := c.ReadMessage(buf); err != nil {
				readErr = err
				scancel()
				return
			}
		}
	}()
	size := c.PayloadSize() / mpegts.PacketSize * mpegts.PacketSize
	pacer := &source.Pacer{Src: p.owner.cfg.Source, Clock: &source.WallClock{}}
	err = pacer.Run(sctx, func(now time.Time, batch []source.Timed) error { return p.sendSRT(c, tw, size, now, batch) })
	ended := failure.Ended(ctx)
	if ended {
		err = nil
	}
	c.Close()
	<-readerDone
	if err == nil && !ended {
		err = readErr
	}
	if err != nil {
		p.owner.dropped.Add(1)
	}
	return err
}

// sendSRT muxes one batch to TS and sends it in messages of at most size
// bytes (whole TS packets).
func (p *publisher) sendSRT(c *srt.Conn, tw *remux.TSWriter, size int, due time.Time, batch []source.Timed) error {
	payloads, stamped, err := p.stampBatch(due, batch)
	if err != nil {
		return err
	}
	p.ts = p.ts[:0]
	bytes := 0
	for i, f := range batch {
		pkt, err := av.NewPacket(av.Kind(f.Type), f.Timestamp, payloads[i])
		if err != nil {
			continue // an empty frame: nothing to mux
		}
		if p.ts, err = tw.AppendPacket(p.ts, pkt); err != nil {
			return failure.Mark(failure.Other, fmt.Errorf("mux TS: %w", err))
		}
		bytes += len(payloads[i])
	}
	for ts := p.ts; len(ts) > 0; {
		n := min(size, len(ts))
		if _, err := c.WriteMessage(ts[:n]); err != nil {
			return err
		}
		ts = ts[n:]
	}
	p.sent(len(batch), bytes, stamped)
	return nil
}
