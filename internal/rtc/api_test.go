package rtc

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseAPIRequest(t *testing.T) {
	ok := `{"api":"http://h:1985/rtc/v1/play/","tid":"7b3c1a2","streamurl":"webrtc://h/live/s","clientip":null,"sdp":"v=0"}`
	r, err := parseAPIRequest([]byte(ok))
	if err != nil || r.SDP != "v=0" || r.StreamURL != "webrtc://h/live/s" || r.ClientIP != "" || r.TID != "7b3c1a2" {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = parseAPIRequest([]byte(`{"streamurl":"webrtc://h/live/s","sdp":"v=0","clientip":"10.1.2.3","tid":5}`))
	if err != nil || r.ClientIP != "10.1.2.3" || r.TID != "" {
		t.Fatalf("clientip string, tid not a string: %+v %v", r, err)
	}
	for _, bad := range []string{
		``, `[]`, `"x"`, `{}`, `{"sdp":"v=0"}`, `{"streamurl":"webrtc://h/a/b"}`,
		`{"streamurl":"webrtc://h/a/b","sdp":5}`, `{"streamurl":7,"sdp":"v=0"}`, `{"streamurl":"webrtc://h/a/b","sdp":""}`,
		`{"streamurl":"webrtc://h/a/b","sdp":"v=0"`,
	} {
		if _, err := parseAPIRequest([]byte(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestParseStreamURL(t *testing.T) {
	cases := []struct {
		in                        string
		vhost, app, stream, param string
	}{
		{"webrtc://localhost/live/livestream", "localhost", "live", "livestream", ""},
		{"webrtc://127.0.0.1:1985/live/s?token=1", "127.0.0.1", "live", "s", "?token=1"},
		{"webrtc://h/live/s?vhost=v.com&token=1", "v.com", "live", "s", "?vhost=v.com&token=1"},
		{"webrtc://h/app/sub/s", "h", "app/sub", "s", ""},
	}
	for _, c := range cases {
		r, err := parseStreamURL(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if r.Vhost != c.vhost || r.App != c.app || r.Stream != c.stream || r.Param != c.param {
			t.Errorf("%s: vhost %q app %q stream %q param %q", c.in, r.Vhost, r.App, r.Stream, r.Param)
		}
	}
	for _, bad := range []string{"", "live/s", "webrtc://", "webrtc://h", "webrtc://h/"} {
		if _, err := parseStreamURL(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestClientIP(t *testing.T) {
	cases := []struct {
		xff, xreal, remote, want string
	}{
		{"", "", "10.0.0.1:5000", "10.0.0.1"},
		{"1.1.1.1, 2.2.2.2", "3.3.3.3", "10.0.0.1:5000", "1.1.1.1"},
		{"", "3.3.3.3:80", "10.0.0.1:5000", "3.3.3.3"},
		{"", "3.3.3.3", "10.0.0.1:5000", "3.3.3.3"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/rtc/v1/play/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if c.xreal != "" {
			r.Header.Set("X-Real-IP", c.xreal)
		}
		if got := clientIP(r); got != c.want {
			t.Errorf("%+v: got %s", c, got)
		}
	}
}

func TestWHIPRequest(t *testing.T) {
	r := httptest.NewRequest("POST", "http://v.example.com:1985/rtc/v1/whep/?app=a&stream=b&eip=1.2.3.4:9000&codec=h264", strings.NewReader(""))
	req, err := whipRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if !req.play || req.app != "a" || req.stream != "b" || req.vhost != "v.example.com" || req.eip != "1.2.3.4:9000" ||
		req.param != "?app=a&stream=b&eip=1.2.3.4:9000&codec=h264" || req.tcURL != "webrtc://v.example.com/a" {
		t.Fatalf("%+v", req)
	}
	r = httptest.NewRequest("POST", "/rtc/v1/whip/?vhost=x.com", nil)
	if req, _ = whipRequest(r); req.play || req.app != "live" || req.stream != "livestream" || req.vhost != "x.com" {
		t.Fatalf("defaults: %+v", req)
	}
	r = httptest.NewRequest("POST", "/rtc/v1/whip/?action=play", nil)
	if req, _ = whipRequest(r); !req.play {
		t.Fatal("action=play must play")
	}
	for _, q := range []string{"ice-ufrag=abc", "ice-ufrag=" + strings.Repeat("a", 33), "ice-pwd=short", "ice-ufrag=ab:cd"} {
		if _, err := whipRequest(httptest.NewRequest("POST", "/rtc/v1/whip/?"+q, nil)); err == nil {
			t.Errorf("%s: want an error", q)
		}
	}
	if req, err := whipRequest(httptest.NewRequest("POST", "/rtc/v1/whip/?ice-ufrag=abcd&ice-pwd="+strings.Repeat("p", 22), nil)); err != nil || req.ufrag != "abcd" {
		t.Fatalf("valid credentials refused: %v", err)
	}
}
