package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/gb28181"
)

// startGB28181Caster opens a gb28181 stream_caster's listeners (SIP and
// media) and serves them in the background until ctx ends; wait blocks
// until every goroutine it started has ended. An error means nothing was
// left running.
func (s *Server) startGB28181Caster(ctx context.Context, sc *conf.StreamCaster) (wait func(), err error) {
	if err := gb28181.CheckOutput(sc.Output); err != nil {
		return nil, err
	}
	mediaLn, err := listenCasterTCP(ctx, "media", sc.Listen)
	if err != nil {
		return nil, err
	}
	var sipLn net.Listener
	if sc.SIP.Enabled {
		ln, err := listenCasterTCP(ctx, "sip", sc.SIP.Listen)
		if err != nil {
			mediaLn.Close()
			return nil, err
		}
		sipLn = &limitedListener{Listener: ln, lim: &s.limit, name: "stream_caster gb28181 sip"}
	}
	log := s.log.With("caster", "gb28181")
	srv, err := gb28181.Start(ctx, sipLn, &limitedListener{Listener: mediaLn, lim: &s.limit, name: "stream_caster gb28181 media"},
		gb28181.Config{
			Output: sc.Output, Candidate: sc.SIP.Candidate, MediaPort: sc.Listen,
			Timeout: sc.SIP.Timeout, Reinvite: sc.SIP.Reinvite,
			Info: s.rtmp.ServerInfo, Log: log,
		})
	if err != nil {
		mediaLn.Close()
		if sipLn != nil {
			sipLn.Close()
		}
		return nil, err
	}
	if sipLn != nil {
		log.Info("stream caster listening", "sip", "tcp://"+sipLn.Addr().String(), "media", "tcp://"+mediaLn.Addr().String(),
			"candidate", sc.SIP.Candidate, "output", sc.Output)
	} else {
		log.Info("stream caster listening; sip is off, so only /gb/v1/publish/ makes sessions",
			"media", "tcp://"+mediaLn.Addr().String(), "output", sc.Output)
	}
	s.gb.add(srv)
	return func() {
		srv.Wait()
		s.gb.remove(srv)
	}, nil
}

// listenCasterTCP listens on a caster's port, without SO_REUSEPORT so that
// a port in use fails at once instead of being shared.
func listenCasterTCP(ctx context.Context, what string, port int) (net.Listener, error) {
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("%s port %d: want a port 1..65535", what, port)
	}
	addr := net.JoinHostPort("", strconv.Itoa(port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for %s on tcp port %d: %w", what, port, err)
	}
	return ln, nil
}

// gbCasters are the running gb28181 casters, for /gb/v1/publish/.
type gbCasters struct {
	mu   sync.Mutex
	runs []*gb28181.Server
}

func (g *gbCasters) add(srv *gb28181.Server) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.runs = append(g.runs, srv)
}

func (g *gbCasters) remove(srv *gb28181.Server) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.runs = slices.DeleteFunc(g.runs, func(r *gb28181.Server) bool { return r == srv })
}

// first is the caster the API uses: the first started of those running.
func (g *gbCasters) first() *gb28181.Server {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.runs) == 0 {
		return nil
	}
	return g.runs[0]
}

// mountGB adds SRS's /gb/v1/publish/ to an API mux; it answers 404 while
// no gb28181 caster runs.
func (s *Server) mountGB(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle("/gb/v1/publish/", gb28181.PublishHandler(s.gb.first))
}
