package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
)

// received is one request a test hook server got.
type received struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// hookServer is a real HTTP server on loopback that records requests and
// answers with respond (default: 200 "0").
type hookServer struct {
	*httptest.Server
	mu      sync.Mutex
	got     []received
	respond func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newHookServer(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, body []byte)) *hookServer {
	t.Helper()
	hs := &hookServer{respond: respond}
	hs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		hs.mu.Lock()
		hs.got = append(hs.got, received{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		hs.mu.Unlock()
		if hs.respond != nil {
			hs.respond(w, r, body)
			return
		}
		io.WriteString(w, "0")
	}))
	t.Cleanup(hs.Close)
	return hs
}

func (hs *hookServer) requests() []received {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]received(nil), hs.got...)
}

// answer responds with a fixed status and body.
func answer(status int, body string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func newTestClient(t *testing.T, opt Options) *Client {
	t.Helper()
	if opt.ServerID == "" {
		opt.ServerID, opt.ServiceID = "vid-k21d7y2", "fw3zq9c1"
	}
	c := New(opt)
	t.Cleanup(c.Close)
	return c
}

// allHooks enables every event with the given URLs.
func allHooks(urls ...string) conf.HTTPHooks {
	return conf.HTTPHooks{Enabled: true, OnConnect: urls, OnClose: urls, OnPublish: urls, OnUnpublish: urls,
		OnPlay: urls, OnStop: urls, OnDVR: urls, OnHLS: urls, OnHLSNotify: urls}
}

// jsonEqual compares two JSON documents by value, numbers as written.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	g, w := decodeNumbers(t, got), decodeNumbers(t, []byte(want))
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
}

func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

// keyOrder lists an object's top-level keys in document order.
func keyOrder(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// logRecorder keeps slog records for assertions.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.records = append(l.records, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// attr finds the first record with msg and returns its attribute key.
func (l *logRecorder) attr(msg, key string) (slog.Value, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.records {
		if r.Message != msg {
			continue
		}
		var v slog.Value
		found := false
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v, found = a.Value, true
				return false
			}
			return true
		})
		if found {
			return v, true
		}
	}
	return slog.Value{}, false
}

func slogLogger(h slog.Handler) *slog.Logger { return slog.New(h) }
