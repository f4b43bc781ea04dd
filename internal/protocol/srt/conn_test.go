package srt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// pair connects a Go caller to a Go listener over loopback.
func pair(t *testing.T, lo, co Options) (l *Listener, server, client *Conn) {
	t.Helper()
	l, err := Listen("udp", "127.0.0.1:0", lo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted := make(chan *Conn, 1)
	go func() {
		defer close(accepted)
		req, err := l.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		c, err := req.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		accepted <- c
	}()
	client, err = Dial(context.Background(), "udp", l.Addr().String(), co)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server = <-accepted
	if server == nil {
		t.FailNow()
	}
	t.Cleanup(func() { server.Close() })
	return l, server, client
}

// exchangeMessages writes n numbered messages each way and checks both
// sides read them all, in order and intact.
func exchangeMessages(t *testing.T, a, b *Conn, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for _, dir := range [][2]*Conn{{a, b}, {b, a}} {
		w, r := dir[0], dir[1]
		wg.Add(2)
		go func() {
			defer wg.Done()
			msg := make([]byte, 1316)
			for i := 0; i < n; i++ {
				binary.BigEndian.PutUint32(msg, uint32(i))
				msg[4] = byte(i)
				if _, err := w.WriteMessage(msg[:100+i%1200]); err != nil {
					t.Errorf("write %d: %v", i, err)
					return
				}
				if i%20 == 19 {
					time.Sleep(2 * time.Millisecond)
				}
			}
		}()
		go func() {
			defer wg.Done()
			buf := make([]byte, 1500)
			_ = r.SetReadDeadline(time.Now().Add(10 * time.Second))
			for i := 0; i < n; i++ {
				k, err := r.ReadMessage(buf)
				if err != nil {
					t.Errorf("read %d: %v", i, err)
					return
				}
				if k != 100+i%1200 || binary.BigEndian.Uint32(buf) != uint32(i) || buf[4] != byte(i) {
					t.Errorf("message %d: %d bytes, number %d", i, k, binary.BigEndian.Uint32(buf))
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestConnLoopback(t *testing.T) {
	checkGoroutines(t)
	co := DefaultOptions()
	co.StreamID = "#!::r=live/loop,m=publish"
	_, server, client := pair(t, DefaultOptions(), co)
	if server.StreamID() != co.StreamID || client.StreamID() != co.StreamID {
		t.Errorf("stream ids %q %q", server.StreamID(), client.StreamID())
	}
	if server.PeerSocketID() != client.SocketID() || client.PeerSocketID() != server.SocketID() {
		t.Error("socket ids do not match")
	}
	exchangeMessages(t, client, server, 500)
	cs, ss := client.Stats(), server.Stats()
	if cs.PktSentUnique != 500 || ss.PktRecvUnique != 500 || ss.PktSentUnique != 500 || cs.PktRecvUnique != 500 {
		t.Errorf("counts: client %+v server %+v", cs, ss)
	}
	if cs.RecvLatency != 120*time.Millisecond || ss.RecvLatency != 120*time.Millisecond || cs.Encrypted {
		t.Errorf("latency %v/%v encrypted %v", cs.RecvLatency, ss.RecvLatency, cs.Encrypted)
	}
	if cs.RTT <= 0 || cs.RTT > 50*time.Millisecond {
		t.Errorf("loopback RTT %v", cs.RTT)
	}
	if _, err := client.WriteMessage(make([]byte, 1317)); !errors.Is(err, ErrMessageTooLong) {
		t.Errorf("1317-byte message: %v", err)
	}
	// Write splits a long buffer into payload-size messages.
	if n, err := client.Write(make([]byte, 3000)); n != 3000 || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
	buf := make([]byte, 1500)
	for _, want := range []int{1316, 1316, 368} {
		if n, err := server.Read(buf); n != want || err != nil {
			t.Fatalf("Read: %d, %v; want %d", n, err, want)
		}
	}
	// The peer closing shows as EOF once everything held was read.
	if _, err := client.WriteMessage([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	client.Close()
	_ = server.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := server.ReadMessage(buf); err != nil || string(buf[:n]) != "last words" {
		t.Fatalf("last message: %q, %v", buf[:n], err)
	}
	if _, err := server.ReadMessage(buf); err != io.EOF {
		t.Fatalf("after the peer's shutdown: %v", err)
	}
	if _, err := server.WriteMessage([]byte("x")); err != io.EOF {
		t.Fatalf("write after the peer's shutdown: %v", err)
	}
}

func TestConnEncrypted(t *testing.T) {
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprint(keyLen), func(t *testing.T) {
			checkGoroutines(t)
			o := DefaultOptions()
			o.Passphrase, o.PBKeyLen = "correct horse battery", keyLen
			_, server, client := pair(t, o, o)
			exchangeMessages(t, client, server, 200)
			for _, s := range []Stats{client.Stats(), server.Stats()} {
				if !s.Encrypted || s.PktRcvUndecrypt != 0 || s.PktRecvUnique != 200 {
					t.Errorf("stats %+v", s)
				}
			}
		})
	}
}

// TestConnKeyRefresh refreshes the stream keys every 50 packets, both ways.
func TestConnKeyRefresh(t *testing.T) {
	checkGoroutines(t)
	o := DefaultOptions()
	o.Passphrase = "correct horse battery"
	o.KMRefreshRate, o.KMPreAnnounce = 50, 10
	_, server, client := pair(t, o, o)
	exchangeMessages(t, client, server, 400)
	for name, s := range map[string]Stats{"client": client.Stats(), "server": server.Stats()} {
		if s.KMRefreshes < 5 || s.PktRcvUndecrypt != 0 || s.KMErrors != 0 {
			t.Errorf("%s: %d refreshes, %d undecryptable, %d KM errors", name, s.KMRefreshes, s.PktRcvUndecrypt, s.KMErrors)
		}
	}
}

func TestDialRejected(t *testing.T) {
	checkGoroutines(t)
	lo := DefaultOptions()
	lo.Passphrase = "correct horse battery"
	l, err := Listen("udp", "127.0.0.1:0", lo)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			req, err := l.Accept()
			if err != nil {
				return
			}
			if err := req.Reject(RejectPredefinedBase + 403); err != nil {
				t.Error(err)
			}
		}
	}()
	for _, tc := range []struct {
		name string
		pass string
		want RejectReason
	}{
		{"by the application", "correct horse battery", RejectPredefinedBase + 403},
		{"wrong passphrase", "wrong horse battery", RejectBadSecret},
		{"no passphrase", "", RejectUnsecure},
	} {
		co := DefaultOptions()
		co.Passphrase = tc.pass
		_, err := Dial(context.Background(), "udp", l.Addr().String(), co)
		var rej *RejectError
		if !errors.As(err, &rej) || rej.Reason != tc.want {
			t.Errorf("%s: %v, want rejection %v", tc.name, err, tc.want)
		}
	}
}

func TestListenerBacklog(t *testing.T) {
	checkGoroutines(t)
	lo := DefaultOptions()
	lo.Backlog = 1
	l, err := Listen("udp", "127.0.0.1:0", lo)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	co := DefaultOptions()
	co.ConnectTimeout = 500 * time.Millisecond
	first := make(chan error, 1)
	go func() {
		_, err := Dial(context.Background(), "udp", l.Addr().String(), co)
		first <- err
	}()
	time.Sleep(100 * time.Millisecond) // the first request waits, undecided
	_, err = Dial(context.Background(), "udp", l.Addr().String(), co)
	var rej *RejectError
	if !errors.As(err, &rej) || rej.Reason != RejectBacklog {
		t.Errorf("second caller: %v, want backlog rejection", err)
	}
	if err := <-first; !errors.Is(err, ErrConnectTimeout) {
		t.Errorf("undecided caller: %v", err)
	}
}

func TestDialTimeoutAndCancel(t *testing.T) {
	checkGoroutines(t)
	silent, err := net.ListenUDP("udp", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	addr := fmt.Sprintf("127.0.0.1:%d", silent.LocalAddr().(*net.UDPAddr).Port)
	o := DefaultOptions()
	o.ConnectTimeout = 300 * time.Millisecond
	start := time.Now()
	if _, err := Dial(context.Background(), "udp", addr, o); !errors.Is(err, ErrConnectTimeout) {
		t.Errorf("silent peer: %v", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 2*time.Second {
		t.Errorf("timed out after %v", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	o.ConnectTimeout = time.Minute
	if _, err := Dial(ctx, "udp", addr, o); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := Dial(context.Background(), "udp", addr, Options{Passphrase: "short"}); err == nil {
		t.Error("a 5-character passphrase was accepted")
	}
}

func TestPeerIdleTimeout(t *testing.T) {
	checkGoroutines(t)
	lo := DefaultOptions()
	lo.PeerIdleTimeout = 300 * time.Millisecond
	_, server, client := pair(t, lo, DefaultOptions())
	// The caller vanishes without a word: its socket closes under it.
	client.m.close()
	buf := make([]byte, 1500)
	start := time.Now()
	if _, err := server.ReadMessage(buf); !errors.Is(err, ErrPeerIdle) {
		t.Fatalf("read: %v", err)
	}
	// The timer runs from the last packet, which came before start.
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("idle after %v", d)
	}
}

func TestDeadlinesAndClose(t *testing.T) {
	checkGoroutines(t)
	_, server, client := pair(t, DefaultOptions(), DefaultOptions())
	buf := make([]byte, 1500)
	_ = server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := server.ReadMessage(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	_ = server.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() {
		_, err := server.ReadMessage(buf)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	server.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("blocked read after Close: %v", err)
	}
	// The client hears the shutdown.
	_ = client.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := client.ReadMessage(buf); err != io.EOF {
		t.Fatalf("client after the server closed: %v", err)
	}
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestListenerCloseClosesConnections(t *testing.T) {
	checkGoroutines(t)
	l, server, client := pair(t, DefaultOptions(), DefaultOptions())
	l.Close()
	buf := make([]byte, 1500)
	if _, err := server.ReadMessage(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("server conn after Listener.Close: %v", err)
	}
	_ = client.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := client.ReadMessage(buf); err != io.EOF {
		t.Errorf("client after Listener.Close: %v", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
}

// TestSendBufferBackPressure fills a tiny send buffer toward a receiver
// that never acknowledges (its socket is gone): writes block, then fail at
// the write deadline.
func TestSendBufferBackPressure(t *testing.T) {
	checkGoroutines(t)
	co := DefaultOptions()
	co.SendBuf = 1 // the floor: 32 packets
	_, server, client := pair(t, DefaultOptions(), co)
	server.m.close() // the listener's socket: nothing comes back
	_ = client.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	var err error
	n := 0
	for ; n < 100 && err == nil; n++ {
		_, err = client.WriteMessage([]byte("x"))
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) || n != minBufPackets+1 {
		t.Fatalf("after %d writes: %v", n, err)
	}
}

// TestHotPathAllocations sends and receives over loopback and counts
// allocations per message in the whole process (both goroutines of each
// side and the socket readers), once the packet pools are warm: the
// receiver holds rate x latency packets, which the warm-up allocates.
func TestHotPathAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counting needs a normal build")
	}
	o := DefaultOptions()
	o.Latency, o.RecvLatency, o.PeerLatency = 20*time.Millisecond, -1, -1
	_, server, client := pair(t, o, o)
	msg := bytes.Repeat([]byte{7}, 1316)
	buf := make([]byte, 1500)
	run := func(n int) {
		go func() {
			for i := 0; i < n; i++ {
				if _, err := client.WriteMessage(msg); err != nil {
					return
				}
				if i%20 == 19 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
		_ = server.SetReadDeadline(time.Now().Add(10 * time.Second))
		for i := 0; i < n; i++ {
			if _, err := server.ReadMessage(buf); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(2000)
	const n = 2000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	run(n)
	runtime.ReadMemStats(&after)
	per := float64(after.Mallocs-before.Mallocs) / n
	t.Logf("%.3f allocations per message", per)
	if per > 0.1 {
		t.Errorf("%.2f allocations per message", per)
	}
}

// TestManyConnectionsOnePort has callers publish at once to one listener:
// each accepted connection gets its own caller's messages only.
func TestManyConnectionsOnePort(t *testing.T) {
	checkGoroutines(t)
	l, err := Listen("udp", "127.0.0.1:0", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const callers, messages = 8, 100
	var served sync.WaitGroup
	go func() {
		for {
			req, err := l.Accept()
			if err != nil {
				return
			}
			var who int
			if _, err := fmt.Sscanf(req.StreamID(), "caller-%d", &who); err != nil {
				t.Errorf("stream id %q", req.StreamID())
				_ = req.Reject(RejectPredefinedBase + 400)
				continue
			}
			c, err := req.Accept()
			if err != nil {
				t.Error(err)
				continue
			}
			served.Add(1)
			go func() {
				defer served.Done()
				defer c.Close()
				buf := make([]byte, 1500)
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				for i := 0; i < messages; i++ {
					n, err := c.ReadMessage(buf)
					if err != nil {
						t.Errorf("caller %d, message %d: %v", who, i, err)
						return
					}
					if got := string(buf[:n]); got != fmt.Sprintf("caller %d message %d", who, i) {
						t.Errorf("caller %d got %q", who, got)
						return
					}
				}
			}()
		}
	}()
	var sent sync.WaitGroup
	for k := 0; k < callers; k++ {
		sent.Add(1)
		go func() {
			defer sent.Done()
			o := DefaultOptions()
			o.StreamID = fmt.Sprintf("caller-%d", k)
			o.Linger = 2 * time.Second
			c, err := Dial(context.Background(), "udp", l.Addr().String(), o)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for i := 0; i < messages; i++ {
				if _, err := c.WriteMessage([]byte(fmt.Sprintf("caller %d message %d", k, i))); err != nil {
					t.Error(err)
					return
				}
				if i%10 == 9 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	sent.Wait()
	served.Wait()
}

func TestListenerCloseRejectsUndecided(t *testing.T) {
	checkGoroutines(t)
	l, err := Listen("udp", "127.0.0.1:0", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	dialed := make(chan error, 1)
	go func() {
		_, err := Dial(context.Background(), "udp", l.Addr().String(), DefaultOptions())
		dialed <- err
	}()
	req, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	var rej *RejectError
	if err := <-dialed; !errors.As(err, &rej) || rej.Reason != RejectClose {
		t.Errorf("caller: %v, want a close rejection", err)
	}
	if _, err := req.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("accept after close: %v", err)
	}
}
