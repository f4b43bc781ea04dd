package server

import (
	"context"
	"net/http"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/dash"
	"github.com/castd/castd/internal/hub"
)

// dashOutput writes MPEG-DASH for vhosts with dash{} enabled. New adds it
// to the egress list once the hub exists.
type dashOutput struct {
	s *Server
	e *dash.Egress
}

func newDASH(s *Server) egress {
	return &dashOutput{s: s, e: dash.NewEgress(dash.EgressOptions{Hub: s.hub, Log: s.log, Vhost: s.dashVhost})}
}

func (d *dashOutput) Published(st *hub.Stream) { d.e.Published(d.s.dashContext(), st) }

func (d *dashOutput) Unpublished(st *hub.Stream) { d.e.Unpublished(st) }

// WaitStopped returns when the DASH sessions, which end with the server's
// context, have written their last files.
func (d *dashOutput) WaitStopped() { d.e.Wait() }

// Front refreshes the UTCTiming of castd's MPDs as they are served.
func (d *dashOutput) Front(_ *conf.Config, next http.Handler) http.Handler {
	return dash.Front(next, nil)
}

// dashVhost maps a vhost's dash{} block, read at each publish: a reload
// applies from a stream's next publish.
func (s *Server) dashVhost(name string) dash.Settings {
	v := s.config().Vhost(name)
	if v == nil || !v.Enabled || !v.DASH.Enabled {
		return dash.Settings{}
	}
	c := v.DASH
	return dash.Settings{
		Enabled: true,
		Config: dash.Config{
			Fragment: c.Fragment, UpdatePeriod: c.UpdatePeriod, Timeshift: c.Timeshift,
			Path: c.Path, MPDFile: c.MPDFile, WindowSize: c.WindowSize, Cleanup: c.Cleanup, Dispose: c.Dispose,
		},
		Stream: streamOptions(v),
	}
}

// dashContext is the context Start was given: outputs' goroutines (DASH
// sessions, TS relays) end with it.
func (s *Server) dashContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		return context.Background()
	}
	return s.ctx
}
