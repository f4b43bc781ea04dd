package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
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
// logged as needing a restart. It returns what changed. Reloads (SIGHUP,
// inotify_auto_reload, the API) run one at a time.
func (s *Server) Reload(cfg *conf.Config) conf.Changes {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	defer s.noteReload(nil) // for the API's reload-fetch
	s.mu.Lock()
	old := s.cfg
	s.cfg = cfg
	s.mu.Unlock()
	ch := conf.Diff(old, cfg)
	if ch.Empty() {
		s.log.Info("reload: config unchanged")
		return ch
	}
	for _, item := range needRestart(ch) {
		s.log.Warn("reload: setting changed but cannot be applied until castd restarts", "setting", item)
	}
	if ch.MaxConnections {
		s.limit.max.Store(int64(cfg.MaxConnections))
		s.log.Info("reload: max_connections", "value", cfg.MaxConnections, "connections", s.limit.n.Load())
	}
	s.reloadListeners(old, cfg, ch)
	s.reloadRTC(cfg, ch)
	s.reloadStreams(cfg, ch)
	s.reloadEgress(cfg)
	s.ingest.sync(cfg)
	if err := s.cast.sync(cfg); err != nil {
		s.log.Error("reload: cannot start stream caster", "err", err)
	}
	for _, v := range ch.VhostsAdded {
		s.log.Info("reload: vhost enabled", "vhost", v)
	}
	for _, v := range ch.VhostsRemoved {
		s.log.Info("reload: vhost disabled; its live connections stay, new ones are refused", "vhost", v)
	}
	for _, vc := range ch.VhostsChanged {
		s.log.Info("reload: vhost changed", "vhost", vc.Name, "sections", strings.Join(vc.Sections, ","))
	}
	s.logUnsupported(cfg)
	return ch
}

// needRestart adds to what conf.Diff names the settings castd reads only
// at start: the server id is in the API, the hooks and the id file.
func needRestart(ch conf.Changes) []string {
	out := slices.Clone(ch.NeedRestart)
	if slices.Contains(ch.Sections, "server_id") {
		out = append(out, "server_id")
	}
	return out
}

// reloadListeners opens and closes RTMP endpoints, restarts HTTP listeners
// whose address or sharing changed, and swaps every HTTP handler so static
// dirs, mounts and CORS follow the new config.
func (s *Server) reloadListeners(old, cfg *conf.Config, ch conf.Changes) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.reloadSidecarsLocked(cfg) // after the HTTP listeners they follow
	s.reloadSRTLocked(cfg)
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
			if !isPlayer(vw.Info()) {
				return // outputs (DVR, HLS, DASH, relays) read with their own settings
			}
			o := vo
			o.StopOnUnpublish = vw.Options().StopOnUnpublish // a protocol property, not config
			vw.SetOptions(o)
		})
		s.log.Info("reload: stream settings updated", "stream", st.Key.String(), "vhost", v.Name)
	}
}

// isPlayer reports a viewer that is a client playing the stream (RTMP,
// HTTP-FLV/TS/AAC/MP3), which play{} configures, as opposed to an output
// of castd's own that reads it with fixed or dvr{} settings.
func isPlayer(c hub.ClientInfo) bool {
	return c.Addr != "" && (c.Protocol == "rtmp" || strings.HasPrefix(c.Protocol, "http-"))
}

// Drain is SRS's graceful quit: wait grace_start_wait, stop accepting, wait
// until every connection and WebRTC session has ended (or ctx is done),
// then grace_final_wait.
func (s *Server) Drain(ctx context.Context) {
	cfg := s.config()
	sleep(ctx, cfg.GraceStartWait)
	s.closeListeners()
	s.rtc.StopAccepting()
	s.log.Info("graceful quit: listeners closed, waiting for connections to end", "connections", s.limit.n.Load(),
		"rtc_sessions", s.rtc.Sessions())
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for s.limit.n.Load() > 0 || s.rtc.Sessions() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	// Let outputs finish what the last publishers left (DVR files) and send
	// the hooks still queued (on_dvr, on_hls) within the final wait.
	final, cancel := context.WithTimeout(ctx, max(cfg.GraceFinalWait, time.Second))
	defer cancel()
	s.waitEgress(final)
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
