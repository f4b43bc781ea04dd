package forward

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// DefaultRetry is how long a forwarder waits before it reconnects, as SRS
// (SRS_FORWARDER_CIMS).
const DefaultRetry = 3 * time.Second

// Backend asks a forward backend for extra destination URLs
// (hooks.Client.OnForward).
type Backend func(ctx context.Context, backendURL string, r hooks.Request) ([]string, error)

// Options configure forwarding; they are shared by every stream.
type Options struct {
	Hub     *hub.Hub
	Log     *slog.Logger
	Backend Backend // nil ignores forward.backend
	// Info is what castd says about itself in each forward connect's extra
	// argument (srs_sig, srs_server, srs_pid, ... and srs_id, the
	// forwarder's context id), so that the destination's logs can name the
	// server that pushes.
	Info rtmp.ServerInfo
	// PlainConnect sends no srs_* connect argument (cluster
	// debug_srs_upnode off).
	PlainConnect bool
	// Retry is the reconnect delay; 0 is DefaultRetry.
	Retry time.Duration
	// ConnectTimeout bounds dial, handshake, connect and publish; 0 is 10 s.
	ConnectTimeout time.Duration
}

func (opt Options) withDefaults() Options {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Retry <= 0 {
		opt.Retry = DefaultRetry
	}
	if opt.ConnectTimeout <= 0 {
		opt.ConnectTimeout = 10 * time.Second
	}
	return opt
}

// Job is one published stream to forward.
type Job struct {
	Key hub.Key
	// Publisher is who published the stream: the on_forward body reports
	// its client id, ip, tcUrl and param.
	Publisher hooks.Request
	Forward   conf.Forward
	// StreamOptions and ViewerOptions are the vhost's play settings, for
	// the forwarders' viewers (GOP cache, time_jitter).
	StreamOptions hub.StreamOptions
	ViewerOptions hub.ViewerOptions
}

// Run forwards job until ctx is done or the stream is no longer
// published: one forwarder per destination, plus one per URL the backend
// returns. A bad destination or backend answer is logged and skipped.
func Run(ctx context.Context, job Job, opt Options) {
	opt = opt.withDefaults()
	log := opt.Log.With(logging.CID(job.Publisher.ClientID))
	urls := destinations(ctx, job, opt, log)
	var wg sync.WaitGroup
	for _, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			newForwarder(job, u, opt).loop(ctx)
		}()
	}
	wg.Wait()
}

// destinations lists the URLs to push job to: the configured destinations
// first, then the backend's.
func destinations(ctx context.Context, job Job, opt Options, log *slog.Logger) []string {
	src := Source{
		Vhost: job.Key.Vhost, App: job.Key.App, Stream: job.Key.Name,
		Param: job.Publisher.Param, TcURL: job.Publisher.TcURL,
	}
	var urls []string
	for _, d := range job.Forward.Destination {
		u, err := DestinationURL(d, src)
		if err != nil {
			log.Error("forward: destination skipped", "stream", job.Key.String(), "err", err)
			continue
		}
		urls = append(urls, u)
	}
	if job.Forward.Backend == "" {
		return urls
	}
	if opt.Backend == nil {
		log.Warn("forward: backend configured but no hook client; ignored", "backend", job.Forward.Backend)
		return urls
	}
	extra, err := opt.Backend(ctx, job.Forward.Backend, job.Publisher)
	if err != nil {
		log.Error("forward: backend failed; forwarding to the configured destinations only",
			"stream", job.Key.String(), "backend", job.Forward.Backend, "err", err)
		return urls
	}
	for _, u := range extra {
		if err := checkBackendURL(u); err != nil {
			log.Error("forward: backend url skipped", "stream", job.Key.String(), "backend", job.Forward.Backend, "err", err)
			continue
		}
		urls = append(urls, u)
	}
	return urls
}
