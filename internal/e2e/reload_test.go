//go:build unix

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/castd/castd/internal/hooks/hookserver"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// reader keeps reading a live stream in the background and counts what
// arrives; it stops at the first error.
type reader struct {
	name string
	n    atomic.Int64 // media messages (RTMP) or bytes (HTTP-FLV)
	mu   sync.Mutex
	err  error
	done chan struct{}
}

func (r *reader) fail(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	close(r.done)
}

func (r *reader) failed() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// advancing checks that the reader is still connected and receiving.
func (r *reader) advancing(t *testing.T, within time.Duration) {
	t.Helper()
	start := r.n.Load()
	deadline := time.Now().Add(within)
	for r.n.Load() <= start {
		if err := r.failed(); err != nil {
			t.Fatalf("%s stopped: %v", r.name, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s received nothing for %v", r.name, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readRTMP reads media from a playing RTMP client until it fails.
func readRTMP(t *testing.T, name string, cc *rtmp.ClientConn) *reader {
	r := &reader{name: name, done: make(chan struct{})}
	go func() {
		for {
			m, err := cc.ReadMessage()
			if err != nil {
				r.fail(err)
				return
			}
			if m.IsMedia() {
				r.n.Add(1)
			}
		}
	}()
	t.Cleanup(func() { cc.Close(); <-r.done })
	return r
}

// readFLV plays an HTTP-FLV stream and counts its bytes until it fails.
func readFLV(t *testing.T, url string) *reader {
	t.Helper()
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", url, resp.Status)
	}
	r := &reader{name: "HTTP-FLV player", done: make(chan struct{})}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			r.n.Add(int64(n))
			if err != nil {
				r.fail(err)
				return
			}
		}
	}()
	t.Cleanup(func() { resp.Body.Close(); <-r.done })
	return r
}

// pump publishes frames on cc every 40 ms until the test ends.
func pump(t *testing.T, cc *rtmp.ClientConn) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := cc.WriteMedia([]rtmp.MediaMessage{{Type: rtmp.TypeVideo, Payload: avcSH}}); err != nil {
			return
		}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
			}
			m := rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: uint32(40 * i), Payload: frame(i%25 == 0, 200, i)}
			if err := cc.WriteMedia([]rtmp.MediaMessage{m}); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
}

// dialStream publishes or plays app/stream on a vhost (?vhost=) and
// returns the connection, or the error castd answered.
func dialStream(t *testing.T, port int, vhost, stream string, publish bool) (*rtmp.ClientConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tcURL := fmt.Sprintf("rtmp://127.0.0.1:%d/live", port)
	if vhost != "" {
		tcURL += "?vhost=" + vhost
	}
	cc, err := rtmp.Dial(ctx, tcURL, rtmp.ClientOptions{})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { cc.Close() })
	if publish {
		err = cc.Publish(ctx, stream)
	} else {
		err = cc.Play(ctx, stream)
	}
	if err != nil {
		cc.Close()
		return nil, err
	}
	return cc, nil
}

func mustDial(t *testing.T, port int, vhost, stream string, publish bool) *rtmp.ClientConn {
	t.Helper()
	cc, err := dialStream(t, port, vhost, stream, publish)
	if err != nil {
		t.Fatalf("%s/%s on port %d: %v", vhost, stream, port, err)
	}
	return cc
}

func mustRefuse(t *testing.T, port int, vhost, stream string, publish bool, why string) {
	t.Helper()
	if _, err := dialStream(t, port, vhost, stream, publish); err == nil {
		t.Errorf("%s/%s accepted on port %d; want it refused (%s)", vhost, stream, port, why)
	}
}

// reloadConf is the config of the reload test; each step fills the
// {{...}} fields with a reloadStep.
const reloadConf = `listen 127.0.0.1:{{rtmp}}{{second}};
max_connections {{max}};
daemon off;
srs_log_tank console;
pid {{dir}}/castd.pid;
{{global}}
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
vhost __defaultVhost__ {
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
    play { mw_latency 0; {{play}} }
{{changes}}
}
vhost disabled.vhost { {{disabled}} }
{{vhosts}}
`

type reloadStep struct {
	second, max, global, play, changes, disabled, vhosts, tail string
}

func (b *binaryCastd) writeStep(t *testing.T, s reloadStep) {
	t.Helper()
	if s.max == "" {
		s.max = "1000"
	}
	text := strings.NewReplacer("{{second}}", s.second, "{{max}}", s.max, "{{global}}", s.global, "{{play}}", s.play,
		"{{changes}}", s.changes, "{{disabled}}", s.disabled, "{{vhosts}}", s.vhosts).Replace(reloadConf)
	b.writeConf(t, text+s.tail)
}

func (b *binaryCastd) reload(t *testing.T, n int) {
	t.Helper()
	b.signal(t, syscall.SIGHUP)
	b.waitCount(t, "reload done", n)
}

// waitCount waits for the n-th occurrence of s in castd's output.
func (b *binaryCastd) waitCount(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(b.output(), s) < n {
		if time.Now().After(deadline) || b.Exited() {
			t.Fatalf("castd did not print %q %d times:\n%s", s, n, b.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReloadKeepsPlayers: SIGHUP applies changed, added, disabled and
// removed vhosts, hooks, security, chunk_size, a new RTMP port and
// max_connections, while ffmpeg keeps publishing and RTMP and HTTP-FLV
// players keep receiving on their first connections. A broken config is
// refused with its file:line and changes nothing. With
// inotify_auto_reload on, saving the file reloads it.
func TestReloadKeepsPlayers(t *testing.T) {
	hs := hookserver.New(hookserver.Options{})
	hooksrv := httptest.NewServer(hs)
	t.Cleanup(hooksrv.Close)

	var second int
	b := startBinary(t, strings.NewReplacer("{{second}}", "", "{{max}}", "1000", "{{global}}", "", "{{play}}", "", "{{changes}}", "",
		"{{disabled}}", "", "{{vhosts}}", "vhost going.vhost { }").Replace(reloadConf), &second)
	c := b.castd(b.rtmp)

	// A real publisher and players that read all along.
	ffmpeg := ffmpegPublish(t, c.rtmpURL("live/keep"), 90*time.Second)
	var rtmpPlayer *reader
	deadline := time.Now().Add(10 * time.Second)
	for rtmpPlayer == nil {
		cc := mustDial(t, b.rtmp, "", "keep", false)
		r := readRTMP(t, "RTMP player", cc)
		select {
		case <-r.done: // ffmpeg was not publishing yet
		case <-time.After(2 * time.Second):
			rtmpPlayer = r
		}
		if time.Now().After(deadline) {
			t.Fatal("the RTMP player never received ffmpeg's stream")
		}
	}
	rtmpPlayer.advancing(t, 5*time.Second)
	flvPlayer := readFLV(t, c.httpURL("live/keep.flv"))
	flvPlayer.advancing(t, 5*time.Second)
	before := mustDial(t, b.rtmp, "", "keep", false)
	readMedia(t, before, 1, 5*time.Second)
	oldChunk := before.Conn().InChunkSize()
	// A stream on the vhost that will be disabled.
	pump(t, mustDial(t, b.rtmp, "disabled.vhost", "dv", true))
	dvPlayer := readRTMP(t, "player of disabled.vhost", mustDial(t, b.rtmp, "disabled.vhost", "dv", false))
	dvPlayer.advancing(t, 5*time.Second)
	// Before the reload: added.vhost does not exist (its requests use the
	// default vhost) and going.vhost accepts publishers.
	mustDial(t, b.rtmp, "added.vhost", "keep", false)
	mustDial(t, b.rtmp, "going.vhost", "g1", true)

	changed := reloadStep{
		second: fmt.Sprintf(" 127.0.0.1:%d", second),
		global: "utc_time on;", // needs a restart
		play:   "gop_cache off;",
		changes: fmt.Sprintf(`    chunk_size 4096;
    security { enabled on; deny publish all; allow play all; }
    http_hooks { enabled on; on_play %[1]s; on_stop %[1]s; }`, hooksrv.URL+"/hooks"),
		disabled: "enabled off;",
		vhosts:   "vhost added.vhost { security { enabled on; deny play all; } }",
	}
	b.writeStep(t, changed)
	b.reload(t, 1)
	for _, want := range []string{
		fmt.Sprintf("RTMP listening addr=tcp://127.0.0.1:%d", second),
		"reload: vhost enabled vhost=added.vhost",
		"vhost=going.vhost", "vhost=disabled.vhost",
		"reload: vhost changed vhost=__defaultVhost__ sections=chunk_size,play,security,http_hooks",
		"reload: stream settings updated stream=/live/keep",
		"cannot be applied until castd restarts setting=utc_time",
	} {
		if !strings.Contains(b.output(), want) {
			t.Errorf("the reload did not log %q", want)
		}
	}

	// Everyone connected before the reload keeps receiving.
	for _, r := range []*reader{rtmpPlayer, flvPlayer, dvPlayer} {
		r.advancing(t, 3*time.Second)
	}
	if ffmpeg.Exited() {
		t.Fatal("ffmpeg's publish ended with the reload")
	}
	// New connections get the new settings.
	fresh := mustDial(t, second, "", "keep", false) // the new port
	readMedia(t, fresh, 1, 5*time.Second)
	if got := fresh.Conn().InChunkSize(); got != 4096 || oldChunk == 4096 {
		t.Errorf("chunk size %d for a new player (%d before the reload), want 4096", got, oldChunk)
	}
	deadline = time.Now().Add(5 * time.Second)
	for !strings.Contains(strings.Join(hs.Actions(), ","), "on_play") {
		if time.Now().After(deadline) {
			t.Fatalf("no on_play from the player after the reload: %v", hs.Actions())
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustRefuse(t, b.rtmp, "", "other", true, "security deny publish all")
	mustRefuse(t, b.rtmp, "going.vhost", "g2", true, "the removed vhost falls back to the default vhost, which denies publishing")
	mustRefuse(t, b.rtmp, "disabled.vhost", "dv", false, "vhost disabled")
	mustRefuse(t, second, "added.vhost", "keep", false, "the added vhost denies play")

	// max_connections applies to new connections only.
	low := changed
	low.max = "1"
	b.writeStep(t, low)
	b.reload(t, 2)
	if nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", b.rtmp)); err == nil {
		_ = nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := nc.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("a connection beyond max_connections 1 was not closed: %v", err)
		}
		nc.Close()
	}
	b.waitOutput(t, "max_connections reached, connection refused", 5*time.Second)
	rtmpPlayer.advancing(t, 3*time.Second)
	b.writeStep(t, changed)
	b.reload(t, 3)
	mustDial(t, b.rtmp, "", "keep", false)

	// A broken config changes nothing and says where it is broken.
	broken := changed
	broken.tail = "vhost broken.vhost {\n    no_such_directive on;\n}\n"
	b.writeStep(t, broken)
	b.signal(t, syscall.SIGHUP)
	b.waitOutput(t, "reload failed, the running config is unchanged", 5*time.Second)
	line := strings.Count(strings.Split(readFile(t, b.conf), "no_such_directive")[0], "\n") + 1
	if where := fmt.Sprintf("castd.conf:%d", line); !strings.Contains(b.output(), where) || !strings.Contains(b.output(), "no_such_directive") {
		t.Errorf("the refused reload does not name %s and the directive", where)
	}
	mustDial(t, second, "", "keep", false) // still open
	mustRefuse(t, b.rtmp, "", "other", true, "security unchanged by the broken config")
	rtmpPlayer.advancing(t, 3*time.Second)

	// inotify_auto_reload: turned on by a SIGHUP, then a save reloads.
	auto := changed
	auto.global += "\ninotify_auto_reload on;"
	b.writeStep(t, auto)
	b.reload(t, 4)
	b.waitOutput(t, "inotify_auto_reload: watching the config", 5*time.Second)
	auto.second = ""
	b.writeStep(t, auto)
	b.waitOutput(t, "inotify_auto_reload: the config changed, reloading", 5*time.Second)
	b.waitCount(t, "reload done", 5)
	if servesRTMP(second) {
		t.Error("the port removed by the automatic reload still accepts connections")
	}
	for _, r := range []*reader{rtmpPlayer, flvPlayer, dvPlayer} {
		r.advancing(t, 3*time.Second)
	}
}
