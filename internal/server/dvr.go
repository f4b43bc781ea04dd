package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/dvr"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/logging"
)

// dvrEgress records published streams to files (vhost dvr{}): one
// dvr.Recorder per publish, reading the stream through its own viewer with
// the DVR's time_jitter, and an on_dvr hook per finished file.
//
// Each recording goroutine is counted in the server's WaitGroup, so Wait
// returns only once every open file was finished and renamed: a castd
// stopped with SIGTERM leaves complete files.
type dvrEgress struct {
	s   *Server
	log *slog.Logger

	mu    sync.Mutex
	apply map[string][]string // dvr_apply per vhost, as first configured: SRS cannot reload it
	runs  map[*dvrRun]struct{}
	wg    sync.WaitGroup // the recordings, for Drain
	up    *dvrUploader   // uploads of finished files (dvr_upload), see dvr_upload.go
}

// dvrRun is one stream being recorded.
type dvrRun struct {
	key    hub.Key
	rec    *dvr.Recorder
	viewer *hub.Viewer
	cancel context.CancelFunc
	set    dvr.Settings // guarded by dvrEgress.mu
}

// newDVR builds the DVR output and finalizes the recordings a killed
// castd left as .tmp files (see dvr.Recover); call it in New, before
// anything records.
func newDVR(s *Server) *dvrEgress {
	d := &dvrEgress{s: s, log: s.log, apply: map[string][]string{}, runs: map[*dvrRun]struct{}{}, up: newDVRUploader()}
	cfg := s.config()
	var paths []string
	for _, v := range cfg.Vhosts {
		d.apply[v.Name] = v.DVR.Apply
		if v.DVR.Enabled {
			paths = append(paths, v.DVR.Path)
		}
	}
	if len(paths) > 0 {
		if got := dvr.Recover(paths, s.log); len(got) > 0 {
			s.log.Info("dvr: unfinished recordings found at startup", "files", len(got))
		}
	}
	return d
}

// Published starts recording when the vhost's dvr{} is on and dvr_apply
// names the stream.
func (d *dvrEgress) Published(st *hub.Stream) { d.maybeStart(st, d.s.config()) }

func (d *dvrEgress) maybeStart(st *hub.Stream, cfg *conf.Config) {
	v := cfg.Vhost(st.Key.Vhost)
	if v == nil || !v.Enabled || !v.DVR.Enabled || !d.applies(v, st.Key) {
		return
	}
	d.start(st, dvrSettings(v, cfg), streamOptions(v))
}

// Unpublished does nothing: the recorder's viewer ends after the last
// packet the publisher sent, and the recorder then finishes its file.
func (d *dvrEgress) Unpublished(*hub.Stream) {}

// Front serves nothing: recordings are files.
func (d *dvrEgress) Front(_ *conf.Config, next http.Handler) http.Handler { return next }

// Reload applies a new config to live recordings, as SRS restarts its DVR
// on reload: a vhost whose dvr{} was turned off stops recording (its file
// is finished), changed settings close the current file and start the
// next one with them, and streams of a vhost whose DVR was turned on start
// recording from their GOP cache. dvr_apply is kept as it was at startup,
// as in SRS. The server calls it after reloadStreams, which leaves the
// DVR's viewers (and their time_jitter) alone.
func (d *dvrEgress) Reload(cfg *conf.Config) {
	d.mu.Lock()
	recording := map[*hub.Stream]bool{}
	for run := range d.runs {
		v := cfg.Vhost(run.key.Vhost)
		if st := d.s.hub.Stream(run.key); st != nil {
			recording[st] = true
		}
		if v == nil || !v.Enabled || !v.DVR.Enabled {
			run.cancel()
			continue
		}
		if set := dvrSettings(v, cfg); set != run.set {
			run.set = set
			run.viewer.SetOptions(dvrViewerOptions(set))
			run.rec.SetSettings(set)
		}
	}
	d.mu.Unlock()
	for _, st := range d.s.hub.Streams() {
		if st.Key.Variant == "" && st.Publishing() && !recording[st] {
			d.maybeStart(st, cfg)
		}
	}
}

// Wait blocks until every recording has ended and its upload finished, or
// ctx is done: a graceful quit (Drain) calls it before sending the last
// hooks, so on_dvr of the files finished at unpublish is not lost.
func (d *dvrEgress) Wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return
	}
	d.up.wait(ctx)
}

// applies checks dvr_apply as the vhost first had it.
func (d *dvrEgress) applies(v *conf.Vhost, key hub.Key) bool {
	d.mu.Lock()
	apply, ok := d.apply[v.Name]
	if !ok {
		apply = v.DVR.Apply
		d.apply[v.Name] = apply
	}
	d.mu.Unlock()
	return conf.DVR{Apply: apply}.Applies(key.App, key.Name)
}

func (d *dvrEgress) start(st *hub.Stream, set dvr.Settings, sopt hub.StreamOptions) {
	d.s.mu.Lock()
	ctx := d.s.ctx
	d.s.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return
	}
	pub := st.Snapshot().Publisher
	key := st.Key
	req := hooks.Request{
		ClientID: pub.ID, IP: hostOf(pub.Addr), Vhost: key.Vhost, App: key.App, Stream: key.Name,
		Param: pub.Param, TcURL: pub.TcURL, StreamURL: key.String(), StreamID: st.ID,
	}
	log := d.log.With(logging.CID(pub.ID))
	viewer := d.s.hub.Play(key, hub.ClientInfo{ID: pub.ID, Protocol: "dvr", TcURL: pub.TcURL}, sopt, dvrViewerOptions(set))
	rec := dvr.NewRecorder(dvr.Stream{Vhost: key.Vhost, App: key.App, Name: key.Name}, set, dvr.Options{
		Log:    log,
		OnFile: func(f dvr.File) { d.onDVR(req, f) },
	})
	rctx, cancel := context.WithCancel(ctx)
	run := &dvrRun{key: key, rec: rec, viewer: viewer, cancel: cancel, set: set}
	d.mu.Lock()
	d.runs[run] = struct{}{}
	d.mu.Unlock()
	d.s.wg.Add(1)
	d.wg.Add(1)
	go func() {
		defer d.s.wg.Done()
		defer d.wg.Done()
		defer cancel()
		defer viewer.Close()
		if err := rec.Run(rctx, viewer); err != nil {
			log.Error("dvr: recording ended", "stream", key.String(), "err", err)
		}
		if n := viewer.Drops(); n > 0 {
			// The disk could not keep up for queue_length: the files jump
			// from where it fell behind to a later keyframe.
			log.Warn("dvr: recording fell behind the stream; packets were skipped", "stream", key.String(),
				"packets", n, "times", viewer.Skips())
		}
		d.mu.Lock()
		delete(d.runs, run)
		d.mu.Unlock()
	}()
}

// onDVR sends on_dvr for a finished file with the vhost's hooks as
// configured now. file is the path as dvr_path made it (relative paths
// stay relative, SRS §8 item 10) and cwd the process's directory.
func (d *dvrEgress) onDVR(req hooks.Request, f dvr.File) {
	v := d.s.config().Vhost(req.Vhost)
	if v == nil {
		return
	}
	cwd, err := os.Getwd()
	if err != nil {
		d.log.Warn("dvr: cannot read the working directory for on_dvr", "err", err)
	}
	d.s.hooks.OnDVR(v.HTTPHooks, req, hooks.DVRFile{Cwd: cwd, File: f.Path})
	d.queueUpload(req, v, f)
}

// dvrSettings maps a vhost's dvr{} block to a recorder's settings.
func dvrSettings(v *conf.Vhost, cfg *conf.Config) dvr.Settings {
	plan, err := dvr.ParsePlan(v.DVR.Plan)
	if err != nil {
		plan = dvr.PlanSession // conf validated it; keep SRS's default if it grows new values
	}
	jitter, err := hub.ParseJitterMode(string(v.DVR.TimeJitter))
	if err != nil {
		jitter = hub.JitterFull
	}
	return dvr.Settings{
		Plan: plan, Path: v.DVR.Path, Duration: v.DVR.Duration, WaitKeyframe: v.DVR.WaitKeyframe,
		Jitter: jitter, UTC: cfg.UTCTime,
	}
}

// dvrViewerOptions reads the stream with the DVR's own time_jitter and
// ends the recording when the publisher leaves.
func dvrViewerOptions(set dvr.Settings) hub.ViewerOptions {
	return hub.ViewerOptions{Jitter: set.Jitter, StopOnUnpublish: true}
}

// hostOf drops the port of an address.
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
