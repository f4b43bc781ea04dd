package rtmp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
)

func TestWriterHandComputedBytes(t *testing.T) {
	p200 := pattern(200, 5)
	tests := []struct {
		name      string
		chunkSize int
		m         Message
		want      []byte
	}{
		{
			name:      "one chunk on csid 3",
			chunkSize: 128,
			m:         Message{Type: 20, Timestamp: 0, StreamID: 0, CSID: 3, Payload: []byte("hello")},
			want:      cat([]byte{0x03, 0, 0, 0, 0, 0, 5, 20, 0, 0, 0, 0}, []byte("hello")),
		},
		{
			name:      "stream id is little endian, csid from type",
			chunkSize: 128,
			m:         Message{Type: TypeVideo, Timestamp: 0x010203, StreamID: 0x04030201, Payload: []byte{9}},
			want:      []byte{0x06, 1, 2, 3, 0, 0, 1, 9, 1, 2, 3, 4, 9},
		},
		{
			name:      "two chunks, extended timestamp repeated in fmt3",
			chunkSize: 128,
			m:         Message{Type: TypeVideo, Timestamp: 0x01020304, StreamID: 1, Payload: p200},
			want: cat([]byte{0x06, 0xFF, 0xFF, 0xFF, 0, 0, 200, 9, 1, 0, 0, 0, 1, 2, 3, 4}, p200[:128],
				[]byte{0xC6, 1, 2, 3, 4}, p200[128:]),
		},
		{
			name:      "timestamp exactly 0xFFFFFF is extended",
			chunkSize: 128,
			m:         Message{Type: TypeAudio, Timestamp: 0xFFFFFF, StreamID: 1, Payload: []byte{1}},
			want:      []byte{0x07, 0xFF, 0xFF, 0xFF, 0, 0, 1, 8, 1, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 1},
		},
		{
			name:      "2-byte basic header",
			chunkSize: 2,
			m:         Message{Type: 18, CSID: 64, Payload: []byte{1, 2, 3}},
			want:      []byte{0x00, 0x00, 0, 0, 0, 0, 0, 3, 18, 0, 0, 0, 0, 1, 2, 0xC0, 0x00, 3},
		},
		{
			name:      "3-byte basic header",
			chunkSize: 128,
			m:         Message{Type: 18, CSID: 65599, Payload: []byte{1}},
			want:      []byte{0x01, 0xFF, 0xFF, 0, 0, 0, 0, 0, 1, 18, 0, 0, 0, 0, 1},
		},
		{
			name:      "empty payload",
			chunkSize: 128,
			m:         Message{Type: 20, CSID: 3},
			want:      []byte{0x03, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mc := newTestConn(nil, ConnOptions{})
			c.outChunkSize = tt.chunkSize
			if err := c.WriteMessage(&tt.m); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mc.w.Bytes(), tt.want) {
				t.Errorf("wrote % x\nwant  % x", mc.w.Bytes(), tt.want)
			}
			if c.BytesOut() != uint64(len(tt.want)) {
				t.Errorf("BytesOut = %d, want %d", c.BytesOut(), len(tt.want))
			}
		})
	}
}

func TestWriterRejectsBadInput(t *testing.T) {
	c, _ := newTestConn(nil, ConnOptions{})
	if err := c.WriteMessage(&Message{Type: 20, CSID: 1}); err == nil {
		t.Error("csid 1 accepted")
	}
	if err := c.WriteMessage(&Message{Type: 20, CSID: 65600}); err == nil {
		t.Error("csid 65600 accepted")
	}
	big := make([]byte, MaxMessageSize+1)
	if err := c.WriteMessage(&Message{Type: 9, Payload: big}); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("oversized message: %v", err)
	}
	if err := c.WriteMedia(1, []MediaMessage{{Type: 9, Payload: big}}); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("oversized media: %v", err)
	}
	for _, n := range []int{0, -1, MaxChunkSizeSpec + 1} {
		if err := c.SetChunkSize(n); err == nil {
			t.Errorf("chunk size %d accepted", n)
		}
	}
}

func TestSetChunkSizeBytes(t *testing.T) {
	c, mc := newTestConn(nil, ConnOptions{})
	if err := c.SetChunkSize(60000); err != nil {
		t.Fatal(err)
	}
	want := []byte{0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0xEA, 0x60}
	if !bytes.Equal(mc.w.Bytes(), want) {
		t.Errorf("wrote % x\nwant  % x", mc.w.Bytes(), want)
	}
	if c.OutChunkSize() != 60000 {
		t.Errorf("out chunk size %d", c.OutChunkSize())
	}
}

func TestControlSendersBytes(t *testing.T) {
	tests := []struct {
		name string
		send func(c *Conn) error
		want []byte
	}{
		{"window ack size", func(c *Conn) error { return c.SetWindowAckSize(2500000) },
			[]byte{2, 0, 0, 0, 0, 0, 4, 5, 0, 0, 0, 0, 0x00, 0x26, 0x25, 0xA0}},
		{"peer bandwidth dynamic", func(c *Conn) error { return c.SetPeerBandwidth(2500000, BandwidthDynamic) },
			[]byte{2, 0, 0, 0, 0, 0, 5, 6, 0, 0, 0, 0, 0x00, 0x26, 0x25, 0xA0, 2}},
		{"stream begin 1", func(c *Conn) error { return c.SendStreamBegin(1) },
			[]byte{2, 0, 0, 0, 0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
		{"stream eof 1", func(c *Conn) error { return c.SendStreamEOF(1) },
			[]byte{2, 0, 0, 0, 0, 0, 6, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}},
		{"stream dry 1", func(c *Conn) error { return c.SendStreamDry(1) },
			[]byte{2, 0, 0, 0, 0, 0, 6, 4, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1}},
		{"stream is recorded 1", func(c *Conn) error { return c.SendStreamIsRecorded(1) },
			[]byte{2, 0, 0, 0, 0, 0, 6, 4, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1}},
		{"ping request", func(c *Conn) error { return c.SendPingRequest(0x0A0B0C0D) },
			[]byte{2, 0, 0, 0, 0, 0, 6, 4, 0, 0, 0, 0, 0, 6, 0x0A, 0x0B, 0x0C, 0x0D}},
		{"set buffer length", func(c *Conn) error { return c.SendSetBufferLength(1, 1000) },
			[]byte{2, 0, 0, 0, 0, 0, 10, 4, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0x03, 0xE8}},
		{"ack", func(c *Conn) error { return c.SendAck(77) },
			[]byte{2, 0, 0, 0, 0, 0, 4, 3, 0, 0, 0, 0, 0, 0, 0, 77}},
		{"abort", func(c *Conn) error { return c.SendAbort(6) },
			[]byte{2, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 0, 0, 0, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mc := newTestConn(nil, ConnOptions{})
			if err := tt.send(c); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mc.w.Bytes(), tt.want) {
				t.Errorf("wrote % x\nwant  % x", mc.w.Bytes(), tt.want)
			}
		})
	}
}

// TestWriterReaderRoundTrip decodes our own output at many chunk sizes.
func TestWriterReaderRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cs := range []int{1, 7, 128, 4096, 60000, 65536, 1 << 20} {
		t.Run(fmt.Sprint(cs), func(t *testing.T) {
			w, mc := newTestConn(nil, ConnOptions{})
			if err := w.SetChunkSize(cs); err != nil {
				t.Fatal(err)
			}
			var want []Message
			for i := 0; i < 40; i++ {
				n := rng.IntN(5000) + 1
				if i%10 == 0 && cs >= 128 { // big messages, except at tiny chunk sizes
					n = rng.IntN(200000) + 1
				}
				ts := rng.Uint32N(1 << 20)
				if i%3 == 0 {
					ts = 0xFFFFF0 + uint32(i) // around the extended boundary
				}
				m := Message{Type: []uint8{8, 9, 18, 20}[i%4], Timestamp: ts, StreamID: uint32(i % 3), Payload: pattern(n, byte(i))}
				want = append(want, m)
				if i%2 == 0 {
					if err := w.WriteMessage(&m); err != nil {
						t.Fatal(err)
					}
				} else if err := w.WriteMedia(m.StreamID, []MediaMessage{{m.Type, m.Timestamp, m.Payload}}); err != nil {
					t.Fatal(err)
				}
			}
			got, err := readAll(t, mc.w.Bytes(), ConnOptions{})
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			got = got[1:] // Set Chunk Size
			if len(got) != len(want) {
				t.Fatalf("%d messages, want %d", len(got), len(want))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.Type != w.Type || g.Timestamp != w.Timestamp || g.StreamID != w.StreamID || !bytes.Equal(g.Payload, w.Payload) {
					t.Fatalf("message %d: got %v, want %v", i, g, &w)
				}
			}
		})
	}
}

func TestWriteMediaLeavesPayloadsAlone(t *testing.T) {
	video := pattern(4096, 1)
	audio := pattern(200, 2)
	vcopy, acopy := bytes.Clone(video), bytes.Clone(audio)
	c, mc := newTestConn(nil, ConnOptions{})
	batch := []MediaMessage{{TypeVideo, 40, video}, {TypeAudio, 41, audio}, {TypeDataAMF0, 0, audio}}
	if err := c.WriteMedia(1, batch); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(video, vcopy) || !bytes.Equal(audio, acopy) {
		t.Fatal("payload modified")
	}
	got, err := readAll(t, mc.w.Bytes(), ConnOptions{})
	if !errors.Is(err, io.EOF) || len(got) != 3 {
		t.Fatalf("%d messages, %v", len(got), err)
	}
	for i, wantCSID := range []uint32{CSIDVideo, CSIDAudio, CSIDData} {
		if got[i].CSID != wantCSID || got[i].StreamID != 1 {
			t.Errorf("message %d on csid %d sid %d", i, got[i].CSID, got[i].StreamID)
		}
	}
	for i, b := range c.bufs[:cap(c.bufs)] {
		if b != nil {
			t.Fatalf("iovec %d still references a payload after the write", i)
		}
	}
}

// TestConcurrentWriters checks that WriteMedia and WriteMessage from several
// goroutines never interleave inside a message.
func TestConcurrentWriters(t *testing.T) {
	defer checkGoroutines(t)()
	client, server := tcpPair(t)
	defer client.Close()
	defer server.Close()
	w := NewConn(server, ConnOptions{})
	r := NewConn(client, ConnOptions{})
	if err := w.SetChunkSize(1000); err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 4, 50
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				p := pattern(3000+g, byte(g))
				var err error
				if g%2 == 0 {
					err = w.WriteMedia(1, []MediaMessage{{TypeVideo, uint32(i), p}, {TypeAudio, uint32(i), p[:100]}})
				} else {
					err = w.WriteMessage(&Message{Type: TypeDataAMF0, CSID: uint32(10 + g), Timestamp: uint32(i), Payload: p})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	want := writers / 2 * perWriter * 3 // media writers send 2, message writers 1
	for n := 0; n < want; {
		m, err := r.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == TypeSetChunkSize {
			continue
		}
		n++
		g := int(m.Payload[0]) // pattern seed = writer id
		if !bytes.Equal(m.Payload, pattern(3000+g, byte(g))[:len(m.Payload)]) {
			t.Fatalf("corrupt message %v", m)
		}
	}
	wg.Wait()
}

func benchmarkWriteMedia(b *testing.B, chunkSize int, w io.ReadWriteCloser) {
	c := NewConn(w, ConnOptions{})
	c.outChunkSize = chunkSize
	video := pattern(4096, 1)
	audio := pattern(200, 2)
	batch := make([]MediaMessage, 8)
	for i := range batch {
		if i%2 == 0 {
			batch[i] = MediaMessage{TypeVideo, uint32(i * 40), video}
		} else {
			batch[i] = MediaMessage{TypeAudio, uint32(i * 23), audio}
		}
	}
	b.SetBytes(int64(4*len(video) + 4*len(audio)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range batch {
			batch[j].Timestamp += 40
		}
		if err := c.WriteMedia(1, batch); err != nil {
			b.Fatal(err)
		}
	}
}

type discardConn struct{}

func (discardConn) Read([]byte) (int, error)    { return 0, io.EOF }
func (discardConn) Write(p []byte) (int, error) { return len(p), nil }
func (discardConn) Close() error                { return nil }

// BenchmarkWriteMedia writes batches of 8 messages (4 KB video, 200 B audio).
// The tcp variants go through writev on a loopback socket.
func BenchmarkWriteMedia(b *testing.B) {
	for _, cs := range []int{60000, 128} {
		b.Run(fmt.Sprintf("discard/chunk%d", cs), func(b *testing.B) {
			benchmarkWriteMedia(b, cs, discardConn{})
		})
		b.Run(fmt.Sprintf("tcp/chunk%d", cs), func(b *testing.B) {
			client, server := tcpPair(b)
			defer client.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = io.Copy(io.Discard, client)
			}()
			benchmarkWriteMedia(b, cs, server.(*net.TCPConn))
			server.Close()
			<-done
		})
	}
}

func TestWriteMediaAllocatesNothing(t *testing.T) {
	video, audio := pattern(4096, 1), pattern(200, 2)
	batch := make([]MediaMessage, 8)
	for i := range batch {
		batch[i] = MediaMessage{TypeVideo, uint32(i), video}
		if i%2 == 1 {
			batch[i] = MediaMessage{TypeAudio, 0x1000000 + uint32(i), audio}
		}
	}
	for _, cs := range []int{60000, 128} {
		c := NewConn(discardConn{}, ConnOptions{})
		c.outChunkSize = cs
		if err := c.WriteMedia(1, batch); err != nil { // warm up the scratch buffers
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(50, func() {
			if err := c.WriteMedia(1, batch); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("chunk size %d: %v allocs per batch", cs, allocs)
		}
	}
}
