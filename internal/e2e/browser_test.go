package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Browser tests play castd's streams with real web players (mpegts.js,
// later hls.js, dash.js, WebRTC) in headless Chromium. The page, the driver
// and the pinned player libraries live in web/playertest; docs/testing.md
// explains how to add a player kind.

// playerTestDir is web/playertest, relative to this package's directory
// (where go test runs).
const playerTestDir = "../../web/playertest"

// browserSample is one reading of the page's counters (see run.mjs).
type browserSample struct {
	T           float64 `json:"t"` // seconds since the driver started watching
	Frames      int     `json:"frames"`
	Dropped     int     `json:"dropped"`
	CurrentTime float64 `json:"currentTime"`
	Audio       bool    `json:"audio"` // non-silent audio in the analyser's last window
	AudioBytes  int64   `json:"audioBytes"`
	AudioPeak   float64 `json:"audioPeak"`
	ReadyState  int     `json:"readyState"`
	Paused      bool    `json:"paused"`
}

// browserEvent is a player error or a notable player event, as the page
// recorded it; Detail is whatever the player library passed.
type browserEvent struct {
	Source string          `json:"source"`
	Name   string          `json:"name"`
	T      float64         `json:"t"`
	Detail json.RawMessage `json:"detail"`
}

func (e browserEvent) String() string {
	var detail bytes.Buffer
	if err := json.Compact(&detail, e.Detail); err != nil {
		detail.Write(e.Detail)
	}
	return fmt.Sprintf("%.1fs %s%s %s", e.T, e.Source, e.Name, detail.Bytes())
}

// browserResult is the driver's JSON output.
type browserResult struct {
	Page    string          `json:"page"`
	Samples []browserSample `json:"samples"`
	Errors  []browserEvent  `json:"errors"`
	Events  []browserEvent  `json:"events"`
	Console []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"console"`
	Fatal string `json:"fatal"`
}

// summary is a compact account of a run for failure messages.
func (r browserResult) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "page %s\n", r.Page)
	if r.Fatal != "" {
		fmt.Fprintf(&b, "fatal: %s\n", r.Fatal)
	}
	for _, s := range r.Samples {
		fmt.Fprintf(&b, "  t=%.1f frames=%d dropped=%d currentTime=%.2f audio=%v (peak %.3f, %d bytes) readyState=%d paused=%v\n",
			s.T, s.Frames, s.Dropped, s.CurrentTime, s.Audio, s.AudioPeak, s.AudioBytes, s.ReadyState, s.Paused)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	for _, e := range r.Events {
		fmt.Fprintf(&b, "  event: %s\n", e)
	}
	for _, c := range r.Console {
		fmt.Fprintf(&b, "  console %s: %s\n", c.Type, c.Text)
	}
	return b.String()
}

// browserTools finds node, Chromium and the installed player test
// packages, failing the test (not skipping it) when one is missing.
func browserTools(t *testing.T) (node, chromium, dir string) {
	t.Helper()
	const hint = "run ./scripts/test.sh, which installs them"
	dir, err := filepath.Abs(playerTestDir)
	if err != nil {
		t.Fatal(err)
	}
	node, err = exec.LookPath("node")
	if err != nil {
		t.Fatalf("browser tests need Node.js (node is not on PATH); %s", hint)
	}
	chromium, err = exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("browser tests need Chromium (chromium is not on PATH); %s", hint)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("browser tests need %s/node_modules (npm ci): %v; %s", dir, err, hint)
	}
	return node, chromium, dir
}

// stagePlayerPage copies the player pages (web/playertest/*.html and *.js)
// and the player libraries named in libs.json into castd's http_server dir
// under playertest/, so the page and the stream share an origin.
func stagePlayerPage(t *testing.T, src, castdDir string) {
	t.Helper()
	dst := filepath.Join(castdDir, "playertest")
	if err := os.MkdirAll(filepath.Join(dst, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, pattern := range []string{"*.html", "*.js"} {
		pages, err := filepath.Glob(filepath.Join(src, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			copyFile(t, p, filepath.Join(dst, filepath.Base(p)))
		}
	}
	manifest, err := os.ReadFile(filepath.Join(src, "libs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var libs map[string]string // served name -> path under web/playertest
	if err := json.Unmarshal(manifest, &libs); err != nil {
		t.Fatalf("libs.json: %v", err)
	}
	for name, from := range libs {
		if name != filepath.Base(name) {
			t.Fatalf("libs.json: %q is not a plain file name", name)
		}
		copyFile(t, filepath.Join(src, filepath.FromSlash(from)), filepath.Join(dst, "lib", name))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatalf("browser tests: %v; run ./scripts/test.sh, which installs the player libraries", err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatalf("copy %s: %v", from, err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// playInBrowser opens castd's player test page in headless Chromium, plays
// streamURL with the player for kind ("flv": mpegts.js; see player.js),
// watches it for watch and returns what the page saw. It fails the test
// only when the browser could not be run; judging playback is the caller's
// (see checkPlayback).
func playInBrowser(t *testing.T, c *castd, kind, streamURL string, watch time.Duration) browserResult {
	t.Helper()
	return openInBrowser(t, c, kind, streamURL, watch).wait(t)
}

// browserPage is a player test page open in its own headless Chromium,
// driven by run.mjs in the background.
type browserPage struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	out    string // the driver's result file
	logs   *syncBuffer
	done   chan struct{}
	err    error
	// stopped says the test ended the watch early (stop).
	stopped bool
}

// openInBrowser starts the driver on the page for kind and streamURL and
// returns at once, so a test can keep one page open (a WHIP publisher)
// while it plays in another. wait collects the result. chromiumArgs are
// flags for this browser alone, on top of run.mjs's own.
func openInBrowser(t *testing.T, c *castd, kind, streamURL string, watch time.Duration, chromiumArgs ...string) *browserPage {
	t.Helper()
	node, chromium, dir := browserTools(t)
	stagePlayerPage(t, dir, c.dir)
	page := c.httpURL("playertest/player.html?" + url.Values{"kind": {kind}, "url": {streamURL}}.Encode())
	p := &browserPage{out: filepath.Join(t.TempDir(), "result.json"), logs: &syncBuffer{}, done: make(chan struct{})}

	// The driver bounds itself at watch+30 s; this is the backstop.
	ctx, cancel := context.WithTimeout(context.Background(), watch+60*time.Second)
	p.cancel = cancel
	p.cmd = exec.CommandContext(ctx, node, "run.mjs", page, strconv.FormatFloat(watch.Seconds(), 'f', 1, 64), p.out)
	p.cmd.Dir = dir
	// The driver closes Chromium on an interrupt; a kill follows if not.
	p.cmd.Cancel = func() error { return p.cmd.Process.Signal(os.Interrupt) }
	p.cmd.WaitDelay = 10 * time.Second
	// Chromium's profile and temp files land in a dir the test removes.
	p.cmd.Env = append(os.Environ(), "TMPDIR="+shortTempDir(t), "PLAYERTEST_CHROMIUM="+chromium,
		"PLAYERTEST_CHROMIUM_ARGS="+strings.Join(chromiumArgs, "\n"))
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start the browser driver: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	// A test that ends early stops the driver (cleanups run before the
	// temp dirs go).
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// wait waits for the driver to finish watching and returns what the page
// saw, failing the test only when the browser could not be run.
func (p *browserPage) wait(t *testing.T) browserResult {
	t.Helper()
	<-p.done
	p.cancel()
	var r browserResult
	body, err := os.ReadFile(p.out)
	if err != nil {
		t.Fatalf("browser driver wrote no result (%v): %v\n%s", p.err, err, p.logs.String())
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("browser driver result: %v\n%s", err, body)
	}
	if p.err != nil && !(p.stopped && strings.HasPrefix(r.Fatal, "stopped by")) {
		t.Fatalf("browser driver: %v: %s\n%s\n%s", p.err, r.Fatal, p.logs.String(), r.summary())
	}
	return r
}

// stop ends the watch early and returns what the page saw until then.
func (p *browserPage) stop(t *testing.T) browserResult {
	t.Helper()
	p.stopped = true
	p.cancel()
	return p.wait(t)
}

// shortTempDir is a temp dir with a short path: Chromium puts a Unix socket
// in its profile dir, and t.TempDir's names (with the test's name) can pass
// the 108-byte limit on socket paths.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "castd-pt-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("remove the browser's temp dir: %v", err)
		}
	})
	return dir
}
