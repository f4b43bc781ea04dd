package rtmp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// readAllInto reads messages with ReadMessageInto, copying each payload
// before the next read as its contract asks.
func readAllInto(t *testing.T, in []byte, opt ConnOptions) ([]*Message, error) {
	t.Helper()
	c, _ := newTestConn(in, opt)
	var out []*Message
	var m Message
	for {
		if err := c.ReadMessageInto(&m); err != nil {
			return out, err
		}
		cp := m
		cp.Payload = bytes.Clone(m.Payload)
		out = append(out, &cp)
	}
}

func TestReadMessageIntoMatchesReadMessage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	w, mc := newTestConn(nil, ConnOptions{})
	if err := w.SetChunkSize(1000); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		// Sizes go up and down so reused buffers both grow and shrink.
		n := rng.IntN(3000) + 1
		if i%7 == 0 {
			n = rng.IntN(150000) + 1
		}
		m := Message{Type: []uint8{8, 9, 18}[i%3], Timestamp: uint32(i * 40), StreamID: 1, Payload: pattern(n, byte(i))}
		if err := w.WriteMessage(&m); err != nil {
			t.Fatal(err)
		}
	}
	want, werr := readAll(t, mc.w.Bytes(), ConnOptions{})
	got, gerr := readAllInto(t, mc.w.Bytes(), ConnOptions{})
	if !errors.Is(werr, io.EOF) || !errors.Is(gerr, io.EOF) {
		t.Fatalf("errors: ReadMessage %v, ReadMessageInto %v", werr, gerr)
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Type != w.Type || g.Timestamp != w.Timestamp || g.StreamID != w.StreamID || g.CSID != w.CSID || !bytes.Equal(g.Payload, w.Payload) {
			t.Fatalf("message %d: got %v, want %v", i, g, w)
		}
	}
}

// Chunks of audio and video interleave: a reused video buffer must not be
// touched while an audio message completes, and the reverse.
func TestReadMessageIntoInterleavedChunkStreams(t *testing.T) {
	v1, v2 := pattern(200, 1), pattern(200, 2)
	a1, a2 := pattern(150, 3), pattern(150, 4)
	in := cat(
		fmt0(6, 0, 200, 9, 1), v1[:128],
		fmt0(7, 0, 150, 8, 1), a1[:128],
		fmt3(6), v1[128:], // video 1 complete
		fmt3(7), a1[128:], // audio 1 complete
		fmt2(6, 40), v2[:128],
		fmt2(7, 23), a2[:128],
		fmt3(6), v2[128:],
		fmt3(7), a2[128:],
	)
	got, err := readAllInto(t, in, ConnOptions{})
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	want := []wantMsg{
		{9, 0, 1, 6, v1}, {8, 0, 1, 7, a1}, {9, 40, 1, 6, v2}, {8, 23, 1, 7, a2},
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Type != w.typ || g.Timestamp != w.ts || g.StreamID != w.sid || g.CSID != w.csid || !bytes.Equal(g.Payload, w.payload) {
			t.Errorf("message %d: got %v", i, g)
		}
	}
}

// A payload returned by ReadMessage stays the caller's even when reads with
// ReadMessageInto come before and after it on the same chunk stream.
func TestReadMessageKeepsOwnershipAmongReadMessageInto(t *testing.T) {
	p := []([]byte){pattern(300, 1), pattern(300, 2), pattern(300, 3), pattern(300, 4)}
	var in []byte
	for i, b := range p {
		in = append(in, cat(fmt0(6, uint32(i), len(b), 9, 1), b[:128], fmt3(6), b[128:256], fmt3(6), b[256:])...)
	}
	c, _ := newTestConn(in, ConnOptions{})
	var m Message
	if err := c.ReadMessageInto(&m); err != nil {
		t.Fatal(err)
	}
	owned, err := c.ReadMessage() // may take over the spare buffer of message 0
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i < 4; i++ {
		if err := c.ReadMessageInto(&m); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Payload, p[i]) {
			t.Errorf("message %d corrupted", i)
		}
	}
	if !bytes.Equal(owned.Payload, p[1]) {
		t.Error("the payload ReadMessage returned was overwritten by a later ReadMessageInto")
	}
}

func TestReadMessageIntoAllocatesNothing(t *testing.T) {
	w, mc := newTestConn(nil, ConnOptions{})
	if err := w.SetChunkSize(4096); err != nil {
		t.Fatal(err)
	}
	const rounds = 200
	video, audio := pattern(20000, 1), pattern(300, 2)
	for i := range rounds {
		if err := w.WriteMedia(1, []MediaMessage{{TypeVideo, uint32(i * 40), video}, {TypeAudio, uint32(i * 40), audio}}); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := newTestConn(mc.w.Bytes(), ConnOptions{})
	var m Message
	for range 3 { // Set Chunk Size, then warm up both chunk streams
		if err := c.ReadMessageInto(&m); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(rounds-10, func() {
		if err := c.ReadMessageInto(&m); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per message", allocs)
	}
}

func BenchmarkReadMessageInto(b *testing.B) {
	for _, into := range []bool{false, true} {
		b.Run(fmt.Sprintf("into=%v", into), func(b *testing.B) {
			w, mc := newTestConn(nil, ConnOptions{})
			if err := w.SetChunkSize(60000); err != nil {
				b.Fatal(err)
			}
			video := pattern(5000, 1)
			for i := range 1000 {
				if err := w.WriteMedia(1, []MediaMessage{{TypeVideo, uint32(i), video}}); err != nil {
					b.Fatal(err)
				}
			}
			in := mc.w.Bytes()
			b.SetBytes(int64(len(video)))
			b.ReportAllocs()
			var m Message
			c, _ := newTestConn(in, ConnOptions{})
			for b.Loop() {
				var err error
				if into {
					err = c.ReadMessageInto(&m)
				} else {
					_, err = c.ReadMessage()
				}
				if errors.Is(err, io.EOF) {
					c, _ = newTestConn(in, ConnOptions{})
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A player that reads with ReadMessageInto gets the same messages as with
// ReadMessage: media, aggregates split, and no control messages.
func TestClientReadMessageInto(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	tag := func(typ byte, ts uint32, body []byte) []byte {
		h := []byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body)), byte(ts >> 16), byte(ts >> 8), byte(ts), byte(ts >> 24), 0, 0, 0}
		return cat(h, body, u32(uint32(11+len(body))))
	}
	video, audio := pattern(70000, 5), pattern(300, 6)
	agg := cat(tag(9, 10, []byte{0x17, 1, 0, 0, 0, 9}), tag(8, 30, []byte{0xAF, 1, 7}))
	addr := startServer(t, "tcp", "127.0.0.1:0", func(t *testing.T, s *ServerConn) error {
		if _, err := serverSetup(s); err != nil {
			return err
		}
		if _, err := s.Identify(); err != nil {
			return err
		}
		if err := s.StartPlay(); err != nil {
			return err
		}
		if err := s.WriteMedia([]MediaMessage{{TypeVideo, 40, video}, {TypeAudio, 41, audio}}); err != nil {
			return err
		}
		if err := s.Conn().WriteMessage(&Message{Type: TypeAggregate, Timestamp: 100, StreamID: 1, Payload: agg}); err != nil {
			return err
		}
		if err := s.Conn().SendPingRequest(7); err != nil {
			return err
		}
		return s.WriteMedia([]MediaMessage{{TypeVideo, 80, video[:1000]}})
	})
	c, err := Dial(testCtx(t), "rtmp://"+addr+"/live", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Play(testCtx(t), "cam"); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typ     uint8
		ts      uint32
		payload []byte
	}{
		{TypeDataAMF0, 0, nil}, // |RtmpSampleAccess
		{TypeVideo, 40, video},
		{TypeAudio, 41, audio},
		{TypeVideo, 100, []byte{0x17, 1, 0, 0, 0, 9}},
		{TypeAudio, 120, []byte{0xAF, 1, 7}},
		{TypeVideo, 80, video[:1000]},
	}
	var m Message
	for i, w := range want {
		if err := c.ReadMessageInto(&m); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.Type != w.typ || (w.payload != nil && (m.Timestamp != w.ts || !bytes.Equal(m.Payload, w.payload))) {
			t.Errorf("message %d: got %v, want type %d ts %d len %d", i, &m, w.typ, w.ts, len(w.payload))
		}
	}
}

// FuzzReadMessageInto checks that both read paths see the same messages and
// the same error on any input.
func FuzzReadMessageInto(f *testing.F) {
	p300 := pattern(300, 1)
	f.Add(cat(fmt0(6, 40, 300, 9, 1), p300[:128], fmt0(7, 0, 150, 8, 1), p300[:128], fmt3(6), p300[128:256], fmt3(7), p300[:22], fmt3(6), p300[256:]))
	f.Add(cat(fmt0(6, 0xFFFFFF, 200, 9, 1), u32(0x01000000), p300[:128], fmt3(6), u32(0x01000000), p300[128:200]))
	f.Add(cat(fmt0(2, 0, 4, 1, 0), u32(1), fmt0(5, 0, 3, 20, 1), []byte{1}, fmt3(5), []byte{2}, fmt3(5), []byte{3}))
	f.Add(cat(fmt0(6, 0, 3, 9, 1), []byte{1, 2, 3}, fmt2(6, 10), []byte{4, 5, 6}, fmt0(2, 0, 4, 2, 0), u32(6)))
	f.Fuzz(func(t *testing.T, in []byte) {
		opt := ConnOptions{MaxPartialBytes: 1 << 20, MaxMessageSize: 1 << 20}
		want, werr := readAll(t, in, opt)
		got, gerr := readAllInto(t, in, opt)
		if len(got) != len(want) {
			t.Fatalf("%d messages, ReadMessage gave %d", len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Type != w.Type || g.Timestamp != w.Timestamp || g.StreamID != w.StreamID || g.CSID != w.CSID || !bytes.Equal(g.Payload, w.Payload) {
				t.Fatalf("message %d: got %v, want %v", i, g, w)
			}
		}
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("error %v, ReadMessage gave %v", gerr, werr)
		}
	})
}
