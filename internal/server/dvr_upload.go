package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/dvr"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/objstore"
	"github.com/castd/castd/internal/pathtmpl"
)

// Uploads of finished recordings to S3-compatible storage (vhost
// dvr.dvr_upload, a castd extension). A recording never waits for its
// upload: finished files are queued, a few workers upload them, and a file
// that finds the queue full is logged and stays on disk.
const (
	uploadWorkers = 2
	uploadQueue   = 64 // files waiting or being uploaded, all vhosts together
)

// dvrUploader runs the uploads of one server.
type dvrUploader struct {
	http  *http.Client // shared, so uploads reuse connections
	slots chan struct{}

	mu      sync.Mutex
	pending int           // queued or running
	idle    chan struct{} // closed while pending is 0
}

func newDVRUploader() *dvrUploader {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = uploadWorkers
	idle := make(chan struct{})
	close(idle)
	return &dvrUploader{http: &http.Client{Transport: t}, slots: make(chan struct{}, uploadWorkers), idle: idle}
}

// uploadJob is one finished file and how to upload it, as configured when
// the file was finished.
type uploadJob struct {
	up      conf.DVRUpload
	dvrPath string
	file    dvr.File
	at      time.Time // when the file was finished: the key's time variables
	log     *slog.Logger
}

// queueUpload queues f's upload when its vhost's dvr_upload is on; the
// recorder calls it (through onDVR) and must not wait.
func (d *dvrEgress) queueUpload(req hooks.Request, v *conf.Vhost, f dvr.File) {
	up := v.DVR.Upload
	if !up.Enabled {
		return
	}
	d.s.mu.Lock()
	ctx := d.s.ctx
	d.s.mu.Unlock()
	cfg := d.s.config()
	at := time.Now()
	if cfg.UTCTime {
		at = at.UTC()
	}
	job := uploadJob{up: up, dvrPath: v.DVR.Path, file: f, at: at, log: d.log.With(logging.CID(req.ClientID))}
	d.up.start(ctx, job)
}

// start runs job on a worker once one is free, or logs why it cannot.
func (u *dvrUploader) start(ctx context.Context, job uploadJob) {
	if ctx == nil || ctx.Err() != nil {
		job.log.Warn("dvr: castd is quitting; file not uploaded, kept on disk", "file", job.file.Path)
		return
	}
	u.mu.Lock()
	if u.pending >= uploadQueue {
		u.mu.Unlock()
		job.log.Warn("dvr: upload queue full; file not uploaded, kept on disk", "file", job.file.Path, "queued", uploadQueue)
		return
	}
	if u.pending == 0 {
		u.idle = make(chan struct{})
	}
	u.pending++
	u.mu.Unlock()
	go func() {
		defer u.done()
		select {
		case u.slots <- struct{}{}:
		case <-ctx.Done():
			job.log.Warn("dvr: castd is quitting; file not uploaded, kept on disk", "file", job.file.Path)
			return
		}
		defer func() { <-u.slots }()
		u.run(ctx, job)
	}()
}

func (u *dvrUploader) done() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.pending--; u.pending == 0 {
		close(u.idle)
	}
}

// wait blocks until no upload is queued or running, or ctx is done.
func (u *dvrUploader) wait(ctx context.Context) {
	u.mu.Lock()
	idle := u.idle
	u.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// WaitStopped waits, once the server's context is done, for the uploads
// to end (cancelled, they end at once) and closes their idle connections.
func (d *dvrEgress) WaitStopped() {
	d.up.wait(context.Background())
	d.up.http.CloseIdleConnections()
}

func (u *dvrUploader) run(ctx context.Context, job uploadJob) {
	f, up := job.file, job.up
	key, err := objectKey(up.Key, job.dvrPath, f, job.at)
	if err != nil {
		job.log.Error("dvr: upload failed; file kept on disk", "file", f.Path, "err", err)
		return
	}
	client, err := objstore.New(objstore.Config{
		Endpoint: up.Endpoint, Region: up.Region, Bucket: up.Bucket, PathStyle: up.PathStyle,
		Credentials: objstore.Credentials{AccessKey: up.AccessKey, SecretKey: up.SecretKey.Reveal(), SessionToken: up.SessionToken.Reveal()},
		HTTPClient:  u.http,
	})
	if err != nil { // conf checked the settings; this is a safety net
		job.log.Error("dvr: upload failed; file kept on disk", "file", f.Path, "err", err)
		return
	}
	start := time.Now()
	info, err := client.UploadFile(ctx, key, f.Path, objstore.PutOptions{ContentType: contentTypeOf(f.Format)})
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		job.log.Error("dvr: upload failed; file kept on disk", "file", f.Path, "to", client.URL(key), "in", took, "err", err)
		return
	}
	job.log.Info("dvr: uploaded", "file", f.Path, "to", client.URL(key), "size", info.Size, "in", took, "parts", info.Parts)
	if up.RemoveLocal {
		if err := os.Remove(f.Path); err != nil {
			job.log.Warn("dvr: cannot remove the uploaded file", "file", f.Path, "err", err)
		}
	}
}

func contentTypeOf(f dvr.Format) string {
	if f == dvr.FormatMP4 {
		return "video/mp4"
	}
	return "video/x-flv"
}

// objectKey names the object of a finished file. An empty template keeps
// the file's path below the fixed directory of dvr_path (the part before
// its first variable): ./objs/nginx/html/[app]/[stream].[timestamp].flv
// puts live/cam.1700000000000.flv in the bucket. A template takes
// dvr_path's variables, with the time at, and [file], the file's name.
func objectKey(tmpl, dvrPath string, f dvr.File, at time.Time) (string, error) {
	var key string
	if tmpl == "" {
		rel, ok := strings.CutPrefix(filepath.ToSlash(f.Path), fixedDir(dvr.Template(dvrPath)))
		if !ok {
			rel = filepath.Base(f.Path)
		}
		key = rel
	} else {
		pieces := strings.Split(tmpl, "[file]")
		for i, p := range pieces {
			pieces[i] = pathtmpl.Expand(p, f.Stream.Vhost, f.Stream.App, f.Stream.Name, at)
		}
		key = strings.Join(pieces, filepath.Base(f.Path))
	}
	for {
		trimmed := strings.TrimPrefix(strings.TrimLeft(key, "/"), "./")
		if trimmed == key {
			break
		}
		key = trimmed
	}
	if err := objstore.CheckKey(key); err != nil {
		return "", fmt.Errorf("dvr_upload key for %s: %w", f.Path, err)
	}
	return key, nil
}

// fixedDir is the directory part of a template before its first variable,
// with a trailing slash ("" when the template starts with a variable).
func fixedDir(tmpl string) string {
	tmpl = filepath.ToSlash(tmpl)
	end := len(tmpl)
	for _, v := range pathtmpl.Variables() {
		if i := strings.Index(tmpl, v); i >= 0 && i < end {
			end = i
		}
	}
	return tmpl[:strings.LastIndexByte(tmpl[:end], '/')+1]
}
