package mpegps

import (
	"bytes"
	"testing"
)

// FuzzDemuxer feeds arbitrary bytes whole and in two pieces: the demuxer
// must not panic, must keep its buffer bounded, and must give the same
// frames either way, since it is a streaming parser.
func FuzzDemuxer(f *testing.F) {
	data, _ := deviceStream()
	f.Add(data[:4000], 100)
	f.Add(data[len(data)-3000:], 7)
	m := NewMuxer(MuxStream{ID: 0xe0, Type: StreamTypeH265}, MuxStream{ID: 0xc0, Type: StreamTypeG711A})
	seed := m.AppendFrame(nil, Frame{StreamID: 0xe0, PTS: 1, DTS: 0, HasDTS: true, Data: annexB([]byte{0x40, 0x01}, 300, 1)}, true)
	seed = m.AppendFrame(seed, Frame{StreamID: 0xc0, PTS: 5, DTS: 5, Data: bytes.Repeat([]byte{0xd5}, 160)}, false)
	f.Add(m.AppendEnd(seed), 33)
	f.Add([]byte{0, 0, 1, 0xba, 0x21, 0, 1, 0, 1, 0x80, 0, 1, 0, 0, 1, 0xe0, 0, 8, 0xff, 0x21, 0, 1, 0, 1, 0xaa, 0xbb}, 13)
	f.Add([]byte("\x00\x00\x01\xbc\x00\x0e\xe0\xff\x00\x00\x00\x04\x1b\xe0\x00\x00\x00\x00\x00\x00"), 3)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		whole := NewDemuxer()
		a := demuxAll(whole, data, 0)
		pieces := NewDemuxer()
		if split < 0 {
			split = -split
		}
		split %= len(data) + 1
		b := pieces.Append(nil, data[:split])
		if len(pieces.buf) > maxUnitSize {
			t.Fatalf("%d bytes kept", len(pieces.buf))
		}
		b = pieces.Flush(pieces.Append(b, data[split:]))
		if len(a) != len(b) {
			t.Fatalf("%d frames whole, %d in pieces", len(a), len(b))
		}
		total := 0
		for i := range a {
			total += len(a[i].Data)
			if a[i].StreamID != b[i].StreamID || a[i].PTS != b[i].PTS || a[i].StreamType != b[i].StreamType || !bytes.Equal(a[i].Data, b[i].Data) {
				t.Fatalf("frame %d differs whole and in pieces", i)
			}
		}
		if total > len(data) {
			t.Fatalf("%d bytes of frames from %d of input", total, len(data))
		}
		if whole.Stats() != pieces.Stats() {
			t.Fatalf("stats differ: %+v whole, %+v in pieces", whole.Stats(), pieces.Stats())
		}
	})
}
