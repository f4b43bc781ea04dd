package static

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestStatic(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "live"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>castd</h1>"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "live", "a.m3u8"), []byte("#EXTM3U\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "live", "v.mp4"), []byte("0123456789"), 0o644))
	flv := append([]byte("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"), []byte("TAG1TAG2")...)
	must(os.WriteFile(filepath.Join(dir, "live", "r.flv"), flv, 0o644))
	outside := filepath.Join(filepath.Dir(dir), "secret.txt")
	must(os.WriteFile(outside, []byte("secret"), 0o644))
	defer os.Remove(outside)

	h := Handler{Dir: dir, Mount: "/"}
	cases := []struct {
		method, target, rangeHdr string
		code                     int
		ctype, body              string
	}{
		{"GET", "/", "", 200, "text/html; charset=utf-8", "<h1>castd</h1>"},
		{"GET", "/live/a.m3u8", "", 200, "application/vnd.apple.mpegurl", "#EXTM3U\n"},
		{"GET", "/live/v.mp4", "bytes=2-4", 206, "video/mp4", "234"},
		{"GET", "/live/v.mp4?range=5-6", "", 206, "video/mp4", "56"},
		{"GET", "/live/r.flv?start=17", "", 200, "video/x-flv", string(flv[:13]) + "TAG2"},
		{"GET", "/live/r.flv?start=x", "", 400, "", ""},
		{"GET", "/live/r.flv", "", 200, "video/x-flv", string(flv)},
		{"GET", "/live/missing.ts", "", 404, "text/plain; charset=utf-8", "Not Found"},
		{"GET", "/live/", "", 404, "", ""},
		{"GET", "/../secret.txt", "", 404, "", ""},
		{"HEAD", "/live/a.m3u8", "", 200, "application/vnd.apple.mpegurl", ""},
		{"POST", "/live/a.m3u8", "", 405, "", ""},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, "/", nil)
		req.URL.Path, req.URL.RawQuery = splitTarget(c.target)
		if c.rangeHdr != "" {
			req.Header.Set("Range", c.rangeHdr)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != c.code {
			t.Errorf("%s %s: code %d, want %d", c.method, c.target, rec.Code, c.code)
			continue
		}
		if c.ctype != "" && rec.Header().Get("Content-Type") != c.ctype {
			t.Errorf("%s %s: type %q, want %q", c.method, c.target, rec.Header().Get("Content-Type"), c.ctype)
		}
		if c.body != "" && string(body) != c.body {
			t.Errorf("%s %s: body %q, want %q", c.method, c.target, body, c.body)
		}
	}
}

func splitTarget(s string) (string, string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func TestMountPrefix(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.ts"), []byte("ts"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	Handler{Dir: dir, Mount: "/hls/"}.ServeHTTP(rec, httptest.NewRequest("GET", "/hls/x.ts", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "ts" || rec.Header().Get("Content-Type") != "video/MP2T" {
		t.Fatalf("%d %q %q", rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"))
	}
}
