//go:build unix

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/castd/castd/internal/protocol/rtmp"
)

// runCastd runs the binary to completion and returns its exit code and output.
func runCastd(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildCastd(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

func TestCLIFlags(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	writeFile(t, good, "listen 1935;\nvhost __defaultVhost__ {}\n")
	bad := filepath.Join(dir, "bad.conf")
	writeFile(t, bad, "listen 1935;\nvhost __defaultVhost__ {\n    hls { hls_fragmentz 10; }\n}\n")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-v"}, 0, "0.1.0"},
		{[]string{"-h"}, 0, "Usage: castd"},
		{[]string{"-g"}, 0, "SRS/6.0.157 compatible"},
		{[]string{"-x"}, 2, `unknown argument "-x"`},
		{[]string{"-t", "-c", good}, 0, "is valid"},
		{[]string{"-t", "-c" + good}, 0, "is valid"},
		{[]string{"-t", "-c", bad}, 1, "bad.conf:3"},
		{[]string{"-t", "-c", bad}, 1, "hls_fragmentz"},
		{[]string{"-t", "-c", filepath.Join(dir, "missing.conf")}, 1, "missing.conf"},
		{[]string{"-t"}, 0, "embedded default"},
	}
	for _, c := range cases {
		code, out := runCastd(t, dir, c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("castd %s: exit %d, output %q; want exit %d containing %q", strings.Join(c.args, " "), code, out, c.code, c.want)
		}
	}
}

// servesRTMP reports whether an RTMP server answers on port. A TCP
// connect alone proves nothing once castd closed the port: another test
// binary may have bound the freed port meanwhile.
func servesRTMP(port int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	cc, err := rtmp.Dial(ctx, fmt.Sprintf("rtmp://127.0.0.1:%d/live", port), rtmp.ClientOptions{})
	if err != nil {
		return false
	}
	cc.Close()
	return true
}

// binaryCastd runs the binary in the background with a config file.
type binaryCastd struct {
	*proc
	dir, conf  string
	rtmp, http int
}

func startBinary(t *testing.T, confText string, extraPorts ...*int) *binaryCastd {
	t.Helper()
	b := &binaryCastd{dir: t.TempDir(), rtmp: freePort(t), http: freePort(t)}
	for _, p := range extraPorts {
		*p = freePort(t)
	}
	b.conf = filepath.Join(b.dir, "castd.conf")
	b.writeConf(t, confText)
	b.proc = startCmd(t, buildCastd(t), "-c", b.conf)
	b.proc.cmd.Dir = b.dir
	b.waitOutput(t, "castd ready", 15*time.Second)
	return b
}

// output is what castd printed plus its log file, for configs that log to
// {{dir}}/castd.log.
func (b *binaryCastd) output() string {
	log, _ := os.ReadFile(filepath.Join(b.dir, "castd.log"))
	return b.out.String() + string(log)
}

func (b *binaryCastd) writeConf(t *testing.T, text string) {
	t.Helper()
	text = strings.NewReplacer("{{rtmp}}", strconv.Itoa(b.rtmp), "{{http}}", strconv.Itoa(b.http), "{{dir}}", b.dir).Replace(text)
	writeFile(t, b.conf, text)
}

func (b *binaryCastd) signal(t *testing.T, s syscall.Signal) {
	t.Helper()
	if err := b.cmd.Process.Signal(s); err != nil {
		t.Fatal(err)
	}
}

func (b *binaryCastd) waitOutput(t *testing.T, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(b.output(), s) {
		if time.Now().After(deadline) || b.Exited() {
			t.Fatalf("castd never printed %q:\n%s", s, b.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *binaryCastd) castd(port int) *castd { return &castd{rtmp: port, http: b.http} }

// TestSIGHUPReload: a reload opens a new port and changes vhost settings
// while a publisher and a player keep streaming; a broken config changes
// nothing.
func TestSIGHUPReload(t *testing.T) {
	var second int
	b := startBinary(t, `
listen 127.0.0.1:{{rtmp}};
daemon off;
srs_log_tank console;
pid {{dir}}/castd.pid;
vhost __defaultVhost__ { play { mw_latency 0; } }
`, &second)
	c := b.castd(b.rtmp)
	pub := dialPublish(t, c, "hup", rtmp.ClientOptions{})
	play := dialPlay(t, c, "hup")
	write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: avcSH})
	readMedia(t, play, 1, 5*time.Second)

	b.writeConf(t, fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}} 127.0.0.1:%d;
daemon off;
srs_log_tank console;
pid {{dir}}/castd.pid;
vhost __defaultVhost__ { play { mw_latency 0; gop_cache off; } }
`, second))
	b.signal(t, syscall.SIGHUP)
	b.waitOutput(t, "reload done", 5*time.Second)
	if !strings.Contains(b.out.String(), fmt.Sprintf("RTMP listening addr=tcp://127.0.0.1:%d", second)) {
		t.Fatalf("the new port was not opened:\n%s", b.out.String())
	}
	// The new port works, and the old connections still stream.
	dialPlay(t, b.castd(second), "hup")
	write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: 40, Payload: frame(true, 100, 1)})
	readMedia(t, play, 1, 5*time.Second)

	b.writeConf(t, "listen 127.0.0.1:{{rtmp}};\nvhost __defaultVhost__ { unknown_thing on; }\n")
	b.signal(t, syscall.SIGHUP)
	b.waitOutput(t, "reload failed, the running config is unchanged", 5*time.Second)
	if !strings.Contains(b.out.String(), "unknown_thing") {
		t.Errorf("the reload error does not name the bad directive:\n%s", b.out.String())
	}
	dialPlay(t, b.castd(second), "hup") // still listening on the port the broken config dropped
}

// TestSIGQUITDrainsAndSIGUSR1ReopensLog runs with a file log: SIGUSR1
// reopens it after rotation; SIGQUIT stops accepting, waits for the last
// connection to end, and exits.
func TestSIGQUITDrainsAndSIGUSR1ReopensLog(t *testing.T) {
	b := startBinary(t, `
listen 127.0.0.1:{{rtmp}};
daemon off;
srs_log_tank file;
srs_log_file {{dir}}/castd.log;
pid {{dir}}/castd.pid;
grace_start_wait 100;
grace_final_wait 100;
vhost __defaultVhost__ {}
`)
	logPath := filepath.Join(b.dir, "castd.log")
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	b.signal(t, syscall.SIGUSR1)
	waitFile(t, logPath, "log file reopened", 5*time.Second)

	pid, err := os.ReadFile(filepath.Join(b.dir, "castd.pid"))
	if err != nil || strings.TrimSpace(string(pid)) != strconv.Itoa(b.cmd.Process.Pid) {
		t.Fatalf("pid file %q (%v), want %d", pid, err, b.cmd.Process.Pid)
	}
	// A second castd with the same pid file refuses to start.
	code, out := runCastd(t, b.dir, "-c", b.conf)
	if code == 0 || !strings.Contains(out+readFile(t, logPath), "another castd is running") {
		t.Errorf("a second castd with the same pid file: exit %d, %q", code, out)
	}

	c := b.castd(b.rtmp)
	pub := dialPublish(t, c, "drain", rtmp.ClientOptions{})
	b.signal(t, syscall.SIGQUIT)
	waitFile(t, logPath, "graceful quit: listeners closed", 5*time.Second)
	if servesRTMP(b.rtmp) {
		t.Fatal("castd still accepts connections while draining")
	}
	time.Sleep(300 * time.Millisecond)
	if b.Exited() {
		t.Fatal("castd quit before its last connection ended")
	}
	pub.Close()
	select {
	case <-b.done:
		if b.err != nil {
			t.Fatalf("exit: %v", b.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("castd did not exit after the last connection ended")
	}
	if _, err := os.Stat(filepath.Join(b.dir, "castd.pid")); !os.IsNotExist(err) {
		t.Error("the pid file was not removed at exit")
	}
}

// TestWorkDir: relative paths resolve against work_dir.
func TestWorkDir(t *testing.T) {
	b := &binaryCastd{dir: t.TempDir(), rtmp: freePort(t), http: freePort(t)}
	work := filepath.Join(b.dir, "work")
	if err := os.MkdirAll(filepath.Join(work, "html"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(work, "html", "index.html"), "from work_dir")
	b.conf = filepath.Join(b.dir, "castd.conf")
	b.writeConf(t, fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
work_dir %s;
pid ./castd.pid;
srs_log_tank console;
http_server { enabled on; listen 127.0.0.1:{{http}}; dir ./html; }
vhost __defaultVhost__ {}
`, work))
	b.proc = startCmd(t, buildCastd(t), "-c", b.conf)
	b.waitOutput(t, "castd ready", 15*time.Second)
	var body string
	deadline := time.Now().Add(5 * time.Second)
	for body != "from work_dir" && time.Now().Before(deadline) {
		body = httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", b.http))
		time.Sleep(50 * time.Millisecond)
	}
	if body != "from work_dir" {
		t.Fatalf("static root did not resolve against work_dir: %q", body)
	}
	if _, err := os.Stat(filepath.Join(work, "castd.pid")); err != nil {
		t.Fatalf("relative pid path not under work_dir: %v", err)
	}
}

func waitFile(t *testing.T, path, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(readFile(t, path), s) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never contained %q:\n%s", path, s, readFile(t, path))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, _ := os.ReadFile(path)
	return string(b)
}
