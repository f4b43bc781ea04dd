package heartbeat

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
)

func config(t *testing.T, text string) *conf.Config {
	t.Helper()
	cfg, err := conf.Parse("test.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func sender() *Sender {
	return &Sender{ServerID: "vid-abc1234", ServiceID: "svc0001x", Pid: 321,
		LocalIPs:  func() []string { return []string{"127.0.0.1", "10.0.0.5", "::1"} },
		Summaries: func() any { return map[string]any{"ok": true, "now_ms": 5} }}
}

func TestBody(t *testing.T) {
	cases := []struct{ name, conf, want string }{
		{"identity only", `listen 1935; heartbeat { enabled on; device_id dev-1; }`,
			`{"device_id":"dev-1","ip":"127.0.0.1","server":"vid-abc1234","service":"svc0001x","pid":"321"}`},
		{"stats.network picks the ip, modulo", `listen 1935; stats { network 4; } heartbeat { enabled on; }`,
			`{"device_id":"","ip":"10.0.0.5","server":"vid-abc1234","service":"svc0001x","pid":"321"}`},
		{"summaries", `listen 1935; heartbeat { enabled on; summaries on; }`,
			`{"device_id":"","ip":"127.0.0.1","server":"vid-abc1234","service":"svc0001x","pid":"321","summaries":{"data":{"ok":true,"now_ms":5}}}`},
		{"ports, RTMP only", `listen 1935 [::]:1936; heartbeat { enabled on; ports on; }`,
			`{"device_id":"","ip":"127.0.0.1","server":"vid-abc1234","service":"svc0001x","pid":"321","rtmp":["1935","[::]:1936"]}`},
		{"every port", `listen 1935; heartbeat { enabled on; ports on; }
			http_server { enabled on; listen 8080 8081; } http_api { enabled on; listen 1985; }
			srt_server { enabled on; listen 10080; } rtc_server { enabled on; listen 8000; tcp { enabled on; listen 8001; } }`,
			`{"device_id":"","ip":"127.0.0.1","server":"vid-abc1234","service":"svc0001x","pid":"321","rtmp":["1935"],
			"http":["8080","8081"],"api":["1985"],"srt":["udp://0.0.0.0:10080"],"rtc":["udp://0.0.0.0:8000","tcp://0.0.0.0:8001"]}`},
	}
	for _, c := range cases {
		got, err := sender().Body(config(t, c.conf))
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(c.want), &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
	// No local address at all: an empty ip, not a crash.
	s := sender()
	s.LocalIPs = func() []string { return nil }
	if got, _ := s.Body(config(t, `listen 1935;`)); !bytes.Contains(got, []byte(`"ip":""`)) {
		t.Errorf("no local IPs: %s", got)
	}
}

// receiver records heartbeats.
type receiver struct {
	mu     sync.Mutex
	bodies [][]byte
	status atomic.Int32
	delay  time.Duration
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" || req.URL.Path != "/api/v1/servers" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, b)
	r.mu.Unlock()
	if r.delay > 0 {
		select {
		case <-time.After(r.delay):
		case <-req.Context().Done():
		}
	}
	if st := r.status.Load(); st != 0 {
		w.WriteHeader(int(st))
	}
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitFor(t *testing.T, what string, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timeout waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func run(t *testing.T, s *Sender) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	}
}

func TestRunPostsEveryInterval(t *testing.T) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	var cfg atomic.Pointer[conf.Config]
	cfg.Store(config(t, `listen 1935; heartbeat { enabled on; interval 1; device_id d1; url `+srv.URL+`/api/v1/servers; }`))
	s := sender()
	s.Config = func() *conf.Config { return cfg.Load() }
	stop := run(t, s)
	defer stop()
	start := time.Now()
	waitFor(t, "two heartbeats", 3*time.Second, func() bool { return rcv.count() >= 2 })
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("two beats after %v: the interval is 1 s", d)
	}
	rcv.mu.Lock()
	var b map[string]any
	err := json.Unmarshal(rcv.bodies[0], &b)
	rcv.mu.Unlock()
	if err != nil || b["device_id"] != "d1" || b["server"] != "vid-abc1234" || b["pid"] != "321" {
		t.Errorf("body %v %v", b, err)
	}
	// A reload that turns the heartbeat off stops the beats.
	cfg.Store(config(t, `listen 1935; heartbeat { enabled off; url `+srv.URL+`/api/v1/servers; }`))
	time.Sleep(1100 * time.Millisecond) // a beat may have been due
	n := rcv.count()
	time.Sleep(1200 * time.Millisecond)
	if rcv.count() != n {
		t.Errorf("beats continued after the heartbeat was turned off: %d then %d", n, rcv.count())
	}
}

func TestRunLogsFailuresAndKeepsGoing(t *testing.T) {
	rcv := &receiver{}
	rcv.status.Store(http.StatusInternalServerError)
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	cfg := config(t, `listen 1935; heartbeat { enabled on; interval 1; url `+srv.URL+`/api/v1/servers; }`)
	logs := &logBuffer{}
	s := sender()
	s.Config = func() *conf.Config { return cfg }
	s.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	stop := run(t, s)
	defer stop()
	waitFor(t, "two failed beats", 3*time.Second, func() bool { return rcv.count() >= 2 })
	waitFor(t, "the failure logged", time.Second, func() bool { return strings.Contains(logs.String(), "status 500") })
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("a receiver that stays down is warned about once, got %d warnings:\n%s", n, logs.String())
	}
	rcv.status.Store(0)
	waitFor(t, "recovery logged", 2*time.Second, func() bool { return strings.Contains(logs.String(), "heartbeat delivered again") })
}

func TestRunNeverBlocks(t *testing.T) {
	// A receiver that never answers: each beat gives up at the interval and
	// the next one is still sent; stopping does not wait for it.
	rcv := &receiver{delay: time.Minute}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	cfg := config(t, `listen 1935; heartbeat { enabled on; interval 1; url `+srv.URL+`/api/v1/servers; }`)
	s := sender()
	s.Config = func() *conf.Config { return cfg }
	stop := run(t, s)
	waitFor(t, "a second beat despite a hung receiver", 10*time.Second, func() bool { return rcv.count() >= 2 })
	begin := time.Now()
	stop()
	if d := time.Since(begin); d > 500*time.Millisecond {
		t.Errorf("stopping waited %v for a hung beat", d)
	}
	// A URL that cannot be reached is an error, not a hang.
	bad := config(t, `listen 1935; heartbeat { enabled on; url http://127.0.0.1:1/api/v1/servers; }`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := sender().Beat(ctx, bad); err == nil {
		t.Error("unreachable receiver: no error")
	}
	if err := sender().Beat(ctx, config(t, `listen 1935; heartbeat { url "::bad"; }`)); err == nil {
		t.Error("invalid URL: no error")
	}
}
