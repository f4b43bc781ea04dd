// Package rtmppush publishes a stream to an RTMP server for castd's
// outbound streams that do not read the hub (the casters, GB28181): it
// connects and publishes, then one goroutine writes media while another
// reads and drops what the server sends (acknowledgements, status), so
// those messages never fill the socket, and notices when the server ends
// the publish.
package rtmppush

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// ErrClosed is matched (errors.Is) by writes after the server ended the
// publish: a kick, a reload, a shutdown, a rejection after publish began.
var ErrClosed = errors.New("the output closed the publish")

// Defaults.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultWriteTimeout   = 10 * time.Second
)

// Options configure Dial.
type Options struct {
	// ConnectTimeout bounds dial, handshake, connect and publish.
	ConnectTimeout time.Duration
	// WriteTimeout bounds each write: a server that stops reading must not
	// hold the publisher forever.
	WriteTimeout time.Duration
	// ConnectArgs is the extra connect argument (rtmp.ServerInfo.UpnodeArgs).
	ConnectArgs amf.Object
}

// Pusher is one publish. Write and Close are called by one goroutine.
type Pusher struct {
	c    *rtmp.ClientConn
	url  string
	opt  Options
	stop func() bool // unregisters the close on context end
	done chan struct{}
	err  error // why the server side ended; read after done
}

// Dial connects to url (rtmp://host[:port]/app/stream[?query]) and
// publishes. ctx bounds the setup and, later, ending ctx closes the
// connection.
func Dial(ctx context.Context, url string, opt Options) (*Pusher, error) {
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = DefaultConnectTimeout
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = DefaultWriteTimeout
	}
	tcURL, stream, err := rtmp.SplitStreamURL(url)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, opt.ConnectTimeout)
	defer cancel()
	c, err := rtmp.Dial(dctx, tcURL, rtmp.ClientOptions{ConnectArgs: opt.ConnectArgs})
	if err != nil {
		return nil, err
	}
	if err := c.Publish(dctx, stream); err != nil {
		c.Close()
		return nil, err
	}
	p := &Pusher{c: c, url: url, opt: opt, done: make(chan struct{})}
	p.stop = context.AfterFunc(ctx, func() { c.Close() })
	go p.drain()
	return p, nil
}

// drain reads until the connection ends, then closes it so that the next
// write fails at once instead of filling the socket buffer.
func (p *Pusher) drain() {
	defer close(p.done)
	defer p.c.Close()
	for {
		m, err := p.c.ReadMessage()
		if err != nil {
			p.err = err
			return
		}
		if !m.IsCommand() {
			continue
		}
		if cmd, derr := rtmp.DecodeCommand(m); derr == nil && cmd.Name == rtmp.CmdOnStatus {
			if st := rtmp.StatusOf(cmd); st.Level == rtmp.LevelError {
				p.err = fmt.Errorf("%s: %s", st.Code, st.Description)
				return
			}
		}
	}
}

// Write sends a batch of media in one write.
func (p *Pusher) Write(batch []rtmp.MediaMessage) error {
	select {
	case <-p.done:
		return fmt.Errorf("%w: %v", ErrClosed, p.err)
	default:
	}
	if err := p.c.NetConn().SetWriteDeadline(time.Now().Add(p.opt.WriteTimeout)); err != nil {
		return p.failed(err)
	}
	if err := p.c.WriteMedia(batch); err != nil {
		return p.failed(err)
	}
	return nil
}

// failed explains a write error by what the reader saw, if it saw the
// server close first.
func (p *Pusher) failed(err error) error {
	select {
	case <-p.done:
		return fmt.Errorf("%w: %v", ErrClosed, p.err)
	case <-time.After(100 * time.Millisecond):
		return fmt.Errorf("rtmp push: write to %s: %w", p.url, err)
	}
}

// Close ends the publish by closing the connection, as SRS's casters and
// forwarder do (an FCUnpublish first would only make the server answer
// into a closed socket), and waits for the reader.
func (p *Pusher) Close() {
	p.stop()
	p.c.Close()
	<-p.done
}
