package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
)

// waitPublishing waits until c's stream key (as hub.Key.String names it)
// has a publisher, or, with want false, until it has none.
func (c *castd) waitPublishing(t *testing.T, key hub.Key, want bool, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := c.srv.Hub().Stream(key)
		if (st != nil && st.Publishing()) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s: publishing is not %v after %v", key, want, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func liveKey(name string) hub.Key { return hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: name} }

// TestForwardToSecondCastd: ffmpeg publishes to castd A, whose vhost
// forwards to castd B; a player of B gets H.264 and AAC, and the forward
// stops when the publisher leaves A.
func TestForwardToSecondCastd(t *testing.T) {
	b := startCastd(t, "listen 127.0.0.1:{{rtmp}};\nvhost __defaultVhost__ {}\n")
	a := startCastd(t, fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
vhost __defaultVhost__ {
    forward { enabled on; destination 127.0.0.1:%d; }
}
`, b.rtmp))
	pub := ffmpegPublish(t, a.rtmpURL("live/fw?token=abc"), 6*time.Second)
	b.waitPublishing(t, liveKey("fw"), true, 10*time.Second)
	a.waitLog(t, "forward: publishing", time.Second)
	if !strings.Contains(a.logs.String(), fmt.Sprintf("rtmp://127.0.0.1:%d/live/fw?token=abc", b.rtmp)) {
		t.Errorf("the forward URL lacks the publisher's param:\n%s", a.logs.String())
	}
	r := ffprobe(t, b.rtmpURL("live/fw"), 0)
	v, okV := r.stream("video")
	au, okA := r.stream("audio")
	if !okV || !okA || r.Streams[v].CodecName != "h264" || r.Streams[au].CodecName != "aac" {
		t.Fatalf("B plays %+v, want h264 and aac", r.Streams)
	}
	if err := pub.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	b.waitPublishing(t, liveKey("fw"), false, 5*time.Second)
}

// TestForwardBackend: the forward backend gets on_forward and its URLs
// become destinations; a bad answer is logged and changes nothing else.
func TestForwardBackend(t *testing.T) {
	b := startCastd(t, "listen 127.0.0.1:{{rtmp}};\nvhost __defaultVhost__ {}\n")
	var mu sync.Mutex
	var bodies []map[string]any
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("on_forward body %q: %v", raw, err)
		}
		mu.Lock()
		bodies = append(bodies, body)
		mu.Unlock()
		if strings.Contains(string(raw), `"stream":"bad"`) {
			fmt.Fprint(w, `{"code":0,"data":{"urls":"not a list"}}`)
			return
		}
		fmt.Fprintf(w, `{"code":0,"data":{"urls":["rtmp://127.0.0.1:%d/other/%s_copy?from=backend"]}}`, b.rtmp, body["stream"])
	}))
	t.Cleanup(backend.Close)
	a := startCastd(t, fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
vhost __defaultVhost__ {
    forward { enabled on; backend %s; }
}
`, backend.URL))
	pub, err := publishTo(t, a.rtmpURL("live"), "good?token=1")
	if err != nil {
		t.Fatal(err)
	}
	copyKey := hub.Key{Vhost: hub.DefaultVhost, App: "other", Name: "good_copy"}
	b.waitPublishing(t, copyKey, true, 10*time.Second)
	mu.Lock()
	got := bodies[0]
	mu.Unlock()
	for k, want := range map[string]any{"action": "on_forward", "vhost": hub.DefaultVhost, "app": "live", "stream": "good", "param": "?token=1",
		"tcUrl": a.rtmpURL("live"), "ip": "127.0.0.1"} {
		if got[k] != want {
			t.Errorf("on_forward %s = %v, want %v (body %v)", k, got[k], want, got)
		}
	}
	pub.Close()
	b.waitPublishing(t, copyKey, false, 5*time.Second)

	if _, err := publishTo(t, a.rtmpURL("live"), "bad"); err != nil {
		t.Fatalf("a bad backend answer must not reject the publisher: %v", err)
	}
	a.waitLog(t, "forward: backend failed", 5*time.Second)
	a.waitLog(t, "(code 3008)", time.Second)
}

// TestForwardReconnects: when the destination restarts, the forwarder
// connects again and the stream is back on it.
func TestForwardReconnects(t *testing.T) {
	port := freePort(t)
	conf := fmt.Sprintf("listen 127.0.0.1:%d;\nvhost __defaultVhost__ {}\n", port)
	b1 := startCastd(t, conf)
	a := startCastd(t, fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
vhost __defaultVhost__ {
    forward { enabled on; destination 127.0.0.1:%d; }
}
`, port))
	ffmpegPublish(t, a.rtmpURL("live/re"), 25*time.Second)
	b1.waitPublishing(t, liveKey("re"), true, 10*time.Second)
	b1.stop()
	a.waitLog(t, "forward: push failed; retrying", 5*time.Second)
	b2 := startCastd(t, conf)
	b2.waitPublishing(t, liveKey("re"), true, 10*time.Second)
	r := ffprobe(t, fmt.Sprintf("rtmp://127.0.0.1:%d/live/re", port), 0)
	if _, ok := r.stream("video"); !ok {
		t.Fatalf("no video from the restarted destination: %+v", r.Streams)
	}
}

// TestExecOnPublish: exec publish commands start on publish with the
// stream's variables, restart after they exit, and get SIGTERM on
// unpublish.
func TestExecOnPublish(t *testing.T) {
	dir := t.TempDir()
	oneShot := filepath.Join(dir, "oneshot.sh")
	daemon := filepath.Join(dir, "daemon.sh")
	write := func(p, body string) {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(oneShot, `echo "$1" >> "$2"`+"\n")
	write(daemon, `trap 'echo term >> "$1"; exit 0' TERM
echo started >> "$1"
while :; do sleep 0.05; done
`)
	runs, signals := filepath.Join(dir, "runs"), filepath.Join(dir, "signals")
	a := startCastd(t, fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
vhost __defaultVhost__ {
    exec {
        enabled on;
        publish %s [app]/[stream] %s;
        publish %s %s;
    }
}
`, oneShot, runs, daemon, signals))
	read := func(p string) []string {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return strings.Fields(string(b))
	}
	waitLines := func(p string, n int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for len(read(p)) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s has %q, want %d lines", filepath.Base(p), read(p), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	pub := ffmpegPublish(t, a.rtmpURL("live/cam"), 5*time.Second)
	waitLines(runs, 2, 10*time.Second) // the second line is the restart, 3 s later
	for _, l := range read(runs) {
		if l != "live/cam" {
			t.Fatalf("the command got %q, want live/cam", l)
		}
	}
	if got := read(signals); len(got) != 1 || got[0] != "started" {
		t.Fatalf("the long-running command: %q, want it started once", got)
	}
	if err := pub.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	waitLines(signals, 2, 5*time.Second)
	if got := read(signals); got[1] != "term" {
		t.Fatalf("the long-running command saw %q, want SIGTERM on unpublish", got)
	}
	n := len(read(runs))
	time.Sleep(3500 * time.Millisecond)
	if len(read(runs)) != n {
		t.Fatal("the exited command was restarted after unpublish")
	}
}

// TestForwardReload: a reload that changes forward{} moves a live stream's
// forward to the new destination.
func TestForwardReload(t *testing.T) {
	b1 := startCastd(t, "listen 127.0.0.1:{{rtmp}};\nvhost __defaultVhost__ {}\n")
	b2 := startCastd(t, "listen 127.0.0.1:{{rtmp}};\nvhost __defaultVhost__ {}\n")
	text := `
listen 127.0.0.1:%d;
vhost __defaultVhost__ {
    forward { enabled on; destination 127.0.0.1:%d; }
}
`
	port := freePort(t)
	a := startCastd(t, fmt.Sprintf(text, port, b1.rtmp))
	if _, err := publishTo(t, fmt.Sprintf("rtmp://127.0.0.1:%d/live", port), "rl"); err != nil {
		t.Fatal(err)
	}
	b1.waitPublishing(t, liveKey("rl"), true, 5*time.Second)
	cfg, err := conf.Parse("test.conf", []byte(fmt.Sprintf(text, port, b2.rtmp)), conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.srv.Reload(cfg)
	b2.waitPublishing(t, liveKey("rl"), true, 5*time.Second)
	b1.waitPublishing(t, liveKey("rl"), false, 5*time.Second)
}
