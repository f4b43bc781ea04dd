package gb28181

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/castd/castd/internal/protocol/rtmp"
)

// Errors of Publish, which the API reports with SRS's codes.
var (
	ErrStreamBusy = errors.New("gb28181: stream already exists")
	ErrSSRCBusy   = errors.New("gb28181: ssrc already exists")
	ErrClosed     = errors.New("gb28181: the caster is stopping")
)

// Server is a running GB28181 caster.
type Server struct {
	cfg Config
	ctx context.Context
	wg  sync.WaitGroup // every goroutine the server started

	mu       sync.Mutex
	byDevice map[string]*session
	bySSRC   map[uint32]*session
}

// Start serves SIP on sipLn (nil for none: only Publish makes sessions)
// and media on mediaLn in the background until ctx ends; it owns both
// listeners from then on. Wait blocks until every goroutine ended.
func Start(ctx context.Context, sipLn, mediaLn net.Listener, cfg Config) (*Server, error) {
	if err := CheckOutput(cfg.Output); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg.withDefaults(), ctx: ctx, byDevice: map[string]*session{}, bySSRC: map[uint32]*session{}}
	if sipLn != nil {
		s.serve(sipLn, s.serveSIP)
	}
	s.serve(mediaLn, s.serveMedia)
	return s, nil
}

// CheckOutput reports whether output is an RTMP URL once [stream] is
// filled in.
func CheckOutput(output string) error {
	if output == "" {
		return errors.New("gb28181: output is required (rtmp://host/app/[stream])")
	}
	if _, _, err := rtmp.SplitStreamURL(outputURL(output, "34020000001320000001")); err != nil {
		return fmt.Errorf("gb28181: output %q: %w", output, err)
	}
	return nil
}

func outputURL(tmpl, device string) string { return strings.ReplaceAll(tmpl, "[stream]", device) }

// Wait blocks until every goroutine of the server ended; call it after
// ctx ended.
func (s *Server) Wait() { s.wg.Wait() }

// MediaPort is the port devices are told to send media to.
func (s *Server) MediaPort() int { return s.cfg.MediaPort }

// serve accepts on ln until the server's context ends, each connection in
// its own goroutine, closed when the context ends.
func (s *Server) serve(ln net.Listener, handle func(net.Conn)) {
	stop := context.AfterFunc(s.ctx, func() { ln.Close() })
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer stop()
		defer ln.Close()
		for {
			nc, err := ln.Accept()
			if err != nil {
				if s.ctx.Err() == nil {
					s.cfg.Log.Error("gb28181: accept failed; the listener stopped", "addr", ln.Addr().String(), "err", err)
				}
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				closeOnStop := context.AfterFunc(s.ctx, func() { nc.Close() })
				defer closeOnStop()
				defer nc.Close()
				handle(nc)
			}()
		}
	}()
}

// Publish starts a session for a device whose SIP is handled elsewhere:
// media with this SSRC is published as device id (SRS's /gb/v1/publish/).
// Asking again for the same id and SSRC keeps the session.
func (s *Server) Publish(id string, ssrc uint32) error {
	if id == "" || strings.ContainsAny(id, "/?#[] \t\r\n") {
		return fmt.Errorf("gb28181: bad stream id %q", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return ErrClosed
	}
	if old := s.byDevice[id]; old != nil {
		if old.api && old.ssrc == ssrc {
			return nil
		}
		return ErrStreamBusy
	}
	if s.bySSRC[ssrc] != nil {
		return ErrSSRCBusy
	}
	sess := s.newSessionLocked(id, true, ssrc)
	sess.log.Info("gb28181: session created by the API", "ssrc", formatSSRC(ssrc), "output", sess.url)
	return nil
}

// newSessionLocked makes a session and starts its driver; s.mu is held.
func (s *Server) newSessionLocked(device string, api bool, ssrc uint32) *session {
	sess := newSession(s, device, api, ssrc)
	s.byDevice[device] = sess
	s.bySSRC[ssrc] = sess
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		sess.run()
	}()
	return sess
}

// device returns the session of a device, or nil.
func (s *Server) device(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byDevice[id]
}

// forget removes an ended session from the indexes.
func (s *Server) forget(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byDevice[sess.device] == sess {
		delete(s.byDevice, sess.device)
	}
	for k, v := range s.bySSRC {
		if v == sess {
			delete(s.bySSRC, k)
		}
	}
}
