package hls

import (
	"context"
	"log/slog"
	"net"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/stats"
)

// Options wire an Egress to the server.
type Options struct {
	Hub   *hub.Hub
	Hooks *hooks.Client
	Stats *stats.Registry
	Log   *slog.Logger
	// Config returns the server's configuration now: a reload changes the
	// hooks and sessions at once, and the muxing at the next publish.
	Config func() *conf.Config
	// Context is the server's lifetime; muxers and sessions end with it.
	Context func() context.Context
	// Go runs f on a goroutine the server waits for when it stops.
	Go func(f func())
	// Kick ends a client by its id: hls_on_error disconnect kicks the
	// publisher. Nil cannot kick.
	Kick func(clientID string) error
	Now  func() time.Time // nil is time.Now
}

// Egress writes HLS for every stream of a vhost with hls enabled and
// serves hls_ctx sessions. It implements the server's egress interface
// (Published, Unpublished, Front) and Wait for a graceful quit.
type Egress struct {
	opt     Options
	cwd     string
	mu      sync.Mutex
	streams map[hub.Key]*streamState
	// following is the publish each stream's HLS was last started for, so
	// a reload starting HLS for live streams skips those it already has.
	following map[hub.Key]publishID
	// reloads counts reloads: a muxing goroutine that sees it change
	// applies its vhost's new hls{} settings.
	reloads  atomic.Uint64
	sessions sessions
	// publishes counts the publishes being followed (from Published to
	// finish); allDone is closed when it drops to 0. Guarded by mu.
	publishes int
	allDone   chan struct{}
}

// New returns an Egress.
func New(opt Options) *Egress {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Go == nil {
		opt.Go = func(f func()) { go f() }
	}
	cwd, _ := os.Getwd() // on_hls's cwd; "" when unknown, as the hook allows
	e := &Egress{opt: opt, cwd: cwd, streams: map[hub.Key]*streamState{}, following: map[hub.Key]publishID{}}
	e.sessions.init(e)
	return e
}

// streamState is one stream's HLS between its first publish and its
// disposal: the muxer, and the goroutine that runs it.
type streamState struct {
	key hub.Key
	// next hands a republish to the goroutine; only Published sends, with
	// Egress.mu held, after draining it, so a send never blocks.
	next chan *publishing
	// Guarded by Egress.mu.
	running   bool // a goroutine owns the state
	disposing bool // the goroutine is deleting the files; a publish makes a new state
	done      chan struct{}

	// Owned by the running goroutine.
	muxer     *Muxer
	pub       *publishing
	release   func() // the hub hold that keeps the stream until disposal
	lastMedia time.Time
	errLogged time.Time
	errCount  int
}

// publishing is one publish of a stream, as the muxer sees it.
type publishing struct {
	stream    *hub.Stream
	viewer    *hub.Viewer
	publisher hub.ClientInfo
	cfg       conf.HLS
	loc       *time.Location
}

// viewerOptions read the stream as SRS's HLS does: the publisher's own
// timestamps, no merged writes, ended by the unpublish.
func viewerOptions() hub.ViewerOptions {
	return hub.ViewerOptions{Jitter: hub.JitterOff, StopOnUnpublish: true}
}

// Published starts or resumes the stream's HLS when its vhost has hls on.
// It attaches the viewer at once, so no packet of the publish is missed.
func (e *Egress) Published(st *hub.Stream) {
	e.publish(st, e.opt.Config(), false)
}

// publishID tells one publish of a stream from the next.
type publishID struct {
	client string
	at     time.Time
}

// publish starts HLS for the stream's current publish; onlyNew skips a
// publish the egress already follows (a reload racing the hub's event).
func (e *Egress) publish(st *hub.Stream, cfg *conf.Config, onlyNew bool) {
	v := cfg.Vhost(st.Key.Vhost)
	if v == nil || !v.Enabled || !v.HLS.Enabled {
		return
	}
	snap := st.Snapshot()
	who, id := snap.Publisher, publishID{snap.Publisher.ID, snap.PublishedAt}
	e.mu.Lock()
	if onlyNew && e.following[st.Key] == id {
		e.mu.Unlock()
		return
	}
	e.following[st.Key] = id
	e.mu.Unlock()
	pub := &publishing{
		stream:    st,
		viewer:    e.opt.Hub.Play(st.Key, hub.ClientInfo{ID: who.ID, Protocol: "hls", Addr: who.Addr, TcURL: who.TcURL, Param: who.Param}, st.Options(), viewerOptions()),
		publisher: who,
		cfg:       v.HLS,
		loc:       time.Local,
	}
	if cfg.UTCTime {
		pub.loc = time.UTC
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.publishes == 0 {
		e.allDone = make(chan struct{})
	}
	e.publishes++
	s := e.streams[st.Key]
	switch {
	case s == nil || s.disposing:
		var prev chan struct{}
		if s != nil {
			prev = s.done
		}
		s = &streamState{key: st.Key, next: make(chan *publishing, 1), done: make(chan struct{}), running: true}
		e.streams[st.Key] = s
		e.opt.Go(func() { e.run(s, pub, prev) })
	case s.running:
		select {
		case stale := <-s.next: // published and gone before the goroutine looked
			e.finishLocked(stale)
		default:
		}
		s.next <- pub
	default:
		s.running = true
		e.opt.Go(func() { e.run(s, pub, nil) })
	}
}

// Unpublished needs nothing: the viewer ends after the last packet.
func (e *Egress) Unpublished(*hub.Stream) {}

// finish ends a publish's part: its viewer, and its count for Wait.
func (e *Egress) finish(pub *publishing) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finishLocked(pub)
}

func (e *Egress) finishLocked(pub *publishing) {
	pub.viewer.Close()
	e.publishes--
	if e.publishes == 0 {
		close(e.allDone)
	}
}

// Wait returns once every publish has ended and its last segment is
// listed, with its hooks queued, or when ctx is done: a graceful quit
// waits for it before it sends the last hooks.
func (e *Egress) Wait(ctx context.Context) {
	for {
		e.mu.Lock()
		n, done := e.publishes, e.allDone
		e.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
}

// run owns a stream's state: it muxes each publish, then waits for the
// next one or for hls_dispose. prev, when set, is a disposal of the same
// stream still deleting files, which must finish first.
func (e *Egress) run(s *streamState, pub *publishing, prev chan struct{}) {
	ctx := e.opt.Context()
	if prev != nil {
		select {
		case <-prev:
		case <-ctx.Done():
			e.finish(pub)
			return
		}
	}
	for pub != nil {
		e.serve(ctx, s, pub)
		pub = e.idle(ctx, s)
	}
}

// serve muxes one publish until the publisher leaves or the server stops.
func (e *Egress) serve(ctx context.Context, s *streamState, pub *publishing) {
	defer e.finish(pub)
	log := e.opt.Log.With(logging.CID(pub.publisher.ID))
	s.pub = pub
	if pub.cfg.Dispose > 0 && s.release == nil {
		s.release = e.opt.Hub.Hold(pub.stream)
	}
	if err := e.begin(s, pub, log); err != nil {
		log.Error("hls: cannot write this stream", "stream", s.key.String(), "err", err)
		drain(ctx, pub.viewer)
		return
	}
	log.Info("hls: start", "stream", s.key.String(), "playlist", s.muxer.Playlist(), "seq", s.muxer.NextSeq())
	s.lastMedia = e.opt.Now()
	buf := make([]hub.Delivery, 128)
	skips := pub.viewer.Skips()
	stopped := false // hls_on_error ignore or disconnect
	want := viewerOptions()
	reloads := e.reloads.Load()
	for {
		if r := e.reloads.Load(); r != reloads {
			reloads = r
			if !e.reconfigure(s, pub, log) {
				break
			}
			stopped = false
		}
		// A reload gives every viewer its vhost's play settings; HLS keeps its own.
		if pub.viewer.Options() != want {
			pub.viewer.SetOptions(want)
		}
		n, err := pub.viewer.Read(ctx, buf)
		if n > 0 {
			s.lastMedia = e.opt.Now()
		}
		if sk := pub.viewer.Skips(); sk != skips {
			skips = sk
			s.muxer.Gap()
		}
		for i := range buf[:n] {
			if !stopped {
				if werr := s.muxer.Write(buf[i].Packet); werr != nil {
					stopped = e.failed(s, pub, log, werr)
				}
			}
			buf[i] = hub.Delivery{}
		}
		if err != nil {
			break
		}
	}
	if err := s.muxer.End(); err != nil && !stopped {
		e.failed(s, pub, log, err)
	}
	log.Info("hls: end", "stream", s.key.String(), "next_seq", s.muxer.NextSeq())
}

// Reload applies a new config to live streams: those already muxed take
// their vhost's new hls{} settings at their next packet (a new segment,
// with a discontinuity), or stop when HLS was turned off; streams of
// vhosts that turned HLS on start now, at their GOP cache.
func (e *Egress) Reload(cfg *conf.Config) {
	e.reloads.Add(1)
	for _, st := range e.opt.Hub.Streams() {
		if st.Key.Variant == "" && st.Publishing() {
			e.publish(st, cfg, true)
		}
	}
}

// reconfigure applies the current config to a publish being muxed after a
// reload, and reports whether HLS goes on for it.
func (e *Egress) reconfigure(s *streamState, pub *publishing, log *slog.Logger) bool {
	v := e.opt.Config().Vhost(s.key.Vhost)
	if v == nil || !v.Enabled || !v.HLS.Enabled {
		log.Info("hls: turned off by a reload", "stream", s.key.String())
		e.mu.Lock()
		delete(e.following, s.key) // turning it on again restarts it
		e.mu.Unlock()
		return false
	}
	if reflect.DeepEqual(v.HLS, pub.cfg) {
		return true
	}
	if err := s.muxer.Reconfigure(v.HLS); err != nil {
		log.Warn("hls: reload: ending the segment", "stream", s.key.String(), "err", err)
	}
	pub.cfg = v.HLS
	log.Info("hls: settings reloaded", "stream", s.key.String(), "playlist", s.muxer.Playlist())
	return true
}

func (e *Egress) begin(s *streamState, pub *publishing, log *slog.Logger) error {
	if s.muxer == nil {
		m, err := NewMuxer(MuxerOptions{
			Key: s.key, Config: pub.cfg, Location: pub.loc, Log: log, Now: e.opt.Now,
			OnSegment: func(seg Segment) { e.segmentHooks(s, seg) },
		})
		if err != nil {
			return err
		}
		s.muxer = m
	}
	return s.muxer.Begin(pub.cfg)
}

// failed applies hls_on_error to a write error and reports whether HLS
// stops for the rest of the publish: "continue" (the default) drops the
// segment and tries again at the next keyframe; "ignore" stops HLS until
// the next publish; "disconnect" stops it and kicks the publisher, whose
// encoder can then republish.
func (e *Egress) failed(s *streamState, pub *publishing, log *slog.Logger, err error) bool {
	s.muxer.Abandon()
	policy := pub.cfg.OnError
	switch policy {
	case "ignore", "disconnect":
		log.Error("hls: write failed; HLS stops until the next publish", "stream", s.key.String(), "hls_on_error", policy, "err", err)
		if policy == "disconnect" {
			e.kick(pub, log)
		}
		return true
	}
	// continue: one line per errorLogInterval, however often it fails.
	s.errCount++
	if now := e.opt.Now(); now.Sub(s.errLogged) >= errorLogInterval {
		log.Error("hls: write failed; dropping the segment and going on", "stream", s.key.String(), "errors", s.errCount, "err", err)
		s.errLogged, s.errCount = now, 0
	}
	return false
}

// errorLogInterval spaces the logs of a stream that keeps failing.
const errorLogInterval = 10 * time.Second

func (e *Egress) kick(pub *publishing, log *slog.Logger) {
	if e.opt.Kick == nil {
		log.Warn("hls: cannot kick the publisher: no kick function")
		return
	}
	if err := e.opt.Kick(pub.publisher.ID); err != nil {
		log.Warn("hls: kick the publisher", "client", pub.publisher.ID, "err", err)
	}
}

// idle waits for the next publish after one ended, or disposes the
// stream's files when no media came for hls_dispose (also when the server
// stops, as SRS disposes on quit). It returns the next publish, or nil
// when the goroutine ends. With hls_dispose 0 the files stay and the
// state is kept without a goroutine, so a republish continues numbering.
func (e *Egress) idle(ctx context.Context, s *streamState) *publishing {
	dispose := s.pub.cfg.Dispose
	if dispose <= 0 {
		e.mu.Lock()
		defer e.mu.Unlock()
		select {
		case pub := <-s.next:
			return pub
		default:
		}
		s.running = false
		if s.release != nil {
			s.release()
			s.release = nil
		}
		return nil
	}
	t := time.NewTimer(max(dispose-e.opt.Now().Sub(s.lastMedia), 0))
	defer t.Stop()
	select {
	case pub := <-s.next:
		return pub
	case <-ctx.Done():
	case <-t.C:
	}
	e.mu.Lock()
	if ctx.Err() == nil {
		select {
		case pub := <-s.next: // came as the timer fired
			e.mu.Unlock()
			return pub
		default:
		}
	}
	s.disposing = true
	e.mu.Unlock()
	e.dispose(s)
	return nil
}

// dispose deletes the stream's files and frees the state and the stream.
func (e *Egress) dispose(s *streamState) {
	if s.muxer != nil {
		if err := s.muxer.Dispose(); err != nil {
			e.opt.Log.Warn("hls: dispose", "stream", s.key.String(), "err", err)
		}
		e.opt.Log.Info("hls: disposed", "stream", s.key.String(), "playlist", s.muxer.Playlist())
	}
	e.mu.Lock()
	if e.streams[s.key] == s {
		delete(e.streams, s.key)
		delete(e.following, s.key)
	}
	s.running = false
	select {
	case pub := <-s.next: // the server stopped with a publish pending
		e.finishLocked(pub)
	default:
	}
	e.mu.Unlock()
	if s.release != nil {
		s.release()
		s.release = nil
	}
	close(s.done)
}

// drain reads a publish HLS cannot write, so the goroutine notices when it ends.
func drain(ctx context.Context, v *hub.Viewer) {
	buf := make([]hub.Delivery, 128)
	for {
		n, err := v.Read(ctx, buf)
		clear(buf[:n])
		if err != nil {
			return
		}
	}
}

// segmentHooks sends on_hls and on_hls_notify for a closed segment with the
// vhost's hooks as configured now.
func (e *Egress) segmentHooks(s *streamState, seg Segment) {
	if e.opt.Hooks == nil {
		return
	}
	v := e.opt.Config().Vhost(s.key.Vhost)
	if v == nil {
		return
	}
	pub := s.pub
	r := hooks.Request{
		ClientID: pub.publisher.ID, IP: hostOf(pub.publisher.Addr), Vhost: s.key.Vhost, App: s.key.App,
		Stream: s.key.Name, Param: pub.publisher.Param, TcURL: pub.publisher.TcURL, StreamURL: s.key.String(), StreamID: pub.stream.ID,
	}
	e.opt.Hooks.OnHLS(v.HTTPHooks, r, hooks.HLSSegment{
		Cwd: e.cwd, File: seg.File, URI: seg.URI, M3U8: seg.M3U8, M3U8URL: seg.M3U8URL, SeqNo: seg.Seq, Duration: seg.Duration,
	})
	e.opt.Hooks.OnHLSNotify(v.HTTPHooks, r, seg.URI, v.HLS.NbNotify)
}

func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
