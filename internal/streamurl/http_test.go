package streamurl

import (
	"errors"
	"testing"
)

func TestDiscoverHTTP(t *testing.T) {
	tests := []struct {
		host, path, query string
		want              wantRequest
		tcURL             string
	}{
		{"127.0.0.1:8080", "/live/livestream.flv", "",
			wantRequest{"http", "127.0.0.1", 8080, "127.0.0.1", "live", "livestream", ""}, "rtmp://127.0.0.1/live"},
		{"192.168.1.100", "/live/livestream.flv", "vhost=demo.srs.com&token=xxx",
			wantRequest{"http", "192.168.1.100", 80, "demo.srs.com", "live", "livestream", "?vhost=demo.srs.com&token=xxx"}, "rtmp://demo.srs.com/live"},
		{"192.168.1.100", "/live/livestream.m3u8", "domain=demo.srs.com",
			wantRequest{"http", "192.168.1.100", 80, "demo.srs.com", "live", "livestream", "?domain=demo.srs.com"}, "rtmp://demo.srs.com/live"},
		{"demo.srs.com:8080", "/live/livestream.ts", "vhost=__defaultVhost__",
			wantRequest{"http", "demo.srs.com", 8080, "demo.srs.com", "live", "livestream", ""}, "rtmp://demo.srs.com/live"},
		{"demo.srs.com", "/live/livestream.aac", "token=1",
			wantRequest{"http", "demo.srs.com", 80, "demo.srs.com", "live", "livestream", "?token=1"}, "rtmp://demo.srs.com/live"},
		{"[::1]:8080", "/show/live/cam.flv", "",
			wantRequest{"http", "::1", 8080, "::1", "show/live", "cam", ""}, "rtmp://[::1]/show/live"},
		{"h", "/livestream.flv", "",
			wantRequest{"http", "h", 80, "h", DefaultApp, "livestream", ""}, "rtmp://h/" + DefaultApp},
		{"h", "/live/s.flv", "vhost=a.com:8080",
			wantRequest{"http", "h", 80, "a.com:8080", "live", "s", "?vhost=a.com:8080"}, "rtmp://a.com:8080/live"},
		{"h", "/live/live.stream.flv", "",
			wantRequest{"http", "h", 80, "h", "live", "live.stream", ""}, "rtmp://h/live"},
		{"h", "/live/livestream", "",
			wantRequest{"http", "h", 80, "h", "live", "livestream", ""}, "rtmp://h/live"},
		{"", "/live/s.flv", "vhost=v.com",
			wantRequest{"http", "", 80, "v.com", "live", "s", "?vhost=v.com"}, "rtmp://v.com/live"},
		{"h", "/live/s.flv?ignored=1", "",
			wantRequest{"http", "h", 80, "h", "live", "s", ""}, "rtmp://h/live"},
		{"h\r\n", "/li ve/s.flv\r\n", "token=a\r\nb",
			wantRequest{"http", "h", 80, "h", "live", "s", "?token=ab"}, "rtmp://h/live"},
	}
	for _, tt := range tests {
		name := tt.host + tt.path + "?" + tt.query
		r, err := DiscoverHTTP(tt.host, tt.path, tt.query)
		if err != nil {
			t.Errorf("%q: %v", name, err)
			continue
		}
		checkRequest(t, name, r, tt.want)
		if r.TcURL != tt.tcURL {
			t.Errorf("%q: TcURL %q, want %q", name, r.TcURL, tt.tcURL)
		}
	}
}

func TestDiscoverHTTPErrors(t *testing.T) {
	tests := []struct {
		host, path, query string
		want              error
	}{
		{"h", "/live/.flv", "", ErrEmptyStream},
		{"h", "/live/", "", ErrEmptyStream},
		{"h", "", "", ErrEmptyStream},
		{"", "/live/s.flv", "", ErrBadURL},
		{"", "/live/s.flv", "vhost=__defaultVhost__", ErrBadURL},
		{"h:bad", "/live/s.flv", "", ErrBadURL},
		{"h:70000", "/live/s.flv", "", ErrBadURL},
		{"[::1", "/live/s.flv", "", ErrBadURL},
		{"::1", "/live/s.flv", "", ErrBadURL},
	}
	for _, tt := range tests {
		r, err := DiscoverHTTP(tt.host, tt.path, tt.query)
		if !errors.Is(err, tt.want) {
			t.Errorf("%q %q %q: %+v, %v; want %v", tt.host, tt.path, tt.query, r, err, tt.want)
		}
	}
}

func TestStreamURL(t *testing.T) {
	tests := []struct {
		vhost, app, stream, want string
	}{
		{DefaultVhost, "live", "livestream", "/live/livestream"},
		{DefaultVhost, "live", "livestream.flv", "/live/livestream"},
		{"demo.srs.com", "live", "livestream", "demo.srs.com/live/livestream"},
		{"demo.srs.com", "show/live", "a.b.flv", "demo.srs.com/show/live/a.b"},
		{DefaultVhost, DefaultApp, "s", "/" + DefaultApp + "/s"},
	}
	for _, tt := range tests {
		r := &Request{Vhost: tt.vhost, App: tt.app, Stream: tt.stream}
		if got := r.StreamURL(); got != tt.want {
			t.Errorf("%+v: StreamURL %q, want %q", tt, got, tt.want)
		}
	}
	// RTMP and HTTP-FLV clients of one stream share its key once the server
	// has resolved both to the same vhost.
	rtmp, err := DiscoverRTMP("rtmp://127.0.0.1/live", "livestream?token=1")
	if err != nil {
		t.Fatal(err)
	}
	flv, err := DiscoverHTTP("127.0.0.1:8080", "/live/livestream.flv", "token=2")
	if err != nil {
		t.Fatal(err)
	}
	rtmp.Vhost, flv.Vhost = DefaultVhost, DefaultVhost
	if rtmp.StreamURL() != "/live/livestream" || flv.StreamURL() != rtmp.StreamURL() {
		t.Errorf("keys %q and %q", rtmp.StreamURL(), flv.StreamURL())
	}
}

func TestQuery(t *testing.T) {
	r := &Request{Param: "?token=a%2Bb&vhost=v.com;x=1,y=2&flag&bad=%zz&token=second#frag=1"}
	q := r.Query()
	checks := map[string][]string{
		"token": {"a+b", "second"},
		"vhost": {"v.com"},
		"x":     {"1"},
		"y":     {"2"},
		"flag":  {""},
		"bad":   {"%zz"},
	}
	for k, want := range checks {
		got := q[k]
		if len(got) != len(want) {
			t.Errorf("%s = %q, want %q", k, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	}
	if _, ok := q["frag"]; ok || len(q) != len(checks) {
		t.Errorf("unexpected keys in %v", q)
	}
	if len((&Request{}).Query()) != 0 || len((&Request{Param: "#only"}).Query()) != 0 {
		t.Error("empty params must give empty values")
	}
}
