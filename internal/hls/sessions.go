package hls

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/stats"
)

// CtxParam is the query parameter that names an HLS session.
const CtxParam = "hls_ctx"

// sessions are SRS's hls_ctx sessions: one per player, made by its first
// playlist request, listed by the API as an hls-play client, ended
// 2×hls_window after its last request.
type sessions struct {
	e     *Egress
	mu    sync.Mutex
	byID  map[string]*session
	watch sync.Once // ends every session when the server stops
}

func (ss *sessions) init(e *Egress) {
	ss.e = e
	ss.byID = map[string]*session{}
}

// session is one player. A kicked session stays known, answering 404,
// until it expires, so a kicked player cannot come back with its old id.
type session struct {
	id      string
	key     hub.Key
	vhost   string
	hr      hooks.Request
	last    atomic.Int64 // unix nanoseconds of the last request
	timeout atomic.Int64 // 2×hls_window as a duration
	sent    atomic.Int64
	timer   *time.Timer
	// Guarded by sessions.mu.
	kicked bool
	ended  bool
}

// BytesIn and BytesOut make a session a stats.Counter.
func (s *session) BytesIn() int64  { return 0 }
func (s *session) BytesOut() int64 { return s.sent.Load() }

// find returns the session with id, and whether it was kicked.
func (ss *sessions) find(id string) (*session, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.byID[id]
	if s == nil {
		return nil, false
	}
	return s, s.kicked
}

// touch records a request of n bytes and the session's current timeout.
func (ss *sessions) touch(s *session, v *conf.Vhost, n int64) {
	s.last.Store(ss.e.opt.Now().UnixNano())
	s.timeout.Store(int64(sessionTimeout(v)))
	s.sent.Add(n)
}

// sessionTimeout is SRS's: twice the playlist's span.
func sessionTimeout(v *conf.Vhost) time.Duration { return max(2*v.HLS.Window, time.Second) }

// add creates and registers a session.
func (ss *sessions) add(id string, key hub.Key, v *conf.Vhost, hr hooks.Request, c *stats.Client) *session {
	s := &session{id: id, key: key, vhost: v.Name, hr: hr}
	ss.touch(s, v, 0)
	c.Conn = s
	c.Kick = func() { ss.kick(s) }
	ss.mu.Lock()
	ss.byID[id] = s
	s.timer = time.AfterFunc(sessionTimeout(v), func() { ss.expire(s) })
	ss.mu.Unlock()
	ss.e.opt.Stats.Register(c)
	ss.watch.Do(func() {
		ctx := ss.e.opt.Context()
		context.AfterFunc(ctx, ss.closeAll)
	})
	return s
}

// remove drops a session refused by security or on_play.
func (ss *sessions) remove(s *session, err error) {
	ss.mu.Lock()
	s.ended = true
	s.timer.Stop()
	delete(ss.byID, s.id)
	ss.mu.Unlock()
	ss.e.opt.Stats.Unregister(s.id, err)
}

// kick is the API's kick: the client leaves the API at once and later
// requests get 404; on_stop comes when the session expires, as in SRS.
func (ss *sessions) kick(s *session) {
	ss.mu.Lock()
	if s.kicked || s.ended {
		ss.mu.Unlock()
		return
	}
	s.kicked = true
	ss.mu.Unlock()
	ss.e.opt.Stats.Unregister(s.id, nil)
	ss.e.opt.Log.Info("hls: session kicked", "session", s.id, "stream", s.key.String())
}

// expire ends a session idle for its timeout, or re-arms the timer.
func (ss *sessions) expire(s *session) {
	ss.mu.Lock()
	if s.ended {
		ss.mu.Unlock()
		return
	}
	// A kicked session's requests are refused without touching it, so it
	// expires like an idle one.
	idle := ss.e.opt.Now().Sub(time.Unix(0, s.last.Load()))
	if left := time.Duration(s.timeout.Load()) - idle; left > 0 {
		s.timer.Reset(left)
		ss.mu.Unlock()
		return
	}
	s.ended = true
	delete(ss.byID, s.id)
	kicked := s.kicked
	ss.mu.Unlock()
	if !kicked {
		ss.e.opt.Stats.Unregister(s.id, nil)
	}
	ss.e.opt.Log.Info("hls: session ended", "session", s.id, "stream", s.key.String(), "bytes", s.sent.Load())
	if h := ss.e.opt.Hooks; h != nil {
		if v := ss.e.opt.Config().Vhost(s.vhost); v != nil {
			h.OnStop(context.Background(), v.HTTPHooks, s.hr)
		}
	}
}

// closeAll ends every session when the server stops, without hooks: the
// hook client is closing too.
func (ss *sessions) closeAll() {
	ss.mu.Lock()
	var live []string
	for id, s := range ss.byID {
		s.timer.Stop()
		if !s.ended && !s.kicked {
			live = append(live, id)
		}
		s.ended = true
		delete(ss.byID, id)
	}
	ss.mu.Unlock()
	for _, id := range live {
		ss.e.opt.Stats.Unregister(id, nil)
	}
}

// newID picks a new session's id: the one the client asked for, when it
// is a plausible id that names no other client, else a fresh one.
func (ss *sessions) newID(asked string) string {
	if validCtx(asked) {
		if _, taken := ss.e.opt.Stats.Client(asked); !taken {
			ss.mu.Lock()
			_, known := ss.byID[asked]
			ss.mu.Unlock()
			if !known {
				return asked
			}
		}
	}
	return ids.NewCID()
}

// validCtx accepts ids made of letters, digits, '-' and '_', which need no
// escaping in URLs, logs or JSON.
func validCtx(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// sessionNotFound answers a kicked session's request as SRS does.
func sessionNotFound(w http.ResponseWriter, id string) {
	http.Error(w, "HLS stream "+id+" is EOF", http.StatusNotFound)
}
