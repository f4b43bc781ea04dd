package caster

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// recorder is a mediaOutput that checks and counts what a caster writes,
// and fails every failEvery-th write (0: never) to exercise republishing.
type recorder struct {
	t         testing.TB
	failEvery int
	writes    int
	messages  int
	dials     int
	open      bool
}

func (r *recorder) dial(context.Context, string, string, Options) (mediaOutput, error) {
	if r.open {
		r.t.Fatal("a second publish while one is open")
	}
	r.dials++
	r.open = true
	return r, nil
}

func (r *recorder) write(batch []rtmp.MediaMessage) error {
	if !r.open {
		r.t.Fatal("write after close")
	}
	for _, m := range batch {
		switch m.Type {
		case rtmp.TypeAudio, rtmp.TypeVideo:
		case rtmp.TypeDataAMF0:
			continue
		default:
			r.t.Fatalf("message type %d written", m.Type)
		}
		if _, err := av.NewPacket(av.Kind(m.Type), m.Timestamp, m.Payload); err != nil {
			// The UDP caster makes its packets: they must be well-formed.
			// The flv caster passes the client's tags on as they are.
			if r.failEvery >= 0 {
				r.t.Fatalf("malformed %d message written: %v", m.Type, err)
			}
		}
	}
	r.writes++
	r.messages += len(batch)
	if r.failEvery > 0 && r.writes%r.failEvery == 0 {
		return errOutputClosed
	}
	return nil
}

func (r *recorder) close() { r.open = false }

// fakePacketConn returns its datagrams, then times out.
type fakePacketConn struct {
	dgs [][]byte
}

var fakeAddr = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}

func (c *fakePacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	if len(c.dgs) == 0 {
		return 0, nil, os.ErrDeadlineExceeded
	}
	n := copy(p, c.dgs[0])
	c.dgs = c.dgs[1:]
	return n, fakeAddr, nil
}
func (c *fakePacketConn) WriteTo(p []byte, _ net.Addr) (int, error) { return len(p), nil }
func (c *fakePacketConn) Close() error                              { return nil }
func (c *fakePacketConn) LocalAddr() net.Addr                       { return fakeAddr }
func (c *fakePacketConn) SetDeadline(time.Time) error               { return nil }
func (c *fakePacketConn) SetReadDeadline(time.Time) error           { return nil }
func (c *fakePacketConn) SetWriteDeadline(time.Time) error          { return nil }

// FuzzUDPStream feeds datagrams of any content and size through a UDP cast
// stream: it must end with the input's silence, publish only well-formed
// packets, and make no more of them than the input can hold.
func FuzzUDPStream(f *testing.F) {
	ts := tsOf(f, mediaPackets(f, 600))
	f.Add(ts, uint16(1316), uint8(0))
	f.Add(ts, uint16(188), uint8(5))
	f.Add(ts[100:], uint16(1000), uint8(3))
	f.Add(append(bytes.Repeat([]byte{0x47, 0x1f, 0xff, 0x10}, 100), ts...), uint16(1500), uint8(1))
	f.Add([]byte{}, uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, size uint16, failEvery uint8) {
		n := max(int(size), 1)
		var dgs [][]byte
		for len(data) > 0 {
			k := min(n, len(data))
			dgs = append(dgs, data[:k])
			data = data[k:]
		}
		total := n * len(dgs)
		rec := &recorder{t: t, failEvery: int(failEvery)}
		conn := &fakePacketConn{dgs: dgs}
		opt := Options{Log: slog.New(slog.DiscardHandler), Retry: time.Nanosecond}.withDefaults()
		u := &udpCaster{conn: conn, output: "rtmp://127.0.0.1/live/fuzz", opt: opt, dial: rec.dial}
		s := newUDPStream(u, "fuzzcid0", opt.Log, &datagramReader{conn: conn, idle: time.Second})
		err := s.run(context.Background())
		if !errors.Is(err, errIdle) {
			t.Fatalf("the stream ended with %v, want the idle timeout", err)
		}
		if rec.open {
			t.Fatal("the publish was left open")
		}
		// A transport packet carries at most 184 bytes of payload; the
		// smallest frame is an ADTS header and a byte.
		if rec.messages > 2*total/8+8 {
			t.Fatalf("%d messages from %d bytes", rec.messages, total)
		}
	})
}

// FuzzFLVPost sends any path and body to the flv caster's handler: the
// answer is one of the documented statuses, and only the body's tags are
// published.
func FuzzFLVPost(f *testing.F) {
	body := flvOf(f, mediaPackets(f, 300))
	f.Add("/live/livestream.flv", body)
	f.Add("/a/b/c.flv", body[:len(body)/2])
	f.Add("/live/x.flv", []byte("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00\x09\xff\xff\xff"))
	f.Add("/live/x.flv", []byte("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00\x12\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x0c"))
	f.Add("/live/?.flv", body)
	f.Add("/x.mp4", []byte{})
	allowed := map[int]bool{http.StatusOK: true, http.StatusBadRequest: true, http.StatusNotFound: true,
		http.StatusBadGateway: true, http.StatusRequestTimeout: true}
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		rec := &recorder{t: t, failEvery: -1}
		h := &flvHandler{output: "rtmp://127.0.0.1/[app]/[stream]", stopped: make(chan struct{}), dial: rec.dial,
			opt: Options{Log: slog.New(slog.DiscardHandler)}.withDefaults()}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.URL.Path = path
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if !allowed[w.Code] {
			t.Fatalf("status %d for %q", w.Code, path)
		}
		if rec.open {
			t.Fatal("the publish was left open")
		}
		if rec.messages > len(body)/15 {
			t.Fatalf("%d tags from %d bytes", rec.messages, len(body))
		}
		if _, _, err := ParseFLVPath(path); err != nil && rec.dials > 0 {
			t.Fatalf("%q was published", path)
		}
	})
}
