package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/httpx"
)

// parse builds a config from text, with {{dir}} replaced by dir.
func parse(t *testing.T, text, dir string) *conf.Config {
	t.Helper()
	text = strings.ReplaceAll(text, "{{dir}}", dir)
	cfg, err := conf.Parse("test.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatalf("config: %v\n%s", err, text)
	}
	return cfg
}

const baseConf = `
listen 1935;
http_api { enabled on; listen 1985; }
http_server { enabled on; listen 8080; dir {{dir}}; }
vhost __defaultVhost__ { }
`

// mounted is a mux with the console, as the server builds it.
func mounted(t *testing.T, text, dir string) *httpx.Mux {
	t.Helper()
	mux := httpx.NewMux()
	Mount(mux, parse(t, text, dir))
	return mux
}

type answer struct {
	code   int
	header http.Header
	body   string
}

func do(h http.Handler, req *http.Request) answer {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return answer{rec.Code, rec.Result().Header, string(body)}
}

func get(h http.Handler, path string) answer {
	return do(h, httptest.NewRequest(http.MethodGet, path, nil))
}

func TestEmbeddedConsoleServed(t *testing.T) {
	mux := mounted(t, baseConf, t.TempDir())
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/console/", "text/html; charset=utf-8", `<script src="console.js"`},
		{"/console/index.html", "text/html; charset=utf-8", "<title>castd console</title>"},
		{"/console/console.js", "text/javascript; charset=utf-8", "'use strict'"},
		{"/console/console.css", "text/css; charset=utf-8", "table"},
		{"/console/icon.svg", "image/svg+xml", "<svg"},
		{"/console/endpoints.json", "application/json", `"rtmp":1935`},
	} {
		a := get(mux, tc.path)
		if a.code != http.StatusOK || a.header.Get("Content-Type") != tc.contentType || !strings.Contains(a.body, tc.contains) {
			t.Errorf("GET %s: %d %q, want 200 %q with %q; body %.200q", tc.path, a.code, a.header.Get("Content-Type"), tc.contentType, tc.contains, a.body)
			continue
		}
		if a.header.Get("Cache-Control") != "no-cache" || a.header.Get("ETag") == "" || a.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: caching headers %v", tc.path, a.header)
		}
		wantCSP := strings.HasPrefix(tc.contentType, "text/html")
		if got := a.header.Get("Content-Security-Policy"); (got != "") != wantCSP {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, got)
		}
	}
}

func TestEmbeddedConsoleRevalidatesAndRefuses(t *testing.T) {
	mux := mounted(t, baseConf, t.TempDir())
	first := get(mux, "/console/console.js")
	req := httptest.NewRequest(http.MethodGet, "/console/console.js", nil)
	req.Header.Set("If-None-Match", first.header.Get("ETag"))
	if a := do(mux, req); a.code != http.StatusNotModified || a.body != "" {
		t.Errorf("If-None-Match with the ETag: %d %q, want 304", a.code, a.body)
	}
	if a := do(mux, httptest.NewRequest(http.MethodHead, "/console/", nil)); a.code != http.StatusOK || a.body != "" {
		t.Errorf("HEAD /console/: %d %q", a.code, a.body)
	}
	for _, tc := range []struct {
		method, path string
		code         int
	}{
		{http.MethodPost, "/console/", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/console/console.js", http.StatusMethodNotAllowed},
		{http.MethodGet, "/console/missing.js", http.StatusNotFound},
		{http.MethodGet, "/console/ui/console.js", http.StatusNotFound}, // the embed dir's name is not a path
		{http.MethodGet, "/console/js/", http.StatusNotFound},
		{http.MethodGet, "/console/./console.js", http.StatusNotFound},
	} {
		if a := do(mux, httptest.NewRequest(tc.method, tc.path, nil)); a.code != tc.code {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, a.code, tc.code)
		}
	}
}

// TestPageReferencesExist keeps index.html and the embedded files in step.
func TestPageReferencesExist(t *testing.T) {
	mux := mounted(t, baseConf, t.TempDir())
	page := get(mux, "/console/").body
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("index.html references %d files, want the script, the style sheet and the icon", len(refs))
	}
	for _, m := range refs {
		if strings.Contains(m[1], ":") || strings.HasPrefix(m[1], "/") {
			t.Errorf("index.html references %q: the console must use relative URLs on its own origin", m[1])
			continue
		}
		if a := get(mux, "/console/"+m[1]); a.code != http.StatusOK {
			t.Errorf("index.html references %s: %d", m[1], a.code)
		}
	}
}

func TestConsoleRedirectsBarePath(t *testing.T) {
	mux := mounted(t, baseConf, t.TempDir())
	for _, tc := range []struct{ path, location string }{
		{"/console", "/console/"},
		{"/console?x=1", "/console/?x=1"},
	} {
		a := get(mux, tc.path)
		if a.code != http.StatusFound || a.header.Get("Location") != tc.location {
			t.Errorf("GET %s: %d Location %q, want 302 %q", tc.path, a.code, a.header.Get("Location"), tc.location)
		}
	}
}

func writeFile(t *testing.T, name, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiskConsoleWins(t *testing.T) {
	dir := t.TempDir()
	mux := mounted(t, baseConf, dir)
	if a := get(mux, "/console/"); !strings.Contains(a.body, "castd console") {
		t.Fatalf("without <dir>/console: %d %.100q, want the embedded console", a.code, a.body)
	}
	// An operator copies SRS's console in: it wins from the next request.
	writeFile(t, filepath.Join(dir, "console", "index.html"), "<p>srs console</p>")
	writeFile(t, filepath.Join(dir, "console", "ng_index.html"), "<p>ng</p>")
	writeFile(t, filepath.Join(dir, "console", "js", "app.js"), "var x;")
	for _, tc := range []struct {
		path        string
		code        int
		body, ctype string
	}{
		{"/console/", 200, "<p>srs console</p>", "text/html; charset=utf-8"},
		{"/console/ng_index.html", 200, "<p>ng</p>", "text/html; charset=utf-8"},
		{"/console/js/app.js", 200, "var x;", "text/javascript; charset=utf-8"},
		{"/console/js/", 404, "Not Found", ""},        // a directory without index.html is not listed
		{"/console/console.js", 404, "Not Found", ""}, // castd's files are not mixed in
		{"/console/endpoints.json", 404, "Not Found", ""},
	} {
		a := get(mux, tc.path)
		if a.code != tc.code || a.body != tc.body || (tc.ctype != "" && a.header.Get("Content-Type") != tc.ctype) {
			t.Errorf("GET %s: %d %q %q, want %d %q %q", tc.path, a.code, a.header.Get("Content-Type"), a.body, tc.code, tc.ctype, tc.body)
		}
	}
	// Removed again: back to castd's console.
	if err := os.RemoveAll(filepath.Join(dir, "console")); err != nil {
		t.Fatal(err)
	}
	if a := get(mux, "/console/"); !strings.Contains(a.body, "castd console") {
		t.Fatalf("after removing <dir>/console: %d %.100q", a.code, a.body)
	}
	// A file named console is not a console directory.
	writeFile(t, filepath.Join(dir, "console"), "not a dir")
	if a := get(mux, "/console/"); !strings.Contains(a.body, "castd console") {
		t.Fatalf("with a file <dir>/console: %d %.100q", a.code, a.body)
	}
}

func TestTraversalRefused(t *testing.T) {
	const secret = "top secret"
	paths := []string{
		"/console/../secret.txt",
		"/console/../../secret.txt",
		"/console/js/../../secret.txt",
		"/console/..%2fsecret.txt",
		"/console/%2e%2e/secret.txt",
		"/console/" + "/secret.txt",
		"/console/..\\secret.txt",
	}
	for _, disk := range []bool{false, true} {
		root := t.TempDir()
		dir := filepath.Join(root, "html")
		writeFile(t, filepath.Join(dir, "secret.txt"), secret)
		writeFile(t, filepath.Join(root, "secret.txt"), secret)
		if disk {
			writeFile(t, filepath.Join(dir, "console", "index.html"), "console")
		}
		cfg := parse(t, baseConf, dir)
		mux := httpx.NewMux()
		Mount(mux, cfg)
		for _, p := range paths {
			req := httptest.NewRequest(http.MethodGet, p, nil)
			// Through the server's mux, and straight to the handler, in case
			// the mux's own ".." check ever goes.
			for name, h := range map[string]http.Handler{"mux": mux, "handler": newHandler(cfg)} {
				if a := do(h, req.Clone(req.Context())); a.code == http.StatusOK || strings.Contains(a.body, secret) {
					t.Errorf("disk=%v %s %s: %d %q", disk, name, p, a.code, a.body)
				}
			}
		}
	}
}

func TestAuthCoversConsole(t *testing.T) {
	const authConf = `
listen 1935;
http_api { enabled on; listen 1985; auth { enabled on; username admin; password s3cret; } }
http_server { enabled on; listen 8080; dir {{dir}}; }
vhost __defaultVhost__ { }
`
	for _, disk := range []bool{false, true} {
		dir := t.TempDir()
		if disk {
			writeFile(t, filepath.Join(dir, "console", "index.html"), "srs console")
		}
		mux := mounted(t, authConf, dir)
		for _, p := range []string{"/console/", "/console/console.js", "/console/endpoints.json", "/console/index.html"} {
			a := get(mux, p)
			if a.code != http.StatusUnauthorized || a.header.Get("WWW-Authenticate") != `Basic realm="castd"` {
				t.Errorf("disk=%v GET %s without credentials: %d %q", disk, p, a.code, a.header.Get("WWW-Authenticate"))
			}
			req := httptest.NewRequest(http.MethodGet, p, nil)
			req.SetBasicAuth("admin", "wrong")
			if a := do(mux, req); a.code != http.StatusUnauthorized {
				t.Errorf("disk=%v GET %s with a wrong password: %d", disk, p, a.code)
			}
		}
		req := httptest.NewRequest(http.MethodGet, "/console/", nil)
		req.SetBasicAuth("admin", "s3cret")
		if a := do(mux, req); a.code != http.StatusOK {
			t.Errorf("disk=%v GET /console/ with credentials: %d %q", disk, a.code, a.body)
		}
	}
	// Auth off: open, as the API is.
	if a := get(mounted(t, baseConf, t.TempDir()), "/console/"); a.code != http.StatusOK {
		t.Errorf("auth off: %d", a.code)
	}
}

func TestEndpointsFrom(t *testing.T) {
	for _, tc := range []struct {
		name, conf string
		want       Endpoints
	}{
		{
			name: "SRS defaults",
			conf: baseConf,
			want: Endpoints{RTMP: 1935, HTTP: 8080, Vhosts: map[string]VhostURLs{
				"__defaultVhost__": {}}},
		},
		{
			name: "every output on, addresses in listens",
			conf: `
listen 127.0.0.1:19350 1936;
http_api { enabled on; listen 1985; }
http_server { enabled on; listen 0.0.0.0:18080; dir {{dir}};
    https { enabled on; listen 18088; key k.key; cert c.crt; } }
rtc_server { enabled on; listen 18000; }
srt_server { enabled on; listen 19000; }
vhost __defaultVhost__ {
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
    hls { enabled on; hls_m3u8_file [app]/[stream]/live.m3u8; }
    rtc { enabled on; }
    srt { enabled on; }
}
vhost other.example { http_remux { enabled on; mount /flv/[stream].flv; } }
vhost off.example { enabled off; }
`,
			want: Endpoints{RTMP: 19350, HTTP: 18080, HTTPS: 18088, SRT: 19000, RTC: true, Vhosts: map[string]VhostURLs{
				"__defaultVhost__": {FLV: "/[app]/[stream].flv", HLS: "/[app]/[stream]/live.m3u8", RTC: true, SRT: true},
				"other.example":    {FLV: "/flv/[stream].flv"},
			}},
		},
		{
			name: "HTTP server off",
			conf: `
listen [::1]:1935;
http_api { enabled on; listen 1985; }
http_server { enabled off; listen 8080; }
vhost v { hls { enabled on; } }
`,
			want: Endpoints{RTMP: 1935, Vhosts: map[string]VhostURLs{"v": {HLS: "/[app]/[stream].m3u8"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := EndpointsFrom(parse(t, tc.conf, t.TempDir()))
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tc.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("got  %s\nwant %s", gotJSON, wantJSON)
			}
		})
	}
}

// TestEndpointsServedMatchConfig checks endpoints.json is the config's.
func TestEndpointsServedMatchConfig(t *testing.T) {
	dir := t.TempDir()
	text := strings.Replace(baseConf, "listen 1935;", "listen 11935;", 1)
	a := get(mounted(t, text, dir), "/console/endpoints.json")
	var ep Endpoints
	if err := json.Unmarshal([]byte(a.body), &ep); err != nil {
		t.Fatalf("endpoints.json: %v: %q", err, a.body)
	}
	if ep.RTMP != 11935 || ep.HTTP != 8080 {
		t.Errorf("endpoints.json %+v, want RTMP 11935 and HTTP 8080", ep)
	}
}
