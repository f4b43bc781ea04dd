package tsscan

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// collect is a Handler that keeps copies of the frames.
type collect struct{ frames []Frame }

func (c *collect) Frame(f *Frame) {
	g := *f
	g.Head = bytes.Clone(f.Head)
	c.frames = append(c.frames, g)
}

// pattern returns n bytes that differ at every offset modulo 251.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i%251) + seed
	}
	return b
}

var testStreams = []mpegts.Stream{
	{PID: mpegts.DefaultVideoPID, Type: mpegts.StreamTypeH264},
	{PID: mpegts.DefaultAudioPID, Type: mpegts.StreamTypeAAC},
}

// segment muxes n video frames of growing size (up to twice HeadSize, so
// heads are cut) and n audio frames, tables first, as an HLS segment.
func segment(t testing.TB, m *mpegts.Muxer, first, n int) ([]byte, []mpegts.Frame) {
	t.Helper()
	b := m.AppendTables(nil)
	var frames []mpegts.Frame
	for i := first; i < first+n; i++ {
		v := mpegts.Frame{PID: mpegts.DefaultVideoPID, PTS: int64(i)*3600 + 7200, DTS: int64(i) * 3600, HasDTS: true,
			RandomAccess: i == first, Data: pattern(100+i*811%(2*HeadSize), byte(i))}
		a := mpegts.Frame{PID: mpegts.DefaultAudioPID, PTS: int64(i) * 1920, Data: pattern(200+i%50, byte(i+1))}
		for _, f := range []*mpegts.Frame{&v, &a} {
			var err error
			if b, err = m.AppendFrame(b, f); err != nil {
				t.Fatal(err)
			}
			frames = append(frames, *f)
		}
	}
	return b, frames
}

func newMuxer(t testing.TB) *mpegts.Muxer {
	m, err := mpegts.NewMuxer(nil, mpegts.MuxerConfig{Streams: testStreams})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The scanner finds what the muxer wrote, and what castd's demuxer reads,
// however the bytes arrive.
func TestScanMatchesTheMuxer(t *testing.T) {
	m := newMuxer(t)
	seg, want := segment(t, m, 0, 30)
	readers := map[string]func([]byte) io.Reader{
		"whole":       func(b []byte) io.Reader { return bytes.NewReader(b) },
		"byte a time": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"half":        func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"data and EOF together": func(b []byte) io.Reader {
			return iotest.DataErrReader(bytes.NewReader(b))
		},
	}
	for name, reader := range readers {
		var s Scanner
		var c collect
		n, err := s.Scan(reader(seg), 1<<20, &c)
		if err != nil || n != int64(len(seg)) {
			t.Fatalf("%s: %d bytes, %v", name, n, err)
		}
		if len(c.frames) != len(want) {
			t.Fatalf("%s: %d frames, want %d", name, len(c.frames), len(want))
		}
		for i, f := range c.frames {
			w := want[i]
			kind, codec := KindVideo, av.CodecH264
			if w.PID == mpegts.DefaultAudioPID {
				kind, codec = KindAudio, av.CodecAAC
			}
			wantDTS := w.PTS
			if w.HasDTS {
				wantDTS = w.DTS
			}
			if f.PID != w.PID || f.Kind != kind || f.Codec != codec || f.PTS != w.PTS || f.DTS != wantDTS || f.Size != len(w.Data) {
				t.Fatalf("%s: frame %d: %+v, want PID %x PTS %d DTS %d size %d", name, i, f, w.PID, w.PTS, wantDTS, len(w.Data))
			}
			wantHead := w.Data[:min(len(w.Data), HeadSize)]
			if kind == KindAudio {
				wantHead = nil
			}
			if !bytes.Equal(f.Head, wantHead) {
				t.Fatalf("%s: frame %d: head of %d bytes, want %d", name, i, len(f.Head), len(wantHead))
			}
		}
		if st := s.Stats(); st.Frames != uint64(len(want)) || st.Packets != uint64(len(seg)/PacketSize) ||
			st.ContinuityErrors != 0 || st.DroppedPES != 0 {
			t.Errorf("%s: stats %+v", name, st)
		}
	}
	// castd's demuxer agrees on the frames.
	d := mpegts.NewDemuxer(bytes.NewReader(seg))
	for i := 0; ; i++ {
		f, err := d.ReadFrame()
		if err == io.EOF {
			if i != len(want) {
				t.Errorf("demuxer: %d frames", i)
			}
			break
		}
		if err != nil || len(f.Data) != len(want[i].Data) {
			t.Fatalf("demuxer frame %d: %d bytes, %v", i, len(f.Data), err)
		}
	}
}

// The tables carry over from one segment to the next; a segment without
// them (a server that writes them once) still scans. Nothing is allocated
// per segment once the buffers exist.
func TestScanSegmentsInARow(t *testing.T) {
	m := newMuxer(t)
	var s Scanner
	var c collect
	seg1, want1 := segment(t, m, 0, 10)
	if _, err := s.Scan(bytes.NewReader(seg1), 1<<20, &c); err != nil || len(c.frames) != len(want1) {
		t.Fatalf("segment 1: %d frames, %v", len(c.frames), err)
	}
	seg2, want2 := segment(t, m, 10, 10)
	noTables := seg2[2*PacketSize:]
	c.frames = nil
	if _, err := s.Scan(bytes.NewReader(noTables), 1<<20, &c); err != nil || len(c.frames) != len(want2) {
		t.Fatalf("segment 2 without tables: %d frames, %v", len(c.frames), err)
	}
	var count countFrames
	r := bytes.NewReader(seg2)
	if allocs := testing.AllocsPerRun(20, func() {
		r.Reset(seg2)
		if _, err := s.Scan(r, 1<<20, &count); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("%v allocations per segment", allocs)
	}
	if count.n != 21*len(want2) {
		t.Errorf("%d frames in 21 scans of %d", count.n, len(want2))
	}
}

type countFrames struct{ n int }

func (c *countFrames) Frame(*Frame) { c.n++ }

func TestScanErrors(t *testing.T) {
	m := newMuxer(t)
	seg, want := segment(t, m, 0, 5)
	badAF := bytes.Clone(seg)
	badAF[3*PacketSize+3] = 0x30 // adaptation field and payload...
	badAF[3*PacketSize+4] = 183  // ...with no room for the payload
	tests := []struct {
		name  string
		data  []byte
		limit int64
		want  error
	}{
		{"html", []byte("<html><body>502 Bad Gateway</body></html>"), 1 << 20, ErrSync},
		{"one byte", []byte{0x47}, 1 << 20, ErrTruncated},
		{"garbage first", append([]byte{0}, seg...), 1 << 20, ErrSync},
		{"sync lost", append(bytes.Clone(seg[:4*PacketSize]), seg[4*PacketSize+1:]...), 1 << 20, ErrSync},
		{"truncated", seg[:len(seg)-100], 1 << 20, ErrTruncated},
		{"too large", seg, int64(len(seg) - 1), ErrTooLarge},
		{"adaptation field overrun", badAF, 1 << 20, ErrAdaptation},
	}
	for _, tt := range tests {
		var s Scanner
		var c collect
		_, err := s.Scan(bytes.NewReader(tt.data), tt.limit, &c)
		if !errors.Is(err, tt.want) || !IsFormatError(err) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
		// Frames whose last byte came before the error are handed over;
		// the open ones are not.
		if len(c.frames) >= len(want) {
			t.Errorf("%s: %d frames of %d before the error", tt.name, len(c.frames), len(want))
		}
	}
	readErr := errors.New("connection reset")
	var s Scanner
	_, err := s.Scan(iotest.TimeoutReader(bytes.NewReader(seg)), 1<<20, &collect{})
	if !errors.Is(err, iotest.ErrTimeout) || IsFormatError(err) {
		t.Errorf("read error: %v", err)
	}
	_, err = s.Scan(io.MultiReader(bytes.NewReader(seg[:PacketSize]), iotest.ErrReader(readErr)), 1<<20, &collect{})
	if !errors.Is(err, readErr) {
		t.Errorf("read error: %v", err)
	}
	_, err = s.Scan(emptyReader{}, 1<<20, &collect{})
	if !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("a reader that returns nothing: %v", err)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// Damage inside the stream drops frames, counted, without failing the
// segment.
func TestScanDamage(t *testing.T) {
	m := newMuxer(t)
	seg, want := segment(t, m, 0, 10)
	pkts := len(seg) / PacketSize
	// Find a packet in the middle of a video PES (no PUSI) and drop it.
	lost := -1
	for i := pkts / 2; i < pkts; i++ {
		p := seg[i*PacketSize:]
		if p[1]&0x40 == 0 && uint16(p[1]&0x1f)<<8|uint16(p[2]) == mpegts.DefaultVideoPID {
			lost = i
			break
		}
	}
	damaged := append(bytes.Clone(seg[:lost*PacketSize]), seg[(lost+1)*PacketSize:]...)
	// Flagged, scrambled and null packets are skipped.
	flagged := bytes.Clone(seg[:PacketSize])
	flagged[1] |= 0x80
	scrambled := bytes.Clone(seg[:PacketSize])
	scrambled[3] |= 0x80
	null := append([]byte{0x47, 0x1f, 0xff, 0x10}, make([]byte, PacketSize-4)...)
	damaged = append(append(append(damaged, flagged...), scrambled...), null...)
	var s Scanner
	var c collect
	if _, err := s.Scan(bytes.NewReader(damaged), 1<<20, &c); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if len(c.frames) != len(want)-1 || st.ContinuityErrors != 1 || st.DroppedPES != 1 || st.Skipped != 2 {
		t.Errorf("%d frames of %d, stats %+v", len(c.frames), len(want), st)
	}
	// A PES header that is not one drops that PES only.
	badHeader := bytes.Clone(seg)
	for i := 0; i < pkts; i++ {
		p := badHeader[i*PacketSize:]
		if p[1]&0x40 != 0 && uint16(p[1]&0x1f)<<8|uint16(p[2]) == mpegts.DefaultAudioPID {
			off := 4
			if p[3]&0x20 != 0 {
				off += 1 + int(p[4])
			}
			p[off+2] = 2 // packet_start_code_prefix 00 00 02
			break
		}
	}
	s, c = Scanner{}, collect{}
	if _, err := s.Scan(bytes.NewReader(badHeader), 1<<20, &c); err != nil || len(c.frames) != len(want)-1 || s.Stats().DroppedPES != 1 {
		t.Errorf("bad PES header: %d frames of %d, stats %+v, %v", len(c.frames), len(want), s.Stats(), err)
	}
}

// Without a PAT and PMT nothing is a frame; a PMT with more streams than
// MaxStreams keeps the first ones; H.265 and MP3 are named.
func TestScanTables(t *testing.T) {
	m := newMuxer(t)
	seg, _ := segment(t, m, 0, 3)
	var s Scanner
	var c collect
	if _, err := s.Scan(bytes.NewReader(seg[2*PacketSize:]), 1<<20, &c); err != nil || len(c.frames) != 0 {
		t.Errorf("without tables: %d frames, %v", len(c.frames), err)
	}
	var streams []mpegts.Stream
	for i := range MaxStreams + 2 {
		typ := mpegts.StreamTypeMPEG1Audio
		if i == 0 {
			typ = mpegts.StreamTypeH265
		}
		streams = append(streams, mpegts.Stream{PID: uint16(0x100 + i), Type: typ})
	}
	// A metadata stream first: not followed, and not counted.
	streams = append([]mpegts.Stream{{PID: 0x99, Type: mpegts.StreamTypeMetadata}}, streams...)
	many, err := mpegts.NewMuxer(nil, mpegts.MuxerConfig{Streams: streams})
	if err != nil {
		t.Fatal(err)
	}
	b := many.AppendTables(nil)
	for _, st := range streams {
		b, _ = many.AppendFrame(b, &mpegts.Frame{PID: st.PID, PTS: 90000, Data: pattern(300, 1)})
	}
	c = collect{}
	if _, err := s.Scan(bytes.NewReader(b), 1<<20, &c); err != nil || len(c.frames) != MaxStreams {
		t.Fatalf("%d frames, %v", len(c.frames), err)
	}
	if f := c.frames[0]; f.Codec != av.CodecH265 || f.Kind != KindVideo || f.PID != 0x100 {
		t.Errorf("first frame %+v", f)
	}
	if f := c.frames[1]; f.Codec != av.CodecMP3 || f.Kind != KindAudio || f.Head != nil || f.DTS != 90000 {
		t.Errorf("second frame %+v", f)
	}
}

// FuzzScan feeds arbitrary segments to a scanner that has read a good one:
// it must never panic, and what it hands over must fit in what it read.
// With fixSync every packet starts with the sync byte, so the fuzzer
// explores the packets rather than the framing.
func FuzzScan(f *testing.F) {
	// Small seeds keep each execution, and minimizing, fast.
	m := newMuxer(f)
	seg, _ := segment(f, m, 0, 2)
	f.Add(seg, false)
	f.Add(seg[2*PacketSize:], false)
	f.Add(seg[:len(seg)/2/PacketSize*PacketSize], true)
	damaged := bytes.Clone(seg)
	for i := 5; i < len(damaged); i += 97 {
		damaged[i] ^= 0x5a
	}
	f.Add(damaged, true)
	f.Fuzz(func(t *testing.T, data []byte, fixSync bool) {
		if fixSync {
			data = bytes.Clone(data)
			for i := 0; i < len(data); i += PacketSize {
				data[i] = mpegts.SyncByte
			}
		}
		var s Scanner
		if _, err := s.Scan(bytes.NewReader(seg), 1<<20, &countFrames{}); err != nil {
			t.Fatal(err)
		}
		before := s.Stats()
		var c sizeCheck
		n, err := s.Scan(bytes.NewReader(data), 1<<20, &c)
		if n != int64(len(data)) || (err != nil && !IsFormatError(err)) {
			t.Fatalf("%d of %d bytes, %v", n, len(data), err)
		}
		if fixSync && len(data)%PacketSize == 0 && err != nil && !errors.Is(err, ErrAdaptation) {
			t.Fatalf("whole packets: %v", err)
		}
		if c.bytes > len(data) || c.frames > len(data)/PacketSize || c.badHead {
			t.Fatalf("%d frames of %d bytes from %d bytes (bad head %v)", c.frames, c.bytes, len(data), c.badHead)
		}
		if st := s.Stats(); st.Packets-before.Packets > uint64(len(data)/PacketSize) {
			t.Fatalf("stats %+v", st)
		}
	})
}

type sizeCheck struct {
	frames, bytes int
	badHead       bool
}

func (c *sizeCheck) Frame(f *Frame) {
	c.frames++
	c.bytes += f.Size
	c.badHead = c.badHead || len(f.Head) > HeadSize || len(f.Head) > f.Size || (f.Kind == KindAudio && f.Head != nil)
}
