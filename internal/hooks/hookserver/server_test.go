package hookserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
)

var publisher = hooks.Request{ClientID: "k3j9x0a2", IP: "10.0.0.5", Vhost: "__defaultVhost__", App: "live",
	Stream: "livestream", Param: "?token=abc", TcURL: "rtmp://127.0.0.1/live"}

func start(t *testing.T, opt Options) (*Server, conf.HTTPHooks) {
	t.Helper()
	s := New(opt)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	base := ts.URL + "/api/v1/"
	return s, conf.HTTPHooks{Enabled: true,
		OnConnect: []string{base + "clients"}, OnClose: []string{base + "clients"},
		OnPublish: []string{base + "streams"}, OnUnpublish: []string{base + "streams"},
		OnPlay: []string{base + "sessions"}, OnStop: []string{base + "sessions"},
		OnDVR: []string{base + "dvrs"}, OnHLS: []string{base + "hls"},
		OnHLSNotify: []string{ts.URL + "/api/v1/hls/[app]/[stream]/[ts_url][param]"},
	}
}

func client(t *testing.T, timeout time.Duration) *hooks.Client {
	c := hooks.New(hooks.Options{ServerID: "vid-test", ServiceID: "svc", Timeout: timeout})
	t.Cleanup(c.Close)
	return c
}

// A publisher's whole life, as castd's RTMP adapter reports it.
func TestRecordsEveryHook(t *testing.T) {
	var logs syncBuffer
	s, h := start(t, Options{Log: &logs})
	c := client(t, 5*time.Second)
	ctx := context.Background()
	if err := c.OnConnect(ctx, h, publisher); err != nil {
		t.Fatal(err)
	}
	if err := c.OnPublish(ctx, h, publisher); err != nil {
		t.Fatal(err)
	}
	c.OnHLS(h, publisher, hooks.HLSSegment{URI: "livestream-0.ts", M3U8URL: "live/livestream.m3u8", Duration: 10 * time.Second})
	c.OnHLSNotify(h, publisher, "livestream-0.ts", 64)
	c.OnDVR(h, publisher, hooks.DVRFile{File: "./objs/live/livestream.flv"})
	if err := c.Shutdown(ctx); err != nil { // sends the queued hooks
		t.Fatal(err)
	}
	c2 := client(t, 5*time.Second)
	c2.OnUnpublish(ctx, h, publisher)
	c2.OnClose(ctx, h, publisher, 10, 20)

	want := []string{"on_connect", "on_publish", "on_hls", "", "on_dvr", "on_unpublish", "on_close"}
	if got := s.Actions(); !slices.Equal(got, want) {
		t.Fatalf("actions %q, want %q", got, want)
	}
	got := s.Hooks()
	if got[1].Path != "/api/v1/streams" || got[1].Method != "POST" || got[1].Rejected || got[1].Response != "0" {
		t.Fatalf("on_publish recorded as %+v", got[1])
	}
	if got[3].Method != "GET" || got[3].Path != "/api/v1/hls/live/livestream/livestream-0.ts" || got[3].Query != "token=abc" {
		t.Fatalf("on_hls_notify recorded as %+v", got[3])
	}
	var body hooks.StreamBody
	if err := json.Unmarshal(got[1].Body, &body); err != nil || body.Param != "?token=abc" || body.StreamURL != "/live/livestream" {
		t.Fatalf("on_publish body %s: %v", got[1].Body, err)
	}
	// One JSON line per hook.
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var h Hook
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		lines++
	}
	if lines != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", lines, len(want), logs.String())
	}
}

func TestRejections(t *testing.T) {
	tests := []struct {
		name    string
		opt     Options
		stream  string
		connect int // expected SRS code, 0 allowed
		publish int
	}{
		{"accept by default", Options{}, "livestream", 0, 0},
		{"reject on_publish", Options{Reject: []string{"on_publish"}}, "livestream", 0, hooks.CodeResponseCode},
		{"reject all", Options{Reject: []string{"all"}}, "livestream", hooks.CodeResponseCode, hooks.CodeResponseCode},
		{"reject with status", Options{Reject: []string{"on_connect"}, Status: 500}, "livestream", hooks.CodeHTTPStatus, 0},
		{"reject with body 1", Options{Reject: []string{"on_publish"}, Body: "1"}, "livestream", 0, hooks.CodeResponseData},
		{"reject stream pattern", Options{RejectStream: "private*"}, "private-cam", hooks.CodeResponseCode, hooks.CodeResponseCode},
		{"stream pattern miss", Options{RejectStream: "private*"}, "public", 0, 0},
		{"action and stream", Options{Reject: []string{"on_publish"}, RejectStream: "private*"}, "private-cam", 0, hooks.CodeResponseCode},
		{"action and stream, other stream", Options{Reject: []string{"on_publish"}, RejectStream: "private*"}, "public", 0, 0},
		{"all and stream", Options{Reject: []string{"all"}, RejectStream: "private*"}, "public", 0, 0},
		// The rejection forms of SRS's contract (spec §3.3).
		{"body quoted 0", Options{Reject: []string{"on_publish"}, Body: `"0"`}, "s", 0, hooks.CodeResponseData},
		{"body 0 newline", Options{Reject: []string{"on_publish"}, Body: "0\n"}, "s", 0, hooks.CodeResponseData},
		{"body code 1", Options{Reject: []string{"on_publish"}, Body: `{"code":1}`}, "s", 0, hooks.CodeResponseCode},
		{"redirect", Options{Reject: []string{"on_publish"}, Status: 302}, "s", 0, hooks.CodeHTTPStatus},
		{"allow body 0", Options{Reject: []string{"on_publish"}, Body: "0"}, "s", 0, 0},
		{"allow code 0", Options{Reject: []string{"on_publish"}, Body: `{"code":0}`}, "s", 0, 0},
		{"allow 201", Options{Reject: []string{"on_publish"}, Status: 201, Body: "0"}, "s", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, h := start(t, tt.opt)
			c := client(t, 5*time.Second)
			r := publisher
			r.Stream = tt.stream
			for _, call := range []struct {
				code int
				fn   func() error
			}{
				{tt.connect, func() error { return c.OnConnect(context.Background(), h, r) }},
				{tt.publish, func() error { return c.OnPublish(context.Background(), h, r) }},
			} {
				err := call.fn()
				var herr *hooks.Error
				switch {
				case call.code == 0 && err != nil:
					t.Fatalf("rejected: %v", err)
				case call.code != 0 && (!errors.As(err, &herr) || herr.Code != call.code):
					t.Fatalf("%v, want code %d", err, call.code)
				}
			}
			for _, hk := range s.Hooks() {
				if hk.Rejected != (hk.Response != "0" || hk.Status != 200) && hk.Response != tt.opt.Body {
					t.Fatalf("hook %+v: rejected flag and response disagree", hk)
				}
				if hk.Method == http.MethodGet {
					t.Fatalf("castd followed a redirect: %+v", hk)
				}
			}
		})
	}
}

func TestDelayMakesCastdTimeOut(t *testing.T) {
	_, h := start(t, Options{Delay: 2 * time.Second})
	c := client(t, 100*time.Millisecond)
	start := time.Now()
	err := c.OnPlay(context.Background(), h, publisher)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v, want a timeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

// TestDelayOnlySome: a delay restricted to an action and a stream holds
// those hooks only; a 3xx rejection points at RedirectPath, where a
// client that follows it would be recorded.
func TestDelayOnlySome(t *testing.T) {
	s, h := start(t, Options{Delay: time.Second, DelayActions: []string{"on_publish"}, DelayStream: "slow*"})
	c := client(t, 5*time.Second)
	for _, tt := range []struct {
		stream string
		call   func(r hooks.Request) error
		slow   bool
	}{
		{"slow1", func(r hooks.Request) error { return c.OnPublish(context.Background(), h, r) }, true},
		{"slow1", func(r hooks.Request) error { return c.OnConnect(context.Background(), h, r) }, false},
		{"fast", func(r hooks.Request) error { return c.OnPublish(context.Background(), h, r) }, false},
	} {
		r := publisher
		r.Stream = tt.stream
		start := time.Now()
		if err := tt.call(r); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); (d >= time.Second) != tt.slow {
			t.Errorf("stream %s took %v, delayed %v", tt.stream, d, tt.slow)
		}
	}
	var delayed []bool
	for _, hk := range s.Hooks() {
		delayed = append(delayed, hk.Delayed)
	}
	if !slices.Equal(delayed, []bool{true, false, false}) {
		t.Errorf("delayed flags %v", delayed)
	}
}

func TestRedirectLocation(t *testing.T) {
	s := New(Options{Reject: []string{"all"}, Status: 302})
	ts := httptest.NewServer(s)
	defer ts.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Post(ts.URL+"/hook", "application/json", strings.NewReader(`{"action":"on_play"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != RedirectPath {
		t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A client that follows it (castd must not) reaches a path that is
	// recorded and accepted.
	resp, err = http.Post(ts.URL+"/hook", "application/json", strings.NewReader(`{"action":"on_play"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	hs := s.Hooks()
	if len(hs) != 3 || hs[2].Path != RedirectPath || hs[2].Method != http.MethodGet || resp.StatusCode != 200 {
		t.Fatalf("hooks %+v, status %d", hs, resp.StatusCode)
	}
}

func TestHooksEndpoint(t *testing.T) {
	s := New(Options{Keep: 3})
	ts := httptest.NewServer(s)
	defer ts.Close()
	post := func(body string) {
		resp, err := http.Post(ts.URL+"/any/path", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	post(`{"action":"on_connect"}`)
	post(`{"action":"on_play","stream":"a"}`)
	post(`not json`)
	post(`{"action":"on_play","stream":"b"}`)

	get := func(query string) []Hook {
		resp, err := http.Get(ts.URL + HooksPath + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Code  int    `json:"code"`
			Hooks []Hook `json:"hooks"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Code != 0 || out.Hooks == nil {
			t.Fatalf("GET hooks: %+v %v", out, err)
		}
		return out.Hooks
	}
	all := get("")
	if len(all) != 3 || all[0].Action != "on_play" || string(all[1].Body) != `"not json"` {
		t.Fatalf("kept %+v, want the last 3 with the non-JSON body quoted", all)
	}
	if plays := get("?action=on_play"); len(plays) != 2 {
		t.Fatalf("%d on_play, want 2", len(plays))
	}
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+HooksPath, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := len(get("")); n != 0 {
		t.Fatalf("%d hooks after DELETE", n)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent writes.
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
