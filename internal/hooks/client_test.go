package hooks

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
)

func TestResponseForms(t *testing.T) {
	// Where a redirect would lead: it must never be reached.
	var followed atomic.Int32
	target := newHookServer(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		followed.Add(1)
		io.WriteString(w, "0")
	})
	tests := []struct {
		name    string
		respond func(http.ResponseWriter, *http.Request, []byte)
		code    int  // 0 allows
		timeout bool // fails with context.DeadlineExceeded
	}{
		{name: "0", respond: answer(200, "0")},
		{name: "code 0", respond: answer(200, `{"code":0}`)},
		{name: "code 0 with data", respond: answer(200, `{"code":0,"data":{}}`)},
		{name: "status 201", respond: answer(201, "0")},
		{name: "status 500", respond: answer(500, "0"), code: CodeHTTPStatus},
		{name: "body 1", respond: answer(200, "1"), code: CodeResponseData},
		{name: "quoted 0", respond: answer(200, `"0"`), code: CodeResponseData},
		{name: "0 newline", respond: answer(200, "0\n"), code: CodeResponseData},
		{name: "empty body", respond: answer(200, ""), code: CodeResponseData},
		{name: "code 1", respond: answer(200, `{"code":1}`), code: CodeResponseCode},
		{name: "no code", respond: answer(200, `{"msg":"x"}`), code: CodeResponseCode},
		{name: "redirect 302", code: CodeHTTPStatus, respond: func(w http.ResponseWriter, r *http.Request, _ []byte) {
			http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
		}},
		{name: "redirect 301", code: CodeHTTPStatus, respond: func(w http.ResponseWriter, r *http.Request, _ []byte) {
			http.Redirect(w, r, target.URL+"/elsewhere", http.StatusMovedPermanently)
		}},
		{name: "empty chunked body", code: CodeResponseData, respond: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			w.(http.Flusher).Flush() // chunked with no data
		}},
		{name: "timeout", timeout: true, respond: func(w http.ResponseWriter, r *http.Request, _ []byte) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHookServer(t, tt.respond)
			timeout := 10 * time.Second
			if tt.timeout {
				timeout = 200 * time.Millisecond
			}
			c := newTestClient(t, Options{Timeout: timeout})
			h := allHooks(hs.URL)
			for _, call := range []struct {
				e  Event
				fn func() error
			}{
				{OnConnect, func() error { return c.OnConnect(context.Background(), h, rtmpPublisher) }},
				{OnPublish, func() error { return c.OnPublish(context.Background(), h, rtmpPublisher) }},
				{OnPlay, func() error { return c.OnPlay(context.Background(), h, flvPlayer) }},
			} {
				err := call.fn()
				allowed := tt.code == 0 && !tt.timeout
				if allowed {
					if err != nil {
						t.Fatalf("%s: %v, want allowed", call.e, err)
					}
					continue
				}
				var herr *Error
				if !errors.As(err, &herr) {
					t.Fatalf("%s: %v (%T), want *Error", call.e, err, err)
				}
				if herr.Event != call.e || herr.URL != hs.URL || herr.Code != tt.code {
					t.Fatalf("%s: %+v, want event %s url %s code %d", call.e, herr, call.e, hs.URL, tt.code)
				}
				if tt.timeout != errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("%s: %v, timeout=%v", call.e, err, tt.timeout)
				}
				if !strings.Contains(err.Error(), string(call.e)) || !strings.Contains(err.Error(), hs.URL) {
					t.Fatalf("message %q lacks event or URL", err)
				}
				if !tt.timeout && (herr.Status == 0 || herr.Request == "") {
					t.Fatalf("%s: no status or request in %+v", call.e, herr)
				}
			}
			if n := followed.Load(); n != 0 {
				t.Fatalf("redirect followed %d times", n)
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	c := newTestClient(t, Options{Timeout: time.Second})
	for _, u := range []string{closed, "ftp://127.0.0.1/x", "::bad url"} {
		err := c.OnPublish(context.Background(), allHooks(u), rtmpPublisher)
		var herr *Error
		if !errors.As(err, &herr) || herr.Code != 0 || herr.Err == nil {
			t.Fatalf("%s: %v, want *Error with Err", u, err)
		}
	}
}

func TestResponseTooLong(t *testing.T) {
	hs := newHookServer(t, answer(200, `{"code":0,"data":"`+strings.Repeat("x", 100)+`"}`))
	c := newTestClient(t, Options{MaxResponseBytes: 64})
	err := c.OnPlay(context.Background(), allHooks(hs.URL), flvPlayer)
	var herr *Error
	if !errors.As(err, &herr) || herr.Code != CodeResponseData {
		t.Fatalf("%v, want code %d", err, CodeResponseData)
	}
}

func TestURLsInOrder(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	record := func(name string, respond func(http.ResponseWriter, *http.Request, []byte)) *hookServer {
		return newHookServer(t, func(w http.ResponseWriter, r *http.Request, b []byte) {
			mu.Lock()
			calls = append(calls, name)
			mu.Unlock()
			respond(w, r, b)
		})
	}
	a := record("a", answer(200, "0"))
	b := record("b", answer(200, `{"code":403}`))
	c3 := record("c", answer(200, "0"))
	urls := []string{a.URL, b.URL, c3.URL}
	c := newTestClient(t, Options{})
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := calls
		calls = nil
		return out
	}

	rejecting := map[Event]func(conf.HTTPHooks) error{
		OnConnect: func(h conf.HTTPHooks) error { return c.OnConnect(context.Background(), h, rtmpPublisher) },
		OnPublish: func(h conf.HTTPHooks) error { return c.OnPublish(context.Background(), h, rtmpPublisher) },
		OnPlay:    func(h conf.HTTPHooks) error { return c.OnPlay(context.Background(), h, rtmpPublisher) },
	}
	for e, fn := range rejecting {
		err := fn(allHooks(urls...))
		var herr *Error
		if !errors.As(err, &herr) || herr.URL != b.URL || herr.Code != CodeResponseCode {
			t.Fatalf("%s: %v, want the second URL's code %d", e, err, CodeResponseCode)
		}
		if got := strings.Join(take(), ","); got != "a,b" {
			t.Fatalf("%s called %s, want a,b (the first failure stops)", e, got)
		}
	}
	notifying := map[Event]func(conf.HTTPHooks){
		OnClose:     func(h conf.HTTPHooks) { c.OnClose(context.Background(), h, rtmpPublisher, 1, 2) },
		OnUnpublish: func(h conf.HTTPHooks) { c.OnUnpublish(context.Background(), h, rtmpPublisher) },
		OnStop:      func(h conf.HTTPHooks) { c.OnStop(context.Background(), h, rtmpPublisher) },
	}
	for e, fn := range notifying {
		fn(allHooks(urls...))
		if got := strings.Join(take(), ","); got != "a,b,c" {
			t.Fatalf("%s called %s, want a,b,c (failures only logged)", e, got)
		}
	}
}

func TestDisabledOrEmpty(t *testing.T) {
	hs := newHookServer(t, nil)
	c := newTestClient(t, Options{})
	off := allHooks(hs.URL)
	off.Enabled = false
	empty := conf.HTTPHooks{Enabled: true}
	for _, h := range []conf.HTTPHooks{off, empty} {
		ctx := context.Background()
		if err := c.OnConnect(ctx, h, rtmpPublisher); err != nil {
			t.Fatal(err)
		}
		if err := c.OnPublish(ctx, h, rtmpPublisher); err != nil {
			t.Fatal(err)
		}
		if err := c.OnPlay(ctx, h, rtmpPublisher); err != nil {
			t.Fatal(err)
		}
		c.OnClose(ctx, h, rtmpPublisher, 0, 0)
		c.OnUnpublish(ctx, h, rtmpPublisher)
		c.OnStop(ctx, h, rtmpPublisher)
		c.OnDVR(h, rtmpPublisher, DVRFile{})
		c.OnHLS(h, rtmpPublisher, HLSSegment{})
		c.OnHLSNotify(h, rtmpPublisher, "x.ts", 64)
	}
	c.Close()
	if n := len(hs.requests()); n != 0 {
		t.Fatalf("%d requests with hooks disabled or empty", n)
	}
}

// A slow hook for one stream must not delay another stream's hook: each
// call runs on its caller's goroutine with no shared lock.
func TestSlowHookDoesNotDelayOthers(t *testing.T) {
	release := make(chan struct{})
	var slowArrived atomic.Bool
	hs := newHookServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.Contains(string(body), `"stream":"slow"`) {
			slowArrived.Store(true)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "0")
	})
	c := newTestClient(t, Options{})
	h := allHooks(hs.URL)
	slow, fast := rtmpPublisher, rtmpPublisher
	slow.Stream, fast.Stream = "slow", "fast"

	slowDone := make(chan error, 1)
	go func() { slowDone <- c.OnPlay(context.Background(), h, slow) }()
	waitFor(t, "the slow hook to arrive", slowArrived.Load)

	start := time.Now()
	if err := c.OnPlay(context.Background(), h, fast); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("fast stream's on_play took %v while another stream's hook hung", d)
	}
	select {
	case err := <-slowDone:
		t.Fatalf("slow hook ended early: %v", err)
	default:
	}
	close(release)
	if err := <-slowDone; err != nil {
		t.Fatal(err)
	}
}

func TestCancelAbortsRejectingHook(t *testing.T) {
	arrived := make(chan struct{}, 1)
	hs := newHookServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		arrived <- struct{}{}
		<-r.Context().Done()
	})
	c := newTestClient(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.OnPlay(ctx, allHooks(hs.URL), flvPlayer) }()
	<-arrived
	start := time.Now()
	cancel() // the player left
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("on_play not aborted by the caller's context")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("abort took %v", d)
	}
}

// on_close, on_unpublish and on_stop fire because the client left: a
// cancelled connection context must not stop them.
func TestNotificationsIgnoreCancelledContext(t *testing.T) {
	hs := newHookServer(t, nil)
	c := newTestClient(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := allHooks(hs.URL)
	c.OnClose(ctx, h, rtmpPublisher, 1, 2)
	c.OnUnpublish(ctx, h, rtmpPublisher)
	c.OnStop(ctx, h, rtmpPublisher)
	if n := len(hs.requests()); n != 3 {
		t.Fatalf("%d hooks sent, want 3", n)
	}
	// But closing the Client ends them.
	block := newHookServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { <-r.Context().Done() })
	c2 := New(Options{})
	done := make(chan struct{})
	go func() {
		c2.OnClose(context.Background(), allHooks(block.URL), rtmpPublisher, 0, 0)
		close(done)
	}()
	waitFor(t, "the hook to arrive", func() bool { return len(block.requests()) == 1 })
	c2.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a pending on_close")
	}
}

func TestCounters(t *testing.T) {
	ok := newHookServer(t, nil)
	bad := newHookServer(t, answer(500, ""))
	var external Counters
	c := newTestClient(t, Options{Metrics: &external})
	h := allHooks(ok.URL, bad.URL)
	_ = c.OnPublish(context.Background(), h, rtmpPublisher) // ok, then bad rejects
	c.OnUnpublish(context.Background(), h, rtmpPublisher)   // ok and bad
	for _, counters := range []*Counters{c.Counters(), &external} {
		if got := counters.Get(OnPublish); got.Calls != 2 || got.Failures != 1 || got.Latency <= 0 {
			t.Fatalf("on_publish counters %+v", got)
		}
		if got := counters.Get(OnUnpublish); got.Calls != 2 || got.Failures != 1 {
			t.Fatalf("on_unpublish counters %+v", got)
		}
		if got := counters.Get(OnPlay); got.Calls != 0 {
			t.Fatalf("on_play counters %+v", got)
		}
	}
	if n := len(c.Counters().Snapshot()); n != len(AllEvents()) {
		t.Fatalf("snapshot of %d events", n)
	}
}

func TestHTTPS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "0") }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	h := allHooks(srv.URL + "/api/v1/streams")

	verifying := newTestClient(t, Options{})
	if err := verifying.OnPublish(context.Background(), h, rtmpPublisher); err == nil {
		t.Fatal("self-signed certificate accepted by the verifying default")
	}
	insecure := newTestClient(t, Options{InsecureSkipVerify: true})
	if err := insecure.OnPublish(context.Background(), h, rtmpPublisher); err != nil {
		t.Fatal(err)
	}
	trusted := newTestClient(t, Options{Transport: srv.Client().Transport})
	if err := trusted.OnPublish(context.Background(), h, rtmpPublisher); err != nil {
		t.Fatal(err)
	}
}

func TestOnForward(t *testing.T) {
	tests := []struct {
		name string
		body string
		urls []string
		fail bool
	}{
		{"urls", `{"code":0,"data":{"urls":["rtmp://a/live/s","","rtmp://b/live/s"]}}`, []string{"rtmp://a/live/s", "rtmp://b/live/s"}, false},
		{"none", `{"code":0,"data":{"urls":[]}}`, nil, false},
		{"no data", `{"code":0}`, nil, true},
		{"zero", `0`, nil, true},
		{"rejected", `{"code":1}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHookServer(t, answer(200, tt.body))
			c := newTestClient(t, Options{})
			urls, err := c.OnForward(context.Background(), hs.URL, rtmpPublisher)
			if (err != nil) != tt.fail || strings.Join(urls, " ") != strings.Join(tt.urls, " ") {
				t.Fatalf("urls %q err %v, want %q fail=%v", urls, err, tt.urls, tt.fail)
			}
			jsonEqual(t, hs.requests()[0].Body, `{"action":"on_forward","server_id":"vid-k21d7y2","service_id":"fw3zq9c1",
				"client_id":"k3j9x0a2","ip":"10.0.0.5","vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://192.168.1.10/live",
				"stream":"livestream","param":"?token=abc&salt=1"}`)
		})
	}
}
