package rtmpserver

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/stats"
)

// testLog collects the server's log lines.
type testLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *testLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startServer runs an RTMP server on loopback; readerPerPlayer picks the
// player model under test.
func startServer(t *testing.T, readerPerPlayer bool) (addr string, logs *testLog) {
	t.Helper()
	logs = &testLog{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	viewer := hub.ViewerOptions{Jitter: hub.JitterOff}
	s := &Server{
		Hub: hub.New(hub.Options{}), Stats: stats.New(time.Now), Log: log, Hooks: hooks.New(hooks.Options{Log: log}),
		Vhost: func(string) (Vhost, bool) {
			return Vhost{Name: hub.DefaultVhost, Enabled: true, ChunkSize: 60000, Stream: hub.DefaultStreamOptions(),
				Viewer: viewer, FirstPacketTimeout: 5 * time.Second, NormalTimeout: 5 * time.Second}, true
		},
		readerPerPlayer: readerPerPlayer,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(ctx, ln)
		s.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	return ln.Addr().String(), logs
}

func dial(t *testing.T, addr, stream string, publish bool) *rtmp.ClientConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := rtmp.Dial(ctx, "rtmp://"+addr+"/live", rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	if publish {
		err = cc.Publish(ctx, stream)
	} else {
		err = cc.Play(ctx, stream)
	}
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

var (
	testSH    = []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 4, 0x68, 0xee, 0x3c, 0x80}
	testKey   = []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88}
	testInter = []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 2, 0x41, 0x9a}
)

// media reads until n audio/video messages arrived, or fails after within.
func media(t *testing.T, cc *rtmp.ClientConn, n int, within time.Duration) []*rtmp.Message {
	t.Helper()
	_ = cc.NetConn().SetReadDeadline(time.Now().Add(within))
	defer cc.NetConn().SetReadDeadline(time.Time{})
	var got []*rtmp.Message
	for len(got) < n {
		m, err := cc.ReadMessage()
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(got), n, err)
		}
		if m.Type == rtmp.TypeVideo || m.Type == rtmp.TypeAudio {
			got = append(got, m)
		}
	}
	return got
}

// quiet fails if media arrives within d.
func quiet(t *testing.T, cc *rtmp.ClientConn, d time.Duration) {
	t.Helper()
	_ = cc.NetConn().SetReadDeadline(time.Now().Add(d))
	defer cc.NetConn().SetReadDeadline(time.Time{})
	for {
		m, err := cc.ReadMessage()
		if err != nil {
			return
		}
		if m.Type == rtmp.TypeVideo {
			t.Fatalf("media while paused: %d bytes at %d", len(m.Payload), m.Timestamp)
		}
	}
}

func command(t *testing.T, cc *rtmp.ClientConn, name string, args ...any) {
	t.Helper()
	body, err := rtmp.EncodeCommand(name, 0, nil, args...)
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.WriteMessage(&rtmp.Message{Type: rtmp.TypeCommandAMF0, StreamID: cc.StreamID(), Payload: body}); err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestPlayerRequests: pause, unpause, closeStream and a vanished player
// work the same whether one goroutine writes and polls the player's
// requests or a second goroutine reads them.
func TestPlayerRequests(t *testing.T) {
	for _, mode := range []struct {
		name            string
		readerPerPlayer bool
	}{{"polled", false}, {"reader goroutine", true}} {
		t.Run(mode.name, func(t *testing.T) {
			addr, logs := startServer(t, mode.readerPerPlayer)
			pub := dial(t, addr, "s", true)
			send := func(ts uint32, payload []byte) {
				t.Helper()
				if err := pub.WriteMedia([]rtmp.MediaMessage{{Type: rtmp.TypeVideo, Timestamp: ts, Payload: payload}}); err != nil {
					t.Fatal(err)
				}
			}
			send(0, testSH)
			send(0, testKey)
			play := dial(t, addr, "s", false)
			media(t, play, 2, 5*time.Second)

			command(t, play, "pause", true, float64(0))
			time.Sleep(3 * controlPoll) // the writer sees the pause within a poll
			for i := range 10 {
				send(uint32(40+40*i), testInter)
			}
			quiet(t, play, 500*time.Millisecond)

			command(t, play, "pause", false, float64(0))
			time.Sleep(3 * controlPoll)
			send(800, testInter)
			send(840, testKey)
			got := media(t, play, 2, 5*time.Second)
			if got[0].Payload[0] != 0x17 || got[1].Payload[0] != 0x17 {
				t.Fatalf("after unpause: %x, %x; want the sequence header and a keyframe", got[0].Payload[:2], got[1].Payload[:2])
			}

			command(t, play, "closeStream")
			eventually(t, "play end after closeStream", func() bool {
				return strings.Contains(logs.String(), "client stopped playing")
			})
			// The connection stays usable: the client plays again.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := play.Play(ctx, "s"); err != nil {
				t.Fatalf("play again after closeStream: %v", err)
			}
			media(t, play, 2, 5*time.Second)

			// A player that vanishes while the stream is quiet is noticed.
			before := strings.Count(logs.String(), "rtmp: play end")
			play.Close()
			eventually(t, "play end after the player left", func() bool {
				return strings.Count(logs.String(), "rtmp: play end") > before
			})
		})
	}
}

// TestPolledPlayerHasOneGoroutine: the point of polling. A hundred players
// add about a hundred goroutines, not two hundred.
func TestPolledPlayerHasOneGoroutine(t *testing.T) {
	addr, _ := startServer(t, false)
	pub := dial(t, addr, "g", true)
	if err := pub.WriteMedia([]rtmp.MediaMessage{{Type: rtmp.TypeVideo, Payload: testSH}, {Type: rtmp.TypeVideo, Payload: testKey}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	const players = 100
	for range players {
		c := dial(t, addr, "g", false)
		media(t, c, 2, 5*time.Second)
	}
	time.Sleep(100 * time.Millisecond)
	// Each client here has one goroutine of its own (none: reads are
	// synchronous) and the server one per player.
	if added := runtime.NumGoroutine() - before; added > players+players/10 {
		t.Fatalf("%d players added %d goroutines", players, added)
	}
}
