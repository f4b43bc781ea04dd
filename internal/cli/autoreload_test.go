//go:build unix

package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/castd/castd/internal/confwatch"
	"github.com/castd/castd/internal/server"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func writeConf(t *testing.T, path, text string) {
	t.Helper()
	time.Sleep(15 * time.Millisecond) // distinct timestamps for polling watchers
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// running is castd started by Run in this process.
type running struct {
	srv  *server.Server
	out  *syncBuffer
	sigs chan os.Signal
}

// run starts castd with args from dir and stops it at cleanup.
func run(t *testing.T, dir string, args ...string) *running {
	t.Helper()
	t.Chdir(dir) // Run resolves relative paths here; cleanup restores the directory
	r := &running{out: &syncBuffer{}, sigs: make(chan os.Signal, 1)}
	started := make(chan *server.Server, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, Env{Args: args, Stdout: r.out, Stderr: r.out, Signals: r.sigs,
			Started: func(s *server.Server) { started <- s },
			Watch:   confwatch.Options{Debounce: 50 * time.Millisecond}})
	}()
	select {
	case r.srv = <-started:
	case code := <-done:
		t.Fatalf("castd exited with %d:\n%s", code, r.out.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("castd did not start:\n%s", r.out.String())
	}
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("castd exited with %d", code)
		}
		if t.Failed() {
			t.Logf("castd output:\n%s", r.out.String())
		}
	})
	return r
}

// waitLog waits for the n-th occurrence of s in castd's output.
func (r *running) waitLog(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(r.out.String(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("castd never logged %q %d times", s, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rtmpPorts lists the RTMP ports castd listens on.
func (r *running) rtmpPorts() map[int]bool {
	out := map[int]bool{}
	for _, a := range r.srv.Addrs()["rtmp"] {
		out[a.(*net.TCPAddr).Port] = true
	}
	return out
}

func confText(dir string, inotify string, ports ...int) string {
	var eps []string
	for _, p := range ports {
		eps = append(eps, fmt.Sprintf("127.0.0.1:%d", p))
	}
	return fmt.Sprintf("listen %s;\ninotify_auto_reload %s;\nsrs_log_tank console;\npid %s/castd.pid;\nvhost __defaultVhost__ {}\n",
		strings.Join(eps, " "), inotify, dir)
}

// TestAutoReload: with inotify_auto_reload on, saving the config reloads
// it (a new port opens), a broken save is refused with its file:line and
// changes nothing, and an edit of an included file reloads too.
func TestAutoReload(t *testing.T) {
	dir := t.TempDir()
	p1, p2 := freePort(t), freePort(t)
	path := filepath.Join(dir, "castd.conf")
	writeConf(t, path, confText(dir, "on", p1))
	r := run(t, dir, "-c", "castd.conf")
	r.waitLog(t, "inotify_auto_reload: watching the config", 1)

	writeConf(t, path, confText(dir, "on", p1, p2))
	r.waitLog(t, "reload done", 1)
	if got := r.rtmpPorts(); !got[p1] || !got[p2] {
		t.Fatalf("ports %v after the edit, want %d and %d", got, p1, p2)
	}

	writeConf(t, path, confText(dir, "on", p1)+"vhost broken {\n    no_such_directive on;\n}\n")
	r.waitLog(t, "reload failed, the running config is unchanged", 1)
	if !strings.Contains(r.out.String(), "castd.conf:7") || !strings.Contains(r.out.String(), "no_such_directive") {
		t.Errorf("the refused reload does not say where and what")
	}
	if got := r.rtmpPorts(); !got[p2] {
		t.Fatalf("a broken config changed the ports: %v", got)
	}

	// Move the vhost into an included file: the include is watched from
	// the reload that adds it.
	inc := filepath.Join(dir, "vhosts.conf")
	writeConf(t, inc, "vhost __defaultVhost__ {}\n")
	main := strings.Replace(confText(dir, "on", p1), "vhost __defaultVhost__ {}\n", "include vhosts.conf;\n", 1)
	writeConf(t, path, main)
	r.waitLog(t, "reload done", 2)
	r.waitLog(t, "inotify_auto_reload: watching the config", 2)
	writeConf(t, inc, "vhost __defaultVhost__ {}\nvhost other.vhost {}\n")
	r.waitLog(t, "reload done", 3)
	if !strings.Contains(r.out.String(), "reload: vhost enabled vhost=other.vhost") {
		t.Errorf("the edit of the included file did not add its vhost")
	}
}

// TestAutoReloadFollowsTheDirective: off, saving reloads nothing; a SIGHUP
// that turns it on starts watching; turning it off again stops.
func TestAutoReloadFollowsTheDirective(t *testing.T) {
	dir := t.TempDir()
	p1, p2 := freePort(t), freePort(t)
	path := filepath.Join(dir, "castd.conf")
	writeConf(t, path, confText(dir, "off", p1))
	r := run(t, dir, "-c", path)

	writeConf(t, path, confText(dir, "off", p1, p2))
	time.Sleep(500 * time.Millisecond)
	if strings.Contains(r.out.String(), "reload done") {
		t.Fatal("castd reloaded with inotify_auto_reload off")
	}
	writeConf(t, path, confText(dir, "on", p1))
	r.sigs <- syscall.SIGHUP
	r.waitLog(t, "reload done", 1)
	r.waitLog(t, "inotify_auto_reload: watching the config", 1)

	writeConf(t, path, confText(dir, "off", p1, p2))
	r.waitLog(t, "inotify_auto_reload: the config changed, reloading", 1)
	r.waitLog(t, "reload done", 2)
	if got := r.rtmpPorts(); !got[p2] {
		t.Fatalf("ports %v, want %d opened by the automatic reload", got, p2)
	}
	writeConf(t, path, confText(dir, "off", p1))
	time.Sleep(500 * time.Millisecond)
	if n := strings.Count(r.out.String(), "reload done"); n != 2 {
		t.Fatalf("%d reloads after inotify_auto_reload was turned off, want 2", n)
	}
}

// TestReloadAfterWorkDir: castd changes to work_dir at start; a reload
// still reads the config (and its includes) named relative to the
// directory castd started in.
func TestReloadAfterWorkDir(t *testing.T) {
	dir, work := t.TempDir(), t.TempDir()
	p1, p2 := freePort(t), freePort(t)
	if err := os.Mkdir(filepath.Join(dir, "conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	withWorkDir := func(ports ...int) string {
		return strings.Replace(confText(dir, "off", ports...), "vhost __defaultVhost__ {}\n",
			"work_dir "+work+";\ninclude conf/vhost.conf;\n", 1)
	}
	writeConf(t, filepath.Join(dir, "conf", "vhost.conf"), "vhost __defaultVhost__ {}\n")
	path := filepath.Join("conf", "castd.conf")
	writeConf(t, filepath.Join(dir, path), withWorkDir(p1))
	r := run(t, dir, "-c", path)
	if wd, _ := os.Getwd(); wd != work {
		t.Fatalf("castd runs in %s, want work_dir %s", wd, work)
	}
	writeConf(t, filepath.Join(dir, path), withWorkDir(p1, p2))
	r.sigs <- syscall.SIGHUP
	r.waitLog(t, "reload done", 1)
	if got := r.rtmpPorts(); !got[p2] {
		t.Fatalf("ports %v, want %d", got, p2)
	}
}

func TestAutoReloadWithoutFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SRS_LISTEN", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	t.Setenv("SRS_INOTIFY_AUTO_RELOAD", "on")
	t.Setenv("SRS_PID", filepath.Join(dir, "castd.pid"))
	t.Chdir(dir)
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, Env{Args: []string{"-e"}, LookupEnv: os.LookupEnv, Stdout: out, Stderr: out,
			Signals: make(chan os.Signal), Started: func(*server.Server) { close(started) }})
	}()
	select {
	case <-started:
	case <-done:
		t.Fatalf("castd exited:\n%s", out.String())
	}
	cancel()
	<-done
	if !strings.Contains(out.String(), "inotify_auto_reload: no config file to watch") {
		t.Errorf("env-only castd with inotify_auto_reload on did not say it watches nothing:\n%s", out.String())
	}
}
