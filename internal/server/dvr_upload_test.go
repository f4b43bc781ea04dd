package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/dvr"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/objstore/s3test"
)

func TestObjectKey(t *testing.T) {
	at := time.Date(2026, 11, 24, 7, 8, 9, 0, time.UTC)
	file := func(path string) dvr.File {
		return dvr.File{Stream: dvr.Stream{Vhost: "__defaultVhost__", App: "live", Name: "cam"}, Path: path}
	}
	tests := []struct {
		name, tmpl, dvrPath, file, want string
	}{
		{"default: below the fixed directory", "", "./objs/nginx/html/[app]/[stream].[timestamp].flv",
			"./objs/nginx/html/live/cam.1764000000000.flv", "live/cam.1764000000000.flv"},
		{"default: absolute path", "", "/data/rec/[vhost]/[app]/[stream]/[2006]-[01]-[02].mp4",
			"/data/rec/__defaultVhost__/live/cam/2026-11-24.mp4", "__defaultVhost__/live/cam/2026-11-24.mp4"},
		{"default: a numbered name castd chose", "", "./rec/[app]/[stream].flv", "./rec/live/cam.1.flv", "live/cam.1.flv"},
		{"default: dvr_path naming a directory", "", "./rec/", "./rec/cam.1764000000000.flv", "cam.1764000000000.flv"},
		{"default: variable in the first directory", "", "[app]/[stream].flv", "live/cam.flv", "live/cam.flv"},
		{"default: no variables at all", "", "./rec/all.flv", "./rec/all.flv", "all.flv"},
		{"default: dvr_path changed since", "", "/new/[app]/[stream].flv", "/old/live/cam.flv", "cam.flv"},
		{"template", "[app]/[stream]/[2006]/[01]/[02]/[file]", "./x/[stream].flv", "./x/cam.flv", "live/cam/2026/11/24/cam.flv"},
		{"template with [file] twice and time", "[vhost]/[15][04][05]-[file]/[file]", "", "/r/a.flv", "__defaultVhost__/070809-a.flv/a.flv"},
		{"leading slashes and ./ go", "/./[app]/[file]", "", "/r/a.flv", "live/a.flv"},
		{"a stream name holding [file] stays", "[stream]/[file]", "", "/r/a.flv", "cam/a.flv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := objectKey(tt.tmpl, tt.dvrPath, file(tt.file), at)
			if err != nil || got != tt.want {
				t.Errorf("objectKey = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := objectKey("/", "", file("/r/a.flv"), at); err == nil {
		t.Error("an empty key was accepted")
	}
	f := file("/r/a.flv")
	f.Stream.Name = "[file]"
	if got, _ := objectKey("[stream]-[file]", "", f, at); got != "[file]-a.flv" {
		t.Errorf("a stream named [file]: %q", got)
	}
}

// uploadServer runs a server recording the default vhost with dvr_upload
// to fake, and returns it with its log.
func uploadServer(t *testing.T, hs *httptest.Server, dir, upload string) (*Server, *syncLog) {
	t.Helper()
	text := fmt.Sprintf(`
listen 127.0.0.1:%d;
daemon off;
pid %s/castd.pid;
grace_start_wait 0;
grace_final_wait 0;
vhost __defaultVhost__ {
    dvr {
        enabled on;
        dvr_path %s/rec/[app]/[stream].[timestamp].flv;
        dvr_upload {
            enabled on;
            endpoint %s;
            bucket recordings;
            access_key AKIDUPLOAD;
            secret_key upload/secret;
            %s
        }
    }
}
`, dvrFreePort(t), dir, dir, hs.URL, upload)
	cfg, err := conf.Parse("test.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncLog{}
	s := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		s.Wait()
		if t.Failed() {
			t.Logf("castd log:\n%s", logs)
		}
	})
	return s, logs
}

// record publishes live/name for about a second and ends the publish.
func record(t *testing.T, s *Server, name string) {
	t.Helper()
	pub, err := s.hub.Publish(hub.Key{Vhost: conf.DefaultVhost, App: "live", Name: name}, hub.ClientInfo{ID: "pub" + name}, hub.DefaultStreamOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*av.Packet{testPacket(t, av.KindVideo, 0, testAVCHeader), testPacket(t, av.KindAudio, 0, testAACHeader)} {
		if err := pub.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	feed(t, pub, 0, 1000)
	pub.Close()
}

func newFakeS3(t *testing.T, fail func(s3test.Op) *s3test.Failure) (*s3test.Server, *httptest.Server) {
	t.Helper()
	fake := s3test.New(s3test.Options{AccessKey: "AKIDUPLOAD", SecretKey: "upload/secret", Buckets: []string{"recordings"}, Fail: fail})
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	return fake, hs
}

func TestDVRUploadAfterRecording(t *testing.T) {
	fake, hs := newFakeS3(t, nil)
	dir := t.TempDir()
	s, logs := uploadServer(t, hs, dir, "")
	record(t, s, "cam")
	// Wait (as a graceful quit does) returns once the file is uploaded.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	testDVR(s).Wait(ctx)
	keys := fake.Keys("recordings")
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "live/cam.") || !strings.HasSuffix(keys[0], ".flv") {
		t.Fatalf("keys %q", keys)
	}
	local, err := os.ReadFile(filepath.Join(dir, "rec", keys[0]))
	if err != nil {
		t.Fatalf("the local file should stay: %v", err)
	}
	if got, _ := fake.Object("recordings", keys[0]); !bytes.Equal(got, local) || len(local) < 100 {
		t.Errorf("uploaded %d bytes, local file %d", len(got), len(local))
	}
	line := fmt.Sprintf(`msg="dvr: uploaded" cid=pubcam file=%s to=s3://recordings/%s size=%d`, filepath.Join(dir, "rec", keys[0]), keys[0], len(local))
	if !strings.Contains(logs.String(), line) {
		t.Errorf("log lacks %q", line)
	}
	if strings.Contains(logs.String(), "upload/secret") {
		t.Error("the secret key was logged")
	}
	if r := fake.Rejected(); len(r) > 0 {
		t.Errorf("the fake refused requests: %q", r)
	}
}

func TestDVRUploadFailureKeepsTheFile(t *testing.T) {
	fake, hs := newFakeS3(t, func(s3test.Op) *s3test.Failure { return &s3test.Failure{Status: 403, Code: "AccessDenied"} })
	dir := t.TempDir()
	s, logs := uploadServer(t, hs, dir, "remove_local on; key [app]/[file];")
	record(t, s, "cam")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	testDVR(s).Wait(ctx)
	files, _ := filepath.Glob(filepath.Join(dir, "rec", "live", "cam.*.flv"))
	if len(files) != 1 {
		t.Fatalf("files %v: a failed upload must keep the file, even with remove_local", files)
	}
	want := fmt.Sprintf(`msg="dvr: upload failed; file kept on disk" cid=pubcam file=%s to=s3://recordings/live/%s`, files[0], filepath.Base(files[0]))
	if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "403 AccessDenied") {
		t.Errorf("log lacks %q and the reason", want)
	}
	if len(fake.Ops()) != 1 {
		t.Errorf("a refusal was retried: %d requests", len(fake.Ops()))
	}
}

func TestDVRUploadRemoveLocal(t *testing.T) {
	fake, hs := newFakeS3(t, nil)
	dir := t.TempDir()
	s, _ := uploadServer(t, hs, dir, "remove_local on; key [vhost]/[app]/[stream]/[file];")
	record(t, s, "cam")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	testDVR(s).Wait(ctx)
	keys := fake.Keys("recordings")
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "__defaultVhost__/live/cam/cam.") {
		t.Fatalf("keys %q", keys)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "rec", "live", "*")); len(files) != 0 {
		t.Errorf("remove_local left %v", files)
	}
}

func TestDVRUploadGracefulQuit(t *testing.T) {
	// A slow store: Drain (SIGQUIT) still waits for the upload of the file
	// the last publisher left, within grace_final_wait (at least 1 s).
	fake := s3test.New(s3test.Options{AccessKey: "AKIDUPLOAD", SecretKey: "upload/secret", Buckets: []string{"recordings"}})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	s, _ := uploadServer(t, hs, t.TempDir(), "")
	record(t, s, "cam")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.Drain(ctx)
	if keys := fake.Keys("recordings"); len(keys) != 1 {
		t.Fatalf("after the graceful quit: keys %q", keys)
	}
}

// hangingS3 accepts connections and never answers until released.
func hangingS3(t *testing.T) (*httptest.Server, func()) {
	t.Helper()
	release := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	var once sync.Once
	stop := func() { once.Do(func() { close(release) }) }
	t.Cleanup(func() { stop(); hs.Close() })
	return hs, stop
}

func TestUploaderQueueIsBoundedAndQuitCancels(t *testing.T) {
	hs, _ := hangingS3(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "a.flv")
	if err := os.WriteFile(path, []byte("FLV"), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &syncLog{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	u := newDVRUploader()
	d := &dvrEgress{up: u}
	ctx, cancel := context.WithCancel(context.Background())
	job := uploadJob{
		up:   conf.DVRUpload{Enabled: true, Endpoint: hs.URL, Bucket: "b", PathStyle: true, Region: "us-east-1"},
		file: dvr.File{Stream: dvr.Stream{App: "live", Name: "a"}, Path: path}, at: time.Now(), log: log,
	}
	start := time.Now()
	for range uploadQueue + 3 {
		u.start(ctx, job) // never blocks, even with every worker stuck
	}
	if time.Since(start) > time.Second {
		t.Errorf("queueing took %v", time.Since(start))
	}
	if n := strings.Count(logs.String(), "dvr: upload queue full"); n != 3 {
		t.Errorf("%d files refused, want 3", n)
	}
	// A graceful wait gives up at its deadline.
	wctx, wcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer wcancel()
	d.up.wait(wctx)
	if wctx.Err() == nil {
		t.Fatal("wait returned with uploads in flight")
	}
	// A fast quit cancels them all; WaitStopped returns once they ended.
	cancel()
	done := make(chan struct{})
	go func() { d.WaitStopped(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("uploads did not end after the quit")
	}
	if n := strings.Count(logs.String(), "castd is quitting"); n != uploadQueue-uploadWorkers {
		t.Errorf("%d queued files dropped at quit, want %d", n, uploadQueue-uploadWorkers)
	}
	if n := strings.Count(logs.String(), "dvr: upload failed"); n != uploadWorkers {
		t.Errorf("%d running uploads failed at quit, want %d", n, uploadWorkers)
	}
	u.start(ctx, job)
	if !strings.Contains(logs.String(), "castd is quitting; file not uploaded") {
		t.Error("a file finished after the quit was queued")
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the file must stay: %v", err)
	}
}
