package server

import (
	"context"

	"github.com/castd/castd/internal/hls"
)

// newHLS builds the HLS output: it follows every published stream of a
// vhost with hls on, and serves hls_ctx sessions on the HTTP server. Its
// goroutines are the server's, so Wait waits for them; hls_on_error
// disconnect kicks publishers through the stats registry, which knows
// every client by id.
func (s *Server) newHLS() *hls.Egress {
	return hls.New(hls.Options{
		Hub: s.hub, Hooks: s.hooks, Stats: s.stats, Log: s.log,
		Config: s.config,
		Context: func() context.Context {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.ctx
		},
		Go: func(f func()) {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				f()
			}()
		},
		Kick: s.stats.Kick,
	})
}
