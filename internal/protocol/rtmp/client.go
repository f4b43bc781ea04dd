package rtmp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/castd/castd/internal/format/amf"
)

// ClientOptions configures Dial. Zero values pick the defaults.
type ClientOptions struct {
	// FlashVer is the flashVer of connect; default "LNX 9,0,124,2".
	FlashVer string
	SwfURL   string
	PageURL  string
	// ConnectArgs is sent as an extra connect argument when set (SRS sends
	// the client's own args upstream this way).
	ConnectArgs amf.Object
	// ChunkSize is the output chunk size set after connect; default 60000.
	ChunkSize int
	// WindowAckSize is sent after connect; default 2500000.
	WindowAckSize uint32
	// BufferLength is the SetBufferLength sent with play, in ms; default 1000.
	BufferLength uint32
	// SimpleHandshake skips the complex handshake, which is otherwise tried
	// first with a fallback for servers that do not sign S1.
	SimpleHandshake bool
	// Addr, when set, is the host:port dialled instead of the tcURL's: an
	// edge checks a client's tcUrl with its origin this way (token
	// traverse).
	Addr string
	// Dialer dials the TCP connection; default a zero net.Dialer.
	Dialer *net.Dialer
	Conn   ConnOptions
}

const (
	defaultFlashVer     = "LNX 9,0,124,2"
	defaultBufferLength = 1000
	// maxPendingMedia bounds the media a client keeps while it waits for a
	// command answer.
	maxPendingMedia = 1024
)

// ClientConn is the client side of an RTMP connection, used to publish
// (forward, edge push, load tests) or to play (edge pull).
//
// Goroutines: one goroutine calls Publish/Play and ReadMessage; WriteMedia
// and WriteMessage may run concurrently with ReadMessage; Close may be
// called from anywhere.
type ClientConn struct {
	nc        net.Conn
	conn      *Conn
	opt       ClientOptions
	url       *parsedURL
	handshake HandshakeResult
	lastTID   float64
	streamID  uint32
	// connectInfo is the info object of the connect _result; SRS puts its
	// server info in its "data" property.
	connectInfo amf.Object
	pending     []*Message
}

// Dial connects to an RTMP server: TCP, handshake, connect to the app of
// tcURL (rtmp://host[:port]/app[?query]; use SplitStreamURL for a full stream
// URL), then Window Acknowledgement Size and Set Chunk Size. ctx bounds the
// whole setup. A rejection is returned as a *StatusError. Dial, Publish and
// Play set the connection deadline from their context and leave it cleared;
// set your own deadlines on NetConn after them.
func Dial(ctx context.Context, tcURL string, opt ClientOptions) (*ClientConn, error) {
	u, err := parseTcURL(tcURL)
	if err != nil {
		return nil, err
	}
	if opt.FlashVer == "" {
		opt.FlashVer = defaultFlashVer
	}
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = defaultServerChunkSize
	}
	if opt.WindowAckSize == 0 {
		opt.WindowAckSize = defaultWindowAckSize
	}
	if opt.BufferLength == 0 {
		opt.BufferLength = defaultBufferLength
	}
	d := opt.Dialer
	if d == nil {
		d = &net.Dialer{}
	}
	addr := u.addr
	if opt.Addr != "" {
		addr = opt.Addr
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("rtmp: dial %s: %w", addr, err)
	}
	c := &ClientConn{nc: nc, conn: NewConn(nc, opt.Conn), opt: opt, url: u}
	err = c.withContext(ctx, func() error {
		mode := HandshakeComplex
		if opt.SimpleHandshake {
			mode = HandshakeSimple
		}
		hs, herr := ClientHandshake(c.conn, mode)
		if herr != nil {
			return herr
		}
		c.handshake = hs
		return c.connect()
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("rtmp: connect %s: %w", tcURL, err)
	}
	return c, nil
}

// withContext runs fn with the connection's deadline tied to ctx.
func (c *ClientConn) withContext(ctx context.Context, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		if err := c.nc.SetDeadline(dl); err != nil {
			return err
		}
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		c.nc.SetDeadline(time.Unix(1, 0)) //nolint:errcheck // unblocks fn; fn reports the error
	})
	err := fn()
	if !stop() {
		<-fired // the deadline was forced into the past; wait before resetting it
	}
	if rerr := c.nc.SetDeadline(time.Time{}); rerr != nil && err == nil {
		err = rerr
	}
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	// The socket deadline can fire a moment before the context's timer.
	var ne net.Error
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) && errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
	}
	return err
}

func (c *ClientConn) nextTID() float64 {
	c.lastTID++
	return c.lastTID
}

func (c *ClientConn) connect() error {
	obj := amf.Object{
		{Key: "app", Value: c.url.app},
		{Key: "flashVer", Value: c.opt.FlashVer},
		{Key: "swfUrl", Value: c.opt.SwfURL},
		{Key: "tcUrl", Value: c.url.tcURL},
		{Key: "fpad", Value: false},
		{Key: "capabilities", Value: float64(239)},
		{Key: "audioCodecs", Value: float64(3575)},
		{Key: "videoCodecs", Value: float64(252)},
		{Key: "videoFunction", Value: float64(1)},
		{Key: "pageUrl", Value: c.opt.PageURL},
		{Key: "objectEncoding", Value: float64(0)},
	}
	var args []any
	if c.opt.ConnectArgs != nil {
		args = append(args, c.opt.ConnectArgs)
	}
	tid := c.nextTID()
	if err := c.conn.writeCommand(CSIDConnection, 0, CmdConnect, tid, obj, args...); err != nil {
		return err
	}
	if err := c.conn.SetWindowAckSize(c.opt.WindowAckSize); err != nil {
		return err
	}
	res, err := c.awaitResult(tid)
	if err != nil {
		return err
	}
	c.connectInfo, _ = toObject(res.Arg(0))
	if c.opt.ChunkSize != DefaultChunkSize {
		return c.conn.SetChunkSize(c.opt.ChunkSize)
	}
	return nil
}

// awaitResult reads until the _result of tid. A _error for tid, or an
// onStatus with level error, is returned as a *StatusError.
func (c *ClientConn) awaitResult(tid float64) (*Command, error) {
	for {
		cmd, err := c.readCommandOrQueue()
		if err != nil {
			return nil, err
		}
		switch {
		case cmd.Name == CmdResult && cmd.TransactionID == tid:
			return cmd, nil
		case cmd.Name == CmdError && cmd.TransactionID == tid:
			return nil, statusFromInfo(CmdError, cmd.Arg(0))
		case cmd.Name == CmdOnStatus:
			if st := statusFromInfo(CmdOnStatus, cmd.Arg(0)); st.Level == LevelError {
				return nil, st
			}
		}
	}
}

// awaitStatus reads until onStatus with the given code. An onStatus with
// level error, or a _error for tid, is returned as a *StatusError.
func (c *ClientConn) awaitStatus(code string, tid float64) error {
	for {
		cmd, err := c.readCommandOrQueue()
		if err != nil {
			return err
		}
		switch cmd.Name {
		case CmdOnStatus:
			st := statusFromInfo(CmdOnStatus, cmd.Arg(0))
			if st.Level == LevelError {
				return st
			}
			if st.Code == code {
				return nil
			}
		case CmdError:
			if cmd.TransactionID == tid {
				return statusFromInfo(CmdError, cmd.Arg(0))
			}
		}
	}
}

// readCommandOrQueue returns the next command, keeping media for
// ReadMessage and skipping control messages.
func (c *ClientConn) readCommandOrQueue() (*Command, error) {
	for {
		m, err := c.conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		if m.IsCommand() {
			cmd, err := DecodeCommand(m)
			if err != nil {
				continue // not ours to fail on; the answer we wait for may follow
			}
			return cmd, nil
		}
		if m.IsMedia() || m.Type == TypeAggregate {
			if len(c.pending) >= maxPendingMedia {
				return nil, fmt.Errorf("rtmp: more than %d media messages before the command answer", maxPendingMedia)
			}
			c.pending = append(c.pending, m)
		}
	}
}

// createStream sends createStream and returns the stream id of the result.
func (c *ClientConn) createStream() (uint32, error) {
	tid := c.nextTID()
	if err := c.conn.writeCommand(CSIDConnection, 0, CmdCreateStream, tid, nil); err != nil {
		return 0, err
	}
	res, err := c.awaitResult(tid)
	if err != nil {
		return 0, err
	}
	id, ok := res.NumberArg(0)
	if !ok || id < 0 || id > 0xFFFFFFFF {
		return 0, fmt.Errorf("rtmp: createStream result: stream id is %v", res.Arg(0))
	}
	return uint32(id), nil
}

// Publish publishes a stream the way FMLE and OBS do: releaseStream,
// FCPublish, createStream, publish (type live); it returns once the server
// sends NetStream.Publish.Start. stream may carry a ?query.
func (c *ClientConn) Publish(ctx context.Context, stream string) error {
	err := c.withContext(ctx, func() error {
		if err := c.conn.writeCommand(CSIDConnection, 0, CmdReleaseStream, c.nextTID(), nil, stream); err != nil {
			return err
		}
		if err := c.conn.writeCommand(CSIDConnection, 0, CmdFCPublish, c.nextTID(), nil, stream); err != nil {
			return err
		}
		sid, err := c.createStream()
		if err != nil {
			return err
		}
		c.streamID = sid
		tid := c.nextTID()
		if err := c.conn.writeCommand(CSIDStreamCommand, sid, CmdPublish, tid, nil, stream, "live"); err != nil {
			return err
		}
		return c.awaitStatus(CodePublishStart, tid)
	})
	if err != nil {
		return fmt.Errorf("rtmp: publish %s/%s: %w", c.url.tcURL, stream, err)
	}
	return nil
}

// Unpublish tells the server the publish is over (FCUnpublish, deleteStream)
// without waiting for answers.
func (c *ClientConn) Unpublish(stream string) error {
	if err := c.conn.writeCommand(CSIDConnection, 0, CmdFCUnpublish, c.nextTID(), nil, stream); err != nil {
		return err
	}
	return c.conn.writeCommand(CSIDConnection, 0, CmdDeleteStream, 0, nil, float64(c.streamID))
}

// Play plays a stream: createStream, play, SetBufferLength; it returns once
// the server sends NetStream.Play.Start. Media that arrives earlier is kept
// for ReadMessage.
func (c *ClientConn) Play(ctx context.Context, stream string) error {
	err := c.withContext(ctx, func() error {
		sid, err := c.createStream()
		if err != nil {
			return err
		}
		c.streamID = sid
		tid := c.nextTID()
		if err := c.conn.writeCommand(CSIDStreamCommand, sid, CmdPlay, tid, nil, stream); err != nil {
			return err
		}
		if err := c.conn.SendSetBufferLength(sid, c.opt.BufferLength); err != nil {
			return err
		}
		return c.awaitStatus(CodePlayStart, tid)
	})
	if err != nil {
		return fmt.Errorf("rtmp: play %s/%s: %w", c.url.tcURL, stream, err)
	}
	return nil
}

// ReadMessage returns the next message that is not protocol control: audio,
// video, data (AMF3 data is left as is; see MetadataBody) and commands such
// as onStatus NetStream.Play.Stop. Aggregate messages are split.
func (c *ClientConn) ReadMessage() (*Message, error) {
	for {
		m, ok, err := c.nextPending()
		if err != nil {
			return nil, err
		}
		if ok {
			return m, nil
		}
		m, err = c.conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		if m.IsControl() {
			continue
		}
		if m.Type == TypeAggregate {
			c.pending = append(c.pending, m)
			continue
		}
		return m, nil
	}
}

// ReadMessageInto is ReadMessage without allocations in steady state, for
// players that look at each message and drop it: it fills m, and m.Payload
// is valid only until the next ReadMessage or ReadMessageInto call (see
// Conn.ReadMessageInto). Aggregate messages, rare from servers, are copied
// and split, which allocates.
func (c *ClientConn) ReadMessageInto(m *Message) error {
	for {
		p, ok, err := c.nextPending()
		if err != nil {
			return err
		}
		if ok {
			*m = *p
			return nil
		}
		if err := c.conn.ReadMessageInto(m); err != nil {
			return err
		}
		if m.IsControl() {
			continue
		}
		if m.Type == TypeAggregate {
			// Its sub-messages alias the payload, which the next read reuses.
			agg := *m
			agg.Payload = bytes.Clone(m.Payload)
			c.pending = append(c.pending, &agg)
			continue
		}
		return nil
	}
}

// nextPending pops the next message kept while waiting for a command answer
// or split from an aggregate; ok is false when none is left.
func (c *ClientConn) nextPending() (m *Message, ok bool, err error) {
	for len(c.pending) > 0 {
		m = c.pending[0]
		c.pending[0] = nil
		c.pending = c.pending[1:]
		if m.Type != TypeAggregate {
			return m, true, nil
		}
		subs, err := SplitAggregate(m)
		if err != nil {
			return nil, false, err
		}
		c.pending = append(subs, c.pending...)
	}
	return nil, false, nil
}

// WriteMedia writes a batch of media on the publish stream. See
// Conn.WriteMedia.
func (c *ClientConn) WriteMedia(batch []MediaMessage) error {
	return c.conn.WriteMedia(c.streamID, batch)
}

// WriteMessage writes one message. Audio, video and data messages with
// stream id 0 go on the publish stream.
func (c *ClientConn) WriteMessage(m *Message) error {
	if m.StreamID == 0 && m.IsMedia() {
		cp := *m
		cp.StreamID = c.streamID
		m = &cp
	}
	return c.conn.WriteMessage(m)
}

// StreamID returns the message stream id of the publish or play.
func (c *ClientConn) StreamID() uint32 { return c.streamID }

// ConnectInfo returns the info object of the connect _result.
func (c *ClientConn) ConnectInfo() amf.Object { return c.connectInfo }

// HandshakeResult returns how the handshake went.
func (c *ClientConn) HandshakeResult() HandshakeResult { return c.handshake }

// Conn returns the chunk layer (counters, control messages, SetChunkSize).
func (c *ClientConn) Conn() *Conn { return c.conn }

// NetConn returns the TCP connection.
func (c *ClientConn) NetConn() net.Conn { return c.nc }

// Close closes the connection.
func (c *ClientConn) Close() error { return c.conn.Close() }

// IsStatusError reports whether err carries a *StatusError and returns it.
func IsStatusError(err error) (*StatusError, bool) {
	var st *StatusError
	ok := errors.As(err, &st)
	return st, ok
}
