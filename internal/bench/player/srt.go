package player

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/srturl"
	"github.com/castd/castd/internal/bench/tsscan"
	"github.com/castd/castd/internal/protocol/srt"
)

// srtPlayer plays srt://host:port?streamid=... with castd's SRT caller:
// the messages are MPEG-TS, scanned as they come (tsscan) for frames and
// the latency stamps at the start of video frames. A video frame is known
// to be complete when the next one starts (the PES carries no length), so
// its latency includes one frame interval, as for HLS.
type srtPlayer struct {
	u   srturl.URL
	opt Options
}

func newSRT(rawURL string, opt Options) (*srtPlayer, error) {
	u, err := srturl.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("player: %w", err)
	}
	if u.StreamID == "" {
		// SRS and castd take a caller without a stream id for a publisher.
		return nil, fmt.Errorf("player: %s: an SRT player needs a streamid (#!::r=app/stream,m=request)", rawURL)
	}
	return &srtPlayer{u: u, opt: opt}, nil
}

// errStreamEnded is a server closing the player's connection.
var errStreamEnded = errors.New("srt: the server ended the stream")

func (p *srtPlayer) Play(ctx context.Context, rec *Recorder) error {
	cctx, cancel := context.WithTimeout(ctx, p.opt.ConnectTimeout)
	c, err := srt.Dial(cctx, "udp", p.u.Addr, p.u.Options(p.opt.ConnectTimeout))
	cancel()
	if err != nil {
		return ended(ctx, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	rec.Up(time.Now())
	r := &srtMessages{c: c, dl: deadliner{set: c.SetReadDeadline, timeout: p.opt.ReadTimeout}}
	var scan tsscan.Scanner
	frames := hlsFrames{rec: rec} // a TS stream's frames, reported as HLS players report them
	_, err = scan.Scan(r, math.MaxInt64, &frames)
	switch {
	case err == nil:
		err = failure.Mark(failure.EOF, errStreamEnded)
	case tsscan.IsFormatError(err):
		err = failure.Mark(failure.BadData, err)
	}
	return ended(ctx, err)
}

// srtMessages reads an SRT connection message by message, keeping its read
// deadline fresh.
type srtMessages struct {
	c  *srt.Conn
	dl deadliner
}

func (m *srtMessages) Read(b []byte) (int, error) {
	if err := m.dl.refresh(time.Now()); err != nil {
		return 0, err
	}
	return m.c.ReadMessage(b)
}
