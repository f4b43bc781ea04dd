package gb28181

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/gb28181/gbtest"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// rtmpTarget is a fake RTMP server that accepts publishers and reports
// what they send.
type rtmpTarget struct {
	t      *testing.T
	ln     net.Listener
	events chan targetEvent
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

type targetEvent struct {
	what    string // "publish", "media", "end"
	stream  string
	connect *rtmp.ConnectRequest
	msg     *rtmp.Message
}

func newTarget(t *testing.T) *rtmpTarget {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := &rtmpTarget{t: t, ln: ln, events: make(chan targetEvent, 1<<14)}
	tg.wg.Add(1)
	go func() {
		defer tg.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			tg.mu.Lock()
			tg.conns = append(tg.conns, nc)
			tg.mu.Unlock()
			tg.wg.Add(1)
			go func() {
				defer tg.wg.Done()
				defer nc.Close()
				tg.serve(nc)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		tg.mu.Lock()
		for _, c := range tg.conns {
			c.Close()
		}
		tg.mu.Unlock()
		tg.wg.Wait()
	})
	return tg
}

func (tg *rtmpTarget) output() string { return fmt.Sprintf("rtmp://%s/live/[stream]", tg.ln.Addr()) }

func (tg *rtmpTarget) serve(nc net.Conn) {
	defer func() { tg.events <- targetEvent{what: "end"} }()
	sc := rtmp.NewServerConn(nc, rtmp.ServerOptions{})
	if _, err := sc.Handshake(); err != nil {
		return
	}
	cr, err := sc.ReadConnect()
	if err != nil || sc.AcceptConnect() != nil {
		return
	}
	req, err := sc.Identify()
	if err != nil || sc.StartPublish() != nil {
		return
	}
	tg.events <- targetEvent{what: "publish", stream: req.Name, connect: cr}
	for {
		m, err := sc.ReadMedia()
		if err != nil {
			return
		}
		tg.events <- targetEvent{what: "media", msg: m}
	}
}

// next returns the next event of a kind, skipping others.
func (tg *rtmpTarget) next(what string, within time.Duration) targetEvent {
	tg.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e := <-tg.events:
			if e.what == what {
				return e
			}
		case <-deadline:
			tg.t.Fatalf("no %q at the RTMP target within %v", what, within)
			return targetEvent{}
		}
	}
}

// media collects n media messages.
func (tg *rtmpTarget) media(n int, within time.Duration) []*rtmp.Message {
	tg.t.Helper()
	var out []*rtmp.Message
	deadline := time.After(within)
	for len(out) < n {
		select {
		case e := <-tg.events:
			if e.what == "media" {
				out = append(out, e.msg)
			}
		case <-deadline:
			tg.t.Fatalf("%d media messages at the RTMP target within %v, want %d", len(out), within, n)
		}
	}
	return out
}

// drain collects media messages until none came for quiet, failing on any
// other event.
func (tg *rtmpTarget) drain(quiet time.Duration) []*rtmp.Message {
	tg.t.Helper()
	var out []*rtmp.Message
	for {
		select {
		case e := <-tg.events:
			if e.what != "media" {
				tg.t.Fatalf("the RTMP target saw %q", e.what)
			}
			out = append(out, e.msg)
		case <-time.After(quiet):
			return out
		}
	}
}

// logBuffer collects log lines.
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

func (l *logBuffer) wait(t *testing.T, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(l.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("never logged %q", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// caster is a running Server under test.
type caster struct {
	srv   *Server
	sip   string // addresses
	media string
	logs  *logBuffer
}

const (
	testDevice   = "34020000001320000001"
	testServerID = "34020000002000000001"
	testDomain   = "3402000000"
)

// startCaster runs a Server on loopback ports; cleanup stops it and checks
// that its goroutines ended.
func startCaster(t *testing.T, cfg Config) *caster {
	t.Helper()
	baseline := runtime.NumGoroutine()
	sipLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mediaLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cfg.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.MediaPort = mediaLn.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Start(ctx, sipLn, mediaLn, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		srv.Wait()
		if t.Failed() {
			t.Logf("caster log:\n%s", logs.String())
		}
		checkGoroutines(t, baseline)
	})
	return &caster{srv: srv, sip: sipLn.Addr().String(), media: mediaLn.Addr().String(), logs: logs}
}

func checkGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutine leak: %d running, %d before\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dialDevice registers a simulated camera.
func (c *caster) dialDevice(t *testing.T, id string) *gbtest.Device {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := gbtest.Dial(ctx, c.sip, id, testServerID, testDomain)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// invited registers d and answers the INVITE that follows.
func invited(t *testing.T, d *gbtest.Device) *gbtest.Call {
	t.Helper()
	res, err := d.Register(3600)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("REGISTER: %v, %v", res, err)
	}
	inv, err := d.NextRequest("INVITE", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	call, err := d.AnswerInvite(inv, 0)
	if err != nil {
		t.Fatal(err)
	}
	return call
}

var (
	mediaOnce sync.Once
	media     gbtest.Media
	mediaErr  error
)

// testMedia is 2 s of H.264 and AAC made by ffmpeg, once per test run.
func testMedia(t *testing.T) gbtest.Media {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	mediaOnce.Do(func() {
		dir, err := osMkdirTemp()
		if err != nil {
			mediaErr = err
			return
		}
		media, mediaErr = gbtest.MakeMedia(ffmpeg, dir, 2)
	})
	if mediaErr != nil {
		t.Fatal(mediaErr)
	}
	return media
}

// sendMedia connects to the media port and sends m once, at full speed.
func sendMedia(t *testing.T, addr string, ssrc uint32, m gbtest.Media) *gbtest.Sender {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := gbtest.DialMedia(ctx, addr, ssrc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Send(ctx, m); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("send media: %v", err)
	}
	return s
}
