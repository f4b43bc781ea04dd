package streamurl

import (
	"errors"
	"strings"
	"testing"
)

// checkSafe enforces what every accepted request promises: no whitespace or
// control characters anywhere, no '/' in host and vhost, no '/' at the ends
// of app and stream, and non-empty vhost, app and stream.
func checkSafe(t *testing.T, r *Request) {
	t.Helper()
	parts := map[string]string{
		"schema": r.Schema, "host": r.Host, "vhost": r.Vhost, "app": r.App, "stream": r.Stream,
		"param": r.Param, "tcUrl": r.TcURL, "pageUrl": r.PageURL, "swfUrl": r.SwfURL,
	}
	for name, v := range parts {
		if strings.IndexFunc(v, func(c rune) bool { return c <= ' ' || c == 0x7f }) >= 0 {
			t.Fatalf("%s %q holds whitespace or a control character", name, v)
		}
	}
	if strings.Contains(r.Host, "/") || strings.Contains(r.Vhost, "/") {
		t.Fatalf("host %q or vhost %q holds '/'", r.Host, r.Vhost)
	}
	if r.Vhost == "" || r.App == "" || r.Stream == "" {
		t.Fatalf("empty part in %+v", r)
	}
	for _, v := range []string{r.App, r.Stream} {
		if strings.HasPrefix(v, "/") || strings.HasSuffix(v, "/") {
			t.Fatalf("%q starts or ends with '/'", v)
		}
	}
	if r.Port < 1 || r.Port > 65535 {
		t.Fatalf("port %d", r.Port)
	}
	if r.Param != "" && r.Param[0] != '?' && r.Param[0] != '#' {
		t.Fatalf("param %q lacks its '?'", r.Param)
	}
	_ = r.StreamURL()
	_ = r.Query()
	_ = r.RTMPURL("127.0.0.1", 1935)
}

func FuzzDiscoverRTMP(f *testing.F) {
	seeds := [][2]string{
		{"rtmp://127.0.0.1/live", "livestream"},
		{"rtmp://192.168.1.100/live?vhost=demo.srs.com", "livestream"},
		{"rtmp://192.168.1.100/live...vhost...demo.srs.com", "livestream"},
		{"rtmp://127.0.0.1/live/_definst_", "livestream?vhost=__defaultVhost__"},
		{"rtmp://127.0.0.1/live?secret=xxx/livestream", ""},
		{"rtmp://[::1]:1935/live", "livestream?domain=v.com#f"},
		{"rtmp://user:pass@h:1936//show/live//", "s.flv?token=a/b"},
		{"rtmp://h/live?vhost=v", "s?token=t\r\n"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, tcURL, stream string) {
		r, err := DiscoverRTMP(tcURL, stream)
		if err != nil {
			if !errors.Is(err, ErrBadURL) && !errors.Is(err, ErrEmptyStream) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		checkSafe(t, r)
	})
}

func FuzzDiscoverHTTP(f *testing.F) {
	seeds := [][3]string{
		{"127.0.0.1:8080", "/live/livestream.flv", ""},
		{"192.168.1.100", "/live/livestream.flv", "vhost=demo.srs.com&token=xxx"},
		{"[::1]:8080", "/show/live/cam.m3u8", "domain=v.com"},
		{"h", "/livestream.flv", "vhost=__defaultVhost__"},
		{"h\r\n", "/li ve/s.flv\r\n", "token=a\r\nb"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, host, path, query string) {
		r, err := DiscoverHTTP(host, path, query)
		if err != nil {
			if !errors.Is(err, ErrBadURL) && !errors.Is(err, ErrEmptyStream) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		checkSafe(t, r)
		if r.Schema != "http" || !strings.HasSuffix(r.TcURL, "/"+r.App) {
			t.Fatalf("schema %q tcUrl %q for %+v", r.Schema, r.TcURL, r)
		}
	})
}
