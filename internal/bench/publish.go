package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/rtcpub"
	"github.com/castd/castd/internal/bench/source"
	"github.com/castd/castd/internal/bench/stamp"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// PublishConfig configures the publishers of a run.
type PublishConfig struct {
	// Source is the file every publisher sends, in a loop.
	Source *source.Source
	// URL is the URL to publish to; "%d" in it is replaced by the stream
	// number, Start to Start+Streams-1. rtmp://host/app/stream publishes
	// over RTMP; srt://host:port?streamid=...,m=publish over SRT (the file
	// muxed to MPEG-TS); webrtc://host[:apiport]/app/stream (SRS's JSON
	// API) and http(s)://host:port/rtc/v1/whip/?app=app&stream=stream
	// (WHIP, also whip+http(s)://) over WebRTC, which needs H.264 video
	// (audio goes as Opus, transcoded from AAC once per run).
	URL     string
	Streams int // default 1
	Start   int
	// NoStamp sends frames unchanged, without castbench's SEI stamps.
	NoStamp bool
	// ConnectTimeout bounds connecting and the publish command; default 10 s.
	ConnectTimeout time.Duration
}

// publishRun is the state of a run's publishers.
type publishRun struct {
	cfg  PublishConfig
	pubs []*publisher
	rtc  *rtcShared // WebRTC publishers only

	up, everUp, failed, dropped atomic.Int64
	errors                      failure.Counter
}

// publisher sends the source to one stream. Its counters are read by the
// progress loop while it runs.
type publisher struct {
	owner  *publishRun
	index  int // the stream number
	url    string
	bytes  atomic.Int64 // media payload bytes sent
	frames atomic.Int64 // messages sent
	stamps atomic.Int64
	maxLag atomic.Int64 // nanoseconds a batch went out behind schedule, at most

	// Sender goroutine only.
	seq      uint64
	arena    []byte
	spans    [][2]int
	payloads [][]byte
	msgs     []rtmp.MediaMessage
	ts       []byte // SRT: the batch muxed to TS
}

// newPublishRun sets up the publishers; WebRTC ones get their media
// prepared here, once for all.
func newPublishRun(cfg PublishConfig) (*publishRun, error) {
	r := &publishRun{cfg: cfg}
	if rtcpub.IsURL(cfg.URL) {
		var err error
		if r.rtc, err = newRTCShared(cfg); err != nil {
			return nil, err
		}
	}
	for i := range cfg.Streams {
		n := cfg.Start + i
		r.pubs = append(r.pubs, &publisher{owner: r, index: n, url: streamURL(cfg.URL, n)})
	}
	return r, nil
}

// close releases what the publishers shared, once they have ended.
func (r *publishRun) close() {
	if r.rtc != nil {
		r.rtc.close()
	}
}

// bytesSent returns the media bytes sent by all publishers so far.
func (r *publishRun) bytesSent() int64 {
	var n int64
	for _, p := range r.pubs {
		n += p.bytes.Load()
	}
	return n
}

// run publishes until ctx ends or the connection fails. It calls settled
// once it is publishing or has failed to.
func (p *publisher) run(ctx context.Context, settled func()) {
	var once sync.Once
	up := func() { once.Do(settled) }
	defer up()
	if err := p.publish(ctx, up); err != nil {
		p.owner.failed.Add(1)
		p.owner.errors.Add(err)
	}
}

// publish returns the error that ended the publisher, nil when ctx did.
func (p *publisher) publish(ctx context.Context, up func()) error {
	if strings.HasPrefix(p.url, "srt://") {
		return p.publishSRT(ctx, up)
	}
	if p.owner.rtc != nil {
		return p.publishRTC(ctx, up)
	}
	tcURL, stream, err := rtmp.SplitStreamURL(p.url)
	if err != nil {
		return failure.Mark(failure.Other, err)
	}
	cctx, cancel := context.WithTimeout(ctx, p.owner.cfg.ConnectTimeout)
	defer cancel()
	c, err := rtmp.Dial(cctx, tcURL, rtmp.ClientOptions{})
	if err != nil {
		return endedErr(ctx, err)
	}
	defer c.Close()
	if err := c.Publish(cctx, stream); err != nil {
		return endedErr(ctx, err)
	}
	cancel()
	p.owner.up.Add(1)
	p.owner.everUp.Add(1)
	defer p.owner.up.Add(-1)
	up()

	// When the run ends, writes get a second to finish, then fail.
	stop := context.AfterFunc(ctx, func() {
		_ = c.NetConn().SetWriteDeadline(time.Now().Add(time.Second)) // the writes report what follows
	})
	defer stop()
	// A reader answers the server's pings and stops the pacer when the
	// server closes the connection.
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	var readErr error
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			if _, err := c.ReadMessage(); err != nil {
				readErr = err
				scancel()
				return
			}
		}
	}()
	pacer := &source.Pacer{Src: p.owner.cfg.Source, Clock: &source.WallClock{}}
	err = pacer.Run(sctx, func(now time.Time, batch []source.Timed) error { return p.send(c, now, batch) })
	ended := failure.Ended(ctx)
	if ended {
		_ = c.Unpublish(stream) // best effort: the run is over
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

// send writes one batch, stamping video frames with the time now.
func (p *publisher) send(c *rtmp.ClientConn, due time.Time, batch []source.Timed) error {
	payloads, stamped, err := p.stampBatch(due, batch)
	if err != nil {
		return err
	}
	p.msgs = p.msgs[:0]
	bytes := 0
	for i, f := range batch {
		p.msgs = append(p.msgs, rtmp.MediaMessage{Type: f.Type, Timestamp: f.Timestamp, Payload: payloads[i]})
		bytes += len(payloads[i])
	}
	if err := c.WriteMedia(p.msgs); err != nil {
		return err
	}
	p.sent(len(batch), bytes, stamped)
	return nil
}

// stampBatch stamps the batch's H.264/H.265 frames with the time now and
// returns what to send of each frame (the stamped copy, or the frame as
// loaded), valid until the next batch.
func (p *publisher) stampBatch(due time.Time, batch []source.Timed) (payloads [][]byte, stamped int, err error) {
	now := time.Now()
	if lag := int64(now.Sub(due)); lag > p.maxLag.Load() {
		p.maxLag.Store(lag) // only this goroutine writes it
	}
	src := p.owner.cfg.Source
	p.arena, p.spans, p.payloads = p.arena[:0], p.spans[:0], p.payloads[:0]
	for _, f := range batch {
		if !f.Stampable || p.owner.cfg.NoStamp {
			continue
		}
		start := len(p.arena)
		p.arena, err = stamp.AppendStamped(p.arena, f.Data, f.Video, src.NALULengthSize, stamp.Stamp{SentAt: now.UnixNano(), Seq: p.seq})
		if err != nil {
			return nil, 0, failure.Mark(failure.Other, fmt.Errorf("stamp frame: %w", err))
		}
		p.seq++
		p.spans = append(p.spans, [2]int{start, len(p.arena)})
	}
	// The arena is complete: its slices stay valid until the next batch.
	for _, f := range batch {
		payload := f.Data
		if f.Stampable && !p.owner.cfg.NoStamp {
			sp := p.spans[stamped]
			payload = p.arena[sp[0]:sp[1]]
			stamped++
		}
		p.payloads = append(p.payloads, payload)
	}
	return p.payloads, stamped, nil
}

// sent counts a batch that went out.
func (p *publisher) sent(frames, bytes, stamped int) {
	p.bytes.Add(int64(bytes))
	p.frames.Add(int64(frames))
	p.stamps.Add(int64(stamped))
}

// endedErr is nil when ctx ended (the run is over), or else err.
func endedErr(ctx context.Context, err error) error {
	if failure.Ended(ctx) {
		return nil
	}
	return err
}
