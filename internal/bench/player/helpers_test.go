package player

import (
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/stamp"
	"github.com/castd/castd/internal/format/flv"
)

// avcSeqHeader is an AVC sequence header tag body with 4-byte NALU lengths.
var avcSeqHeader = []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee}

// frame returns an H.264 frame tag body of about size bytes, stamped with
// sentAt unless it is zero.
func frame(t testing.TB, key bool, size int, sentAt time.Time, seq uint64) []byte {
	t.Helper()
	first := byte(0x27)
	if key {
		first = 0x17
	}
	slice := make([]byte, size)
	slice[0] = 0x41
	body := append([]byte{first, 1, 0, 0, 0}, byte(size>>24), byte(size>>16), byte(size>>8), byte(size))
	body = append(body, slice...)
	if sentAt.IsZero() {
		return body
	}
	tag, err := av.ParseFLVVideoTag(body)
	if err != nil {
		t.Fatal(err)
	}
	out, err := stamp.AppendStamped(nil, body, tag, 4, stamp.Stamp{SentAt: sentAt.UnixNano(), Seq: seq})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stream is a test stream: a sequence header then n stamped frames, 40 ms
// apart, with an audio frame after each.
func streamTags(t testing.TB, n int) []flv.Tag {
	tags := []flv.Tag{
		{Type: flv.TagScript, Data: []byte{2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a', 5}},
		{Type: flv.TagVideo, Data: avcSeqHeader},
	}
	for i := range n {
		ts := uint32(i * 40)
		tags = append(tags,
			flv.Tag{Type: flv.TagVideo, Timestamp: ts, Data: frame(t, i%25 == 0, 2000, time.Now(), uint64(i))},
			flv.Tag{Type: flv.TagAudio, Timestamp: ts, Data: []byte{0xAF, 1, 1, 2, 3, 4}})
	}
	return tags
}

// checkGoroutines returns a function that fails t when goroutines started
// since remain after a grace period.
func checkGoroutines(t *testing.T) func() {
	before := runtime.NumGoroutine()
	return func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	}
}

// listen serves each accepted connection with handle until the test ends.
func listen(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}
