package rtmp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// Chunk headers built by hand, so the reader is checked against the spec and
// not against our writer.

func fmt0(csid byte, ts uint32, length int, typ byte, sid uint32) []byte {
	b := []byte{csid, byte(ts >> 16), byte(ts >> 8), byte(ts), byte(length >> 16), byte(length >> 8), byte(length), typ}
	return binary.LittleEndian.AppendUint32(b, sid)
}

func fmt1(csid byte, delta uint32, length int, typ byte) []byte {
	return []byte{0x40 | csid, byte(delta >> 16), byte(delta >> 8), byte(delta), byte(length >> 16), byte(length >> 8), byte(length), typ}
}

func fmt2(csid byte, delta uint32) []byte {
	return []byte{0x80 | csid, byte(delta >> 16), byte(delta >> 8), byte(delta)}
}

func fmt3(csid byte) []byte { return []byte{0xC0 | csid} }

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// readAll reads messages until an error and returns them with the error.
func readAll(t *testing.T, in []byte, opt ConnOptions) ([]*Message, error) {
	t.Helper()
	c, _ := newTestConn(in, opt)
	var out []*Message
	for {
		m, err := c.ReadMessage()
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

type wantMsg struct {
	typ     uint8
	ts      uint32
	sid     uint32
	csid    uint32
	payload []byte
}

func TestChunkReader(t *testing.T) {
	p300 := pattern(300, 1)
	p200 := pattern(200, 2)
	p70k := pattern(70000, 3)
	tests := []struct {
		name string
		in   []byte
		want []wantMsg
	}{
		{
			name: "fmt0 single chunk",
			in:   cat(fmt0(3, 100, 5, 20, 1), []byte("hello")),
			want: []wantMsg{{20, 100, 1, 3, []byte("hello")}},
		},
		{
			name: "2-byte csid 64 and 319",
			in: cat([]byte{0x00, 0x00}, fmt0(0, 1, 1, 8, 1)[1:], []byte{0xAA},
				[]byte{0x00, 0xFF}, fmt0(0, 2, 1, 8, 1)[1:], []byte{0xBB}),
			want: []wantMsg{{8, 1, 1, 64, []byte{0xAA}}, {8, 2, 1, 319, []byte{0xBB}}},
		},
		{
			name: "3-byte csid 320 and 65599",
			in: cat([]byte{0x01, 0x00, 0x01}, fmt0(0, 1, 1, 9, 1)[1:], []byte{1},
				[]byte{0x01, 0xFF, 0xFF}, fmt0(0, 2, 1, 9, 1)[1:], []byte{2}),
			want: []wantMsg{{9, 1, 1, 320, []byte{1}}, {9, 2, 1, 65599, []byte{2}}},
		},
		{
			name: "3-byte form of a small csid",
			in:   cat([]byte{0x01, 0x00, 0x00}, fmt0(0, 7, 1, 9, 1)[1:], []byte{7}),
			want: []wantMsg{{9, 7, 1, 64, []byte{7}}},
		},
		{
			name: "message split over chunks of 128",
			in:   cat(fmt0(6, 40, 300, 9, 1), p300[:128], fmt3(6), p300[128:256], fmt3(6), p300[256:]),
			want: []wantMsg{{9, 40, 1, 6, p300}},
		},
		{
			name: "fmt1, fmt2, fmt3 deltas",
			in: cat(fmt0(4, 1000, 2, 8, 1), []byte{1, 2},
				fmt1(4, 20, 3, 9), []byte{3, 4, 5},
				fmt2(4, 30), []byte{6, 7, 8},
				fmt3(4), []byte{9, 10, 11}),
			want: []wantMsg{
				{8, 1000, 1, 4, []byte{1, 2}},
				{9, 1020, 1, 4, []byte{3, 4, 5}},
				{9, 1050, 1, 4, []byte{6, 7, 8}},
				{9, 1080, 1, 4, []byte{9, 10, 11}},
			},
		},
		{
			name: "fmt3 after fmt0 adds the fmt0 timestamp (spec example 6.2.1)",
			in:   cat(fmt0(4, 40, 1, 8, 1), []byte{1}, fmt3(4), []byte{2}),
			want: []wantMsg{{8, 40, 1, 4, []byte{1}}, {8, 80, 1, 4, []byte{2}}},
		},
		{
			name: "fresh chunk stream opened with fmt1 (librtmp ping)",
			in:   cat(fmt1(2, 0, 6, 4), []byte{0, 7, 0, 0, 0, 9}),
			want: []wantMsg{{4, 0, 0, 2, []byte{0, 7, 0, 0, 0, 9}}},
		},
		{
			name: "extended timestamp repeated in fmt3 chunks (FMLE, Flash, SRS)",
			in: cat(fmt0(6, 0xFFFFFF, 200, 9, 1), u32(0x01000000), p200[:128],
				fmt3(6), u32(0x01000000), p200[128:]),
			want: []wantMsg{{9, 0x01000000, 1, 6, p200}},
		},
		{
			name: "extended timestamp not repeated in fmt3 chunks (old ffmpeg)",
			in: cat(fmt0(6, 0xFFFFFF, 200, 9, 1), u32(0x01000000), p200[:128],
				fmt3(6), p200[128:]),
			want: []wantMsg{{9, 0x01000000, 1, 6, p200}},
		},
		{
			name: "continuation shorter than 4 bytes without repeat",
			in: cat(fmt0(6, 0xFFFFFF, 130, 9, 1), u32(0x01000000), p200[:128],
				fmt3(6), p200[128:130]),
			want: []wantMsg{{9, 0x01000000, 1, 6, p200[:130]}},
		},
		{
			name: "timestamps crossing 0xFFFFFF with deltas",
			in: cat(fmt0(4, 0xFFFFFE, 1, 8, 1), []byte{1},
				fmt2(4, 5), []byte{2},
				fmt0(4, 0xFFFFFF, 1, 8, 1), u32(0x01000010), []byte{3},
				fmt2(4, 0x10), []byte{4}),
			want: []wantMsg{
				{8, 0xFFFFFE, 1, 4, []byte{1}},
				{8, 0x01000003, 1, 4, []byte{2}},
				{8, 0x01000010, 1, 4, []byte{3}},
				{8, 0x01000020, 1, 4, []byte{4}},
			},
		},
		{
			name: "extended delta in fmt1 then fmt3 new message repeats it",
			in: cat(fmt0(4, 10, 1, 8, 1), []byte{1},
				fmt1(4, 0xFFFFFF, 1, 8), u32(0x01000000), []byte{2},
				fmt3(4), u32(0x01000000), []byte{3}),
			want: []wantMsg{
				{8, 10, 1, 4, []byte{1}},
				{8, 0x0100000A, 1, 4, []byte{2}},
				{8, 0x0200000A, 1, 4, []byte{3}},
			},
		},
		{
			name: "fmt3 new message after extended fmt0 repeats the absolute time",
			in: cat(fmt0(4, 0xFFFFFF, 1, 8, 1), u32(0x01000000), []byte{1},
				fmt3(4), u32(0x01000000), []byte{2}),
			want: []wantMsg{{8, 0x01000000, 1, 4, []byte{1}}, {8, 0x01000000, 1, 4, []byte{2}}},
		},
		{
			name: "timestamps masked to 31 bits",
			in:   cat(fmt0(4, 0xFFFFFF, 1, 8, 1), u32(0xFFFFFFFF), []byte{1}),
			want: []wantMsg{{8, 0x7FFFFFFF, 1, 4, []byte{1}}},
		},
		{
			name: "interleaved chunk streams",
			in: cat(fmt0(6, 100, 300, 9, 1), p300[:128],
				fmt0(7, 90, 3, 8, 1), []byte{1, 2, 3},
				fmt3(6), p300[128:256],
				fmt2(7, 23), []byte{4, 5, 6},
				fmt3(6), p300[256:]),
			want: []wantMsg{
				{8, 90, 1, 7, []byte{1, 2, 3}},
				{8, 113, 1, 7, []byte{4, 5, 6}},
				{9, 100, 1, 6, p300},
			},
		},
		{
			name: "abort drops the partial message",
			in: cat(fmt0(6, 100, 300, 9, 1), p300[:128],
				fmt0(2, 0, 4, 2, 0), u32(6),
				fmt0(6, 200, 2, 9, 1), []byte{1, 2}),
			want: []wantMsg{
				{2, 0, 0, 2, u32(6)},
				{9, 200, 1, 6, []byte{1, 2}},
			},
		},
		{
			name: "set chunk size 65536",
			in: cat(fmt0(2, 0, 4, 1, 0), u32(65536),
				fmt0(6, 0, 70000, 9, 1), p70k[:65536], fmt3(6), p70k[65536:]),
			want: []wantMsg{{1, 0, 0, 2, u32(65536)}, {9, 0, 1, 6, p70k}},
		},
		{
			name: "set chunk size 1",
			in: cat(fmt0(2, 0, 4, 1, 0), u32(1),
				fmt0(5, 0, 3, 20, 1), []byte{1}, fmt3(5), []byte{2}, fmt3(5), []byte{3}),
			want: []wantMsg{{1, 0, 0, 2, u32(1)}, {20, 0, 1, 5, []byte{1, 2, 3}}},
		},
		{
			name: "empty message is skipped",
			in:   cat(fmt0(4, 1, 0, 8, 1), fmt0(4, 2, 1, 8, 1), []byte{9}),
			want: []wantMsg{{8, 2, 1, 4, []byte{9}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.in, ConnOptions{})
			if !errors.Is(err, io.EOF) {
				t.Fatalf("ended with %v, want EOF", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d messages, want %d: %v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Type != w.typ || g.Timestamp != w.ts || g.StreamID != w.sid || g.CSID != w.csid || !bytes.Equal(g.Payload, w.payload) {
					t.Errorf("message %d = type %d ts %#x sid %d csid %d len %d, want type %d ts %#x sid %d csid %d len %d",
						i, g.Type, g.Timestamp, g.StreamID, g.CSID, len(g.Payload), w.typ, w.ts, w.sid, w.csid, len(w.payload))
				}
			}
		})
	}
}

func TestChunkReaderErrors(t *testing.T) {
	p300 := pattern(300, 1)
	many := []byte{}
	for i := 0; i < 70; i++ {
		many = append(many, fmt0(byte(2+i%60), 0, 10, 9, 1)...) // partial messages
		many = append(many, pattern(5, 0)...)
	}
	var manyIDs []byte
	for i := 0; i < 70; i++ {
		manyIDs = append(manyIDs, 0x00, byte(i)) // csid 64+i, fmt 0
		manyIDs = append(manyIDs, fmt0(0, 0, 1, 9, 1)[1:]...)
		manyIDs = append(manyIDs, 1)
	}
	tests := []struct {
		name string
		in   []byte
		opt  ConnOptions
		want error
	}{
		{"truncated basic header", []byte{0x01, 0x00}, ConnOptions{}, io.ErrUnexpectedEOF},
		{"truncated message header", fmt0(3, 0, 5, 20, 0)[:6], ConnOptions{}, io.ErrUnexpectedEOF},
		{"truncated extended timestamp", cat(fmt0(3, 0xFFFFFF, 5, 20, 0), []byte{1, 2}), ConnOptions{}, io.ErrUnexpectedEOF},
		{"truncated payload", cat(fmt0(3, 0, 5, 20, 0), []byte{1, 2}), ConnOptions{}, io.ErrUnexpectedEOF},
		{"EOF between chunks of a message", cat(fmt0(6, 0, 300, 9, 1), p300[:128]), ConnOptions{}, io.ErrUnexpectedEOF},
		{"fresh stream with fmt2", cat(fmt2(5, 1), []byte{1}), ConnOptions{}, ErrBadChunkHeader},
		{"fresh stream with fmt3", cat(fmt3(5), []byte{1}), ConnOptions{}, ErrBadChunkHeader},
		{"fmt0 inside a message", cat(fmt0(6, 0, 300, 9, 1), p300[:128], fmt0(6, 0, 300, 9, 1)), ConnOptions{}, ErrBadChunkHeader},
		{"length change inside a message", cat(fmt0(6, 0, 300, 9, 1), p300[:128], fmt1(6, 0, 301, 9)), ConnOptions{}, ErrBadChunkHeader},
		{"too many chunk streams", manyIDs, ConnOptions{MaxChunkStreams: 64}, ErrTooManyChunkStreams},
		{"message above the limit", fmt0(6, 0, 1000, 9, 1), ConnOptions{MaxMessageSize: 999}, ErrMessageTooLarge},
		{"partial bytes above the limit", many, ConnOptions{MaxPartialBytes: 100}, ErrMessageTooLarge},
		{"chunk size 0", cat(fmt0(2, 0, 4, 1, 0), u32(0)), ConnOptions{}, nil},
		{"chunk size with the top bit", cat(fmt0(2, 0, 4, 1, 0), u32(0x80000000)), ConnOptions{}, nil},
		{"short set chunk size", cat(fmt0(2, 0, 2, 1, 0), []byte{0, 1}), ConnOptions{}, nil},
		{"short ping", cat(fmt0(2, 0, 4, 4, 0), []byte{0, 6, 0, 0}), ConnOptions{}, nil},
		{"short peer bandwidth", cat(fmt0(2, 0, 4, 6, 0), u32(1)), ConnOptions{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(t, tt.in, tt.opt)
			if err == nil || errors.Is(err, io.EOF) && !errors.Is(tt.want, io.EOF) {
				t.Fatalf("err = %v, want a protocol error", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestChunkReaderCleanEOF(t *testing.T) {
	_, err := readAll(t, cat(fmt0(3, 0, 1, 20, 0), []byte{1}), ConnOptions{})
	if err == nil || !errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v, want plain EOF", err)
	}
}

func TestChunkReaderBoundsMemory(t *testing.T) {
	// A 16 MiB header followed by a few bytes must not allocate 16 MiB.
	in := cat(fmt0(6, 0, MaxMessageSize, 9, 1), pattern(100, 0))
	c, _ := newTestConn(in, ConnOptions{})
	if _, err := c.ReadMessage(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v", err)
	}
	if got := cap(c.streams[6].buf); got > smallMessage {
		t.Errorf("buffer of %d bytes for 100 received", got)
	}
}

func TestPingIsAnswered(t *testing.T) {
	in := cat(fmt0(2, 0, 6, 4, 0), []byte{0, 6, 0x01, 0x02, 0x03, 0x04})
	c, mc := newTestConn(in, ConnOptions{})
	m, err := c.ReadMessage()
	if err != nil || m.Type != TypeUserControl {
		t.Fatalf("ReadMessage = %v, %v", m, err)
	}
	want := []byte{0x02, 0, 0, 0, 0, 0, 6, 0x04, 0, 0, 0, 0, 0, 7, 0x01, 0x02, 0x03, 0x04}
	if !bytes.Equal(mc.w.Bytes(), want) {
		t.Errorf("wrote % x\nwant  % x", mc.w.Bytes(), want)
	}
}

func TestControlStateIsRecorded(t *testing.T) {
	in := cat(
		fmt0(2, 0, 4, 3, 0), u32(12345), // ack
		fmt0(2, 0, 5, 6, 0), u32(5000000), []byte{2}, // peer bandwidth
		fmt0(2, 0, 10, 4, 0), []byte{0, 3, 0, 0, 0, 1, 0, 0, 0x0B, 0xB8}, // set buffer length 3000
		fmt0(2, 0, 4, 1, 0), u32(4096),
	)
	c, _ := newTestConn(in, ConnOptions{})
	if _, err := readAllFrom(c); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if c.PeerAck() != 12345 || c.PeerBandwidth() != 5000000 || c.PeerBufferLength() != 3000 || c.InChunkSize() != 4096 {
		t.Errorf("ack %d bw %d buflen %d chunk %d", c.PeerAck(), c.PeerBandwidth(), c.PeerBufferLength(), c.InChunkSize())
	}
}

func readAllFrom(c *Conn) ([]*Message, error) {
	var out []*Message
	for {
		m, err := c.ReadMessage()
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

func TestAcknowledgementsFollowTheWindow(t *testing.T) {
	// Window 1000: an ack goes out once 500 bytes arrived since the last.
	in := fmt0(2, 0, 4, 5, 0)
	in = append(in, u32(1000)...)
	for i := 0; i < 10; i++ {
		in = append(in, fmt0(4, uint32(i), 100, 8, 1)...)
		in = append(in, pattern(100, byte(i))...)
	}
	c, mc := newTestConn(in, ConnOptions{ReadBufferSize: 16})
	if _, err := readAllFrom(c); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	out, err := readAll(t, mc.w.Bytes(), ConnOptions{})
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	total := uint32(len(in))
	var last uint32
	for _, m := range out {
		if m.Type != TypeAck {
			t.Fatalf("unexpected message %v", m)
		}
		seq := binary.BigEndian.Uint32(m.Payload)
		if seq <= last || seq > total || seq-last < 500 {
			t.Errorf("ack %d after %d (total %d)", seq, last, total)
		}
		last = seq
	}
	if len(out) < 2 {
		t.Errorf("%d acks for %d bytes with a 1000-byte window", len(out), total)
	}
}

func FuzzChunkReader(f *testing.F) {
	p300 := pattern(300, 1)
	f.Add(cat(fmt0(3, 100, 5, 20, 1), []byte("hello")))
	f.Add(cat(fmt0(6, 40, 300, 9, 1), p300[:128], fmt3(6), p300[128:256], fmt3(6), p300[256:]))
	f.Add(cat(fmt0(6, 0xFFFFFF, 200, 9, 1), u32(0x01000000), p300[:128], fmt3(6), u32(0x01000000), p300[128:200]))
	f.Add(cat(fmt0(2, 0, 4, 1, 0), u32(1), fmt0(5, 0, 3, 20, 1), []byte{1}, fmt3(5), []byte{2}, fmt3(5), []byte{3}))
	f.Add(cat(fmt0(2, 0, 6, 4, 0), []byte{0, 6, 1, 2, 3, 4}, fmt0(2, 0, 4, 5, 0), u32(10)))
	f.Add(cat([]byte{0x01, 0xFF, 0xFF}, fmt0(0, 2, 1, 9, 1)[1:], []byte{2}, fmt1(4, 3, 1, 8), []byte{1}))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, _ := newTestConn(in, ConnOptions{MaxPartialBytes: 1 << 20, MaxMessageSize: 1 << 20})
		for i := 0; ; i++ {
			m, err := c.ReadMessage()
			if err != nil {
				return
			}
			if len(m.Payload) == 0 || m.Timestamp > timestampMask {
				t.Fatalf("bad message %v", m)
			}
			if i > len(in) {
				t.Fatal("more messages than input bytes")
			}
		}
	})
}
