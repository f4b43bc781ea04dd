// Package e2e runs castd in-process against real clients (ffmpeg, ffprobe)
// and castd's own RTMP client, on loopback ports.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/server"
)

// castd is one in-process server under test.
type castd struct {
	srv     *server.Server
	rtmp    int // ports
	http    int
	api     int
	srt     int    // UDP
	rtc     int    // UDP, rtc_server.listen
	dir     string // the server's http_server.dir
	logs    *syncBuffer
	cancel  context.CancelFunc
	stopped bool
}

// freePort asks the kernel for a free loopback port.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// freeUDPPort asks the kernel for a free UDP port.
func freeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

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

// defaultConf is a typical SRS config: RTMP, API, HTTP server with HTTP-FLV.
const defaultConf = `
listen              127.0.0.1:{{rtmp}};
max_connections     1000;
daemon              off;
srs_log_tank        console;
pid                 {{dir}}/castd.pid;
http_api {
    enabled         on;
    listen          127.0.0.1:{{api}};
}
http_server {
    enabled         on;
    listen          127.0.0.1:{{http}};
    dir             {{dir}};
}
vhost __defaultVhost__ {
    http_remux {
        enabled     on;
        mount       [vhost]/[app]/[stream].flv;
    }
}
`

// startCastd runs castd with text, whose {{rtmp}}, {{http}}, {{api}},
// {{srt}} and {{rtc}} (UDP) and {{dir}} are filled with free ports and a temp dir. Cleanup stops it and
// checks that every goroutine it started has ended.
func startCastd(t *testing.T, text string) *castd {
	t.Helper()
	baseline := runtime.NumGoroutine()
	c := &castd{rtmp: freePort(t), http: freePort(t), api: freePort(t), srt: freeUDPPort(t), rtc: freeUDPPort(t), dir: t.TempDir(), logs: &syncBuffer{}}
	text = strings.NewReplacer("{{rtmp}}", strconv.Itoa(c.rtmp), "{{http}}", strconv.Itoa(c.http),
		"{{api}}", strconv.Itoa(c.api), "{{srt}}", strconv.Itoa(c.srt), "{{rtc}}", strconv.Itoa(c.rtc), "{{dir}}", c.dir).Replace(text)
	cfg, err := conf.Parse("test.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatalf("config: %v\n%s", err, text)
	}
	h := logging.NewHandler(logging.ConsoleOutput(c.logs, c.logs), logging.Options{Level: slog.LevelDebug})
	c.srv = server.New(cfg, server.Options{Logger: slog.New(h)})
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if err := c.srv.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("castd log:\n%s", c.logs.String())
		}
		checkGoroutines(t, baseline)
	})
	return c
}

func (c *castd) stop() {
	if c.stopped {
		return
	}
	c.stopped = true
	c.cancel()
	c.srv.Wait()
}

func (c *castd) rtmpURL(path string) string {
	return fmt.Sprintf("rtmp://127.0.0.1:%d/%s", c.rtmp, path)
}
func (c *castd) httpURL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/%s", c.http, path)
}
func (c *castd) apiURL(path string) string { return fmt.Sprintf("http://127.0.0.1:%d/%s", c.api, path) }

// waitLog waits until the server logged a line containing s.
func (c *castd) waitLog(t *testing.T, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(c.logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("castd never logged %q", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkGoroutines fails when goroutines started by the test outlive it.
func checkGoroutines(t *testing.T, baseline int) {
	t.Helper()
	checkGoroutinesWithin(t, baseline, 5*time.Second)
}

// checkGoroutinesWithin is checkGoroutines for teardowns that wait on
// purpose, e.g. castd's WebRTC packetizer lingers 5 s after its last player.
func checkGoroutinesWithin(t *testing.T, baseline int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= baseline {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("goroutine leak: %d running, %d before the test\n%s", n, baseline, buf)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requireTool fails (not skips) when an interop tool is missing: the test
// command installs them, and a skipped interop test proves nothing.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed; run ./scripts/test.sh, which installs the interop tools", name)
	}
	return p
}

// ffmpegPublish starts ffmpeg publishing a generated H.264+AAC stream to
// url for the given duration. extra are encoder options placed before the
// output. The process is killed at cleanup.
func ffmpegPublish(t *testing.T, url string, dur time.Duration, extra ...string) *proc {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", fmt.Sprintf("%.1f", dur.Seconds()),
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-ac", "2"}
	if len(extra) == 0 {
		extra = []string{"-tune", "zerolatency"}
	}
	args = append(args, extra...)
	args = append(args, "-f", "flv", url)
	return startCmd(t, requireTool(t, "ffmpeg"), args...)
}

// proc is a background process started by startCmd.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// Wait waits for the process to exit and returns its error.
func (p *proc) Wait() error { <-p.done; return p.err }

// Exited reports whether the process has ended.
func (p *proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startCmd runs a command in the background, killed at cleanup, with its
// output kept for failure messages.
func startCmd(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s %s output:\n%s", filepath.Base(bin), strings.Join(p.cmd.Args[1:], " "), p.out.String())
		}
	})
	return p
}

// probeResult is the part of ffprobe's JSON the tests read.
type probeResult struct {
	Streams []struct {
		CodecType  string `json:"codec_type"`
		CodecName  string `json:"codec_name"`
		Profile    string `json:"profile"`
		Width      int    `json:"width"`
		Height     int    `json:"height"`
		RFrameRate string `json:"r_frame_rate"`
		SampleRate string `json:"sample_rate"`
		Channels   int    `json:"channels"`
	} `json:"streams"`
	Packets []struct {
		CodecType string `json:"codec_type"`
		PTS       int64  `json:"pts"`
		DTS       int64  `json:"dts"`
		Flags     string `json:"flags"`
	} `json:"packets"`
}

func (p probeResult) stream(kind string) (idx int, ok bool) {
	for i, s := range p.Streams {
		if s.CodecType == kind {
			return i, true
		}
	}
	return 0, false
}

// ffprobe reads url and returns its streams (and packets when packets > 0,
// reading that many).
func ffprobe(t *testing.T, url string, packets int) probeResult {
	t.Helper()
	args := []string{"-hide_banner", "-v", "error", "-rw_timeout", "10000000", "-of", "json", "-show_streams"}
	if packets > 0 {
		args = append(args, "-show_packets", "-read_intervals", "%+#"+strconv.Itoa(packets))
	}
	args = append(args, url)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, requireTool(t, "ffprobe"), args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("ffprobe %s: %v %s", url, err, stderr)
	}
	var r probeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ffprobe output: %v: %s", err, out)
	}
	return r
}

// getJSON fetches a URL and decodes its JSON body.
func getJSON(t *testing.T, method, url string, v any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s %s: %v: %s", method, url, err, body)
	}
}

// waitPublished waits until the API shows the stream as publishing.
func (c *castd) waitPublished(t *testing.T, name string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var r struct {
			Streams []struct {
				ID, Name string
				Publish  struct{ Active bool }
				Video    *struct{ Codec string }
			}
		}
		getJSON(t, "GET", c.apiURL("api/v1/streams/?count=100"), &r)
		for _, s := range r.Streams {
			if s.Name == name && s.Publish.Active && s.Video != nil {
				return s.ID
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("stream %s never published", name)
	return ""
}

func TestMain(m *testing.M) {
	// Interop tests spawn ffmpeg; keep the environment predictable.
	os.Setenv("AV_LOG_FORCE_NOCOLOR", "1")
	os.Exit(m.Run())
}

// tryGetJSON is getJSON that reports failure instead of failing the test.
func tryGetJSON(url string, v any) bool {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v) == nil
}

// httpGet returns a URL's body, or "" when it cannot be fetched.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
