package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/castd/castd/internal/protocol/rtmp"
)

// Tests with castd's own RTMP client, for what ffmpeg cannot do on purpose.

// Real H.264 and AAC sequence headers; frames are opaque to the server.
var (
	avcSH = []byte{0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00,
		0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03,
		0x20, 0xf1, 0x42, 0x99, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}
	aacSH = []byte{0xaf, 0x00, 0x12, 0x10}
)

// frame returns a video frame body of size n with a recognisable pattern.
func frame(key bool, n int, seq int) []byte {
	b := make([]byte, n)
	b[0], b[1] = 0x27, 0x01
	if key {
		b[0] = 0x17
	}
	for i := 5; i < n; i++ {
		b[i] = byte(seq + i)
	}
	return b
}

func dialPublish(t *testing.T, c *castd, stream string, opt rtmp.ClientOptions) *rtmp.ClientConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := rtmp.Dial(ctx, c.rtmpURL("live"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	if err := cc.Publish(ctx, stream); err != nil {
		t.Fatal(err)
	}
	return cc
}

func dialPlay(t *testing.T, c *castd, stream string) *rtmp.ClientConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := rtmp.Dial(ctx, c.rtmpURL("live"), rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	if err := cc.Play(ctx, stream); err != nil {
		t.Fatal(err)
	}
	return cc
}

// readMedia reads until it has n media messages or the deadline passes.
func readMedia(t *testing.T, cc *rtmp.ClientConn, n int, within time.Duration) []*rtmp.Message {
	t.Helper()
	_ = cc.NetConn().SetReadDeadline(time.Now().Add(within))
	defer cc.NetConn().SetReadDeadline(time.Time{})
	var got []*rtmp.Message
	for len(got) < n {
		m, err := cc.ReadMessage()
		if err != nil {
			t.Fatalf("read after %d of %d messages: %v", len(got), n, err)
		}
		if m.Type == rtmp.TypeAudio || m.Type == rtmp.TypeVideo {
			got = append(got, m)
		}
	}
	return got
}

func write(t *testing.T, cc *rtmp.ClientConn, msgs ...rtmp.MediaMessage) {
	t.Helper()
	if err := cc.WriteMedia(msgs); err != nil {
		t.Fatal(err)
	}
}

// TestLateJoinerStartsAtCachedKeyframe: a player that joins mid-GOP gets
// the sequence headers and then the cached GOP from its keyframe at once,
// not live frames after waiting for the next keyframe.
func TestLateJoinerStartsAtCachedKeyframe(t *testing.T) {
	c := startCastd(t, defaultConf)
	pub := dialPublish(t, c, "gop", rtmp.ClientOptions{})
	write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: avcSH}, rtmp.MediaMessage{Type: rtmp.TypeAudio, Payload: aacSH})
	// Two GOPs of 25 frames; the player joins during the second.
	for i := 0; i < 40; i++ {
		write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: uint32(i * 40), Payload: frame(i%25 == 0, 300, i)})
	}
	c.waitPublished(t, "gop", 5*time.Second)

	start := time.Now()
	play := dialPlay(t, c, "gop")
	got := readMedia(t, play, 2+15, 5*time.Second)
	elapsed := time.Since(start)
	if got[0].Type != rtmp.TypeAudio || !bytes.Equal(got[0].Payload, aacSH) ||
		got[1].Type != rtmp.TypeVideo || !bytes.Equal(got[1].Payload, avcSH) {
		t.Fatalf("the player must get the audio then the video sequence header first: %v %v", got[0], got[1])
	}
	if !bytes.Equal(got[2].Payload, frame(true, 300, 25)) {
		t.Fatalf("the first frame must be the cached keyframe of the last GOP (frame 25), got %x", got[2].Payload[:8])
	}
	for i := 3; i < len(got); i++ {
		if !bytes.Equal(got[i].Payload, frame(false, 300, 25+i-2)) {
			t.Fatalf("message %d is not cached frame %d", i, 25+i-2)
		}
	}
	// Every frame above was already published: the GOP came from the cache.
	// A generous bound catches a server that waits (for a keyframe, a timer).
	if elapsed > 2*time.Second {
		t.Errorf("cached GOP took %v to arrive", elapsed)
	}
}

// TestChunkSizesAndExtendedTimestamps publishes with chunk sizes 128 and
// 65536 and timestamps that cross 0xFFFFFF (4.66 hours), so continuation
// chunks carry extended timestamps, and plays them back from a vhost that
// writes with chunk size 128, with jitter off so timestamps pass through.
func TestChunkSizesAndExtendedTimestamps(t *testing.T) {
	c := startCastd(t, `
listen 127.0.0.1:{{rtmp}};
http_api { enabled on; listen 127.0.0.1:{{api}}; }
vhost __defaultVhost__ {
    chunk_size 128;
    play { time_jitter off; mw_latency 0; }
}`)
	for _, chunk := range []int{128, 65536} {
		t.Run(fmt.Sprint("chunk", chunk), func(t *testing.T) {
			stream := fmt.Sprint("ts", chunk)
			pub := dialPublish(t, c, stream, rtmp.ClientOptions{ChunkSize: chunk})
			play := dialPlay(t, c, stream)
			base := uint32(0xFFFFFF - 200)
			var sent []rtmp.MediaMessage
			sent = append(sent, rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: base, Payload: avcSH})
			for i := 0; i < 12; i++ {
				// 1000 bytes is 8 chunks of 128: fmt-3 continuations.
				sent = append(sent, rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: base + uint32(i*40), Payload: frame(i == 0, 1000+i*7000, i)})
				sent = append(sent, rtmp.MediaMessage{Type: rtmp.TypeAudio, Timestamp: base + uint32(i*40+20), Payload: []byte{0xaf, 0x01, byte(i)}})
			}
			write(t, pub, sent...)
			got := readMedia(t, play, len(sent), 5*time.Second)
			for i := range sent {
				if got[i].Type != sent[i].Type || got[i].Timestamp != sent[i].Timestamp || !bytes.Equal(got[i].Payload, sent[i].Payload) {
					t.Fatalf("message %d: got type %d ts %#x len %d, sent type %d ts %#x len %d", i,
						got[i].Type, got[i].Timestamp, len(got[i].Payload), sent[i].Type, sent[i].Timestamp, len(sent[i].Payload))
				}
			}
		})
	}
}

// TestSlowReaderDoesNotGrowMemory publishes far more than queue_length to
// a player that never reads: the server's heap must stay bounded.
func TestSlowReaderDoesNotGrowMemory(t *testing.T) {
	c := startCastd(t, `
listen 127.0.0.1:{{rtmp}};
http_api { enabled on; listen 127.0.0.1:{{api}}; }
vhost __defaultVhost__ { play { queue_length 2; } }`)
	pub := dialPublish(t, c, "slow", rtmp.ClientOptions{})
	stalled := dialPlay(t, c, "slow") // never read again
	_ = stalled

	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: avcSH})
	payload := 64 << 10
	ts := uint32(0)
	push := func(n int) {
		for i := 0; i < n; i++ {
			write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: ts, Payload: frame(i%25 == 0, payload, i)})
			ts += 40
		}
	}
	push(250) // 10 s of stream: fills socket buffers and the queue
	before := heap()
	push(2500) // 100 s more: 160 MB through a player that reads nothing
	after := heap()
	// queue_length 2 s at 25 fps of 64 KB frames is ~3.2 MB of ring.
	if grown := int64(after) - int64(before); grown > 24<<20 {
		t.Fatalf("heap grew by %d MB while a stalled player was fed 160 MB", grown>>20)
	}
}

// TestMalformedInputIsRefusedCleanly sends broken RTMP after a valid
// handshake: the server must close the connection (and log why) without
// panicking; the leak check at cleanup proves its goroutines ended.
func TestMalformedInputIsRefusedCleanly(t *testing.T) {
	c := startCastd(t, defaultConf)
	garbage := make([]byte, 4096)
	_, _ = rand.Read(garbage)
	cases := map[string][]byte{
		"random bytes": garbage,
		// fmt 0 on csid 3: length 0xFFFFFF (over the 16 MiB limit is not possible,
		// but the following data never completes it) then EOF mid-message.
		"truncated message": {0x03, 0, 0, 0, 0xff, 0xff, 0xff, 0x14, 0, 0, 0, 0, 0x02, 0x00},
		// Set Chunk Size of 0.
		"chunk size zero": {0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0, 0, 0, 0},
		// fmt 3 on a chunk stream never opened.
		"continuation without header": {0xc5, 1, 2, 3, 4},
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", c.rtmp))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := rtmp.ClientHandshake(nc, rtmp.HandshakeSimple); err != nil {
				t.Fatal(err)
			}
			_, _ = nc.Write(data)
			if tc, ok := nc.(*net.TCPConn); ok && name == "truncated message" {
				_ = tc.CloseWrite() // end of stream mid-message
			}
			// The server must close: reads end with EOF or reset, not a timeout.
			_, err = io.Copy(io.Discard, nc)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the server kept a broken connection open")
			}
		})
	}
	// The server still works.
	pub := dialPublish(t, c, "after", rtmp.ClientOptions{})
	write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: avcSH})
}
