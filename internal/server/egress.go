package server

import (
	"context"
	"net/http"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
)

// egress is an output that follows streams rather than serving a client
// connection: HLS, DASH, DVR, forward, exec. Each gets every stream's
// publish and unpublish, and may answer HTTP requests before the static
// files (HLS playlists with sessions, DASH manifests...).
type egress interface {
	// Published runs on the publisher's goroutine: start a goroutine for
	// the work and return at once.
	Published(st *hub.Stream)
	Unpublished(st *hub.Stream)
	// Front wraps the HTTP server's handler; return next when the output
	// serves nothing over HTTP. It is called again on every reload with the
	// new config.
	Front(cfg *conf.Config, next http.Handler) http.Handler
}

// reloader is an egress that applies a reloaded config to the streams it
// already follows (DVR restarts its recordings with new settings).
type reloader interface {
	Reload(cfg *conf.Config)
}

// waiter is an egress with work a graceful quit waits for before sending
// the last hooks (DVR finishing and renaming its files, then on_dvr).
type waiter interface {
	Wait(ctx context.Context)
}

// stopWaiter is an egress whose goroutines are its own, not the server's:
// Wait waits for them once the server's context is done, so the files they
// write are complete when castd exits (DASH).
type stopWaiter interface {
	WaitStopped()
}

// waitEgressStopped waits for the goroutines of every stopWaiter egress.
func (s *Server) waitEgressStopped() {
	for _, e := range s.egress {
		if w, ok := e.(stopWaiter); ok {
			w.WaitStopped()
		}
	}
}

// reloadEgress gives every egress that follows live streams the new config.
func (s *Server) reloadEgress(cfg *conf.Config) {
	for _, e := range s.egress {
		if r, ok := e.(reloader); ok {
			r.Reload(cfg)
		}
	}
}

// waitEgress waits until every egress has finished its work or ctx is done.
func (s *Server) waitEgress(ctx context.Context) {
	for _, e := range s.egress {
		if w, ok := e.(waiter); ok {
			w.Wait(ctx)
		}
	}
}

func (s *Server) published(st *hub.Stream) {
	if st.Key.Variant != "" {
		return // derived streams (HTTP-TS relays) are internal
	}
	s.stream.Published(st)
	for _, e := range s.egress {
		e.Published(st)
	}
}

func (s *Server) unpublished(st *hub.Stream) {
	if st.Key.Variant != "" {
		return
	}
	for _, e := range s.egress {
		e.Unpublished(st)
	}
	s.edge.Unpublished(st)
}

// front puts every egress's HTTP handler in front of h.
func (s *Server) front(cfg *conf.Config, h http.Handler) http.Handler {
	for _, e := range s.egress {
		h = e.Front(cfg, h)
	}
	return h
}
