package server

import (
	"context"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
)

// swapHandler lets a reload replace a listener's handler without touching
// its connections.
type swapHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swapHandler) set(h http.Handler) { s.h.Store(&h) }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

// Reload applies a new config without dropping connections that it does not
// affect: vhost settings reach live streams and players, listeners open and
// close, max_connections changes. Settings SRS cannot reload either are
// logged as needing a restart. It returns what changed.
func (s *Server) Reload(cfg *conf.Config) conf.Changes {
	s.mu.Lock()
	old := s.cfg
	s.cfg = cfg
	s.mu.Unlock()
	ch := conf.Diff(old, cfg)
	if ch.Empty() {
		s.log.Info("reload: config unchanged")
		return ch
	}
	for _, item := range ch.NeedRestart {
		s.log.Warn("reload: setting changed but cannot be applied until castd restarts", "setting", item)
	}
	if ch.MaxConnections {
		s.limit.max.Store(int64(cfg.MaxConnections))
		s.log.Info("reload: max_connections", "value", cfg.MaxConnections)
	}
	s.reloadListeners(old, cfg, ch)
	s.reloadStreams(cfg, ch)
	for _, v := range ch.VhostsAdded {
		s.log.Info("reload: vhost enabled", "vhost", v)
	}
	for _, v := range ch.VhostsRemoved {
		s.log.Info("reload: vhost disabled; its live connections stay, new ones are refused", "vhost", v)
	}
	s.logUnsupported(cfg)
	return ch
}

// reloadListeners opens and closes RTMP endpoints, restarts HTTP listeners
// whose address or sharing changed, and swaps every HTTP handler so static
// dirs, mounts and CORS follow the new config.
func (s *Server) reloadListeners(old, cfg *conf.Config, ch conf.Changes) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ep, r := range s.rtmpLns {
		if !slices.Contains(cfg.Listen, ep) {
			r.stop()
			delete(s.rtmpLns, ep)
			s.log.Info("reload: RTMP listener closed", "endpoint", ep)
		}
	}
	for _, ep := range cfg.Listen {
		if _, ok := s.rtmpLns[ep]; !ok {
			if err := s.openRTMP(ep); err != nil {
				s.log.Error("reload: cannot open RTMP listener", "endpoint", ep, "err", err)
			}
		}
	}
	shared := cfg.HTTPAPI.Enabled && cfg.HTTPServer.Enabled && cfg.SharesHTTPServer()
	httpChanged := shared != s.sharedAPI ||
		old.HTTPAPI.Enabled != cfg.HTTPAPI.Enabled || old.HTTPAPI.Listen != cfg.HTTPAPI.Listen ||
		old.HTTPServer.Enabled != cfg.HTTPServer.Enabled || !slices.Equal(old.HTTPServer.Listens, cfg.HTTPServer.Listens)
	if !httpChanged {
		if len(s.httpSrv) > 0 {
			s.httpSrv[0].handler.set(s.serverHandler(cfg)) // shared by every endpoint
		}
		if s.httpAPI != nil {
			s.httpAPI.handler.set(s.apiHandler(cfg))
		}
		return
	}
	s.closeHTTPLocked()
	s.sharedAPI = shared
	if err := s.openHTTPServer(cfg); err != nil {
		s.log.Error("reload: cannot open HTTP server", "err", err)
	}
	if cfg.HTTPAPI.Enabled && !shared {
		r, err := s.openHTTP("http_api", cfg.HTTPAPI.Listen, s.apiHandler(cfg))
		if err != nil {
			s.log.Error("reload: cannot open HTTP API", "err", err)
		}
		s.httpAPI = r
	}
}

// reloadStreams gives live streams and their viewers the new play settings
// of their vhost.
func (s *Server) reloadStreams(cfg *conf.Config, ch conf.Changes) {
	changed := map[string]bool{}
	for _, vc := range ch.VhostsChanged {
		changed[vc.Name] = true
	}
	for _, st := range s.hub.Streams() {
		v := cfg.Vhost(st.Key.Vhost)
		if v == nil || !changed[v.Name] {
			continue
		}
		st.SetOptions(streamOptions(v))
		vo := viewerOptions(v)
		st.UpdateViewers(func(vw *hub.Viewer) {
			o := vo
			o.StopOnUnpublish = vw.Options().StopOnUnpublish // a protocol property, not config
			vw.SetOptions(o)
		})
		s.log.Info("reload: stream settings updated", "stream", st.Key.String(), "vhost", v.Name)
	}
}

// Drain is SRS's graceful quit: wait grace_start_wait, stop accepting, wait
// until every connection has ended (or ctx is done), then grace_final_wait.
func (s *Server) Drain(ctx context.Context) {
	cfg := s.config()
	sleep(ctx, cfg.GraceStartWait)
	s.closeListeners()
	s.log.Info("graceful quit: listeners closed, waiting for connections to end", "connections", s.limit.n.Load())
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for s.limit.n.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	// Send the hooks still queued (on_dvr, on_hls) within the final wait.
	final, cancel := context.WithTimeout(ctx, max(cfg.GraceFinalWait, time.Second))
	defer cancel()
	_ = s.hooks.Shutdown(final)
	sleep(ctx, cfg.GraceFinalWait)
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
