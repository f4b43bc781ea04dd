// Package server wires castd together: it builds the hub and the protocol
// adapters from the config, opens the listeners, samples statistics, applies
// reloads and shuts everything down.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/castd/castd/internal/api"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/edge"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/httpstream"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/metrics"
	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/relay"
	"github.com/castd/castd/internal/rtc"
	"github.com/castd/castd/internal/rtmpserver"
	"github.com/castd/castd/internal/stats"
	"github.com/castd/castd/internal/sysinfo"
	"github.com/castd/castd/internal/version"
)

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	Argv   string // the command line, for the API's summaries
	// HookTimeout bounds each hook call; 0 is SRS's 30 s. Not a directive:
	// tests shorten it to see a timeout reject a client.
	HookTimeout time.Duration
	// RequestReload asks for a reload as SIGHUP does, for the API's
	// /api/v1/raw?rpc=reload; nil answers that call with code 1061.
	RequestReload func()
}

// Server is a running castd.
type Server struct {
	log     *slog.Logger
	argv    string
	id      string
	service string
	started time.Time

	hub    *hub.Hub
	hooks  *hooks.Client
	stats  *stats.Registry
	sys    *sysinfo.Sampler
	api    *api.API
	rtmp   *rtmpserver.Server
	stream *httpstream.Server
	rtc    *rtc.Server
	srt    *srtListener
	relays *relay.Relays
	edge   *edge.Edge
	egress []egress
	ingest *ingesters
	cast   *casters
	gb     gbCasters // running gb28181 casters, for /gb/v1/publish/
	limit  connLimit

	mu        sync.Mutex
	cfg       *conf.Config
	ctx       context.Context
	rtmpLns   map[string]*running // by endpoint
	httpAPI   *running
	httpSrv   []*running // one per http_server.listen endpoint
	sharedAPI bool       // the API is mounted on the HTTP server's port
	wg        sync.WaitGroup
	reloadMu  sync.Mutex // one Reload at a time
	reloads   reloadStatus
	extra     sidecars // HTTPS and exporter listeners
}

// running is one open listener and how to stop it.
type running struct {
	endpoint string
	ln       net.Listener
	stop     func()
	handler  *swapHandler // HTTP listeners only
}

// New builds a server for cfg; nothing listens until Start.
func New(cfg *conf.Config, opt Options) *Server {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{log: log, argv: opt.Argv, cfg: cfg, service: ids.NewCID(), started: time.Now(), rtmpLns: map[string]*running{}}
	s.id = serverID(cfg, log)
	s.limit.log = log
	s.limit.max.Store(int64(cfg.MaxConnections))
	s.stats = stats.New(nil)
	s.sys = sysinfo.NewSampler()
	latency := metrics.NewHistogramVec("event", metrics.LatencyBounds)
	s.hooks = hooks.New(hooks.Options{ServerID: s.id, ServiceID: s.service, Log: log, Timeout: opt.HookTimeout,
		Metrics: hookLatency{latency}})
	s.stream = &httpstream.Server{Stats: s.stats, Hooks: s.hooks, Log: log, Vhost: s.httpVhost}
	s.hub = hub.New(hub.Options{Logger: log, Events: hub.Events{
		Published:   s.published,
		Unpublished: s.unpublished,
		Removed:     func(st *hub.Stream) { s.stats.ForgetStream(st.ID) },
		Joined:      func(st *hub.Stream, who hub.ClientInfo) { s.edge.Joined(st, who) },
	}})
	s.stream.Hub = s.hub
	// One set of relays muxes each stream to TS once for HTTP-TS and SRT.
	s.relays = &relay.Relays{Hub: s.hub, Log: s.log, Context: s.dashContext}
	s.stream.Relays = s.relays
	s.egress = append(s.egress, s.newHLS(), newDASH(s), newDVR(s), newForward(s), newExec(s), newTranscode(s), newEdgePush(s))
	s.ingest = &ingesters{s: s, runs: map[string]*ingestRun{}}
	s.cast = &casters{s: s, runs: map[string]*casterRun{}}
	s.api = &api.API{
		ServerID: s.id, ServiceID: s.service, Pid: os.Getpid(), Started: s.started, Argv: opt.Argv,
		Hub: s.hub, Stats: s.stats, Sys: s.sys, Vhosts: s.vhostInfos,
		Config: s.config, Reload: opt.RequestReload, ReloadStatus: s.reloadState,
		Hooks: s.hooks.Counters(), HookLatency: latency,
	}
	s.rtmp = &rtmpserver.Server{Hub: s.hub, Stats: s.stats, Hooks: s.hooks, Log: log, Vhost: s.rtmpVhost, ServerInfo: rtmp.ServerInfo{
		Sig: "castd", Server: version.Server, License: "MIT", URL: "https://github.com/castd/castd",
		SrsVer: version.SRSVersion, Authors: "the castd authors", PID: os.Getpid(),
	}}
	s.edge = newEdge(s)
	s.rtc = newRTC(s, os.Getpid())
	s.srt = newSRT(s)
	return s
}

// ID is the server id the API and hooks report.
func (s *Server) ID() string { return s.id }

// Hub returns the stream hub (tests and tools look inside).
func (s *Server) Hub() *hub.Hub { return s.hub }

func (s *Server) config() *conf.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Start opens every configured listener. A listener that cannot open is a
// fatal error: nothing is left listening.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	cfg := s.cfg
	s.mu.Unlock()
	s.stream.Start(ctx)
	s.logUnsupported(cfg)
	s.mu.Lock()
	err := s.openListeners(cfg)
	s.mu.Unlock()
	if err == nil {
		err = s.cast.sync(cfg)
	}
	if err == nil {
		err = s.rtc.Start(ctx, cfg.RTCServer)
	}
	if err != nil {
		s.cast.stopAll()
		s.closeListeners()
		return err
	}
	s.wg.Add(2)
	go s.sample(ctx)
	go s.kickIdlePublishers(ctx)
	s.startHeartbeat(ctx)
	s.ingest.sync(cfg)
	return nil
}

// Wait blocks until ctx is done and every connection has ended.
func (s *Server) Wait() {
	<-s.ctx.Done()
	// Hooks of closing connections (on_close, on_stop) must not hold a fast
	// quit for their 30 s timeout; a graceful quit sent them in Drain.
	s.hooks.Close()
	s.closeListeners()
	s.cast.stopAll()
	s.rtmp.Wait()
	s.stream.Wait()
	s.rtc.Wait()
	s.edge.Wait()
	s.wg.Wait()
	s.srt.srv.Wait() // after its Serve goroutines (in s.wg) stopped adding sessions
	s.waitEgressStopped()
	// A hook that was in flight during the first Close has returned its
	// connection to the pool by now: release it too.
	s.hooks.Close()
}

// openListeners opens what cfg asks for; call with s.mu held.
func (s *Server) openListeners(cfg *conf.Config) error {
	for _, ep := range cfg.Listen {
		if err := s.openRTMP(ep); err != nil {
			return err
		}
	}
	s.sharedAPI = cfg.HTTPAPI.Enabled && cfg.HTTPServer.Enabled && cfg.SharesHTTPServer()
	if err := s.openHTTPServer(cfg); err != nil {
		return err
	}
	if cfg.HTTPAPI.Enabled && !s.sharedAPI {
		r, err := s.openHTTP("http_api", cfg.HTTPAPI.Listen, s.apiHandler(cfg))
		if err != nil {
			return err
		}
		s.httpAPI = r
	}
	if err := s.openSRTLocked(cfg); err != nil {
		return err
	}
	return s.syncSidecarsLocked(cfg)
}

// openHTTPServer opens a listener per http_server endpoint, all serving one
// handler (so a reload swaps it once); call with s.mu held.
func (s *Server) openHTTPServer(cfg *conf.Config) error {
	if !cfg.HTTPServer.Enabled {
		return nil
	}
	h := &swapHandler{}
	h.set(s.serverHandler(cfg))
	for _, ep := range cfg.HTTPServer.Listens {
		r, err := s.openHTTP("http_server", ep, h)
		if err != nil {
			return err
		}
		r.handler = h
		s.httpSrv = append(s.httpSrv, r)
	}
	return nil
}

// openRTMP opens one RTMP endpoint; call with s.mu held.
func (s *Server) openRTMP(endpoint string) error {
	addr, err := conf.ListenAddr(endpoint)
	if err != nil {
		return fmt.Errorf("rtmp listen %q: %w", endpoint, err)
	}
	ln, err := listen(s.ctx, addr)
	if err != nil {
		return fmt.Errorf("rtmp listen on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	r := &running{endpoint: endpoint, ln: ln, stop: cancel}
	s.rtmpLns[endpoint] = r
	s.log.Info("RTMP listening", "addr", "tcp://"+ln.Addr().String())
	lim := &limitedListener{Listener: ln, lim: &s.limit, name: "rtmp"}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.rtmp.Serve(ctx, lim); err != nil {
			s.log.Error("rtmp listener failed", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return nil
}

// openHTTP opens an HTTP listener; call with s.mu held.
func (s *Server) openHTTP(name, endpoint string, h http.Handler) (*running, error) {
	addr, err := conf.ListenAddr(endpoint)
	if err != nil {
		return nil, fmt.Errorf("%s listen %q: %w", name, endpoint, err)
	}
	ln, err := listen(s.ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("%s listen on %s: %w", name, addr, err)
	}
	sw := &swapHandler{}
	sw.set(h)
	srv := &http.Server{
		Handler:           sw,
		ReadHeaderTimeout: 15 * time.Second,
		IdleTimeout:       15 * time.Second, // SRS closes idle HTTP connections after 15 s
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	what := map[string]string{"http_server": "HTTP server", "http_api": "HTTP API"}[name]
	if name == "http_server" && s.sharedAPI {
		what = "HTTP server and API"
	}
	s.log.Info(what+" listening", "addr", "http://"+ln.Addr().String())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := srv.Serve(&limitedListener{Listener: ln, lim: &s.limit, name: name})
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error(what+" failed", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return &running{endpoint: endpoint, ln: ln, stop: func() { srv.Close() }, handler: sw}, nil
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, r := range s.rtmpLns {
		r.stop()
		delete(s.rtmpLns, k)
	}
	s.closeHTTPLocked()
	s.closeSidecarsLocked()
	s.closeSRTLocked()
}

// closeHTTPLocked closes the HTTP listeners; call with s.mu held.
func (s *Server) closeHTTPLocked() {
	if s.httpAPI != nil {
		s.httpAPI.stop()
		s.httpAPI = nil
	}
	for _, r := range s.httpSrv {
		r.stop()
	}
	s.httpSrv = nil
}

// Addrs returns the bound addresses by listener name (rtmp, http_api,
// http_server, https_server, https_api, exporter, and the stream casters
// mpegts_over_udp and flv), so tests can listen on port 0.
func (s *Server) Addrs() map[string][]net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]net.Addr{}
	for _, r := range s.rtmpLns {
		out["rtmp"] = append(out["rtmp"], r.ln.Addr())
	}
	if s.httpAPI != nil {
		out["http_api"] = []net.Addr{s.httpAPI.ln.Addr()}
	}
	for _, r := range s.httpSrv {
		out["http_server"] = append(out["http_server"], r.ln.Addr())
		if s.sharedAPI && r.endpoint == s.cfg.HTTPAPI.Listen {
			out["http_api"] = []net.Addr{r.ln.Addr()}
		}
	}
	s.sidecarAddrsLocked(out)
	s.rtcAddrsLocked(out)
	s.srtAddrsLocked(out)
	s.cast.addrs(out)
	return out
}

// sample refreshes the rates the API reports.
func (s *Server) sample(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(stats.SampleInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.stats.Sample()
			s.sys.Sample()
		}
	}
}

// logUnsupported says once per directive what castd does not act on yet.
func (s *Server) logUnsupported(cfg *conf.Config) {
	for _, w := range cfg.Warnings {
		s.log.Warn("config: " + w)
	}
	for _, e := range cfg.Env {
		s.log.Info("config: environment override", "env", e.Name, "directive", e.Path)
		if entry, ok := conf.Lookup(e.Path); ok && entry.Status == conf.StatusPending {
			s.log.Warn("config: directive not supported yet, ignored", "directive", e.Path, "at", "env "+e.Name)
		}
	}
	for _, f := range conf.Unsupported(cfg.Root) {
		where := fmt.Sprintf("%s:%d", f.Directive.File, f.Directive.Line)
		if f.Status == conf.StatusIgnored {
			s.log.Info("config: directive accepted, no effect in castd", "directive", f.Path, "at", where)
			continue
		}
		s.log.Warn("config: directive not supported yet, ignored", "directive", f.Path, "at", where)
	}
}

// serverID returns the configured server_id, or the one persisted next to
// the pid file (SRS: objs/srs.id), or a new one that it persists.
func serverID(cfg *conf.Config, log *slog.Logger) string {
	if cfg.ServerID != "" {
		return cfg.ServerID
	}
	file := strings.TrimSuffix(cfg.PID, filepath.Ext(cfg.PID)) + ".id"
	if b, err := os.ReadFile(file); err == nil {
		if id := strings.TrimSpace(string(b)); strings.HasPrefix(id, "vid-") {
			return id
		}
	}
	id := ids.NewVID()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err == nil {
		if err := os.WriteFile(file, []byte(id), 0o644); err != nil {
			log.Debug("cannot persist server id", "file", file, "err", err)
		}
	}
	return id
}
