package player

import (
	"context"
	"fmt"
	"time"

	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// rtmpPlayer plays rtmp://host/app/stream with castd's RTMP client, reading
// every message into reused buffers.
type rtmpPlayer struct {
	url, tcURL, stream string
	opt                Options
}

func newRTMP(rawURL string, opt Options) (*rtmpPlayer, error) {
	tcURL, stream, err := rtmp.SplitStreamURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("player: %w", err)
	}
	return &rtmpPlayer{url: rawURL, tcURL: tcURL, stream: stream, opt: opt}, nil
}

func (p *rtmpPlayer) Play(ctx context.Context, rec *Recorder) error {
	cctx, cancel := context.WithTimeout(ctx, p.opt.ConnectTimeout)
	defer cancel()
	c, err := rtmp.Dial(cctx, p.tcURL, rtmp.ClientOptions{})
	if err != nil {
		return ended(ctx, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Play(cctx, p.stream); err != nil {
		return ended(ctx, err)
	}
	cancel()
	rec.Up(time.Now())
	dl := &deadliner{set: c.NetConn().SetReadDeadline, timeout: p.opt.ReadTimeout}
	return ended(ctx, readRTMP(c, dl, rec))
}

// messageReader is what readRTMP needs of an RTMP connection
// (*rtmp.ClientConn, or an *rtmp.Conn in benchmarks).
type messageReader interface {
	ReadMessageInto(m *rtmp.Message) error
}

// readRTMP reads messages until the connection fails or is closed.
func readRTMP(c messageReader, dl *deadliner, rec *Recorder) error {
	var video videoInspector
	var m rtmp.Message
	for now := time.Now(); ; {
		if err := dl.refresh(now); err != nil {
			return err
		}
		if err := c.ReadMessageInto(&m); err != nil {
			return err
		}
		now = time.Now()
		switch m.Type {
		case rtmp.TypeVideo:
			rec.Media(now, len(m.Payload))
			video.inspect(now, m.Timestamp, m.Payload, rec)
		case rtmp.TypeAudio:
			rec.Media(now, len(m.Payload))
			rec.AudioFrame()
		case rtmp.TypeDataAMF0, rtmp.TypeDataAMF3:
			rec.Media(now, len(m.Payload))
		}
		// Commands (onStatus Play.UnpublishNotify, Play.Stop...) change
		// nothing: a player waits for the stream to come back until the
		// read timeout.
	}
}

// ended turns the error that ended a player into its result: nil when ctx
// ended (the run is over), or else err.
func ended(ctx context.Context, err error) error {
	if err == nil || failure.Ended(ctx) {
		return nil
	}
	return err
}
