package dash

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/castd/castd/internal/hub"
)

// Settings are a vhost's DASH settings when a stream is published.
type Settings struct {
	Enabled bool
	Config  Config
	Stream  hub.StreamOptions // for the viewer, should it create the stream
}

// EgressOptions configure an Egress.
type EgressOptions struct {
	Hub *hub.Hub
	Log *slog.Logger
	// Vhost returns a vhost's settings; it is read at every publish, so a
	// reload applies from a stream's next publish.
	Vhost func(vhost string) Settings
	Store Store            // DirStore when nil
	Now   func() time.Time // time.Now when nil
	// After starts the dash_dispose wait; time.After when nil (tests
	// fire it themselves).
	After func(time.Duration) <-chan time.Time
}

// Egress writes DASH for every published stream of a vhost with DASH on.
//
// Each stream gets a session: one viewer and one goroutine that feeds a
// Packager. The session outlives the publisher: a republish continues its
// numbering and timeline, and dash_dispose after the publisher left, its
// files are deleted and the viewer closes. The open viewer is what keeps
// the hub stream alive until then, and the single viewer is also why a
// republish never sees a packet twice: the new publisher's packets follow
// the old one's in the same cursor.
type Egress struct {
	hub   *hub.Hub
	log   *slog.Logger
	vhost func(string) Settings
	store Store
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
	wg    sync.WaitGroup // the sessions' goroutines

	mu        sync.Mutex
	sessions  map[hub.Key]*session
	finishing map[hub.Key]*session // left sessions whose goroutine still runs (flushing, deleting)
}

// NewEgress returns an Egress; sessions start with Published.
func NewEgress(o EgressOptions) *Egress {
	e := &Egress{hub: o.Hub, log: o.Log, vhost: o.Vhost, store: o.Store, now: o.Now, after: o.After,
		sessions: map[hub.Key]*session{}, finishing: map[hub.Key]*session{}}
	if e.after == nil {
		e.after = time.After
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.store == nil {
		e.store = DirStore{}
	}
	return e
}

// session is one stream's DASH output; the fields after wake are guarded
// by Egress.mu.
type session struct {
	e      *Egress
	key    hub.Key
	layout Layout
	pk     *Packager // owned by the running goroutine
	log    *slog.Logger
	wake   chan struct{} // a publish or retirement, for a session waiting to dispose

	cfg       Config
	publishes uint64             // counts Published: a publish may come and go while the session is idle
	stopLive  context.CancelFunc // ends the current publish's reading
	live      context.Context
	running   bool          // a goroutine reads the stream
	done      chan struct{} // closed when that goroutine ends
	retired   bool          // replaced or turned off: never resumes
}

// Published starts or resumes the stream's session; ctx is the server's.
// It returns at once: the work runs on the session's goroutine.
func (e *Egress) Published(ctx context.Context, st *hub.Stream) {
	key := st.Key
	set := e.vhost(key.Vhost)
	var layout Layout
	if set.Enabled {
		var err error
		if layout, err = NewLayout(set.Config, key.Vhost, key.App, key.Name); err != nil {
			e.log.Warn("DASH: stream not written", "stream", key.String(), "err", err)
			set.Enabled = false
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.sessions[key]
	if s != nil && (!set.Enabled || s.layout != layout) {
		// DASH was turned off or its files moved (a reload): the old files
		// go now (with dash_dispose), the new ones start afresh.
		s.retireLocked()
		s = nil
	}
	if !set.Enabled {
		return
	}
	if s == nil {
		s = &session{e: e, key: key, layout: layout, wake: make(chan struct{}, 1),
			log: e.log.With("stream", key.String(), "mpd", layout.MPD)}
		s.pk = NewPackager(Options{Config: set.Config, Layout: layout, Store: e.store, Log: s.log, Now: e.now})
		e.sessions[key] = s
	}
	s.cfg = set.Config
	s.publishes++
	if s.stopLive != nil {
		s.stopLive() // the previous publish's unpublish may still be on its way
	}
	s.live, s.stopLive = context.WithCancel(ctx)
	if s.running {
		s.wakeUp()
		return
	}
	var prev <-chan struct{}
	if f := e.finishing[key]; f != nil {
		prev = f.done // its files are the same: let it finish first
	}
	v := e.hub.Play(key, hub.ClientInfo{ID: "dash", Protocol: "dash"}, set.Stream, hub.ViewerOptions{Jitter: hub.JitterOff})
	s.running, s.done = true, make(chan struct{})
	s.log.Info("DASH: writing", "dir", layout.Dir)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		s.run(ctx, v, prev, s.done)
	}()
}

// Wait returns when every session's goroutine has ended: after the context
// given to Published is done, the files being written are complete.
func (e *Egress) Wait() { e.wg.Wait() }

// Unpublished ends the current publish's reading: the session writes what
// it gathered and waits for a republish or dash_dispose.
func (e *Egress) Unpublished(st *hub.Stream) {
	if st.Publishing() {
		return // a new publisher already took over; its Published switched
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.sessions[st.Key]; s != nil && s.stopLive != nil {
		s.stopLive()
	}
}

// retireLocked takes a session out of service; call with e.mu held.
func (s *session) retireLocked() {
	s.retired = true
	if s.stopLive != nil {
		s.stopLive()
	}
	s.leaveLocked()
	s.wakeUp() // one waiting for dash_dispose deletes its files now
}

// wakeUp makes a session waiting for dash_dispose look at its state again.
func (s *session) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// leaveLocked removes the session from the egress; a new session of the
// stream waits for this one's goroutine. Call with e.mu held.
func (s *session) leaveLocked() {
	e := s.e
	if e.sessions[s.key] == s {
		delete(e.sessions, s.key)
	}
	if s.running {
		e.finishing[s.key] = s
	}
}

// stopLocked marks the goroutine as ending, in the same critical section
// that decided it, so a Published that follows starts a new one. Call with
// e.mu held.
func (s *session) stopLocked(leave bool) {
	if leave {
		s.leaveLocked()
	}
	s.running = false
}

// run reads the stream across publishes until the files are disposed, the
// session goes dormant (dash_dispose 0) or the server stops.
func (s *session) run(ctx context.Context, v *hub.Viewer, prev <-chan struct{}, done chan struct{}) {
	e := s.e
	defer func() {
		v.Close()
		e.mu.Lock()
		if e.finishing[s.key] == s {
			delete(e.finishing, s.key)
		}
		e.mu.Unlock()
		close(done)
	}()
	if prev != nil {
		select {
		case <-prev:
		case <-ctx.Done():
			e.mu.Lock()
			s.stopLocked(true)
			e.mu.Unlock()
			return
		}
	}
	buf := make([]hub.Delivery, 128)
	for {
		e.mu.Lock()
		live, cfg, gen := s.live, s.cfg, s.publishes
		e.mu.Unlock()
		s.pk.SetConfig(cfg)
		s.pk.Publish()
		s.read(live, v, buf)
		if err := s.pk.Flush(); err != nil {
			s.log.Warn("DASH: cannot write", "err", err)
		}
		nextVideo, nextAudio := s.pk.Numbers()
		s.log.Info("DASH: publish ended", "next_video_number", nextVideo, "next_audio_number", nextAudio, "dispose", cfg.Dispose)
		if !s.idle(ctx, gen) {
			return
		}
	}
}

// read feeds the packager until the publish ends and everything it sent
// was read (Read returns the context's error only when caught up).
func (s *session) read(live context.Context, v *hub.Viewer, buf []hub.Delivery) {
	failed := false
	for {
		n, err := v.Read(live, buf)
		if err != nil {
			return
		}
		for i := range buf[:n] {
			if err := s.pk.Write(buf[i].Packet, buf[i].Timestamp); err != nil {
				if !failed {
					s.log.Warn("DASH: cannot write; further errors of this publish are logged at debug level", "err", err)
				} else {
					s.log.Debug("DASH: cannot write", "err", err)
				}
				failed = true
			}
			buf[i] = hub.Delivery{}
		}
	}
}

// idle waits, after publish number gen ended, for a later publish (true:
// its packets are in the viewer, even when it has already ended) or until
// the files are disposed, the session goes dormant or the server stops
// (false).
func (s *session) idle(ctx context.Context, gen uint64) bool {
	e := s.e
	e.mu.Lock()
	if s.publishes != gen {
		e.mu.Unlock()
		return true
	}
	delay := s.cfg.Dispose
	switch {
	case ctx.Err() != nil:
		s.stopLocked(true)
		e.mu.Unlock()
		return false // the files stay for the next start
	case delay <= 0:
		// dash_dispose 0: the files stay. The session stays too, without a
		// viewer (the hub may free the stream), so a republish continues
		// the numbering; a retired one just ends.
		s.stopLocked(s.retired)
		e.mu.Unlock()
		return false
	case s.retired:
		delay = 0 // turned off or moved: its files go now
	}
	e.mu.Unlock()
	var expired <-chan time.Time
	if delay > 0 {
		expired = e.after(delay)
	} else {
		now := make(chan time.Time)
		close(now)
		expired = now
	}
	for {
		timeUp := false
		select {
		case <-s.wake: // a republish, or the session was retired
		case <-expired:
			timeUp = true
		case <-ctx.Done():
			e.mu.Lock()
			s.stopLocked(true)
			e.mu.Unlock()
			return false
		}
		e.mu.Lock()
		if s.publishes != gen {
			e.mu.Unlock()
			return true
		}
		if !timeUp && !s.retired {
			e.mu.Unlock()
			continue
		}
		s.stopLocked(true)
		e.mu.Unlock()
		if err := s.pk.Dispose(); err != nil {
			s.log.Warn("DASH: cannot delete all files", "err", err)
		}
		s.log.Info("DASH: files deleted", "idle", delay, "retired", !timeUp)
		return false
	}
}
