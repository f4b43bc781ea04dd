package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// batchSize is how many packets one write carries at most.
const batchSize = 128

// ErrUnpublished ends a push: the stream it pushed is gone.
var ErrUnpublished = errors.New("forward: the stream was unpublished")

// forwarder pushes one stream to one URL and reconnects until the stream
// is unpublished or its context ends.
type forwarder struct {
	job Job
	url string
	opt Options
	cid string // the forwarder's own context id: its log lines and srs_id
	log *slog.Logger
}

func newForwarder(job Job, url string, opt Options) *forwarder {
	cid := ids.NewCID()
	return &forwarder{job: job, url: url, opt: opt, cid: cid,
		log: opt.Log.With(logging.CID(cid), "stream", job.Key.String(), "url", url)}
}

func (f *forwarder) loop(ctx context.Context) {
	f.log.Info("forward: start", "publisher", f.job.Publisher.ClientID)
	for {
		err := f.push(ctx, nil)
		if ctx.Err() != nil || errors.Is(err, ErrUnpublished) {
			f.log.Info("forward: stop")
			return
		}
		f.log.Warn("forward: push failed; retrying", "in", f.opt.Retry, "err", err)
		t := time.NewTimer(f.opt.Retry)
		select {
		case <-ctx.Done():
			t.Stop()
			f.log.Info("forward: stop")
			return
		case <-t.C:
		}
		if st := f.opt.Hub.Stream(f.job.Key); st == nil || !st.Publishing() {
			f.log.Info("forward: stop, the stream is no longer published")
			return
		}
	}
}

// PushOnce publishes job's stream to url once: it connects, publishes and
// copies until an error, ctx's end or the stream's (ErrUnpublished). It
// calls publishing, when not nil, once the destination accepted the
// publish. An edge pushes to its origin this way, with its own failover.
func PushOnce(ctx context.Context, job Job, url string, opt Options, publishing func()) error {
	return newForwarder(job, url, opt.withDefaults()).push(ctx, publishing)
}

// push connects, publishes and copies the stream until an error.
func (f *forwarder) push(ctx context.Context, publishing func()) error {
	tcURL, stream, err := rtmp.SplitStreamURL(f.url)
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, f.opt.ConnectTimeout)
	c, err := rtmp.Dial(dctx, tcURL, rtmp.ClientOptions{ConnectArgs: f.connectArgs()})
	if err == nil {
		if err = c.Publish(dctx, stream); err != nil {
			c.Close()
		}
	}
	cancel()
	if err != nil {
		return err
	}
	f.log.Info("forward: publishing")
	if publishing != nil {
		publishing()
	}

	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	// Closing the connection unblocks both the reader and a stuck write.
	stop := context.AfterFunc(pctx, func() { c.Close() })
	defer stop()
	readErr := make(chan error, 1)
	go func() { readErr <- f.drain(c); pcancel() }()
	defer func() {
		c.Close()
		<-readErr
	}()

	// The viewer starts after the publish succeeded, so the destination
	// gets metadata, sequence headers and the GOP cache's keyframe first.
	viewer := f.opt.Hub.Play(f.job.Key, hub.ClientInfo{ID: f.cid, Protocol: "forward", Addr: c.NetConn().RemoteAddr().String(), TcURL: f.job.Publisher.TcURL},
		f.job.StreamOptions, f.viewerOptions())
	defer viewer.Close()
	err = f.copy(pctx, c, viewer)
	// On unpublish the connection is just closed, as SRS's forwarder does:
	// the destination ends the publish when it reads the close.
	if pctx.Err() != nil && ctx.Err() == nil {
		select {
		case rerr := <-readErr:
			readErr <- rerr // for the deferred wait
			return fmt.Errorf("forward: destination closed: %w", rerr)
		default:
		}
	}
	return err
}

// copy writes the viewer's packets to the destination.
func (f *forwarder) copy(ctx context.Context, c *rtmp.ClientConn, viewer *hub.Viewer) error {
	buf := make([]hub.Delivery, batchSize)
	msgs := make([]rtmp.MediaMessage, 0, batchSize)
	for {
		n, err := viewer.Read(ctx, buf)
		if errors.Is(err, io.EOF) {
			return ErrUnpublished
		}
		if err != nil {
			return err
		}
		msgs = msgs[:0]
		for _, d := range buf[:n] {
			msgs = append(msgs, rtmp.MediaMessage{Type: uint8(d.Packet.Kind), Timestamp: d.Timestamp, Payload: d.Packet.Payload})
		}
		err = c.WriteMedia(msgs)
		clear(msgs[:n]) // do not keep shared packets alive
		clear(buf[:n])
		if err != nil {
			return fmt.Errorf("forward: write: %w", err)
		}
	}
}

// drain reads and drops what the destination sends (acknowledgements,
// status), so its messages never fill the socket, and reports when it
// closes the connection.
func (f *forwarder) drain(c *rtmp.ClientConn) error {
	for {
		m, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if m.IsCommand() {
			if cmd, derr := rtmp.DecodeCommand(m); derr == nil && cmd.Name == rtmp.CmdOnStatus {
				if info, ok := cmd.Arg(0).(amf.Object); ok {
					if level, _ := info.String("level"); level == rtmp.LevelError {
						code, _ := info.String("code")
						desc, _ := info.String("description")
						return fmt.Errorf("forward: destination sent %s: %s", code, desc)
					}
				}
			}
		}
	}
}

// viewerOptions reads with the vhost's jitter and ends once the publisher
// left and everything it sent was pushed; merged writes are the
// destination's business.
func (f *forwarder) viewerOptions() hub.ViewerOptions {
	o := f.job.ViewerOptions
	o.StopOnUnpublish = true
	o.MWLatency, o.MWMsgs, o.LiveOnly = 0, 0, false
	return o
}

// connectArgs is the extra connect argument SRS sends upstream so that
// the two servers' logs can be matched (§5.12); none with PlainConnect.
func (f *forwarder) connectArgs() amf.Object {
	if f.opt.PlainConnect {
		return nil
	}
	return f.opt.Info.UpnodeArgs(f.cid)
}
