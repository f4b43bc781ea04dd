package httpx

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, name) })
}

func TestMuxMatching(t *testing.T) {
	m := NewMux()
	m.Handle("/", named("root"))
	m.Handle("/api/", named("api"))
	m.Handle("/api/v1/", named("v1"))
	m.Handle("/api/v1/versions", named("versions"))
	m.Handle("/api/v1/streams/", named("streams"))
	m.Handle("/live/cam.flv", named("cam"))
	m.Handle("vhost.com/live/cam.flv", named("vhost-cam"))
	m.Handle("vhost.com/", named("vhost-root"))

	cases := []struct {
		host, target string
		code         int
		body, loc    string
	}{
		{"", "/", 200, "root", ""},
		{"", "/anything/else.html", 200, "root", ""},
		{"", "/api/v1/versions", 200, "versions", ""},
		{"", "/api/v1/perf", 200, "v1", ""}, // SRS's catch-all answers unknown API paths
		{"", "/api/v1/streams/vid-abc", 200, "streams", ""},
		{"", "/api/v1/streams", 302, "", "/api/v1/streams/"},
		{"", "/api/v1/streams?callback=f", 302, "", "/api/v1/streams/?callback=f"},
		{"", "/api", 302, "", "/api/"},
		{"", "/live/cam.flv", 200, "cam", ""},
		{"vhost.com:8080", "/live/cam.flv", 200, "vhost-cam", ""},
		{"vhost.com", "/other", 200, "vhost-root", ""},
		{"other.com", "/live/cam.flv", 200, "cam", ""},
		{"", "/live/../etc/passwd", 400, "", ""},
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", c.target, nil)
		if c.host != "" {
			req.Host = c.host
		}
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("%s %s: code %d, want %d", c.host, c.target, rec.Code, c.code)
			continue
		}
		if c.body != "" && rec.Body.String() != c.body {
			t.Errorf("%s %s: body %q, want %q", c.host, c.target, rec.Body.String(), c.body)
		}
		if c.loc != "" && rec.Header().Get("Location") != c.loc {
			t.Errorf("%s %s: location %q, want %q", c.host, c.target, rec.Header().Get("Location"), c.loc)
		}
	}
}

func TestMuxNotFoundAndUnhandle(t *testing.T) {
	m := NewMux()
	m.Handle("/live/", named("live"))
	m.Handle("/x.flv", named("x"))
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/nope", nil))
	if rec.Code != 404 || rec.Body.String() != "Not Found" || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("404: %d %q %q", rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"))
	}
	m.Unhandle("/live/")
	m.Unhandle("/x.flv")
	for _, p := range []string{"/live/a", "/live", "/x.flv"} {
		if h, _ := m.Handler("", p); h != nil {
			t.Errorf("%s still handled after Unhandle", p)
		}
	}
	// An explicit exact handler is not replaced by an implicit redirect.
	m.Handle("/api", named("exact"))
	m.Handle("/api/", named("prefix"))
	rec = httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/api", nil))
	if rec.Body.String() != "exact" {
		t.Fatalf("explicit /api lost: %d %q", rec.Code, rec.Body.String())
	}
}

func TestCORS(t *testing.T) {
	h := CORS(true, named("ok"))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Origin", "http://page")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods", "Access-Control-Expose-Headers"} {
		if rec.Header().Get(k) != "*" {
			t.Errorf("%s = %q", k, rec.Header().Get(k))
		}
	}
	if rec.Header().Get("Access-Control-Allow-Credentials") != "false" || rec.Header().Get("Access-Control-Request-Private-Network") != "true" {
		t.Error("credentials/private-network headers missing")
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS headers without Origin")
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("OPTIONS", "/", nil))
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("OPTIONS enabled: %d %q", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	CORS(false, named("ok")).ServeHTTP(rec, httptest.NewRequest("OPTIONS", "/", nil))
	if rec.Code != 405 {
		t.Errorf("OPTIONS disabled: %d", rec.Code)
	}
}

func TestJSONP(t *testing.T) {
	h := JSONP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, map[string]any{"code": 0, "method": r.Method})
	}))
	cases := []struct {
		target, ctype, body string
		code                int
	}{
		{"/", "application/json", `{"code":0,"method":"GET"}`, 200},
		{"/?callback=cb_1.x", "text/javascript", `cb_1.x({"code":0,"method":"GET"})`, 200},
		{"/?callback=cb&method=delete", "text/javascript", `cb({"code":0,"method":"DELETE"})`, 200},
		{"/?method=DELETE", "application/json", `{"code":0,"method":"GET"}`, 200}, // only in JSONP mode
		{"/?callback=alert(1)", "", "", 400},
		{"/?callback=cb&method=PATCH", "", "", 400},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", c.target, nil))
		if rec.Code != c.code {
			t.Errorf("%s: code %d", c.target, rec.Code)
			continue
		}
		if c.code == 200 && (rec.Header().Get("Content-Type") != c.ctype || rec.Body.String() != c.body) {
			t.Errorf("%s: %q %q", c.target, rec.Header().Get("Content-Type"), rec.Body.String())
		}
	}
}

func TestLiveResponseChunked(t *testing.T) {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, err := StartLive(w, r, http.Header{"Content-Type": {"video/x-flv"}})
		if err != nil {
			t.Error(err)
			return
		}
		defer close(done)
		for i := 0; i < 3; i++ {
			if err := l.Write([][]byte{[]byte("ab"), []byte("cd"), nil}); err != nil {
				t.Error(err)
			}
		}
		if l.BytesOut() == 0 {
			t.Error("bytes not counted")
		}
		l.Close()
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/live/x.flv")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != "abcdabcdabcd" || resp.Header.Get("Content-Type") != "video/x-flv" ||
		resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("body %q, type %q, length %d, te %v", body, resp.Header.Get("Content-Type"), resp.ContentLength, resp.TransferEncoding)
	}
	<-done
}

func TestLiveResponseDetectsClientGone(t *testing.T) {
	// Plain TCP is polled by the writer; TLS keeps a reading goroutine.
	for _, tls := range []bool{false, true} {
		gone := make(chan struct{})
		handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			l, err := StartLive(w, r, http.Header{})
			if err != nil {
				t.Error(err)
				return
			}
			defer l.Close()
			if l.Polled() == tls {
				t.Errorf("tls %v: polled %v", tls, l.Polled())
			}
			var cancelled atomic.Bool
			l.CancelOnGone(func() { cancelled.Store(true) })
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				if l.PollGone() {
					if !cancelled.Load() {
						t.Error("CancelOnGone's function not called")
					}
					close(gone)
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Errorf("tls %v: client close not detected", tls)
		})
		var srv *httptest.Server
		if tls {
			srv = httptest.NewTLSServer(handler)
		} else {
			srv = httptest.NewServer(handler)
		}
		c := srv.Client()
		req, _ := http.NewRequest("GET", srv.URL+"/x.flv", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
		resp.Body.Close()
		c.CloseIdleConnections()
		select {
		case <-gone:
		case <-time.After(6 * time.Second):
			t.Fatalf("tls %v: timeout", tls)
		}
		srv.Close()
	}
}

// TestLiveResponsePollIgnoresClientBytes: bytes a client sends after its
// request are read and dropped; only the close counts.
func TestLiveResponsePollIgnoresClientBytes(t *testing.T) {
	result := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, err := StartLive(w, r, http.Header{})
		if err != nil {
			t.Error(err)
			return
		}
		defer l.Close()
		if !l.Polled() {
			result <- "not polled"
			return
		}
		for range 500 {
			if l.PollGone() {
				result <- "gone"
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		result <- "still there"
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /x.flv HTTP/1.1\r\nHost: x\r\n\r\n")
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("status line %q %v", line, err)
	}
	for range 20 {
		_, _ = io.WriteString(conn, "junk after the request\n")
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case r := <-result:
		t.Fatalf("while the client only sent bytes: %s", r)
	default:
	}
	conn.Close()
	if r := <-result; r != "gone" {
		t.Fatalf("after the close: %s", r)
	}
}
