package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// consoleResult is console.mjs's output.
type consoleResult struct {
	Page   string   `json:"page"`
	Stream []string `json:"stream"` // the stream row's cells
	URLs   []struct {
		Kind string `json:"kind"`
		URL  string `json:"url"`
	} `json:"urls"`
	Client *struct {
		ID    string   `json:"id"`
		Cells []string `json:"cells"`
	} `json:"client"`
	Dialog      string `json:"dialog"`
	Message     string `json:"message"`
	Kicked      bool   `json:"kicked"`
	ErrorsShown string `json:"errorsShown"`
	Console     []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"console"`
	Fatal string `json:"fatal"`
}

// runConsoleDriver runs web/playertest/console.mjs on pageURL for stream.
func runConsoleDriver(t *testing.T, pageURL, stream string) (consoleResult, string) {
	t.Helper()
	node, chromium, dir := browserTools(t)
	out := filepath.Join(t.TempDir(), "console.json")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "console.mjs", pageURL, stream, out)
	cmd.Dir = dir
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = append(os.Environ(), "TMPDIR="+shortTempDir(t), "PLAYERTEST_CHROMIUM="+chromium)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	runErr := cmd.Run()
	var r consoleResult
	body, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("console driver wrote no result (%v): %v\n%s", runErr, err, logs.String())
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("console driver result: %v\n%s", err, body)
	}
	if runErr != nil || r.Fatal != "" {
		t.Fatalf("console driver: %v: %s\n%s\n%s", runErr, r.Fatal, logs.String(), body)
	}
	return r, string(body)
}

// TestConsoleInBrowser opens the console in headless Chromium while ffmpeg
// publishes, checks the stream, its play URLs and the publisher appear,
// kicks the publisher with the page's button and checks the API lost it.
func TestConsoleInBrowser(t *testing.T) {
	c := startCastd(t, defaultConf)
	const name = "console"
	ffmpegPublish(t, c.rtmpURL("live/"+name), 60*time.Second)
	c.waitPublished(t, name, 10*time.Second)

	r, raw := runConsoleDriver(t, c.apiURL("console/"), name)
	t.Logf("console driver: %s", raw)

	cells := strings.Join(r.Stream, " | ")
	for _, want := range []string{name, "live", "__defaultVhost__", "H264", "320×240", "AAC", "publishing"} {
		if !strings.Contains(cells, want) {
			t.Errorf("stream row %q lacks %q", cells, want)
		}
	}
	urls := map[string]string{}
	for _, u := range r.URLs {
		urls[u.Kind] = u.URL
	}
	// The ports are the config's (endpoints.json), the host the page's.
	for kind, want := range map[string]string{
		"RTMP":     c.rtmpURL("live/" + name),
		"HTTP-FLV": c.httpURL("live/" + name + ".flv"),
	} {
		if urls[kind] != want {
			t.Errorf("%s URL %q, want %q", kind, urls[kind], want)
		}
	}
	if _, ok := urls["HLS"]; ok {
		t.Errorf("HLS URL shown for a vhost without hls: %q", urls["HLS"])
	}

	// The page's publisher is the API's.
	var clients struct {
		Clients []struct {
			ID, Type, Name string
			Publish        bool
		}
	}
	getJSON(t, "GET", c.apiURL("api/v1/clients/?count=100"), &clients)
	if r.Client == nil || r.Client.ID == "" {
		t.Fatalf("no publisher on the page:\n%s", raw)
	}
	if !strings.Contains(r.Dialog, r.Client.ID) || !strings.Contains(r.Message, "Kicked client "+r.Client.ID) {
		t.Errorf("kick dialog %q, message %q", r.Dialog, r.Message)
	}
	if r.ErrorsShown != "" {
		t.Errorf("the page showed errors: %q", r.ErrorsShown)
	}
	for _, l := range r.Console {
		if l.Type == "error" || l.Type == "pageerror" || l.Type == "http" {
			t.Errorf("browser console %s: %s", l.Type, l.Text)
		}
	}

	// The API no longer has the client (the page saw it go; check castd).
	var one struct{ Code int }
	deadline := time.Now().Add(5 * time.Second)
	for {
		getJSON(t, "GET", c.apiURL("api/v1/clients/"+r.Client.ID), &one)
		if one.Code == 2049 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client %s still in the API after the kick (code %d); before it: %+v", r.Client.ID, one.Code, clients)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestConsoleServedAsConfigured checks the wiring without a browser: the
// console on the API's own port and on a port shared with the HTTP server,
// behind http_api.auth, and an operator's console on disk winning.
func TestConsoleServedAsConfigured(t *testing.T) {
	fetch := func(t *testing.T, url, user, pass string) (int, string, string) {
		t.Helper()
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Location"), string(body)
	}

	t.Run("own port, disk console wins", func(t *testing.T) {
		c := startCastd(t, defaultConf)
		if code, _, body := fetch(t, c.apiURL("console/"), "", ""); code != 200 || !strings.Contains(body, "castd console") {
			t.Fatalf("embedded console: %d %.100q", code, body)
		}
		if code, loc, _ := fetch(t, c.apiURL("console"), "", ""); code != http.StatusFound || loc != "/console/" {
			t.Errorf("/console: %d Location %q", code, loc)
		}
		if err := os.MkdirAll(filepath.Join(c.dir, "console"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.dir, "console", "index.html"), []byte("operator's console"), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, body := fetch(t, c.apiURL("console/"), "", ""); code != 200 || body != "operator's console" {
			t.Errorf("with <dir>/console: %d %.100q", code, body)
		}
	})

	t.Run("shared port with auth", func(t *testing.T) {
		shared := strings.Replace(defaultConf, "listen          127.0.0.1:{{api}};",
			"listen          127.0.0.1:{{http}};\n    auth { enabled on; username admin; password s3cret; }", 1)
		c := startCastd(t, shared)
		for _, tc := range []struct {
			path, user, pass string
			code             int
			contains         string
		}{
			{"console/", "", "", 401, "Unauthorized"},
			{"console/console.js", "admin", "nope", 401, "Unauthorized"},
			{"console/", "admin", "s3cret", 200, "castd console"},
			{"console/endpoints.json", "admin", "s3cret", 200, fmt.Sprintf(`"rtmp":%d`, c.rtmp)},
			{"api/v1/versions", "admin", "s3cret", 200, `"code":0`},
		} {
			if code, _, body := fetch(t, c.httpURL(tc.path), tc.user, tc.pass); code != tc.code || !strings.Contains(body, tc.contains) {
				t.Errorf("%s as %q: %d %.100q, want %d with %q", tc.path, tc.user, code, body, tc.code, tc.contains)
			}
		}
	})
}
