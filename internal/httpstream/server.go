// Package httpstream serves live streams over HTTP (HTTP-FLV now; HTTP-TS,
// AAC and MP3 mounts come with the TS muxer). Streams are mounted at the
// vhost's http_remux template when published, and any GET whose extension and
// path depth match the template mounts the stream on demand and waits for a
// publisher, as SRS's "hijack" does (edges start pulling that way).
package httpstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/relay"
	"github.com/castd/castd/internal/security"
	"github.com/castd/castd/internal/stats"
	"github.com/castd/castd/internal/streamurl"
)

// Remux is a vhost's http_remux block.
type Remux struct {
	Enabled        bool
	Mount          string // template, e.g. "[vhost]/[app]/[stream].flv"
	HasAudio       bool
	HasVideo       bool
	GuessHasAV     bool
	DropIfNotMatch bool
	// FastCache starts a new listener of an audio mount (.aac, .mp3) this far
	// behind live (http_remux.fast_cache).
	FastCache time.Duration
}

// Vhost is what the HTTP stream server needs from a resolved vhost.
type Vhost struct {
	Name     string
	Enabled  bool
	Remux    Remux
	Stream   hub.StreamOptions
	Viewer   hub.ViewerOptions
	Hooks    conf.HTTPHooks
	Security conf.Security
}

// Resolver finds the vhost for a name (exact, else __defaultVhost__); ok is
// false when neither exists.
type Resolver func(name string) (v Vhost, ok bool)

// Server mounts and serves live HTTP streams.
type Server struct {
	Hub   *hub.Hub
	Stats *stats.Registry
	Hooks *hooks.Client
	Log   *slog.Logger
	Vhost Resolver

	// Relays mux TS, AAC and MP3 once per stream; the server shares them
	// with SRT. Start makes its own when nil.
	Relays *relay.Relays

	mu     sync.Mutex
	mounts map[mount]hub.Key
	ctx    context.Context
	wg     sync.WaitGroup
}

// Start readies the server; players end when ctx is cancelled.
func (s *Server) Start(ctx context.Context) {
	s.ctx = ctx
	s.mounts = map[mount]hub.Key{}
	if s.Relays == nil {
		s.Relays = &relay.Relays{Hub: s.Hub, Log: s.Log, Context: func() context.Context { return ctx }}
	}
}

// mount is where a stream is served: a vhost and a URL path. SRS registers
// named vhosts as host patterns ("v.com/live/cam.flv"); keying on the
// resolved vhost also covers ?vhost= and ?domain=.
type mount struct{ vhost, path string }

// Wait blocks until every player goroutine and relay has ended.
func (s *Server) Wait() {
	s.wg.Wait()
	if s.Relays != nil {
		s.Relays.Wait()
	}
}

// MountPath fills a template for a stream, without the leading [vhost]
// (the vhost is matched separately): "[vhost]/[app]/[stream].flv" becomes
// "/live/cam.flv".
func MountPath(template string, key hub.Key) string {
	m := strings.NewReplacer("[vhost]", key.Vhost, "[app]", key.App, "[stream]", key.Name).
		Replace(strings.TrimPrefix(template, "[vhost]"))
	if !strings.HasPrefix(m, "/") {
		m = "/" + m
	}
	return m
}

// Published mounts a newly published stream at its vhost's template.
func (s *Server) Published(st *hub.Stream) {
	v, ok := s.Vhost(st.Key.Vhost)
	if !ok || !v.Remux.Enabled || st.Key.Variant != "" {
		return
	}
	m := mount{vhost: v.Name, path: MountPath(v.Remux.Mount, st.Key)}
	s.mu.Lock()
	s.mounts[m] = st.Key
	s.mu.Unlock()
	s.Log.Info("http: mount live stream", "stream", st.Key.String(), "vhost", m.vhost, "path", m.path)
}

// Handler returns the HTTP server's handler: live streams first, everything
// else to fallback. fileExists reports whether a URL path is an existing
// static file, which is then served instead of being hijacked (nil: never).
// A reload builds a new handler; the mounts and players are shared.
func (s *Server) Handler(fallback http.Handler, fileExists func(urlPath string) bool) http.Handler {
	return &front{s: s, fallback: fallback, fileExists: fileExists}
}

type front struct {
	s          *Server
	fallback   http.Handler
	fileExists func(string) bool
}

// ServeHTTP plays a mounted or hijacked live stream, or hands the request on.
func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := f.s
	key, v, ok := s.route(r, f.fileExists)
	if !ok {
		f.fallback.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		httpx.MethodNotAllowed(w)
		return
	}
	s.play(w, r, key, v)
}

// route finds the stream a request is for: an exact mount first, then SRS's
// hijack rule (same extension and same number of "/" as the template). An
// existing static file at that path is served instead (SRS would hijack it:
// DVR files would be unreachable).
func (s *Server) route(r *http.Request, fileExists func(string) bool) (hub.Key, Vhost, bool) {
	ext := path.Ext(r.URL.Path)
	if ext == "" {
		return hub.Key{}, Vhost{}, false
	}
	req, err := streamurl.DiscoverHTTP(r.Host, r.URL.Path, r.URL.RawQuery)
	if err != nil {
		return hub.Key{}, Vhost{}, false
	}
	v, ok := s.Vhost(req.Vhost)
	if !ok || !v.Enabled || !v.Remux.Enabled || path.Ext(v.Remux.Mount) != ext {
		return hub.Key{}, Vhost{}, false
	}
	s.mu.Lock()
	key, mounted := s.mounts[mount{vhost: v.Name, path: r.URL.Path}]
	s.mu.Unlock()
	if mounted {
		return key, v, true
	}
	if strings.Count(r.URL.Path, "/") != strings.Count(MountPath(v.Remux.Mount, hub.Key{}), "/") {
		return hub.Key{}, Vhost{}, false
	}
	if fileExists != nil && fileExists(r.URL.Path) {
		return hub.Key{}, Vhost{}, false
	}
	return hub.Key{Vhost: v.Name, App: req.App, Name: req.Stream}, v, true
}

// play streams key to one HTTP player until it leaves, the publisher
// unpublishes, or the server stops.
func (s *Server) play(w http.ResponseWriter, r *http.Request, key hub.Key, v Vhost) {
	cid := ids.NewCID()
	log := s.Log.With(logging.CID(cid))
	ip := remoteIP(r)
	format := strings.TrimPrefix(path.Ext(r.URL.Path), ".")
	vopt := v.Viewer
	vopt.StopOnUnpublish = true
	sopt := v.Stream
	source := s.Hub.Ensure(key, sopt) // the stream the client asked for, for stats and hooks
	playKey := key
	if format != "flv" {
		// TS, AAC and MP3 are muxed once per stream by a relay; viewers read
		// its output, whose timestamps need no correction.
		sopt.StartBack = v.Remux.FastCache
		playKey = s.Relays.Ensure(key, format, sopt, "http-"+format)
		vopt.Jitter = hub.JitterOff
	}
	hr := s.hookRequest(r, cid, ip, key, source.ID)
	// TcURL and Param name the request upstream when an edge pulls for it.
	viewer := s.Hub.Play(playKey, hub.ClientInfo{ID: cid, Protocol: "http-" + format, Addr: r.RemoteAddr, TcURL: hr.TcURL, Param: hr.Param},
		relay.Options(sopt, format), vopt)
	if err := s.admit(r, v, hr); err != nil {
		// SRS closes a refused HTTP player without any response.
		log.Warn("http: FLV play refused", "stream", key.String(), "ip", ip, "err", err)
		viewer.Close()
		httpx.CloseWithoutResponse(w)
		return
	}
	resp, err := httpx.StartLive(w, r, http.Header{"Content-Type": {contentTypes[format]}, "Server": {w.Header().Get("Server")}})
	if err != nil {
		viewer.Close()
		log.Warn("http: start live response", "format", format, "err", err)
		s.Hooks.OnStop(context.Background(), s.hooksOf(key.Vhost), hr)
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.Stats.Register(&stats.Client{
		ID: cid, Type: stats.FLVPlay, IP: ip, Vhost: key.Vhost, App: key.App, Stream: key.Name,
		StreamURL: key.String(), StreamID: source.ID, TcURL: tcURL(r, key), PageURL: r.Referer(),
		Conn: resp, Kick: cancel,
	})
	log.Info("http: play start", "format", format, "stream", key.String(), "ip", ip, "url", r.URL.String())
	p := &httpPlayer{cid: cid, log: log, key: key, format: format, hr: hr, resp: resp, viewer: viewer,
		ctx: ctx, cancel: cancel, began: time.Now()}
	p.out = newFLVWriter(resp, v.Remux)
	if format != "flv" {
		p.out = &rawWriter{resp: resp, prefix: formatPrefix(format)}
	}
	// The connection is ours now: a fresh goroutine streams to it and
	// net/http's, with its deep stack and request state, ends here.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runPlayer(p)
	}()
}

// httpPlayer is an admitted HTTP player whose response has started.
type httpPlayer struct {
	cid, format string
	log         *slog.Logger
	key         hub.Key
	hr          hooks.Request
	resp        *httpx.LiveResponse
	viewer      *hub.Viewer
	out         batchWriter
	ctx         context.Context
	cancel      context.CancelFunc
	began       time.Time
}

// runPlayer streams to the player until it leaves, the publisher
// unpublishes, or the server stops, then cleans up.
func (s *Server) runPlayer(p *httpPlayer) {
	err := s.pump(p.ctx, p.resp, p.viewer, p.out)
	p.cancel()
	p.viewer.Close()
	p.resp.Close()
	s.Stats.Unregister(p.cid, err)
	p.log.Info("http: play end", "format", p.format, "stream", p.key.String(), "duration", time.Since(p.began).Round(time.Millisecond),
		"bytes", p.resp.BytesOut(), "drops", p.viewer.Drops(), "reason", endReason(err))
	s.Hooks.OnStop(context.Background(), s.hooksOf(p.key.Vhost), p.hr)
}

// admit runs SRS's checks for an HTTP player: security, then on_play (a
// player that disconnects meanwhile cancels its on_play).
func (s *Server) admit(r *http.Request, v Vhost, hr hooks.Request) error {
	if err := security.Check(v.Security, security.Play, security.ClientAddr(r.RemoteAddr)); err != nil {
		return err
	}
	return s.Hooks.OnPlay(r.Context(), v.Hooks, hr)
}

// hookRequest describes an HTTP player for hooks as SRS does: the tcUrl is
// rtmp://<vhost>/<app> and the page URL is the Referer.
func (s *Server) hookRequest(r *http.Request, cid, ip string, key hub.Key, streamID string) hooks.Request {
	param := ""
	if r.URL.RawQuery != "" {
		param = "?" + r.URL.RawQuery
	}
	return hooks.Request{
		ClientID: cid, IP: ip, Vhost: key.Vhost, App: key.App, Stream: key.Name, Param: param,
		TcURL: "rtmp://" + key.Vhost + "/" + key.App, PageURL: r.Referer(),
		StreamURL: key.String(), StreamID: streamID,
	}
}

// hooksOf returns the vhost's hooks as configured now (after any reload).
func (s *Server) hooksOf(vhost string) conf.HTTPHooks {
	if v, ok := s.Vhost(vhost); ok {
		return v.Hooks
	}
	return conf.HTTPHooks{}
}

// batchWriter writes one batch of a viewer's packets to its response.
type batchWriter interface {
	write([]hub.Delivery) error
}

// pump moves the viewer's packets to the response. A polled response is
// checked for the client's close between batches and at least every
// goneCheck while the stream is quiet; otherwise its reader cancels ctx.
func (s *Server) pump(ctx context.Context, resp *httpx.LiveResponse, viewer *hub.Viewer, out batchWriter) error {
	polled := resp.Polled()
	if !polled {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		resp.CancelOnGone(cancel)
	}
	buf := make([]hub.Delivery, initialBatch)
	began := time.Now()
	var lastCheck time.Time
	for {
		var n int
		var err error
		if polled {
			if time.Since(lastCheck) >= goneCheck {
				if resp.PollGone() {
					return errClientGone
				}
				lastCheck = time.Now()
			}
			n, err = viewer.ReadWithin(ctx, buf, goneCheck)
		} else {
			n, err = viewer.Read(ctx, buf)
		}
		if n > 0 {
			if werr := out.write(buf[:n]); werr != nil {
				return werr
			}
			// Bigger batches only for a stream that fills them once live,
			// not for the GOP cache's burst at the start (see rtmpserver).
			if n == len(buf) && len(buf) < maxBatch && time.Since(began) > joinBurst {
				buf = make([]hub.Delivery, min(2*len(buf), maxBatch))
			}
			clear(buf[:n])
		}
		if err != nil {
			return err
		}
	}
}

// goneCheck is how often a polled player's connection is checked for the
// client's close: one poll(2) call each.
const goneCheck = 200 * time.Millisecond

// joinBurst is how long after the start a full read is the GOP cache's burst.
const joinBurst = 3 * time.Second

var errClientGone = errors.New("client closed the connection")

// maxBatch is the most packets written at once, as SRS's merged write.
const maxBatch = 128

func endReason(err error) string {
	switch {
	case err == nil:
		return "done"
	case errors.Is(err, io.EOF):
		return "publisher left"
	case errors.Is(err, context.Canceled):
		return "client left, kicked or server stopping"
	}
	return err.Error()
}

func remoteIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

func tcURL(r *http.Request, key hub.Key) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s/%s", scheme, r.Host, key.App)
}
