package server

import (
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/castd/castd/internal/api"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/console"
	"github.com/castd/castd/internal/httpstream"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/rtmpserver"
	"github.com/castd/castd/internal/static"
	"github.com/castd/castd/internal/version"
)

// streamOptions maps a vhost's play{} to the hub's stream settings.
func streamOptions(v *conf.Vhost) hub.StreamOptions {
	return hub.StreamOptions{
		GopCache: v.Play.GopCache, GopCacheMaxFrames: v.Play.GopCacheMaxFrames, QueueLength: v.Play.QueueLength,
		MixCorrect: v.Play.MixCorrect, ATCAuto: v.Play.ATCAuto,
	}
}

// viewerOptions maps a vhost's play{} to a viewer's settings. With
// min_latency on, castd writes packets as they arrive; SRS still waits up to
// mw_latency, which defeats the point of the switch.
func viewerOptions(v *conf.Vhost) hub.ViewerOptions {
	mode, err := hub.ParseJitterMode(string(v.Play.TimeJitter))
	if err != nil {
		mode = hub.JitterFull // conf validated the value; keep SRS's default if it grows new ones
	}
	o := hub.ViewerOptions{
		Jitter: mode, ATC: v.Play.ATC, MWLatency: v.Play.MWLatency, MWMsgs: v.Play.MWMsgs,
		ReduceSequenceHeader: v.Play.ReduceSequenceHeader,
	}
	if v.MinLatency {
		o.MWLatency = 0
	}
	return o
}

func (s *Server) rtmpVhost(name string) (rtmpserver.Vhost, bool) {
	v := s.config().Vhost(name)
	if v == nil {
		return rtmpserver.Vhost{}, false
	}
	var ch rtmpVhostHooks
	s.clusterRTMP(v, &ch)
	return rtmpserver.Vhost{
		Name: v.Name, Enabled: v.Enabled, ChunkSize: v.ChunkSize, TCPNodelay: v.TCPNoDelay,
		InAckSize: uint32(max(v.InAckSize, 0)), OutAckSize: uint32(max(v.OutAckSize, 0)),
		Stream: streamOptions(v), Viewer: viewerOptions(v),
		FirstPacketTimeout: v.Publish.FirstPktTimeout, NormalTimeout: v.Publish.NormalTimeout,
		SendMinInterval: v.Play.SendMinInterval,
		Hooks:           v.HTTPHooks, Security: v.Security, Refer: v.Refer,
		TokenCheck: ch.tokenCheck, Discover: ch.discover,
	}, true
}

func (s *Server) httpVhost(name string) (httpstream.Vhost, bool) {
	v := s.config().Vhost(name)
	if v == nil {
		return httpstream.Vhost{}, false
	}
	r := v.HTTPRemux
	return httpstream.Vhost{
		Name: v.Name, Enabled: v.Enabled,
		Remux: httpstream.Remux{Enabled: r.Enabled, Mount: r.Mount, HasAudio: r.HasAudio, HasVideo: r.HasVideo,
			GuessHasAV: r.GuessHasAV, DropIfNotMatch: r.DropIfNotMatch, FastCache: r.FastCache},
		Stream: streamOptions(v), Viewer: viewerOptions(v),
		Hooks: v.HTTPHooks, Security: v.Security,
	}, true
}

func (s *Server) vhostInfos() []api.VhostInfo {
	cfg := s.config()
	out := make([]api.VhostInfo, 0, len(cfg.Vhosts))
	for _, v := range cfg.Vhosts {
		out = append(out, api.VhostInfo{Name: v.Name, Enabled: v.Enabled, HLS: v.HLS.Enabled, HLSFragment: v.HLS.Fragment})
	}
	return out
}

// apiHandler serves the API on its own port.
func (s *Server) apiHandler(cfg *conf.Config) http.Handler {
	mux := httpx.NewMux()
	a := *s.api
	a.OwnPort = true
	a.Mount(mux)
	s.rtc.Mount(mux)
	s.mountGB(mux)
	console.Mount(mux, cfg)
	mountPprof(mux, cfg)
	auth := cfg.HTTPAPI.Auth
	return httpx.ServerHeader(version.Server, httpx.CORS(cfg.HTTPAPI.Crossdomain,
		httpx.BasicAuth(auth.Enabled, auth.Username, auth.Password, mux)))
}

// serverHandler serves the HTTP server port: live streams first (mounted or
// hijacked), then the API when it shares the port, vhost http_static mounts
// and the static root.
func (s *Server) serverHandler(cfg *conf.Config) http.Handler {
	mux := httpx.NewMux()
	root := static.Handler{Dir: cfg.HTTPServer.Dir, Mount: "/"}
	mux.Handle("/", root)
	for _, v := range cfg.Vhosts {
		if !v.Enabled || !v.HTTPStatic.Enabled {
			continue
		}
		pattern := strings.Replace(v.HTTPStatic.Mount, "[vhost]", v.Name, 1)
		pattern = strings.Replace(pattern, conf.DefaultVhost+"/", "/", 1)
		if !strings.HasSuffix(pattern, "/") {
			pattern += "/"
		}
		path := pattern[strings.IndexByte(pattern, '/'):]
		mux.Handle(pattern, static.Handler{Dir: v.HTTPStatic.Dir, Mount: path})
	}
	// SRS mounts the version endpoint on the HTTP server too, for probes.
	mux.Handle("/api/v1/versions", httpx.JSONP(http.HandlerFunc(s.api.Versions)))
	if s.sharedAPI {
		s.api.Mount(mux)
		s.rtc.Mount(mux)
		s.mountGB(mux)
		console.Mount(mux, cfg)
		mountPprof(mux, cfg)
	}
	// Live streams first, then outputs with HTTP sessions (HLS...), then the
	// API and static files. The API's basic auth covers its paths here
	// when it shares the port (live streams and files are not under /api/).
	var next http.Handler = mux
	if auth := cfg.HTTPAPI.Auth; s.sharedAPI {
		next = httpx.BasicAuth(auth.Enabled, auth.Username, auth.Password, mux)
	}
	return httpx.ServerHeader(version.Server, httpx.CORS(cfg.HTTPServer.Crossdomain, s.stream.Handler(s.front(cfg, next), root.Exists)))
}

// mountPprof serves Go's profiler at /debug/pprof/ when http_api.pprof is
// on (castd's own directive): go tool pprof http://host:1985/debug/pprof/profile.
func mountPprof(mux *httpx.Mux, cfg *conf.Config) {
	if !cfg.HTTPAPI.Pprof {
		return
	}
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
