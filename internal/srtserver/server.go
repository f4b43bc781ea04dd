// Package srtserver is the SRT adapter between the wire protocol
// (internal/protocol/srt) and the hub, as SRS's srt_server: callers name
// a stream and a mode in their stream id; publishers send MPEG-TS, which is
// converted to hub packets, and players get the stream muxed to MPEG-TS
// once for all of them.
//
// Each connection request is decided before the handshake completes: the
// stream id, the vhost, on_connect, security, and on_publish (with the
// stream busy check) or on_play run first, and a refused caller sees a
// rejection reason (1400, 1403, 1404, 1409) instead of a connection.
package srtserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/protocol/srt"
	"github.com/castd/castd/internal/relay"
	"github.com/castd/castd/internal/security"
	"github.com/castd/castd/internal/stats"
	"github.com/castd/castd/internal/streamurl"
)

// Rejection reasons callers see (libsrt's "predefined" codes mirror HTTP).
const (
	RejectBadRequest = srt.RejectPredefinedBase + 400 // malformed stream id
	RejectForbidden  = srt.RejectPredefinedBase + 403 // hooks, security, SRT off for the vhost
	RejectNotFound   = srt.RejectPredefinedBase + 404 // no such vhost
	RejectBusy       = srt.RejectPredefinedBase + 409 // the stream has a publisher
)

// Vhost is what the SRT server needs from a resolved vhost.
type Vhost struct {
	Name    string
	Enabled bool // the vhost itself
	SRT     bool // vhost srt.enabled
	// ToRTMP is srt.srt_to_rtmp: an SRT publish feeds the stream every
	// protocol plays; off, it is seen by SRT players only.
	ToRTMP bool
	// SEIFilter is srt_server.sei_filter: SEI NAL units of published
	// video are dropped (SRS's default).
	SEIFilter bool
	Stream    hub.StreamOptions
	Hooks     conf.HTTPHooks
	Security  conf.Security
}

// Resolver finds a vhost by name (exact, else __defaultVhost__); ok is false
// when neither exists.
type Resolver func(name string) (v Vhost, ok bool)

// Settings are the srt_server directives the adapter reads (the listener
// takes the transport ones); they may change with each Serve.
type Settings struct {
	DefaultApp string // default_app: the app of stream ids without one
	MixCorrect bool   // mix_correct: interleave published audio and video by time
	// Host names the server in tcUrls when the stream id names no vhost
	// (SRS uses its public IP).
	Host string
	// DecideTimeout bounds the checks and hooks run before a request is
	// accepted: the listener's connect_timeout, after which it expires.
	DecideTimeout time.Duration
}

// Server accepts SRT connection requests and serves them.
type Server struct {
	Hub   *hub.Hub
	Stats *stats.Registry
	Hooks *hooks.Client
	Log   *slog.Logger
	Vhost Resolver

	// Relays mux a stream to TS once for SRT and HTTP-TS players; the
	// server shares them with the HTTP server. Nil: Serve makes its own.
	Relays *relay.Relays

	wg         sync.WaitGroup
	relaysOnce sync.Once
}

// Serve decides and serves the requests of ln until ctx is cancelled or ln
// is closed; it closes ln (and so every connection it accepted) on return.
// The accept loop never waits for a decision: each request gets its own
// goroutine.
func (s *Server) Serve(ctx context.Context, ln *srt.Listener, set Settings) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer ln.Close()
	if set.DefaultApp == "" {
		set.DefaultApp = "live"
	}
	if set.DecideTimeout <= 0 {
		set.DecideTimeout = srt.DefaultConnectTimeout
	}
	for {
		req, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("srt: accept: %w", err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(ctx, req, set)
		}()
	}
}

// Wait blocks until every connection and relay has ended.
func (s *Server) Wait() {
	s.wg.Wait()
	if s.Relays != nil {
		s.Relays.Wait()
	}
}

// session is one caller, from its request to its end.
type session struct {
	srv    *Server
	set    Settings
	req    *srt.ConnRequest
	conn   *srt.Conn // nil until accepted
	cid    string
	ip     string
	log    *slog.Logger
	id     StreamID
	vhost  Vhost
	key    hub.Key // the stream the caller asked for
	hr     hooks.Request
	kicked atomic.Bool
}

func (s *Server) handle(ctx context.Context, req *srt.ConnRequest, set Settings) {
	cid := ids.NewCID()
	ss := &session{srv: s, set: set, req: req, cid: cid, ip: remoteIP(req.RemoteAddr()), log: s.Log.With(logging.CID(cid))}
	ss.log.Debug("srt: connection request", "ip", ss.ip, "streamid", req.StreamID(), "encrypted", req.Encrypted())
	connected, err := ss.serve(ctx)
	if connected {
		ss.onClose()
	}
	var refused *refusedError
	switch {
	case ss.kicked.Load():
		ss.log.Info("srt: client kicked", "ip", ss.ip)
	case err == nil, ctx.Err() != nil, errors.As(err, &refused): // refusals are logged by refuse
	default:
		ss.log.Warn("srt: connection ended", "ip", ss.ip, "err", err)
	}
}

// serve decides the request and runs it; connected reports whether
// on_connect passed (on_close is then due).
func (ss *session) serve(ctx context.Context) (connected bool, err error) {
	decide, cancel := context.WithTimeout(ctx, ss.set.DecideTimeout)
	defer cancel()
	if err := ss.resolve(); err != nil {
		return false, err
	}
	// SRS's order: on_connect once the stream is known, then (castd, as
	// for RTMP) security, then on_publish or on_play.
	if err := ss.srv.Hooks.OnConnect(decide, ss.vhost.Hooks, ss.hr); err != nil {
		return false, ss.refuse(RejectForbidden, err)
	}
	kind := security.Play
	if ss.id.Mode == ModePublish {
		kind = security.Publish
	}
	if err := security.Check(ss.vhost.Security, kind, security.ClientAddr(ss.req.RemoteAddr().String())); err != nil {
		return true, ss.refuse(RejectForbidden, err)
	}
	if ss.id.Mode == ModePublish {
		return true, ss.publish(ctx, decide)
	}
	return true, ss.play(ctx, decide)
}

// resolve parses the stream id and finds the vhost, refusing what SRS
// refuses: a bad stream id, an unknown vhost, a vhost without SRT.
func (ss *session) resolve() error {
	id, err := ParseStreamID(ss.req.StreamID(), ss.set.DefaultApp)
	if err != nil {
		return ss.refuse(RejectBadRequest, err)
	}
	ss.id = id
	name := id.Vhost
	if name == "" {
		name = hub.DefaultVhost
	}
	v, ok := ss.srv.Vhost(name)
	if !ok {
		return ss.refuse(RejectNotFound, fmt.Errorf("srt: vhost %q: no such vhost and no __defaultVhost__ (code 2014)", name))
	}
	if !v.Enabled || !v.SRT {
		return ss.refuse(RejectForbidden, fmt.Errorf("srt: vhost %q does not serve SRT (vhost enabled %v, srt.enabled %v)", v.Name, v.Enabled, v.SRT))
	}
	ss.vhost = v
	ss.key = hub.Key{Vhost: v.Name, App: id.App, Name: id.Stream}
	if !v.ToRTMP {
		ss.key.Variant = srtOnlyVariant
	}
	host := id.Vhost
	if host == "" {
		host = ss.set.Host
	}
	ss.hr = hooks.Request{
		ClientID: ss.cid, IP: ss.ip, Vhost: v.Name, App: id.App, Stream: id.Stream, Param: id.Param,
		TcURL: streamurl.BuildTcURL("srt", host, v.Name, id.App, 0), StreamURL: hub.Key{Vhost: v.Name, App: id.App, Name: id.Stream}.String(),
	}
	return nil
}

// refusedError is a caller refused before it was connected.
type refusedError struct {
	Reason srt.RejectReason
	Err    error
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("srt: refused with reason %d: %v", uint32(e.Reason), e.Err)
}

func (e *refusedError) Unwrap() error { return e.Err }

// refuse rejects the caller with reason, logs why and returns it.
func (ss *session) refuse(reason srt.RejectReason, why error) error {
	if err := ss.req.Reject(reason); err != nil && !errors.Is(err, srt.ErrRequestDecided) {
		ss.log.Debug("srt: reject", "err", err)
	}
	if ss.key.Name == "" { // the stream id did not resolve
		ss.log.Warn("srt: request refused", "streamid", ss.req.StreamID(), "ip", ss.ip, "reason", int(reason), "err", why)
	} else {
		ss.log.Warn("srt: request refused", "mode", ss.id.Mode.String(), "stream", ss.key.String(), "ip", ss.ip,
			"reason", int(reason), "err", why)
	}
	return &refusedError{Reason: reason, Err: why}
}

// accept completes the handshake once every check passed.
func (ss *session) accept() error {
	c, err := ss.req.Accept()
	if err != nil {
		return fmt.Errorf("srt: accept %s from %s: %w", ss.key, ss.ip, err)
	}
	ss.conn = c
	return nil
}

// register lists the client in the API, with its SRT counters.
func (ss *session) register(typ stats.ClientType, streamID string) {
	c := ss.conn
	ss.srv.Stats.Register(&stats.Client{
		ID: ss.cid, Type: typ, IP: ss.ip, Vhost: ss.vhost.Name, App: ss.id.App, Stream: ss.id.Stream,
		StreamURL: ss.hr.StreamURL, StreamID: streamID, TcURL: ss.hr.TcURL,
		Conn:      byteCounter{c},
		Kick:      func() { ss.kicked.Store(true); c.Close() },
		Transport: func() any { return transportOf(c.Stats()) },
	})
}

// hooksOf returns the vhost's hooks as configured now: a reload may have
// changed them since the connection started.
func (ss *session) hooksOf() conf.HTTPHooks {
	if v, ok := ss.srv.Vhost(ss.vhost.Name); ok {
		return v.Hooks
	}
	return conf.HTTPHooks{}
}

func (ss *session) onClose() {
	var sent, recv int64
	if ss.conn != nil {
		st := ss.conn.Stats()
		sent, recv = int64(st.ByteSent), int64(st.ByteRecv)
	}
	hr := ss.hr
	hr.Stream, hr.Param = "", ""
	ss.srv.Hooks.OnClose(context.Background(), ss.hooksOf(), hr, sent, recv)
}

func remoteIP(a net.Addr) string {
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}

// byteCounter adapts an SRT connection's payload counters to stats.Counter.
type byteCounter struct{ c *srt.Conn }

func (b byteCounter) BytesIn() int64  { return int64(b.c.Stats().ByteRecv) }
func (b byteCounter) BytesOut() int64 { return int64(b.c.Stats().ByteSent) }
