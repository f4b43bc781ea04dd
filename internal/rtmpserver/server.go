// Package rtmpserver is the RTMP adapter between the wire protocol
// (internal/protocol/rtmp) and the hub: publishers feed streams, players read
// them, with SRS's connection cycle (connect, vhost check, identify,
// publish/play, republish on the same connection).
package rtmpserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/stats"
	"github.com/castd/castd/internal/streamurl"
)

// Vhost is what the RTMP server needs from a resolved vhost.
type Vhost struct {
	Name       string
	Enabled    bool
	ChunkSize  int
	TCPNodelay bool
	InAckSize  uint32
	OutAckSize uint32
	Stream     hub.StreamOptions
	Viewer     hub.ViewerOptions
	// Publish timeouts: for the first media packet, then between packets.
	FirstPacketTimeout time.Duration
	NormalTimeout      time.Duration
	// SendMinInterval spaces a player's writes (play.send_min_interval).
	SendMinInterval time.Duration
	Hooks           conf.HTTPHooks
	Security        conf.Security
	Refer           conf.Refer
	// TokenCheck, when set (an edge with token_traverse), asks an origin
	// whether to serve the client; an error refuses it.
	TokenCheck func(ctx context.Context, tcURL string, args amf.Object) error
	// Discover, when set (origin_cluster), finds the coworker origin that
	// publishes a stream nobody publishes here: such a play is redirected
	// there with an RTMP 302, or refused when no coworker has it.
	Discover func(ctx context.Context, key hub.Key, req *streamurl.Request) (url string, err error)
}

// Resolver finds a vhost by name (exact, else __defaultVhost__); ok is false
// when neither exists.
type Resolver func(name string) (v Vhost, ok bool)

// Timeouts SRS uses for the connection phases.
const (
	handshakeTimeout = 30 * time.Second
	commandTimeout   = 30 * time.Second
	// republishTimeout is how long an FMLE client that unpublished may stay
	// connected before publishing again.
	republishTimeout = 3 * time.Minute
)

// Server accepts RTMP connections.
type Server struct {
	Hub        *hub.Hub
	Stats      *stats.Registry
	Log        *slog.Logger
	Vhost      Resolver
	ServerInfo rtmp.ServerInfo
	Hooks      *hooks.Client

	wg sync.WaitGroup
	// readerPerPlayer forces the reading goroutine per player that castd
	// uses where netx cannot probe a connection, so tests cover that path.
	readerPerPlayer bool
}

// Serve accepts connections on ln until ctx is cancelled or ln fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(ctx, nc)
		}()
	}
}

// Wait blocks until every connection has ended.
func (s *Server) Wait() { s.wg.Wait() }

// session is one RTMP connection.
type session struct {
	srv     *Server
	nc      net.Conn
	sc      *rtmp.ServerConn
	cid     string
	ip      string
	log     *slog.Logger
	connect *rtmp.ConnectRequest
	vhost   Vhost
	kicked  atomic.Bool
	// last is the hook request of the latest stream request, for on_close.
	last *hooks.Request
}

func (s *Server) handle(ctx context.Context, nc net.Conn) {
	ss := s.newSession(nc)
	// The connection dies with the server.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	defer nc.Close()
	ss.log.Debug("rtmp: accepted", "ip", ss.ip, "local", nc.LocalAddr().String())
	err := ss.serve(ctx)
	ss.onClose()
	ss.logEnd(ctx, err)
}

func (s *Server) newSession(nc net.Conn) *session {
	cid := ids.NewCID()
	ss := &session{srv: s, nc: nc, cid: cid, ip: remoteIP(nc), log: s.Log.With(logging.CID(cid))}
	info := s.ServerInfo
	info.ContextID = cid
	ss.sc = rtmp.NewServerConn(nc, rtmp.ServerOptions{ServerInfo: info})
	return ss
}

// logEnd says why the connection ended.
func (ss *session) logEnd(ctx context.Context, err error) {
	switch {
	case err == nil, ctx.Err() != nil:
	case ss.kicked.Load():
		ss.log.Info("rtmp: client kicked", "ip", ss.ip)
	case isClosed(err):
		ss.log.Info("rtmp: client disconnected", "ip", ss.ip, "reason", err)
	default:
		ss.log.Warn("rtmp: connection ended", "ip", ss.ip, "err", err)
	}
}

// serve runs the connection. It stays small on purpose: a player's writer
// runs from here for the life of the play, and the frames under it are
// what its goroutine's stack keeps (see player).
func (ss *session) serve(ctx context.Context) error {
	if err := ss.accept(); err != nil {
		return err
	}
	// SRS serves play and publish requests on one connection in turn: FMLE
	// clients republish after FCUnpublish, players may play again after
	// closeStream.
	for ctx.Err() == nil {
		p, err := ss.nextStream(ctx)
		if err == nil && p != nil {
			err = ss.runPlayer(ctx, p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// accept runs the handshake and answers connect.
func (ss *session) accept() error {
	_ = ss.nc.SetDeadline(time.Now().Add(handshakeTimeout))
	if _, err := ss.sc.Handshake(); err != nil {
		return errf("handshake with %s: %w", ss.ip, err)
	}
	_ = ss.nc.SetDeadline(time.Now().Add(commandTimeout))
	connect, err := ss.sc.ReadConnect()
	if err != nil {
		return errf("read connect from %s: %w", ss.ip, err)
	}
	ss.connect = connect
	vhost, err := ss.connectVhost()
	if err != nil {
		_ = ss.sc.RejectConnect(rtmp.CodeConnectRejected, err.Error())
		return err
	}
	ss.vhost = vhost
	ss.sc.SetChunkSize(vhost.ChunkSize)
	ss.sc.SetWindowAckSize(vhost.OutAckSize)
	if vhost.InAckSize > 0 {
		ss.sc.Conn().SetInWindowAckSize(vhost.InAckSize)
	}
	if err := ss.sc.AcceptConnect(); err != nil {
		return errf("answer connect: %w", err)
	}
	ss.log.Info("rtmp: connected", "ip", ss.ip, "tcUrl", connect.TcURL, "vhost", vhost.Name,
		"flashVer", connect.FlashVer, "encoding", connect.ObjectEncoding)
	// Another SRS-style server (an edge, a forward) names itself and its
	// connection's context id, so the two logs can be matched.
	if id, ok := connect.Args.String("srs_id"); ok {
		server, _ := connect.Args.String("srs_server")
		pid, _ := connect.Args.Get("srs_pid")
		ss.log.Info("rtmp: upstream server", "srs_server", server, "srs_pid", pid, "srs_id", id)
	}
	return nil
}

// nextStream waits for the next publish or play request and serves it: a
// publish to its end, a play up to its start (nil player otherwise).
func (ss *session) nextStream(ctx context.Context) (*player, error) {
	_ = ss.nc.SetDeadline(time.Now().Add(republishTimeout))
	req, err := ss.sc.Identify()
	if err != nil {
		return nil, errf("identify client: %w", err)
	}
	_ = ss.nc.SetDeadline(time.Time{})
	return ss.serveStream(ctx, req)
}

// applyNodelay sets the vhost's tcp_nodelay once media flows. Until then
// the socket keeps Go's default (no Nagle), so the small replies of connect
// and play start are not held back by delayed ACKs (about 90 ms more time
// to first frame with tcp_nodelay off otherwise).
func (ss *session) applyNodelay(on bool) {
	if tc := tcpConn(ss.nc); tc != nil {
		_ = tc.SetNoDelay(on)
	}
}

// tcpConn finds the TCP connection under wrappers that expose NetConn.
func tcpConn(c net.Conn) *net.TCPConn {
	for {
		if tc, ok := c.(*net.TCPConn); ok {
			return tc
		}
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return nil
		}
		c = u.NetConn()
	}
}
