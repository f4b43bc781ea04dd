package caster

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// logBuffer collects a caster's log lines.
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

func testOptions(logs *logBuffer) Options {
	return Options{
		Log:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		IdleTimeout: 400 * time.Millisecond, Retry: 300 * time.Millisecond, ConnectTimeout: 2 * time.Second,
		Info: rtmp.ServerInfo{Sig: "castd", Server: "castd/test", PID: 42},
	}
}

// udpCasterUnderTest runs an mpegts_over_udp caster to output.
type udpCasterUnderTest struct {
	addr   string
	send   net.Conn
	logs   *logBuffer
	cancel context.CancelFunc
	wait   func()
}

func startUDP(t *testing.T, output string) *udpCasterUnderTest {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := StartMPEGTSOverUDP(ctx, conn, output, testOptions(logs))
	if err != nil {
		cancel()
		conn.Close()
		t.Fatal(err)
	}
	send, err := net.Dial("udp", conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	u := &udpCasterUnderTest{addr: conn.LocalAddr().String(), send: send, logs: logs, cancel: cancel, wait: wait}
	t.Cleanup(func() {
		send.Close()
		cancel()
		wait()
		if t.Failed() {
			t.Logf("caster log:\n%s", logs.String())
		}
	})
	return u
}

// sendAll sends datagrams paced so that loopback drops none, skipping
// those drop says to drop.
func (u *udpCasterUnderTest) sendAll(t *testing.T, dgs [][]byte, drop func(i int) bool) {
	t.Helper()
	for i, d := range dgs {
		if drop != nil && drop(i) {
			continue
		}
		if _, err := u.send.Write(d); err != nil {
			t.Fatal(err)
		}
		if i%8 == 7 {
			time.Sleep(time.Millisecond)
		}
	}
}

func TestUDPPublishesUnpublishesAndRepublishes(t *testing.T) {
	leakCheck(t)
	tg := newTarget(t)
	u := startUDP(t, tg.url("live/livestream"))
	ts := tsOf(t, mediaPackets(t, 3000))

	for round := 1; round <= 2; round++ {
		u.sendAll(t, datagrams(ts), nil)
		pub := tg.next("publish", 3*time.Second)
		if pub.conn != round || pub.stream != "livestream" {
			t.Fatalf("round %d: publish %+v, want connection %d publishing livestream", round, pub, round)
		}
		if pub.connect.App != "live" {
			t.Errorf("connect app %q", pub.connect.App)
		}
		// The idle timeout ends the publish once the datagrams stop.
		msgs, ended := tg.collect(3 * time.Second)
		if !ended {
			t.Fatalf("round %d: the publish did not end after the input stopped", round)
		}
		s := summarize(t, msgs)
		// 3 s at 25 fps, with a keyframe each second: every frame arrives,
		// except the last PES, which the muxer never closed.
		if s.videoHeaders != 1 || s.audioHeaders != 1 || s.keyframes != 3 || s.video < 70 || s.audio < 120 {
			t.Errorf("round %d: target got %+v", round, s)
		}
		if s.firstVideoTS != 0 || s.lastVideoTS < 2800 || s.lastVideoTS > 3000 {
			t.Errorf("round %d: video timestamps %d..%d, want 0..~2960", round, s.firstVideoTS, s.lastVideoTS)
		}
	}
	waitLog(t, u.logs, "input idle: no datagram for 400ms")
	if n := strings.Count(u.logs.String(), "caster: publishing"); n != 2 {
		t.Errorf("%d publishes logged, want 2", n)
	}
}

func TestUDPConnectArgsNameTheCaster(t *testing.T) {
	leakCheck(t)
	tg := newTarget(t)
	u := startUDP(t, tg.url("live/args"))
	u.sendAll(t, datagrams(tsOf(t, mediaPackets(t, 200))), nil)
	pub := tg.next("publish", 3*time.Second)
	args := pub.connect.Args
	sig, _ := args.String("srs_sig")
	id, _ := args.String("srs_id")
	if sig != "castd" || len(id) != 8 {
		t.Fatalf("connect args %v, want srs_sig castd and an 8-char srs_id", args)
	}
	if !strings.Contains(u.logs.String(), id) {
		t.Errorf("the caster's log does not carry the context id %s sent as srs_id", id)
	}
}

// TestUDPSurvivesLossAndGarbage: garbage alone never publishes; lost
// datagrams and garbage between them cost frames, not the stream.
func TestUDPSurvivesLossAndGarbage(t *testing.T) {
	leakCheck(t)
	tg := newTarget(t)
	u := startUDP(t, tg.url("live/lossy"))
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := func(n int, sync bool) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		if sync { // sync bytes where packets would start, garbage in between
			for i := 0; i < n; i += mpegts.PacketSize {
				b[i] = mpegts.SyncByte
			}
		}
		return b
	}
	junk := [][]byte{garbage(1, false), garbage(500, false), garbage(7*188, true), garbage(65000, true), {}}
	u.sendAll(t, junk, nil)
	select {
	case e := <-tg.events:
		t.Fatalf("garbage published something: %+v", e)
	case <-time.After(600 * time.Millisecond): // past the idle timeout
	}

	dgs := datagrams(tsOf(t, mediaPackets(t, 4000)))
	var mixed [][]byte
	for i, d := range dgs {
		mixed = append(mixed, d)
		if i%50 == 25 {
			mixed = append(mixed, garbage(300+i, i%100 == 25))
		}
	}
	u.sendAll(t, mixed, func(i int) bool { return i%17 == 3 })
	tg.next("publish", 3*time.Second)
	msgs, ended := tg.collect(3 * time.Second)
	if !ended {
		t.Fatal("the publish did not end")
	}
	s := summarize(t, msgs) // also checks every message is well-formed
	if s.videoHeaders < 1 || s.audioHeaders < 1 || s.keyframes < 2 || s.video < 20 || s.audio < 50 {
		t.Errorf("target got %+v through loss and garbage", s)
	}
	waitLog(t, u.logs, "publishes=1")
	lines := strings.Split(strings.TrimSpace(u.logs.String()), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "stream ended") || strings.Contains(last, "ts_continuity_errors=0 ") {
		t.Errorf("the lost datagrams were not counted: %s", last)
	}
}

// TestUDPRetriesAfterRejection: a refused publish is retried after Retry,
// not for every frame, and the input is dropped meanwhile.
func TestUDPRetriesAfterRejection(t *testing.T) {
	leakCheck(t)
	tg := newTarget(t)
	tg.reject = [2]string{rtmp.CodePublishBadName, rtmp.DescStreamBusy}
	u := startUDP(t, tg.url("live/busy"))
	start := time.Now()
	u.sendAll(t, datagrams(tsOf(t, mediaPackets(t, 1500))), nil) // ~1 s of sending paced at 1 ms / 8
	stopSending := time.Now()
	time.Sleep(200 * time.Millisecond)
	waitLog(t, u.logs, "publish failed")
	ends := 0
	for len(tg.events) > 0 {
		if e := <-tg.events; e.what == "end" {
			ends++
		} else {
			t.Fatalf("a rejected target reported %+v", e)
		}
	}
	// Attempts: the first, then at most one per Retry while datagrams came.
	maxAttempts := 2 + int(stopSending.Sub(start)/(300*time.Millisecond))
	if ends < 1 || ends > maxAttempts {
		t.Errorf("%d publish attempts over %v, want 1..%d", ends, stopSending.Sub(start), maxAttempts)
	}
	if !strings.Contains(u.logs.String(), "Stream is busy") {
		t.Errorf("the log does not say why:\n%s", u.logs.String())
	}
}

// TestUDPRepublishesAfterKick: when the target drops the publish while
// datagrams still arrive, the caster publishes again after Retry, with
// fresh sequence headers.
func TestUDPRepublishesAfterKick(t *testing.T) {
	leakCheck(t)
	tg := newTarget(t)
	u := startUDP(t, tg.url("live/kicked"))
	dgs := datagrams(tsOf(t, mediaPackets(t, 4000)))
	half := len(dgs) / 3
	u.sendAll(t, dgs[:half], nil)
	tg.next("publish", 3*time.Second)
	tg.kick()
	tg.next("end", 3*time.Second)
	// Datagrams keep coming (within the idle timeout) for longer than Retry.
	// About 38 datagrams per second of media: pace them at 100 a second.
	for _, d := range dgs[half:] {
		u.sendAll(t, [][]byte{d}, nil)
		time.Sleep(10 * time.Millisecond)
	}
	pub := tg.next("publish", 3*time.Second)
	if pub.conn != 2 {
		t.Fatalf("republished on connection %d", pub.conn)
	}
	msgs, _ := tg.collect(2 * time.Second)
	s := summarize(t, msgs)
	// A new timeline starts at the republish's first frame (audio here:
	// video waits for a keyframe).
	if s.videoHeaders != 1 || s.audioHeaders != 1 || s.keyframes < 1 || msgs[0].Timestamp != 0 {
		t.Errorf("after the republish the target got %+v, first at %d; want sequence headers, a keyframe, a start at 0", s, msgs[0].Timestamp)
	}
	waitLog(t, u.logs, "publish failed")
}

func TestUDPStopsWithItsContext(t *testing.T) {
	leakCheck(t)
	tg := newTarget(t)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := StartMPEGTSOverUDP(ctx, conn, tg.url("live/stop"), testOptions(&logBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	send, _ := net.Dial("udp", conn.LocalAddr().String())
	defer send.Close()
	for _, d := range datagrams(tsOf(t, mediaPackets(t, 500))) {
		send.Write(d)
	}
	tg.next("publish", 3*time.Second)
	cancel()
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("wait did not return after the context ended")
	}
	tg.next("end", time.Second)
	if _, _, err := conn.ReadFrom(make([]byte, 10)); err == nil {
		t.Error("the socket is still open")
	}
}

func TestStartRefusesBadOutputs(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, out := range []string{"", "http://127.0.0.1/live/x", "rtmp://127.0.0.1/live", "rtmp://127.0.0.1/live/"} {
		if _, err := StartMPEGTSOverUDP(context.Background(), conn, out, Options{}); err == nil {
			t.Errorf("output %q accepted", out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, out := range []string{"", "rtmp://127.0.0.1/[app]", "srt://127.0.0.1/[app]/[stream]"} {
		if _, err := StartFLV(context.Background(), ln, out, Options{}); err == nil {
			t.Errorf("flv output %q accepted", out)
		}
	}
}

// waitLog waits until logs holds s.
func waitLog(t *testing.T, logs *logBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("never logged %q:\n%s", s, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
