package srt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/format/mpegts"
)

// Interop with libsrt through ffmpeg and srt-live-transmit. Each test
// skips when its tool is missing.

const interopPass = "castd-interop-secret"

func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed: skipping libsrt interop", name)
	}
	return path
}

// lockedBuffer collects a command's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// startTool runs a command for at most limit; the test's cleanup kills it.
func startTool(t *testing.T, limit time.Duration, stdin io.Reader, name string, args ...string) (stdout, stderr *lockedBuffer, done chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd := exec.CommandContext(ctx, requireTool(t, name), args...)
	stdout, stderr = &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done = make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		done <- cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	return stdout, stderr, done
}

func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// acceptOne accepts the first request on l.
func acceptOne(t *testing.T, l *Listener) *Conn {
	t.Helper()
	got := make(chan *ConnRequest, 1)
	go func() {
		r, err := l.Accept()
		if err == nil {
			got <- r
		}
	}()
	var req *ConnRequest
	select {
	case req = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no connection request")
	}
	c, err := req.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestInteropFFmpegPublish has ffmpeg (libsrt) publish MPEG-TS to our
// listener, as SRS receives it, and demuxes what arrives.
func TestInteropFFmpegPublish(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "encrypted"}[encrypted], func(t *testing.T) {
			requireTool(t, "ffmpeg")
			checkGoroutines(t)
			o := DefaultOptions()
			url := "srt://127.0.0.1:%d?streamid=#!::r=live/x,m=publish&latency=200000"
			if encrypted {
				o.Passphrase = interopPass
				url += "&passphrase=" + interopPass + "&pbkeylen=16"
			}
			l, err := Listen("udp", "127.0.0.1:0", o)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			_, stderr, done := startTool(t, 20*time.Second, nil, "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
				"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
				"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
				"-c:a", "aac", "-f", "mpegts", fmt.Sprintf(url, l.Addr().(*net.UDPAddr).Port))

			c := acceptOne(t, l)
			if c.StreamID() != "#!::r=live/x,m=publish" {
				t.Errorf("stream id %q", c.StreamID())
			}
			var ts []byte
			buf := make([]byte, 1500)
			_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
			for {
				n, err := c.ReadMessage(buf)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("read after %d bytes: %v (ffmpeg: %s)", len(ts), err, stderr.Bytes())
				}
				if n%mpegts.PacketSize != 0 {
					t.Fatalf("message of %d bytes is not whole TS packets", n)
				}
				ts = append(ts, buf[:n]...)
			}
			if err := <-done; err != nil {
				t.Errorf("ffmpeg: %v: %s", err, stderr.Bytes())
			}
			s := c.Stats()
			if s.Encrypted != encrypted || s.RecvLatency != 200*time.Millisecond || s.PktRcvDrop != 0 || s.PktRcvUndecrypt != 0 {
				t.Errorf("stats %+v", s)
			}
			video, audio := demuxCount(t, ts)
			if video < 40 || audio < 3 { // ffmpeg packs several AAC frames per PES
				t.Errorf("demuxed %d video and %d audio frames from %d bytes", video, audio, len(ts))
			}
		})
	}
}

// demuxCount counts the H.264 and AAC frames of a transport stream and
// fails on damage.
func demuxCount(t *testing.T, ts []byte) (video, audio int) {
	t.Helper()
	d := mpegts.NewDemuxer(bytes.NewReader(ts))
	for {
		f, err := d.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch f.StreamType {
		case mpegts.StreamTypeH264:
			video++
		case mpegts.StreamTypeAAC:
			audio++
		}
	}
	if st := d.Stats(); st.ContinuityErrors != 0 || st.SyncLosses != 0 || st.TransportErrors != 0 || st.Scrambled != 0 {
		t.Errorf("damaged stream: %+v", st)
	}
	return video, audio
}

// numbered returns n messages of 1316 bytes, each filled from its index.
func numbered(n int) [][]byte {
	msgs := make([][]byte, n)
	for i := range msgs {
		m := make([]byte, 1316)
		for j := 0; j < len(m); j += 4 {
			binary.BigEndian.PutUint32(m[j:], uint32(i*1000+j))
		}
		msgs[i] = m
	}
	return msgs
}

// TestInteropCallerToSLT sends from our caller to srt-live-transmit
// listening, which writes what it receives to stdout.
func TestInteropCallerToSLT(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "encrypted"}[encrypted], func(t *testing.T) {
			requireTool(t, "srt-live-transmit")
			checkGoroutines(t)
			port := freePort(t)
			// 400 ms of latency: on a loaded machine libsrt drops what its
			// default 120 ms cannot wait for, and the bytes would differ.
			src := fmt.Sprintf("srt://:%d?latency=400", port)
			o := DefaultOptions()
			o.StreamID = "#!::r=live/x,m=publish"
			o.Linger = 3 * time.Second
			o.Latency, o.RecvLatency, o.PeerLatency = 400*time.Millisecond, -1, -1
			if encrypted {
				src += "&passphrase=" + interopPass + "&pbkeylen=32"
				o.Passphrase = interopPass
			}
			stdout, stderr, _ := startTool(t, 15*time.Second, nil, "srt-live-transmit", "-a:no", src, "file://con")
			var c *Conn
			var err error
			for try := 0; try < 20; try++ { // until srt-live-transmit listens
				o.ConnectTimeout = 500 * time.Millisecond
				if c, err = Dial(context.Background(), "udp", fmt.Sprintf("127.0.0.1:%d", port), o); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatalf("dial: %v (%s)", err, stderr.Bytes())
			}
			if s := c.Stats(); s.Encrypted != encrypted || encrypted && s.MSS != 1500 {
				t.Errorf("stats %+v", s)
			}
			var want []byte
			for i, m := range numbered(300) {
				if _, err := c.WriteMessage(m); err != nil {
					t.Fatal(err)
				}
				want = append(want, m...)
				if i%10 == 9 {
					time.Sleep(5 * time.Millisecond)
				}
			}
			c.Close()
			waitFor(t, 5*time.Second, func() bool { return len(stdout.Bytes()) >= len(want) })
			if got := stdout.Bytes(); !bytes.Equal(got, want) {
				t.Fatalf("srt-live-transmit wrote %d bytes, want %d identical (%s)", len(got), len(want), stderr.Bytes())
			}
		})
	}
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// TestInteropSLTPublish has srt-live-transmit call our listener and publish
// what it reads on stdin; the bytes must arrive in order.
func TestInteropSLTPublish(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "encrypted"}[encrypted], func(t *testing.T) {
			requireTool(t, "srt-live-transmit")
			checkGoroutines(t)
			o := DefaultOptions()
			if encrypted {
				o.Passphrase = interopPass
			}
			l, err := Listen("udp", "127.0.0.1:0", o)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			target := fmt.Sprintf("srt://%s?streamid=#!::r=live/slt,m=publish", l.Addr())
			if encrypted {
				target += "&passphrase=" + interopPass + "&pbkeylen=24"
			}
			// srt-live-transmit sends what it reads, as it reads it: feed it
			// a paced stream until enough arrived, then end its input.
			pr, pw := io.Pipe()
			_, stderr, _ := startTool(t, 15*time.Second, pr, "srt-live-transmit", "-a:no", "-chunk:1316", "file://con", target)
			stop := make(chan struct{})
			var fed sync.WaitGroup
			fed.Add(1)
			var sent []byte
			var sentMu sync.Mutex
			go func() {
				defer fed.Done()
				defer pw.Close()
				for i := 0; ; i++ {
					for _, m := range numbered(1) {
						binary.BigEndian.PutUint32(m, uint32(i))
						sentMu.Lock()
						sent = append(sent, m...)
						sentMu.Unlock()
						if _, err := pw.Write(m); err != nil {
							return
						}
					}
					if i%10 == 9 {
						select {
						case <-stop:
							return
						case <-time.After(5 * time.Millisecond):
						}
					}
				}
			}()
			c := acceptOne(t, l)
			if c.StreamID() != "#!::r=live/slt,m=publish" {
				t.Errorf("stream id %q", c.StreamID())
			}
			var got []byte
			buf := make([]byte, 1500)
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for len(got) < 250*1316 {
				n, err := c.ReadMessage(buf)
				if err != nil {
					t.Fatalf("read after %d bytes: %v (%s)", len(got), err, stderr.Bytes())
				}
				got = append(got, buf[:n]...)
			}
			close(stop)
			pr.CloseWithError(io.EOF)
			fed.Wait()
			sentMu.Lock()
			defer sentMu.Unlock()
			// srt-live-transmit may read (and drop) a little input before it
			// connects; from the first message on, nothing may be missing.
			first := int(binary.BigEndian.Uint32(got))
			if first > 50 || !bytes.Equal(got, sent[first*1316:first*1316+len(got)]) {
				t.Fatalf("received bytes (from message %d) differ from what srt-live-transmit read", first)
			}
			if s := c.Stats(); s.Encrypted != encrypted || s.PktRcvLoss != 0 || s.PktRcvUndecrypt != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// TestInteropSLTPlay has srt-live-transmit call our listener in request
// (play) mode; what we send comes out on its stdout.
func TestInteropSLTPlay(t *testing.T) {
	requireTool(t, "srt-live-transmit")
	checkGoroutines(t)
	o := DefaultOptions()
	o.Passphrase = interopPass
	o.Linger = 3 * time.Second
	l, err := Listen("udp", "127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	src := fmt.Sprintf("srt://%s?streamid=#!::r=live/x,m=request&passphrase=%s", l.Addr(), interopPass)
	stdout, stderr, done := startTool(t, 15*time.Second, nil, "srt-live-transmit", "-a:no", src, "file://con")
	c := acceptOne(t, l)
	if !strings.Contains(c.StreamID(), "m=request") {
		t.Errorf("stream id %q", c.StreamID())
	}
	var want []byte
	for i, m := range numbered(300) {
		if _, err := c.WriteMessage(m); err != nil {
			t.Fatal(err)
		}
		want = append(want, m...)
		if i%10 == 9 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Our close makes srt-live-transmit exit, which flushes its stdout.
	c.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("srt-live-transmit did not exit after our close")
	}
	if got := stdout.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("srt-live-transmit wrote %d bytes, want %d identical (%s)", len(got), len(want), stderr.Bytes())
	}
}

// TestInteropSLTRejected rejects srt-live-transmit's call with an
// application code; it must report the rejection and give up.
func TestInteropSLTRejected(t *testing.T) {
	requireTool(t, "srt-live-transmit")
	checkGoroutines(t)
	l, err := Listen("udp", "127.0.0.1:0", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	target := fmt.Sprintf("srt://%s?streamid=#!::r=live/forbidden,m=publish", l.Addr())
	_, stderr, done := startTool(t, 30*time.Second, strings.NewReader(""), "srt-live-transmit", "-a:no", "file://con", target)
	req, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Reject(RejectPredefinedBase + 403); err != nil {
		t.Fatal(err)
	}
	// It normally exits within 30 ms. On a loaded machine libsrt sometimes
	// logs the rejection and srt-live-transmit's loop never wakes up to
	// exit (reproduced with busy loops on both cores), so its own report
	// of the application's rejection counts as giving up too.
	rejected := func() bool {
		return strings.Contains(string(stderr.Bytes()), "REJECT") && strings.Contains(string(stderr.Bytes()), "Application-defined")
	}
	deadline := time.After(25 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for exited := false; !exited; {
		select {
		case <-done:
			exited = true
		case <-tick.C:
			exited = rejected()
		case <-deadline:
			t.Fatalf("srt-live-transmit neither exited nor reported the rejection: %s", stderr.Bytes())
		}
	}
	if !rejected() {
		t.Errorf("srt-live-transmit did not report the application's rejection: %s", stderr.Bytes())
	}
}

// TestInteropLossySLTPublish has libsrt publish through a relay that drops
// 10% of the datagrams each way: our NAKs must get every packet back from
// libsrt's sender in time.
func TestInteropLossySLTPublish(t *testing.T) {
	requireTool(t, "srt-live-transmit")
	checkGoroutines(t)
	o := DefaultOptions()
	o.Latency, o.RecvLatency, o.PeerLatency = 200*time.Millisecond, -1, -1
	l, err := Listen("udp", "127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	relay := newLossyRelay(t, l.Addr().(*net.UDPAddr).AddrPort(), 0.10, 42)
	target := fmt.Sprintf("srt://%s?streamid=#!::r=live/lossy,m=publish&latency=200", relay.addr())
	pr, pw := io.Pipe()
	_, stderr, _ := startTool(t, 20*time.Second, pr, "srt-live-transmit", "-a:no", "-chunk:1316", "file://con", target)
	stop := make(chan struct{})
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		defer pw.Close()
		m := make([]byte, 1316)
		for i := 0; ; i++ {
			binary.BigEndian.PutUint32(m, uint32(i))
			if _, err := pw.Write(m); err != nil {
				return
			}
			if i%10 == 9 {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
	}()
	c := acceptOne(t, l)
	buf := make([]byte, 1500)
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	next := -1
	for got := 0; got < 600; got++ {
		n, err := c.ReadMessage(buf)
		if err != nil {
			t.Fatalf("read %d: %v (%s)", got, err, stderr.Bytes())
		}
		k := int(binary.BigEndian.Uint32(buf[:n]))
		if next >= 0 && k != next {
			t.Fatalf("message %d follows %d: lost", k, next-1)
		}
		next = k + 1
	}
	close(stop)
	pr.CloseWithError(io.EOF)
	<-fed
	s := c.Stats()
	t.Logf("relay dropped %d of %d; receiver %+v", relay.dropped.Load(), relay.dropped.Load()+relay.forwarded.Load(), s)
	if s.PktRcvLoss == 0 || s.PktRcvRetrans == 0 || s.PktRcvDrop != 0 {
		t.Errorf("loss %d, retransmitted %d, dropped %d", s.PktRcvLoss, s.PktRcvRetrans, s.PktRcvDrop)
	}
}
