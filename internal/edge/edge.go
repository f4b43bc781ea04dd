package edge

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// Defaults, SRS's (SRS_EDGE_INGESTER_*, SRS_EDGE_FORWARDER_*).
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultRetry          = 3 * time.Second
	// maxRedirects bounds RTMP 302 hops in a row, so two origins that
	// send players to each other cannot keep a pull busy.
	maxRedirects = 3
	// playerPoll is how often a pull checks that players remain.
	playerPoll = 500 * time.Millisecond
)

// ProtocolPull is the hub protocol of a stream an edge pulls; the edge
// pushes every other publish on an edge vhost to its origin.
const ProtocolPull = "edge"

// Options configure an Edge.
type Options struct {
	Hub *hub.Hub
	Log *slog.Logger
	// Vhost returns the current settings of vhost; ok is false when it is
	// gone, disabled or no longer an edge.
	Vhost func(vhost string) (c conf.Cluster, sopt hub.StreamOptions, ok bool)
	// Info fills the srs_* connect argument (cluster debug_srs_upnode).
	Info rtmp.ServerInfo
	// HTTPClient pulls HTTP-FLV (protocol flv/flvs); nil is a default
	// client. Its CheckRedirect is replaced: up to 3 redirects, as SRS.
	HTTPClient *http.Client
	// ConnectTimeout bounds dial, handshake, connect and play; 0 is 5 s.
	ConnectTimeout time.Duration
	// Retry is the pause before the next origin after a failure; 0 is 3 s.
	Retry time.Duration
	// Context is the pulls' lifetime (the server's); nil or done starts
	// none.
	Context func() context.Context
}

// Edge runs the pulls of every edge vhost.
type Edge struct {
	opt Options
	wg  sync.WaitGroup

	mu    sync.Mutex
	pulls map[hub.Key]*pull
	next  map[string]int // round-robin position per vhost
}

// New returns an Edge; its pulls end with opt.Context.
func New(opt Options) *Edge {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = DefaultConnectTimeout
	}
	if opt.Retry <= 0 {
		opt.Retry = DefaultRetry
	}
	hc := http.Client{}
	if opt.HTTPClient != nil {
		hc = *opt.HTTPClient
	}
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return errTooManyRedirects
		}
		return nil
	}
	opt.HTTPClient = &hc
	return &Edge{opt: opt, pulls: map[hub.Key]*pull{}, next: map[string]int{}}
}

// Wait blocks until every pull has ended (after the context ends).
func (e *Edge) Wait() { e.wg.Wait() }

// IsPlayer reports whether a viewer is a client that keeps a pull going:
// not the stream's own muxers and pushers (HLS, DASH, DVR, forward).
func IsPlayer(who hub.ClientInfo) bool {
	switch who.Protocol {
	case "hls", "dash", "dvr", "forward", ProtocolPull:
		return false
	}
	return true
}

// Joined starts a pull when a player joins a stream of an edge vhost that
// nobody publishes here. It returns at once (hub.Events.Joined).
func (e *Edge) Joined(s *hub.Stream, who hub.ClientInfo) {
	if s.Key.Variant != "" || !IsPlayer(who) || s.Publishing() {
		return
	}
	e.ensure(s.Key, Client{ID: who.ID, TcURL: who.TcURL, Param: who.Param, Protocol: who.Protocol})
}

// Unpublished restarts the pull of a stream whose local publisher left
// while players still wait for it.
func (e *Edge) Unpublished(s *hub.Stream) {
	if s.Key.Variant != "" || s.Publishing() || s.CountViewers(IsPlayer) == 0 {
		return
	}
	e.ensure(s.Key, Client{TcURL: s.Snapshot().TcURL})
}

// Pulling reports whether a pull runs for key (tests, API).
func (e *Edge) Pulling(key hub.Key) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pulls[key] != nil
}

// context is the server's, nil before it starts.
func (e *Edge) context() context.Context {
	if e.opt.Context == nil {
		return nil
	}
	return e.opt.Context()
}

func (e *Edge) ensure(key hub.Key, cl Client) {
	ctx := e.context()
	c, _, ok := e.opt.Vhost(key.Vhost)
	if !ok || ctx == nil || ctx.Err() != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pulls[key] != nil {
		return
	}
	p := newPull(e, ctx, key, c, cl)
	e.pulls[key] = p
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		p.run()
		e.mu.Lock()
		delete(e.pulls, key)
		e.mu.Unlock()
		// A player that joined while the pull was ending found it still
		// in the map; it must not be left waiting.
		if s := e.opt.Hub.Stream(key); s != nil && !s.Publishing() && s.CountViewers(IsPlayer) > 0 && ctx.Err() == nil {
			e.ensure(key, cl)
		}
	}()
}

// pick returns the next origin of vhost, round-robin.
func (e *Edge) pick(vhost string, n int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.next[vhost] % n
	e.next[vhost] = i + 1
	return i
}
