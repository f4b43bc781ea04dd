package hooks

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestExpandNotifyURL(t *testing.T) {
	r := Request{App: "live", Stream: "livestream.flv", Param: "?token=x"}
	tests := []struct {
		tmpl, uri, want string
	}{
		{"http://127.0.0.1:8085/api/v1/hls/[app]/[stream]/[ts_url][param]", "livestream-3.ts",
			"http://127.0.0.1:8085/api/v1/hls/live/livestream/livestream-3.ts?token=x"},
		{"http://cdn/[server_id]/[service_id]/[app]/[stream].m3u8?ts=[ts_url]", "livestream-3.ts",
			"http://cdn/vid-s/svc/live/livestream.m3u8?ts=livestream-3.ts"},
		// An absolute segment URL replaces the template.
		{"http://127.0.0.1:8085/[ts_url]", "https://cdn.example/live/livestream-3.ts",
			"https://cdn.example/live/livestream-3.ts"},
		{"http://127.0.0.1:8085/[ts_url]", "http://cdn.example/[app]/x.ts", "http://cdn.example/live/x.ts"},
		{"http://h/[app]/[app]", "x.ts", "http://h/live/live"},
		{"http://h/no-vars", "x.ts", "http://h/no-vars"},
	}
	for _, tt := range tests {
		if got := ExpandNotifyURL(tt.tmpl, "vid-s", "svc", r, tt.uri); got != tt.want {
			t.Errorf("ExpandNotifyURL(%q, %q) = %q, want %q", tt.tmpl, tt.uri, got, tt.want)
		}
	}
}

func TestNotifyReadsAtMostNbNotify(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	hs := newHookServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		// An endless body: only the client's limit ends the exchange.
		chunk := []byte(strings.Repeat("x", 1000))
		for {
			select {
			case <-stop:
				return
			case <-r.Context().Done():
				return
			default:
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	logs := &logRecorder{}
	c := newTestClient(t, Options{Log: slogLogger(logs)})
	start := time.Now()
	if err := c.Notify(context.Background(), hs.URL+"/api/v1/hls/[app]/[stream]/[ts_url][param]", flvPlayer, "cam1-7.ts", 64); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("notify took %v", d)
	}
	got := hs.requests()[0]
	if got.Method != "GET" || got.Path != "/api/v1/hls/show/live/cam1/cam1-7.ts" || got.Query != "vhost=demo.castd.io" {
		t.Fatalf("%s %s?%s", got.Method, got.Path, got.Query)
	}
	if ua := got.Header.Get("User-Agent"); ua != DefaultUserAgent {
		t.Fatalf("User-Agent %q", ua)
	}
	v, ok := logs.attr("hook: ok", "read")
	if !ok || v.Int64() != 64 {
		t.Fatalf("read %v (logged %v), want 64", v, ok)
	}
}

func TestNotifyNeverRejects(t *testing.T) {
	hs := newHookServer(t, answer(500, "nope"))
	c := newTestClient(t, Options{})
	if err := c.Notify(context.Background(), hs.URL+"/x", rtmpPublisher, "a.ts", 64); err != nil {
		t.Fatalf("a 500 answer is not a notify error: %v", err)
	}
	if err := c.Notify(context.Background(), "http://127.0.0.1:1/x", rtmpPublisher, "a.ts", 64); err == nil {
		t.Fatal("no error for a refused connection (for logs)")
	}
	if got := c.Counters().Get(OnHLSNotify); got.Calls != 2 || got.Failures != 1 {
		t.Fatalf("counters %+v", got)
	}
}

func TestOnHLSNotifyQueuedAfterOnHLS(t *testing.T) {
	hs := newHookServer(t, nil)
	c := New(Options{})
	h := allHooks(hs.URL + "/hook/[stream]/[ts_url]")
	h.OnHLS = []string{hs.URL + "/on_hls"}
	for i := range int64(3) {
		c.OnHLS(h, rtmpPublisher, segment(i))
		c.OnHLSNotify(h, rtmpPublisher, "livestream-"+string(rune('0'+i))+".ts", 64)
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range hs.requests() {
		got = append(got, r.Method+" "+r.Path)
	}
	want := "POST /on_hls,GET /hook/livestream/livestream-0.ts,POST /on_hls,GET /hook/livestream/livestream-1.ts," +
		"POST /on_hls,GET /hook/livestream/livestream-2.ts"
	if strings.Join(got, ",") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, ","), want)
	}
}
