package streamurl

import (
	"errors"
	"testing"
)

type wantRequest struct {
	schema, host string
	port         int
	vhost, app   string
	stream       string
	param        string
}

func checkRequest(t *testing.T, name string, r *Request, w wantRequest) {
	t.Helper()
	got := wantRequest{r.Schema, r.Host, r.Port, r.Vhost, r.App, r.Stream, r.Param}
	if got != w {
		t.Errorf("%s:\n got %+v\nwant %+v", name, got, w)
	}
}

func TestDiscoverRTMP(t *testing.T) {
	tests := []struct {
		tcURL, stream string
		want          wantRequest
	}{
		// The forms of spec §4.1 and the SRS docs (rtmp-url-vhost).
		{"rtmp://127.0.0.1/live", "livestream",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", ""}},
		{"rtmp://demo.srs.com/live", "livestream",
			wantRequest{"rtmp", "demo.srs.com", 1935, "demo.srs.com", "live", "livestream", ""}},
		{"rtmp://demo.srs.com:1935/live", "livestream",
			wantRequest{"rtmp", "demo.srs.com", 1935, "demo.srs.com", "live", "livestream", ""}},
		{"rtmp://192.168.1.100/live", "livestream?vhost=demo.srs.com",
			wantRequest{"rtmp", "192.168.1.100", 1935, "demo.srs.com", "live", "livestream", "?vhost=demo.srs.com"}},
		{"rtmp://192.168.1.100/live", "livestream?domain=demo.srs.com",
			wantRequest{"rtmp", "192.168.1.100", 1935, "demo.srs.com", "live", "livestream", "?domain=demo.srs.com"}},
		{"rtmp://192.168.1.100/live", "livestream?token=xxx",
			wantRequest{"rtmp", "192.168.1.100", 1935, "192.168.1.100", "live", "livestream", "?token=xxx"}},
		{"rtmp://192.168.1.100/live", "livestream?vhost=demo.srs.com&token=xxx",
			wantRequest{"rtmp", "192.168.1.100", 1935, "demo.srs.com", "live", "livestream", "?vhost=demo.srs.com&token=xxx"}},
		{"rtmp://192.168.1.10/live", "livestream?key=ER892ID839KD9D0A1D87D",
			wantRequest{"rtmp", "192.168.1.10", 1935, "192.168.1.10", "live", "livestream", "?key=ER892ID839KD9D0A1D87D"}},
		{"rtmp://192.168.1.100/live?vhost=demo.srs.com", "livestream", // FMLE
			wantRequest{"rtmp", "192.168.1.100", 1935, "demo.srs.com", "live", "livestream", "?vhost=demo.srs.com"}},
		{"rtmp://192.168.1.100/live...vhost...demo.srs.com", "livestream", // legacy FMLE
			wantRequest{"rtmp", "192.168.1.100", 1935, "demo.srs.com", "live", "livestream", "?vhost=demo.srs.com"}},
		{"rtmp://127.0.0.1/live#vhost=demo.srs.com", "livestream", // FMLE with '#'
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", "#vhost=demo.srs.com"}},
		{"rtmp://demo.srs.com/show/live/livestream", "2013", // multi-level app
			wantRequest{"rtmp", "demo.srs.com", 1935, "demo.srs.com", "show/live/livestream", "2013", ""}},
		{"rtmp://127.0.0.1:19350/live", "livestream",
			wantRequest{"rtmp", "127.0.0.1", 19350, "127.0.0.1", "live", "livestream", ""}},

		// /_definst_ anywhere, empty and odd apps.
		{"rtmp://127.0.0.1/live/_definst_", "livestream",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", ""}},
		{"rtmp://127.0.0.1/live/_definst_/sub", "livestream",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live/sub", "livestream", ""}},
		{"rtmp://127.0.0.1", "livestream",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", DefaultApp, "livestream", ""}},
		{"rtmp://127.0.0.1/", "livestream",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", DefaultApp, "livestream", ""}},
		{"rtmp://127.0.0.1/live/", "livestream",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", ""}},
		{"rtmp://127.0.0.1/live", "/livestream",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", ""}},

		// The default vhost in the query is ignored, and dropped when alone.
		{"rtmp://127.0.0.1/live", "livestream?vhost=__defaultVhost__",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", ""}},
		{"rtmp://127.0.0.1/live", "livestream?domain=__defaultVhost__",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", ""}},
		{"rtmp://127.0.0.1/live", "livestream?vhost=__defaultVhost__&token=1",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", "?vhost=__defaultVhost__&token=1"}},
		{"rtmp://__defaultVhost__/live", "livestream",
			wantRequest{"rtmp", "__defaultVhost__", 1935, "__defaultVhost__", "live", "livestream", ""}},
		{"rtmp://127.0.0.1/live", "livestream?vhost=",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", "?vhost="}},
		{"rtmp://127.0.0.1/live", "livestream?vhost=a.com&domain=b.com",
			wantRequest{"rtmp", "127.0.0.1", 1935, "a.com", "live", "livestream", "?vhost=a.com&domain=b.com"}},
		{"rtmp://127.0.0.1/live", "livestream?vhost=a.com,token=1", // SRS also splits on ','
			wantRequest{"rtmp", "127.0.0.1", 1935, "a.com", "live", "livestream", "?vhost=a.com,token=1"}},

		// Empty stream names are guessed (OBS and friends).
		{"rtmp://127.0.0.1/live/livestream", "",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", ""}},
		{"rtmp://127.0.0.1/live?secret=xxx/livestream", "",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", "?secret=xxx"}},
		{"rtmp://127.0.0.1/live?vhost=v.com/livestream", "",
			wantRequest{"rtmp", "127.0.0.1", 1935, "v.com", "live", "livestream", "?vhost=v.com"}},
		{"rtmp://127.0.0.1/show/live/", "",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "show", "live", ""}},

		// IPv6, user info, schemas.
		{"rtmp://[::1]:1935/live", "livestream",
			wantRequest{"rtmp", "::1", 1935, "::1", "live", "livestream", ""}},
		{"rtmp://[2001:db8::1]/live", "livestream?vhost=v.com",
			wantRequest{"rtmp", "2001:db8::1", 1935, "v.com", "live", "livestream", "?vhost=v.com"}},
		{"rtmp://[fe80::1]:19350/live", "s",
			wantRequest{"rtmp", "fe80::1", 19350, "fe80::1", "live", "s", ""}},
		{"rtmp://user:pass@127.0.0.1:1936/live", "s",
			wantRequest{"rtmp", "127.0.0.1", 1936, "127.0.0.1", "live", "s", ""}},
		{"RTMP://Demo.SRS.com/Live", "Stream",
			wantRequest{"rtmp", "Demo.SRS.com", 1935, "Demo.SRS.com", "Live", "Stream", ""}},
		{"rtmps://live.example.com/app", "s",
			wantRequest{"rtmps", "live.example.com", 443, "live.example.com", "app", "s", ""}},
		{"rtmpt://live.example.com/app", "s",
			wantRequest{"rtmpt", "live.example.com", 80, "live.example.com", "app", "s", ""}},

		// Ugly inputs: whitespace, control characters, slashes, extensions.
		{"rtmp://127.0.0.1/live", " livestream \r\n",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", ""}},
		{"rtmp://127.0.0.1/ li ve/\t", "s\x00\x1b",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "s", ""}},
		{"rtmp://127.0.0.1/live", "livestream?token=a b\r\nX-Injected: 1",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream", "?token=abX-Injected:1"}},
		{"rtmp://127.0.0.1//live//", "livestream.flv",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "livestream.flv", ""}},
		{"rtmp://127.0.0.1/live", "mp4:file.mp4",
			wantRequest{"rtmp", "127.0.0.1", 1935, "127.0.0.1", "live", "mp4:file.mp4", ""}},
		// Queries on both sides: the tcUrl's lands after the stream's, so it
		// is glued to the last value, as in SRS.
		{"rtmp://h/live?vhost=v", "s?token=t",
			wantRequest{"rtmp", "h", 1935, "h", "live", "s", "?token=t?vhost=v"}},
		// A '/' inside the stream's query makes its tail the stream, as in SRS.
		{"rtmp://h/live", "s?token=a/b",
			wantRequest{"rtmp", "h", 1935, "h", "live/s", "b", "?token=a"}},
	}
	for _, tt := range tests {
		name := tt.tcURL + " + " + tt.stream
		r, err := DiscoverRTMP(tt.tcURL, tt.stream)
		if err != nil {
			t.Errorf("%q: %v", name, err)
			continue
		}
		checkRequest(t, name, r, tt.want)
	}
}

func TestDiscoverRTMPKeepsTcURL(t *testing.T) {
	r, err := DiscoverRTMP("rtmp://127.0.0.1/live...vhost...v.com", "s")
	if err != nil {
		t.Fatal(err)
	}
	if r.TcURL != "rtmp://127.0.0.1/live...vhost...v.com" {
		t.Errorf("TcURL %q: hooks report the tcUrl as the client sent it", r.TcURL)
	}
}

func TestDiscoverRTMPErrors(t *testing.T) {
	tests := []struct {
		tcURL, stream string
		want          error
	}{
		{"rtmp://127.0.0.1/live", "", ErrEmptyStream},
		{"rtmp://127.0.0.1", "", ErrEmptyStream},
		{"rtmp://127.0.0.1/live", "?token=1", ErrEmptyStream},
		{"rtmp://127.0.0.1/live", " \r\n", ErrEmptyStream},
		{"rtmp://127.0.0.1/live", "/", ErrEmptyStream},
		{"rtmp://127.0.0.1/live?vhost=v", "", ErrEmptyStream},
		{"", "livestream", ErrBadURL},
		{"live", "livestream", ErrBadURL},
		{"://127.0.0.1/live", "livestream", ErrBadURL},
		{"1rtmp://127.0.0.1/live", "livestream", ErrBadURL},
		{"rtmp://", "livestream", ErrBadURL},
		{"rtmp:///live", "livestream", ErrBadURL},
		{"rtmp://user@/live", "livestream", ErrBadURL},
		{"rtmp://h:0/live", "livestream", ErrBadURL},
		{"rtmp://h:99999/live", "livestream", ErrBadURL},
		{"rtmp://h:abc/live", "livestream", ErrBadURL},
		{"rtmp://[::1/live", "livestream", ErrBadURL},
		{"rtmp://[::1]x/live", "livestream", ErrBadURL},
		{"rtmp://::1/live", "livestream", ErrBadURL},
		{"rtmp://[]/live", "livestream", ErrBadURL},
	}
	for _, tt := range tests {
		r, err := DiscoverRTMP(tt.tcURL, tt.stream)
		if !errors.Is(err, tt.want) {
			t.Errorf("%q + %q: %+v, %v; want %v", tt.tcURL, tt.stream, r, err, tt.want)
		}
	}
}
