package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/ffengine"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/streamurl"
)

// localRTMP is where castd's own ffmpeg processes reach its RTMP server:
// the first listen endpoint, on loopback when it listens on every address.
func localRTMP(cfg *conf.Config) (host string, port int) {
	host, port = "127.0.0.1", streamurl.DefaultRTMPPort
	if len(cfg.Listen) == 0 {
		return host, port
	}
	ip, p, err := conf.SplitEndpoint(cfg.Listen[0])
	if err != nil {
		return host, port
	}
	if parsed := net.ParseIP(ip); parsed != nil && !parsed.IsUnspecified() {
		host = ip
	}
	return host, p
}

// ffInputParams are the arguments every castd ffmpeg starts with.
func ffInputParams(cfg *conf.Config) []string {
	if cfg.FFLogLevel == "" {
		return nil
	}
	return []string{"-loglevel", cfg.FFLogLevel}
}

// outputKey is the stream an ffmpeg output URL publishes to on this
// server, as the hub names it; ok is false for other schemes (png files).
func outputKey(cfg *conf.Config, output string) (hub.Key, bool) {
	if !strings.HasPrefix(output, "rtmp://") {
		return hub.Key{}, false
	}
	i := strings.LastIndexByte(output, '/')
	r, err := streamurl.DiscoverRTMP(output[:i], output[i+1:])
	if err != nil {
		return hub.Key{}, false
	}
	vhost := r.Vhost
	if v := cfg.Vhost(vhost); v != nil {
		vhost = v.Name
	}
	return hub.Key{Vhost: vhost, App: r.App, Name: r.Stream}, true
}

// transcodeOutputs counts the streams transcoders publish, so that a
// transcoder's output is never transcoded again (SRS's loop check).
type transcodeOutputs struct {
	mu   sync.Mutex
	keys map[hub.Key]int
}

func (o *transcodeOutputs) add(k hub.Key, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.keys[k] += n; o.keys[k] <= 0 {
		delete(o.keys, k)
	}
}

func (o *transcodeOutputs) has(k hub.Key) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.keys[k] > 0
}

// newTranscode runs vhost transcode{} engines for published streams.
func newTranscode(s *Server) *streamTasks {
	outputs := &transcodeOutputs{keys: map[hub.Key]int{}}
	return &streamTasks{s: s, runs: map[*hub.Stream]*streamTask{},
		setup: func(v *conf.Vhost) (any, bool) {
			on := false
			var b strings.Builder
			for _, t := range v.Transcodes {
				on = on || (t.Enabled && t.FFmpeg != "" && len(t.Engines) > 0)
				fmt.Fprintf(&b, "%q %v %q;", t.Scope, t.Enabled, t.FFmpeg)
				for _, e := range t.Engines {
					fmt.Fprintf(&b, "%+v;", *e)
				}
			}
			return b.String(), on
		},
		run: func(ctx context.Context, st *hub.Stream, v *conf.Vhost) {
			runTranscode(ctx, s, outputs, st, v)
		},
	}
}

// transcodeEngines are the enabled engines whose transcode scope covers
// the stream: the whole vhost (no argument), its app, or app/stream.
func transcodeEngines(v *conf.Vhost, k hub.Key) (ffmpeg []string, engines []*conf.Engine) {
	for _, t := range v.Transcodes {
		if !t.Enabled || t.FFmpeg == "" {
			continue
		}
		if t.Scope != "" && t.Scope != k.App && t.Scope != k.App+"/"+k.Name {
			continue
		}
		for _, e := range t.Engines {
			if e.Enabled {
				ffmpeg, engines = append(ffmpeg, t.FFmpeg), append(engines, e)
			}
		}
	}
	return ffmpeg, engines
}

func runTranscode(ctx context.Context, s *Server, outputs *transcodeOutputs, st *hub.Stream, v *conf.Vhost) {
	k := st.Key
	log := s.log.With("stream", k.String())
	if outputs.has(k) {
		log.Info("transcode: the stream is a transcoder's output; not transcoded again")
		return
	}
	bins, engines := transcodeEngines(v, k)
	if len(engines) == 0 {
		return
	}
	cfg := s.config()
	host, port := localRTMP(cfg)
	input := ffengine.LocalInput(host, port, k.Vhost, k.App, k.Name)
	param := publisherRequest(st).Param
	var wg sync.WaitGroup
	for i, e := range engines {
		vars := ffengine.Vars{Vhost: k.Vhost, App: k.App, Stream: k.Name, Engine: e.Name, Param: param, Port: port}
		output := ffengine.OutputURL(e.Output, vars, time.Now())
		argv, err := ffengine.Args(ffengine.Job{FFmpeg: bins[i], InputParams: ffInputParams(cfg), Input: input, Output: output, Engine: e})
		if err != nil {
			log.Error("transcode: engine skipped", "engine", e.Name, "err", err)
			continue
		}
		if key, local := outputKey(cfg, output); local {
			outputs.add(key, 1)
			defer outputs.add(key, -1)
		}
		logFile := ffengine.LogFile(cfg.FFLogDir, "ffmpeg-encoder", k.Vhost, k.App, k.Name, e.Name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ffengine.Run(ctx, argv, logFile, ffengine.Options{Log: log.With("engine", e.Name)})
		}()
	}
	wg.Wait()
}

// ingesters runs vhost ingest{} blocks from start to shutdown, one ffmpeg
// per engine, and follows reloads: a changed ingest is restarted, a
// removed one stopped.
type ingesters struct {
	s    *Server
	mu   sync.Mutex
	runs map[string]*ingestRun // by vhost/id
}

type ingestRun struct {
	key    string // the settings, compared on reload
	cancel context.CancelFunc
	done   chan struct{}
}

// sync starts, restarts and stops ingesters to match cfg.
func (in *ingesters) sync(cfg *conf.Config) {
	in.s.mu.Lock()
	ctx := in.s.ctx
	in.s.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	host, port := localRTMP(cfg)
	want := map[string]*conf.Ingest{}
	keys := map[string]string{}
	for _, v := range cfg.Vhosts {
		if !v.Enabled {
			continue
		}
		for _, g := range v.Ingests {
			if !g.Enabled {
				continue
			}
			id := v.Name + "/" + g.ID
			want[id] = g
			var b strings.Builder
			fmt.Fprintf(&b, "%s:%d %q %q %q %q %q;", host, port, cfg.FFLogDir, g.InputType, g.InputURL, g.FFmpeg, cfg.FFLogLevel)
			for _, e := range g.Engines {
				fmt.Fprintf(&b, "%+v;", *e)
			}
			keys[id] = b.String()
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for id, r := range in.runs {
		if keys[id] != r.key {
			r.cancel()
			if want[id] == nil {
				delete(in.runs, id)
				in.s.log.Info("ingest: stopped", "ingest", id)
			}
		}
	}
	for id, g := range want {
		old := in.runs[id]
		if old != nil && old.key == keys[id] {
			continue
		}
		vhost, _, _ := strings.Cut(id, "/")
		rctx, cancel := context.WithCancel(ctx)
		r := &ingestRun{key: keys[id], cancel: cancel, done: make(chan struct{})}
		in.runs[id] = r
		in.s.wg.Add(1)
		go func() {
			defer in.s.wg.Done()
			defer close(r.done)
			defer cancel()
			if old != nil {
				<-old.done // its ffmpeg still holds the output stream
			}
			runIngest(rctx, in.s.log.With("ingest", id), cfg, vhost, g, host, port)
		}()
	}
}

func runIngest(ctx context.Context, log *slog.Logger, cfg *conf.Config, vhost string, g *conf.Ingest, host string, port int) {
	engines := g.Engines
	if len(engines) == 0 {
		engines = []*conf.Engine{{}} // copy, without an output: reported below
	}
	params := ffInputParams(cfg)
	// SRS reads both files and streams at their native rate (-re), so a
	// file plays as live and an HLS source is not drained at once.
	params = append(params, "-re")
	var wg sync.WaitGroup
	for _, e := range engines {
		vars := ffengine.Vars{Vhost: vhost, Port: port}
		output := ffengine.OutputURL(e.Output, vars, time.Now())
		copyAll := !e.Enabled || e.VCodec == "" || e.ACodec == ""
		argv, err := ffengine.Args(ffengine.Job{FFmpeg: g.FFmpeg, InputParams: params, Input: g.InputURL,
			Output: output, Engine: e, Copy: copyAll, OFormat: "flv"})
		if err != nil {
			log.Error("ingest: engine skipped", "engine", e.Name, "err", err)
			continue
		}
		app, stream := "", ""
		if k, ok := outputKey(cfg, output); ok {
			app, stream = k.App, k.Name
		}
		logFile := ffengine.LogFile(cfg.FFLogDir, "ffmpeg-ingest", vhost, app, stream)
		log.Info("ingest: started", "input", g.InputURL, "output", output, "via", host)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ffengine.Run(ctx, argv, logFile, ffengine.Options{Log: log})
		}()
	}
	wg.Wait()
}
