package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/version"
)

// sidecars are the listeners that follow the main HTTP ones: HTTPS for the
// HTTP server and for the API (the same handlers over TLS, so HTTP-FLV,
// static files and the API all work over HTTPS), and the Prometheus
// exporter's own port. Guarded by Server.mu.
type sidecars struct {
	httpsServer, httpsAPI, exporter sidecar
	exporterHandler                 *swapHandler // built once: /metrics reads the config live
}

// sidecar is one open listener and what it was opened for: a different
// endpoint, key pair or handler (the HTTP listeners were reopened) means
// reopening it.
type sidecar struct {
	run    *running
	opened sidecarWant
	pair   *keyPair // TLS only
}

type sidecarWant struct {
	on        bool
	endpoint  string
	cert, key string // TLS when cert is set
	handler   *swapHandler
}

// syncSidecarsLocked opens, closes or reopens the sidecars so they match
// cfg. A listener that cannot bind is an error; a missing or bad key pair
// is logged and that HTTPS listener stays closed, so a config that names
// the default ./conf/server.{key,crt} without them still starts. Call with
// s.mu held, after the HTTP listeners were opened.
func (s *Server) syncSidecarsLocked(cfg *conf.Config) error {
	var serverHandler, apiHandler *swapHandler
	if len(s.httpSrv) > 0 {
		serverHandler = s.httpSrv[0].handler
	}
	if s.httpAPI != nil {
		apiHandler = s.httpAPI.handler
	}
	srvTLS, apiTLS := cfg.HTTPServer.HTTPS, cfg.HTTPAPI.HTTPS
	if s.extra.exporterHandler == nil {
		mux := httpx.NewMux()
		mux.HandleFunc("/metrics", s.api.Metrics)
		s.extra.exporterHandler = &swapHandler{}
		s.extra.exporterHandler.set(httpx.ServerHeader(version.Server, mux))
	}
	return errors.Join(
		// When the API shares the HTTP server's port, it shares its HTTPS
		// port too (conf checks they match), through the server's handler.
		s.syncSidecar(&s.extra.httpsServer, "HTTPS server", sidecarWant{
			on: cfg.HTTPServer.Enabled && srvTLS.Enabled && serverHandler != nil, endpoint: srvTLS.Listen,
			cert: srvTLS.Cert, key: srvTLS.Key, handler: serverHandler,
		}),
		s.syncSidecar(&s.extra.httpsAPI, "HTTPS API", sidecarWant{
			on: cfg.HTTPAPI.Enabled && apiTLS.Enabled && apiHandler != nil, endpoint: apiTLS.Listen,
			cert: apiTLS.Cert, key: apiTLS.Key, handler: apiHandler,
		}),
		s.syncSidecar(&s.extra.exporter, "Prometheus exporter", sidecarWant{
			on: cfg.Exporter.Enabled, endpoint: cfg.Exporter.Listen, handler: s.extra.exporterHandler,
		}),
	)
}

// reloadSidecarsLocked applies a reload; errors are logged, as for the
// other listeners.
func (s *Server) reloadSidecarsLocked(cfg *conf.Config) {
	if err := s.syncSidecarsLocked(cfg); err != nil {
		s.log.Error("reload: cannot open listener", "err", err)
	}
}

func (s *Server) syncSidecar(sc *sidecar, what string, want sidecarWant) error {
	if sc.run != nil && (!want.on || sc.opened != want) {
		sc.run.stop()
		s.log.Info(what+" closed", "endpoint", sc.opened.endpoint)
		*sc = sidecar{}
	}
	if sc.run != nil {
		if sc.pair != nil {
			sc.pair.refresh() // a reload after renewing the certificate serves it at once
		}
		return nil
	}
	if !want.on {
		return nil
	}
	var tlsConf *tls.Config
	var pair *keyPair
	if want.cert != "" {
		pair = &keyPair{certFile: want.cert, keyFile: want.key, what: what, log: s.log, every: certCheckInterval}
		if err := pair.load(); err != nil {
			s.log.Error(what+" not started: cannot load its certificate and key; create them, e.g. "+
				"openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=castd -keyout "+want.key+" -out "+want.cert,
				"cert", want.cert, "key", want.key, "err", err)
			return nil
		}
		tlsConf = &tls.Config{
			GetCertificate: pair.get,
			MinVersion:     tls.VersionTLS12,
			// HTTP/1.1 only: live streams take over the connection (hijack),
			// which HTTP/2 does not allow.
			NextProtos: []string{"http/1.1"},
		}
	}
	r, err := s.openSidecar(what, want.endpoint, want.handler, tlsConf)
	if err != nil {
		return err
	}
	*sc = sidecar{run: r, opened: want, pair: pair}
	return nil
}

// openSidecar listens on endpoint and serves h, over TLS when tlsConf is
// set. Its connections count towards max_connections like every other.
func (s *Server) openSidecar(what, endpoint string, h http.Handler, tlsConf *tls.Config) (*running, error) {
	addr, err := conf.ListenAddr(endpoint)
	if err != nil {
		return nil, fmt.Errorf("%s listen %q: %w", what, endpoint, err)
	}
	ln, err := listen(s.ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("%s listen on %s: %w", what, addr, err)
	}
	var served net.Listener = &limitedListener{Listener: ln, lim: &s.limit, name: what}
	scheme := "http://"
	if tlsConf != nil {
		served = tls.NewListener(served, tlsConf)
		scheme = "https://"
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 15 * time.Second,
		IdleTimeout:       15 * time.Second, // as the other HTTP listeners (SRS's 15 s)
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	s.log.Info(what+" listening", "addr", scheme+ln.Addr().String())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(served); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error(what+" failed", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return &running{endpoint: endpoint, ln: ln, stop: func() { srv.Close() }}, nil
}

// closeSidecarsLocked closes them all (shutdown); call with s.mu held.
func (s *Server) closeSidecarsLocked() {
	for _, sc := range []*sidecar{&s.extra.httpsServer, &s.extra.httpsAPI, &s.extra.exporter} {
		if sc.run != nil {
			sc.run.stop()
		}
		*sc = sidecar{}
	}
}

// sidecarAddrsLocked adds the sidecars' bound addresses to Addrs' answer:
// https_server, https_api (the server's when the API shares its port) and
// exporter.
func (s *Server) sidecarAddrsLocked(out map[string][]net.Addr) {
	if r := s.extra.httpsServer.run; r != nil {
		out["https_server"] = []net.Addr{r.ln.Addr()}
		if s.sharedAPI {
			out["https_api"] = []net.Addr{r.ln.Addr()}
		}
	}
	if r := s.extra.httpsAPI.run; r != nil {
		out["https_api"] = []net.Addr{r.ln.Addr()}
	}
	if r := s.extra.exporter.run; r != nil {
		out["exporter"] = []net.Addr{r.ln.Addr()}
	}
}
