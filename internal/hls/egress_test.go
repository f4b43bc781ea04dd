package hls_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/hls"
	"github.com/castd/castd/internal/hls/hlstest"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/static"
	"github.com/castd/castd/internal/stats"
)

// egressHarness runs an Egress on a hub as the server wires it, with its
// HTTP front in front of a static file server of the HLS directory.
type egressHarness struct {
	t     *testing.T
	dir   string
	cfg   *conf.Config // set before the first publish; reload with setConfig
	live  atomic.Pointer[conf.Config]
	hub   *hub.Hub
	stats *stats.Registry
	eg    *hls.Egress
	front http.Handler
}

func newEgressHarness(t *testing.T, directives string) *egressHarness {
	t.Helper()
	baseline := runtime.NumGoroutine()
	h := &egressHarness{t: t, dir: t.TempDir(), stats: stats.New(nil)}
	text := "listen 1935; vhost __defaultVhost__ { hls { enabled on; hls_path " + h.dir + "; hls_fragment 1; " + directives + " } }"
	cfg, err := conf.Parse("t.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = cfg
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	h.hub = hub.New(hub.Options{IdleTimeout: 20 * time.Millisecond, Events: hub.Events{
		Published:   func(s *hub.Stream) { h.eg.Published(s) },
		Unpublished: func(s *hub.Stream) { h.eg.Unpublished(s) },
	}})
	h.eg = hls.New(hls.Options{
		Hub: h.hub, Stats: h.stats, Kick: h.stats.Kick,
		Config: func() *conf.Config {
			if c := h.live.Load(); c != nil {
				return c
			}
			return h.cfg
		},
		Context: func() context.Context { return ctx },
		Go: func(f func()) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f()
			}()
		},
	})
	h.front = h.eg.Front(cfg, static.Handler{Dir: h.dir, Mount: "/"})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > baseline {
			t.Errorf("%d goroutines, %d before the test", n, baseline)
		}
	})
	return h
}

// publish sends packets through the hub as fast as it can, unpublishes,
// and waits until HLS has listed the publish's last segment.
func (h *egressHarness) publish(packets []*av.Packet) {
	h.t.Helper()
	p, err := h.hub.Publish(testKey, hub.ClientInfo{ID: "pub", Protocol: "rtmp"}, hub.DefaultStreamOptions())
	if err != nil {
		h.t.Fatal(err)
	}
	for _, pkt := range packets {
		if err := p.Write(pkt); err != nil {
			h.t.Fatal(err)
		}
	}
	p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.eg.Wait(ctx)
	if ctx.Err() != nil {
		h.t.Fatal("Wait did not return after the publish ended")
	}
}

func (h *egressHarness) get(target string) *httptest.ResponseRecorder {
	h.t.Helper()
	rec := httptest.NewRecorder()
	h.front.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func (h *egressHarness) playlistFile() []byte {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, "live", "cam.m3u8"))
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

// TestEgressRepublishAndDispose follows a stream over two publishes: the
// second continues the numbering after a discontinuity, the stream is
// held while its files exist, and hls_dispose deletes them and frees it.
func TestEgressRepublishAndDispose(t *testing.T) {
	h := newEgressHarness(t, "hls_window 30;")
	h.cfg.Vhost(conf.DefaultVhost).HLS.Dispose = 300 * time.Millisecond
	var check hlstest.Checker
	check.Dir = filepath.Join(h.dir, "live")

	h.publish(generate(t, streamSpec{dur: 3 * time.Second, fps: 25, gop: time.Second, audio: true, headers: true}))
	p, problems := check.Check(h.playlistFile())
	if len(problems) > 0 || len(p.Segments) != 3 {
		t.Fatalf("after the first publish: %v %+v", problems, p)
	}
	h.publish(generate(t, streamSpec{dur: 2 * time.Second, fps: 25, gop: time.Second, audio: true, headers: true}))
	p, problems = check.Check(h.playlistFile())
	if len(problems) > 0 || len(p.Segments) != 5 {
		t.Fatalf("after the republish: %v %+v", problems, p)
	}
	if d := check.Discontinuities(); !slices.Equal(d, []int64{3}) {
		t.Fatalf("discontinuities %v, want [3]", d)
	}
	if h.hub.Stream(testKey) == nil {
		t.Fatal("the stream was freed while its HLS files wait for hls_dispose")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(h.dir, "live", "*"))
		if len(files) == 0 && h.hub.Stream(testKey) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after hls_dispose: files %v, stream freed %v", files, h.hub.Stream(testKey) == nil)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEgressFollowsEnabledVhosts writes nothing for a vhost without hls.
func TestEgressFollowsEnabledVhosts(t *testing.T) {
	h := newEgressHarness(t, "")
	h.cfg.Vhost(conf.DefaultVhost).HLS.Enabled = false
	h.publish(generate(t, streamSpec{dur: 2 * time.Second, fps: 25, gop: time.Second, headers: true}))
	if files, _ := filepath.Glob(filepath.Join(h.dir, "*")); len(files) != 0 {
		t.Fatalf("files written with hls off: %v", files)
	}
}

// TestSessions covers hls_ctx: the master playlist that names a new
// session, the media playlist with the session in its segment URIs, the
// API's client, a kick, and the end of an idle session.
func TestSessions(t *testing.T) {
	h := newEgressHarness(t, "hls_window 0.5;") // sessions end after 1 s
	if rec := h.get("/live/cam.m3u8"); rec.Code != http.StatusNotFound || len(h.stats.Clients()) != 0 {
		t.Fatalf("no playlist yet: %d, clients %d", rec.Code, len(h.stats.Clients()))
	}
	h.publish(generate(t, streamSpec{dur: 3 * time.Second, fps: 25, gop: time.Second, audio: true, headers: true}))

	rec := h.get("/live/cam.m3u8?token=1")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/vnd.apple.mpegurl" ||
		!strings.HasPrefix(body, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\n/live/cam.m3u8?hls_ctx=") {
		t.Fatalf("first request: %d %q\n%s", rec.Code, rec.Header().Get("Content-Type"), body)
	}
	entry, err := url.Parse(strings.TrimSpace(strings.Split(body, "\n")[2]))
	if err != nil {
		t.Fatal(err)
	}
	id := entry.Query().Get(hls.CtxParam)
	if entry.Query().Get("token") != "1" {
		t.Fatalf("the player's query is lost: %s", entry)
	}
	c, ok := h.stats.Client(id)
	if !ok || c.Type != stats.HLSPlay || c.Stream != "cam" || c.App != "live" {
		t.Fatalf("session %s in stats: %v %+v", id, ok, c.Client)
	}

	rec = h.get(entry.String())
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/vnd.apple.mpegurl" {
		t.Fatalf("media playlist: %d", rec.Code)
	}
	want := strings.ReplaceAll(string(h.playlistFile()), ".ts\n", ".ts?hls_ctx="+id+"\n")
	if rec.Body.String() != want {
		t.Fatalf("media playlist:\n%s\nwant:\n%s", rec.Body, want)
	}
	media, err := hls.ParseMediaPlaylist(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	before, _ := h.stats.Client(id)
	rec = h.get("/live/" + media.Segments[0].URI)
	after, _ := h.stats.Client(id)
	if rec.Code != http.StatusOK || after.SendBytes-before.SendBytes != int64(rec.Body.Len()) {
		t.Fatalf("segment: %d, %d bytes, counted %d", rec.Code, rec.Body.Len(), after.SendBytes-before.SendBytes)
	}

	// A player may name its session; an id that is not plausible, or taken,
	// is replaced.
	for _, tc := range []struct {
		query, id string
		keep      bool
	}{
		{"mine-1", "mine-1", true},
		{"bad%20id", "bad id", false},
	} {
		rec := h.get("/live/cam.m3u8?hls_ctx=" + tc.query)
		got, err := url.Parse(strings.TrimSpace(strings.Split(rec.Body.String(), "\n")[2]))
		if err != nil {
			t.Fatal(err)
		}
		if named := got.Query().Get(hls.CtxParam) == tc.id; named != tc.keep {
			t.Errorf("asked for session %q, got %s", tc.id, got)
		}
	}
	if _, ok := h.stats.Client("mine-1"); !ok {
		t.Fatal("session mine-1 not listed")
	}

	// A kicked session is refused; HEAD makes no session.
	if err := h.stats.Kick("mine-1"); err != nil {
		t.Fatal(err)
	}
	if rec := h.get("/live/cam.m3u8?hls_ctx=mine-1"); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "HLS stream mine-1 is EOF") {
		t.Errorf("kicked session: %d %q", rec.Code, rec.Body)
	}
	n := len(h.stats.Clients())
	head := httptest.NewRecorder()
	h.front.ServeHTTP(head, httptest.NewRequest(http.MethodHead, "/live/cam.m3u8", nil))
	if head.Code != http.StatusOK || len(h.stats.Clients()) != n {
		t.Errorf("HEAD: %d, clients %d then %d", head.Code, n, len(h.stats.Clients()))
	}

	// Idle sessions end 2×hls_window after their last request.
	deadline := time.Now().Add(3 * time.Second)
	for len(h.stats.Clients()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("sessions still listed: %d", len(h.stats.Clients()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if rec := h.get(entry.String()); !strings.HasPrefix(rec.Body.String(), "#EXTM3U\n#EXT-X-STREAM-INF") {
		t.Errorf("an ended session's id makes a new session, got %q", rec.Body)
	}
}

// TestSessionsOff: with hls_ctx off the playlist file is served as it is,
// and with hls_ts_ctx off the segment URIs keep no session.
func TestSessionsOff(t *testing.T) {
	for _, tc := range []struct {
		directives string
		master     bool
	}{
		{"hls_ctx off;", false},
		{"hls_ts_ctx off;", true},
	} {
		t.Run(tc.directives, func(t *testing.T) {
			h := newEgressHarness(t, tc.directives)
			h.publish(generate(t, streamSpec{dur: 2 * time.Second, fps: 25, gop: time.Second, headers: true}))
			target := "/live/cam.m3u8"
			if tc.master {
				body := h.get(target).Body.String()
				target = strings.TrimSpace(strings.Split(body, "\n")[2])
			}
			rec := h.get(target)
			got, _ := io.ReadAll(rec.Body)
			if rec.Code != http.StatusOK || string(got) != string(h.playlistFile()) {
				t.Fatalf("%s: %d\n%s", target, rec.Code, got)
			}
			if want := 0; !tc.master && len(h.stats.Clients()) != want {
				t.Fatalf("%d clients with hls_ctx off", len(h.stats.Clients()))
			}
		})
	}
}

// config parses a config for the harness's HLS directory, as a reload
// would read it.
func (h *egressHarness) config(hlsBlock string) *conf.Config {
	h.t.Helper()
	text := "listen 1935; vhost __defaultVhost__ { hls { hls_path " + h.dir + "; " + hlsBlock + " } }"
	cfg, err := conf.Parse("t.conf", []byte(text), conf.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	return cfg
}

// reload swaps the config as the server does, and tells the egress.
func (h *egressHarness) reload(cfg *conf.Config) {
	h.live.Store(cfg)
	h.eg.Reload(cfg)
}

// startPublish publishes packets and leaves the publish open.
func (h *egressHarness) startPublish(packets []*av.Packet) *hub.Publisher {
	h.t.Helper()
	p, err := h.hub.Publish(testKey, hub.ClientInfo{ID: "pub", Protocol: "rtmp"}, hub.DefaultStreamOptions())
	if err != nil {
		h.t.Fatal(err)
	}
	h.write(p, packets)
	return p
}

func (h *egressHarness) write(p *hub.Publisher, packets []*av.Packet) {
	h.t.Helper()
	for _, pkt := range packets {
		if err := p.Write(pkt); err != nil {
			h.t.Fatal(err)
		}
	}
}

// waitFiles waits until the HLS directory has files matching pattern.
func (h *egressHarness) waitFiles(pattern string, n int) []string {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(h.dir, "live", pattern))
		if len(files) >= n {
			return files
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%d files %s, want %d", len(files), pattern, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// endPublish closes p and waits until HLS has listed its last segment.
func (h *egressHarness) endPublish(p *hub.Publisher) {
	h.t.Helper()
	p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.eg.Wait(ctx)
	if ctx.Err() != nil {
		h.t.Fatal("Wait did not return after the publish ended")
	}
}

// TestEgressReloadLiveStream changes hls{} while a stream is muxed: the
// next segments follow the new settings after a discontinuity, numbering
// goes on, and every segment still starts with a keyframe (the muxer got
// the sequence headers again although the stream did not resend them).
func TestEgressReloadLiveStream(t *testing.T) {
	h := newEgressHarness(t, "hls_window 60;")
	var check hlstest.Checker
	check.Dir = filepath.Join(h.dir, "live")
	p := h.startPublish(generate(t, streamSpec{dur: 3 * time.Second, fps: 25, gop: time.Second, audio: true, headers: true}))
	h.waitFiles("cam-*.ts", 2)

	// The muxer may still be behind the packets written so fast: a reload
	// applies at its next read, somewhere in the next five seconds.
	h.reload(h.config("enabled on; hls_fragment 1; hls_window 60; hls_ts_file [app]/[stream]-new-[seq].ts;"))
	h.write(p, generate(t, streamSpec{from: 3 * time.Second, dur: 5 * time.Second, fps: 25, gop: time.Second, audio: true}))
	h.endPublish(p)

	pl, problems := check.Check(h.playlistFile())
	if len(problems) > 0 {
		t.Fatalf("playlist: %v", problems)
	}
	var old, renamed int
	for _, seg := range pl.Segments {
		if strings.Contains(seg.URI, "-new-") {
			renamed++
		} else {
			old++
		}
		b, err := os.ReadFile(filepath.Join(h.dir, "live", seg.URI))
		if err != nil {
			t.Fatal(err)
		}
		if !startsWithKeyframe(t, b) {
			t.Errorf("segment %s does not start with a keyframe and its SPS", seg.URI)
		}
	}
	if old == 0 || renamed < 2 {
		t.Fatalf("segments: %d before the reload, %d after; want both\n%s", old, renamed, h.playlistFile())
	}
	if d := check.Discontinuities(); len(d) != 1 || d[0] != int64(old) {
		t.Fatalf("discontinuities %v, want one at %d", d, old)
	}
}

// TestEgressReloadTurnsHLSOffAndOn stops muxing a live stream when a
// reload turns HLS off, and starts it again, from the GOP cache, when the
// next reload turns it back on.
func TestEgressReloadTurnsHLSOffAndOn(t *testing.T) {
	h := newEgressHarness(t, "hls_window 60;")
	p := h.startPublish(generate(t, streamSpec{dur: 2 * time.Second, fps: 25, gop: time.Second, audio: true, headers: true}))
	h.waitFiles("cam-*.ts", 1)

	h.reload(h.config("enabled off;"))
	h.write(p, generate(t, streamSpec{from: 2 * time.Second, dur: 2 * time.Second, fps: 25, gop: time.Second, audio: true}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	h.eg.Wait(ctx) // HLS let the publish go
	timedOut := ctx.Err() != nil
	cancel()
	if timedOut {
		t.Fatal("HLS still follows the publish after a reload turned it off")
	}
	before := len(h.waitFiles("cam-*.ts", 1))

	h.reload(h.config("enabled on; hls_fragment 1; hls_window 60;"))
	h.write(p, generate(t, streamSpec{from: 4 * time.Second, dur: 3 * time.Second, fps: 25, gop: time.Second, audio: true}))
	h.endPublish(p)
	if after := len(h.waitFiles("cam-*.ts", 1)); after < before+2 {
		t.Fatalf("%d segments before turning HLS off, %d after turning it on again", before, after)
	}
}

// startsWithKeyframe reports whether a segment's first video frame is a
// random access point that carries its SPS.
func startsWithKeyframe(t *testing.T, segment []byte) bool {
	frames, _ := tsFrames(t, segment)
	for _, f := range frames {
		if f.StreamType != mpegts.StreamTypeH264 {
			continue
		}
		return f.RandomAccess && bytes.Contains(f.Data, []byte{0, 0, 1, 0x67})
	}
	return false
}
