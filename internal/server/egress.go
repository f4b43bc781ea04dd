package server

import (
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
}

// front puts every egress's HTTP handler in front of h.
func (s *Server) front(cfg *conf.Config, h http.Handler) http.Handler {
	for _, e := range s.egress {
		h = e.Front(cfg, h)
	}
	return h
}
