package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/execpub"
	"github.com/castd/castd/internal/forward"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/logging"
)

// streamTasks runs one goroutine of work per published stream (forward,
// exec): started on publish, cancelled on unpublish, and restarted with
// the new settings when a reload changes them. Each task is counted in the
// server's WaitGroup.
type streamTasks struct {
	s     *Server
	setup func(v *conf.Vhost) (key any, on bool) // the vhost's settings, compared on reload
	run   func(ctx context.Context, st *hub.Stream, v *conf.Vhost)

	mu   sync.Mutex
	runs map[*hub.Stream]*streamTask
}

type streamTask struct {
	key    any
	cancel context.CancelFunc
}

// Published starts the task when the vhost asks for it.
func (t *streamTasks) Published(st *hub.Stream) { t.start(st, t.s.config()) }

func (t *streamTasks) start(st *hub.Stream, cfg *conf.Config) {
	v := cfg.Vhost(st.Key.Vhost)
	if v == nil || !v.Enabled {
		return
	}
	key, on := t.setup(v)
	if !on {
		return
	}
	t.s.mu.Lock()
	ctx := t.s.ctx
	t.s.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	rctx, cancel := context.WithCancel(ctx)
	task := &streamTask{key: key, cancel: cancel}
	t.mu.Lock()
	if old := t.runs[st]; old != nil {
		old.cancel() // a publish whose unpublish we have not seen yet
	}
	t.runs[st] = task
	t.mu.Unlock()
	t.s.wg.Add(1)
	go func() {
		defer t.s.wg.Done()
		defer cancel()
		t.run(rctx, st, v)
		t.mu.Lock()
		if t.runs[st] == task {
			delete(t.runs, st)
		}
		t.mu.Unlock()
	}()
}

// Unpublished stops the stream's task, unless a new publisher already
// took the stream (its Published came first and replaced the task).
func (t *streamTasks) Unpublished(st *hub.Stream) {
	if st.Publishing() {
		return
	}
	t.mu.Lock()
	task := t.runs[st]
	delete(t.runs, st)
	t.mu.Unlock()
	if task != nil {
		task.cancel()
	}
}

// Front serves nothing over HTTP.
func (t *streamTasks) Front(_ *conf.Config, next http.Handler) http.Handler { return next }

// Reload restarts the tasks of streams whose vhost settings changed (and
// stops those turned off), and starts tasks for published streams of
// vhosts that turned them on.
func (t *streamTasks) Reload(cfg *conf.Config) {
	t.mu.Lock()
	running := map[*hub.Stream]bool{}
	for st, task := range t.runs {
		v := cfg.Vhost(st.Key.Vhost)
		if v != nil && v.Enabled {
			if key, on := t.setup(v); on && equalKeys(key, task.key) {
				running[st] = true
				continue
			}
		}
		task.cancel()
		delete(t.runs, st)
	}
	t.mu.Unlock()
	for _, st := range t.s.hub.Streams() {
		if st.Key.Variant == "" && st.Publishing() && !running[st] {
			t.start(st, cfg)
		}
	}
}

func equalKeys(a, b any) bool {
	switch a := a.(type) {
	case conf.Forward:
		b, ok := b.(conf.Forward)
		return ok && a.Enabled == b.Enabled && a.Backend == b.Backend && slices.Equal(a.Destination, b.Destination)
	case string: // transcode: its settings, printed
		b, ok := b.(string)
		return ok && a == b
	case edgeKey:
		b, ok := b.(edgeKey)
		return ok && a.vhost == b.vhost && a.debug == b.debug && slices.Equal(a.origins, b.origins)
	case conf.Exec:
		b, ok := b.(conf.Exec)
		return ok && a.Enabled == b.Enabled && slices.EqualFunc(a.Publish, b.Publish, slices.Equal[[]string])
	}
	return false
}

// publisherRequest is who published st, as hooks sent on its behalf see it.
func publisherRequest(st *hub.Stream) hooks.Request {
	pub := st.Snapshot().Publisher
	k := st.Key
	return hooks.Request{
		ClientID: pub.ID, IP: hostOf(pub.Addr), Vhost: k.Vhost, App: k.App, Stream: k.Name,
		Param: pub.Param, TcURL: pub.TcURL, StreamURL: k.String(), StreamID: st.ID,
	}
}

// newForward pushes published streams to vhost forward{} destinations.
func newForward(s *Server) *streamTasks {
	return &streamTasks{s: s, runs: map[*hub.Stream]*streamTask{},
		setup: func(v *conf.Vhost) (any, bool) {
			f := v.Forward
			f.Destination = slices.Clone(f.Destination)
			return f, f.Enabled && (len(f.Destination) > 0 || f.Backend != "")
		},
		run: func(ctx context.Context, st *hub.Stream, v *conf.Vhost) {
			info := s.rtmp.ServerInfo
			forward.Run(ctx, forward.Job{
				Key: st.Key, Publisher: publisherRequest(st), Forward: v.Forward,
				StreamOptions: streamOptions(v), ViewerOptions: viewerOptions(v),
			}, forward.Options{Hub: s.hub, Log: s.log, Backend: s.hooks.OnForward, Info: info})
		},
	}
}

// newExec runs vhost exec{} publish commands for published streams.
func newExec(s *Server) *streamTasks {
	return &streamTasks{s: s, runs: map[*hub.Stream]*streamTask{},
		setup: func(v *conf.Vhost) (any, bool) {
			e := conf.Exec{Enabled: v.Exec.Enabled, Publish: slices.Clone(v.Exec.Publish)}
			return e, e.Enabled && len(e.Publish) > 0
		},
		run: func(ctx context.Context, st *hub.Stream, v *conf.Vhost) {
			req := publisherRequest(st)
			vars := execpub.Vars{Vhost: st.Key.Vhost, App: st.Key.App, Stream: st.Key.Name, Param: req.Param, TcURL: req.TcURL}
			if u, err := url.Parse(req.TcURL); err == nil {
				vars.Host = u.Hostname()
				vars.Port, _ = strconv.Atoi(u.Port())
			}
			execpub.Run(ctx, v.Exec.Publish, vars, execpub.Options{Log: s.log.With(logging.CID(req.ClientID), "stream", st.Key.String())})
		},
	}
}
