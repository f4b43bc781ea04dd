package caster

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// StartFLV serves an flv caster on ln in the background until ctx ends:
// each POST /<app>/<stream>.flv with an FLV body is published to output,
// an rtmp:// URL template where [app] and [stream] are filled in from the
// path. The caster owns ln from then on and closes it, and every
// connection, when ctx ends. wait blocks until every request handler has
// returned. An error (a bad output) means nothing was started and ln is
// still the caller's.
func StartFLV(ctx context.Context, ln net.Listener, output string, opt Options) (wait func(), err error) {
	if err := CheckOutput("flv", output); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	opt.Log = opt.Log.With("caster", "flv", "listen", ln.Addr().String())
	h := &flvHandler{output: output, opt: opt, stopped: ctx.Done(), dial: dialRTMP}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 15 * time.Second,
		IdleTimeout:       15 * time.Second,
		ErrorLog:          slog.NewLogLogger(opt.Log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && ctx.Err() == nil {
			opt.Log.Error("caster: HTTP server failed", "err", err)
		}
	}()
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	return func() {
		<-done
		stop()
		srv.Close() // Serve may have failed on its own
		h.requests.wait()
	}, nil
}

// requestGroup counts running handlers. Unlike a bare WaitGroup it refuses
// new handlers once wait started, so Add never races with Wait.
type requestGroup struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func (g *requestGroup) add() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Add(1)
	return true
}

func (g *requestGroup) done() { g.wg.Done() }

func (g *requestGroup) wait() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}
