package caster

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/protocol/rtmp"
)

// targetEvent is what the fake RTMP target saw on one connection.
type targetEvent struct {
	conn    int    // connection number, from 1
	what    string // "publish", "media" or "end"
	stream  string // publish: the stream name
	connect *rtmp.ConnectRequest
	msg     *rtmp.Message // media
}

// target is a fake RTMP server that accepts publishers (or rejects them
// with reject's code and description) and reports what they send.
type target struct {
	t      *testing.T
	ln     net.Listener
	events chan targetEvent
	reject [2]string // code, description; empty accepts

	mu    sync.Mutex
	conns []net.Conn
	n     int
	wg    sync.WaitGroup
}

func newTarget(t *testing.T) *target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{t: t, ln: ln, events: make(chan targetEvent, 4096)}
	tg.wg.Add(1)
	go tg.accept()
	t.Cleanup(tg.close)
	return tg
}

func (tg *target) url(path string) string { return fmt.Sprintf("rtmp://%s/%s", tg.ln.Addr(), path) }

func (tg *target) accept() {
	defer tg.wg.Done()
	for {
		nc, err := tg.ln.Accept()
		if err != nil {
			return
		}
		tg.mu.Lock()
		tg.n++
		id := tg.n
		tg.conns = append(tg.conns, nc)
		tg.mu.Unlock()
		tg.wg.Add(1)
		go func() {
			defer tg.wg.Done()
			defer nc.Close()
			tg.serve(id, nc)
		}()
	}
}

func (tg *target) serve(id int, nc net.Conn) {
	sc := rtmp.NewServerConn(nc, rtmp.ServerOptions{})
	defer func() { tg.events <- targetEvent{conn: id, what: "end"} }()
	if _, err := sc.Handshake(); err != nil {
		return
	}
	cr, err := sc.ReadConnect()
	if err != nil || sc.AcceptConnect() != nil {
		return
	}
	req, err := sc.Identify()
	if err != nil {
		return
	}
	if tg.reject[0] != "" {
		_ = sc.RejectStream(tg.reject[0], tg.reject[1])
		time.Sleep(50 * time.Millisecond) // let the client read it before the close
		return
	}
	if err := sc.StartPublish(); err != nil {
		return
	}
	tg.events <- targetEvent{conn: id, what: "publish", stream: req.Name, connect: cr}
	for {
		m, err := sc.ReadMedia()
		if errors.Is(err, rtmp.ErrUnpublish) {
			return
		}
		if err != nil {
			return
		}
		tg.events <- targetEvent{conn: id, what: "media", msg: m}
	}
}

// kick closes every connection, as a kick from the API would.
func (tg *target) kick() {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	for _, c := range tg.conns {
		c.Close()
	}
}

func (tg *target) close() {
	tg.ln.Close()
	tg.kick()
	tg.wg.Wait()
}

// next returns the next event of the given kind, skipping others.
func (tg *target) next(what string, within time.Duration) targetEvent {
	tg.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case e := <-tg.events:
			if e.what == what {
				return e
			}
		case <-deadline:
			tg.t.Fatalf("no %q event within %v", what, within)
			return targetEvent{}
		}
	}
}

// collect gathers media events until the connection ends or the time is up.
func (tg *target) collect(within time.Duration) (media []*rtmp.Message, ended bool) {
	deadline := time.After(within)
	for {
		select {
		case e := <-tg.events:
			switch e.what {
			case "media":
				media = append(media, e.msg)
			case "end":
				return media, true
			}
		case <-deadline:
			return media, false
		}
	}
}

// leakCheck fails the test when goroutines it started outlive it.
func leakCheck(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}
