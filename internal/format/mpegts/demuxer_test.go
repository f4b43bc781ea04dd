package mpegts

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// demuxAll reads every frame of b; it fails the test on an error other than EOF.
func demuxAll(t testing.TB, b []byte) []Frame {
	t.Helper()
	frames, err := readAllFrames(NewDemuxer(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

func readAllFrames(d *Demuxer) ([]Frame, error) {
	var frames []Frame
	for {
		f, err := d.ReadFrame()
		if err == io.EOF {
			return frames, nil
		}
		if err != nil {
			return frames, err
		}
		frames = append(frames, f)
	}
}

// testStream muxes n video and n audio frames with tables before each keyframe.
func testStream(t testing.TB, n int) ([]byte, []Frame) {
	t.Helper()
	m := newTestMuxer(t, nil)
	var b []byte
	var frames []Frame
	for i := 0; i < n; i++ {
		key := i%10 == 0
		if key {
			b = m.AppendTables(b)
		}
		v := Frame{PID: DefaultVideoPID, StreamType: StreamTypeH264, PTS: int64(i)*3600 + 7200, DTS: int64(i) * 3600, HasDTS: true,
			RandomAccess: key, Data: pattern(300+i*97%5000, byte(i))}
		a := Frame{PID: DefaultAudioPID, StreamType: StreamTypeAAC, PTS: int64(i) * 1920, DTS: int64(i) * 1920, Data: pattern(200+i%50, byte(i+1))}
		for _, f := range []*Frame{&v, &a} {
			var err error
			if b, err = m.AppendFrame(b, f); err != nil {
				t.Fatal(err)
			}
			frames = append(frames, *f)
		}
	}
	return b, frames
}

func sameFrame(a, b Frame) bool {
	return a.PID == b.PID && a.StreamType == b.StreamType && a.PTS == b.PTS && a.DTS == b.DTS &&
		a.HasDTS == b.HasDTS && a.RandomAccess == b.RandomAccess && bytes.Equal(a.Data, b.Data)
}

func TestRoundTrip(t *testing.T) {
	b, want := testStream(t, 50)
	for name, r := range map[string]io.Reader{
		"whole":      bytes.NewReader(b),
		"byte reads": iotest.OneByteReader(bytes.NewReader(b)),
		"half reads": iotest.HalfReader(bytes.NewReader(b)),
	} {
		d := NewDemuxer(r)
		got, err := readAllFrames(d)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d frames, want %d", name, len(got), len(want))
		}
		for i := range want {
			if !sameFrame(got[i], want[i]) {
				t.Fatalf("%s: frame %d\n got %+v\nwant %+v", name, i, got[i], want[i])
			}
		}
		st := d.Stats()
		if st.Packets != uint64(len(b)/PacketSize) || st.Frames != uint64(len(want)) || st.ContinuityErrors+st.SkippedBytes+st.DroppedPES+st.PSIErrors != 0 {
			t.Fatalf("%s: stats %+v", name, st)
		}
		progs := d.Programs()
		if len(progs) != 1 || progs[0].Number != 1 || progs[0].PMTPID != DefaultPMTPID || progs[0].PCRPID != DefaultVideoPID ||
			len(progs[0].Streams) != 2 || progs[0].Streams[1].Type != StreamTypeAAC {
			t.Fatalf("%s: programs %+v", name, progs)
		}
	}
}

func TestDemuxerResyncAfterGarbage(t *testing.T) {
	b, want := testStream(t, 20)
	// Garbage up front (with stray sync bytes), and mid-stream after the
	// first 30 packets.
	garbage := []byte{0x47, 1, 2, 3, 0x47, 5, 6}
	in := append(append([]byte{}, garbage...), b[:30*PacketSize]...)
	in = append(in, garbage[1:]...)
	in = append(in, b[30*PacketSize:]...)
	d := NewDemuxer(bytes.NewReader(in))
	got, err := readAllFrames(d)
	if err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	if st.SkippedBytes != uint64(2*len(garbage)-1) || st.SyncLosses != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
}

func TestDemuxerContinuityError(t *testing.T) {
	b, want := testStream(t, 20)
	pkts := len(b) / PacketSize
	// Drop the fourth packet of the first big video frame (frame 4 is 688
	// bytes: 4 packets).
	var out []byte
	dropped := -1
	videoPackets := 0
	for i := 0; i < pkts; i++ {
		pkt := b[i*PacketSize : (i+1)*PacketSize]
		if pidOf(pkt) == DefaultVideoPID {
			videoPackets++
			if videoPackets == 12 {
				dropped = i
				continue
			}
		}
		out = append(out, pkt...)
	}
	var warnings []error
	d := NewDemuxer(bytes.NewReader(out))
	d.Warn = func(err error) { warnings = append(warnings, err) }
	got, err := readAllFrames(d)
	if err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	if dropped < 0 || st.ContinuityErrors != 1 || st.DroppedPES != 1 || len(got) != len(want)-1 || len(warnings) != 2 {
		t.Fatalf("dropped packet %d: stats %+v, %d frames of %d, warnings %v", dropped, st, len(got), len(want), warnings)
	}
	for _, f := range got {
		found := false
		for _, w := range want {
			found = found || sameFrame(f, w)
		}
		if !found {
			t.Fatalf("demuxed a frame that was not muxed: PID %x PTS %d len %d", f.PID, f.PTS, len(f.Data))
		}
	}

	// A duplicated packet is not an error.
	dup := append(append(append([]byte{}, b[:3*PacketSize]...), b[2*PacketSize:3*PacketSize]...), b[3*PacketSize:]...)
	d = NewDemuxer(bytes.NewReader(dup))
	if got, err := readAllFrames(d); err != nil || len(got) != len(want) || d.Stats().ContinuityErrors != 0 {
		t.Fatalf("duplicate: %d frames, err %v, stats %+v", len(got), err, d.Stats())
	}
}

func TestDemuxerMaxPESSize(t *testing.T) {
	m := newTestMuxer(t, nil)
	b := m.AppendTables(nil)
	b, _ = m.AppendFrame(b, &Frame{PID: DefaultVideoPID, PTS: 0, Data: pattern(5000, 1)})
	b, _ = m.AppendFrame(b, &Frame{PID: DefaultVideoPID, PTS: 3000, Data: pattern(500, 2)})
	b, _ = m.AppendFrame(b, &Frame{PID: DefaultAudioPID, PTS: 0, Data: pattern(3000, 3)})
	d := NewDemuxer(bytes.NewReader(b))
	d.MaxPESSize = 1000
	got, err := readAllFrames(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Data) != 500 || d.Stats().DroppedPES != 2 {
		t.Fatalf("%d frames, stats %+v", len(got), d.Stats())
	}
}

func TestDemuxerTruncatedStream(t *testing.T) {
	b, want := testStream(t, 5)
	// Cut inside the last audio frame (known length: dropped) and leave a
	// partial packet.
	d := NewDemuxer(bytes.NewReader(b[:len(b)-PacketSize/2]))
	got, err := readAllFrames(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want)-1 || d.Stats().DroppedPES != 1 || d.Stats().SkippedBytes != PacketSize/2 {
		t.Fatalf("%d frames, stats %+v", len(got), d.Stats())
	}
	// Video PES of unbounded length end at the end of the stream.
	m := newTestMuxer(t, nil)
	v := Frame{PID: DefaultVideoPID, PTS: 0, Data: pattern(70000, 9)}
	s := m.AppendTables(nil)
	s, _ = m.AppendFrame(s, &v)
	if got := demuxAll(t, s); len(got) != 1 || !bytes.Equal(got[0].Data, v.Data) {
		t.Fatalf("unbounded video: %d frames", len(got))
	}
}

func TestDemuxerPMTChange(t *testing.T) {
	m := newTestMuxer(t, nil)
	b := m.AppendTables(nil)
	b, _ = m.AppendFrame(b, &Frame{PID: DefaultVideoPID, PTS: 0, Data: []byte{1, 2, 3}})
	if err := m.SetStreams(Stream{PID: DefaultVideoPID, Type: StreamTypeH265}); err != nil {
		t.Fatal(err)
	}
	b = m.AppendTables(b)
	b, _ = m.AppendFrame(b, &Frame{PID: DefaultVideoPID, PTS: 3000, Data: []byte{4, 5}})
	// A frame on a PID the PMT no longer lists is ignored.
	audio := newTestMuxer(t, nil)
	b, _ = audio.AppendFrame(b, &Frame{PID: DefaultAudioPID, PTS: 0, Data: []byte{6}})
	got := demuxAll(t, b)
	if len(got) != 2 || got[0].StreamType != StreamTypeH264 || got[1].StreamType != StreamTypeH265 || !bytes.Equal(got[1].Data, []byte{4, 5}) {
		t.Fatalf("frames %+v", got)
	}
}

func TestDemuxerDamagedPackets(t *testing.T) {
	b, want := testStream(t, 3)
	tables := 2 * PacketSize
	cases := []struct {
		name   string
		damage func(b []byte)
		check  func(st DemuxStats) bool
	}{
		{"transport error", func(b []byte) { b[tables+1] |= 0x80 }, func(st DemuxStats) bool { return st.TransportErrors == 1 }},
		{"scrambled", func(b []byte) { b[tables+3] |= 0x80 }, func(st DemuxStats) bool { return st.Scrambled == 1 }},
		{"reserved AFC", func(b []byte) { b[tables+3] &^= 0x30 }, func(st DemuxStats) bool { return st.TransportErrors == 1 }},
		{"AF overrun", func(b []byte) { b[tables+3] |= 0x20; b[tables+4] = 190 }, func(st DemuxStats) bool { return st.TransportErrors == 1 }},
		{"PAT CRC", func(b []byte) { b[20] ^= 0xff }, func(st DemuxStats) bool { return st.PSIErrors == 1 }},
		{"PES start code", func(b []byte) { b[tables+4+8+2] = 9 }, func(st DemuxStats) bool { return st.DroppedPES == 1 }},
		{"pointer field", func(b []byte) { b[4] = 190 }, func(st DemuxStats) bool { return st.PSIErrors == 1 }},
		{"section length", func(b []byte) { b[5+1] = 0xbf; b[5+2] = 0xff }, func(st DemuxStats) bool { return st.PSIErrors == 1 }},
	}
	for _, tc := range cases {
		in := bytes.Clone(b)
		tc.damage(in)
		d := NewDemuxer(bytes.NewReader(in))
		got, err := readAllFrames(d)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !tc.check(d.Stats()) || len(got) >= len(want)+1 {
			t.Errorf("%s: %d frames, stats %+v", tc.name, len(got), d.Stats())
		}
	}
}

type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestDemuxerReadErrors(t *testing.T) {
	b, want := testStream(t, 3)
	boom := errors.New("connection reset")
	d := NewDemuxer(&errReader{data: b, err: boom})
	got, err := readAllFrames(d)
	if !errors.Is(err, boom) || len(got) != len(want) {
		t.Fatalf("%d frames, err %v", len(got), err)
	}
	if _, err := d.ReadFrame(); !errors.Is(err, boom) {
		t.Fatalf("error not sticky: %v", err)
	}
	// A reader that never makes progress is an error, not a hang.
	d = NewDemuxer(&errReader{data: nil, err: nil})
	if _, err := d.ReadFrame(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("stuck reader: %v", err)
	}
	// Only garbage: EOF, every byte counted as skipped.
	d = NewDemuxer(bytes.NewReader(pattern(1000, 0x50)))
	if _, err := d.ReadFrame(); err != io.EOF || d.Stats().SkippedBytes != 1000 {
		t.Fatalf("garbage: %v, stats %+v", err, d.Stats())
	}
}

func TestDemuxerSectionsAndLongPMT(t *testing.T) {
	// A PMT too long for one packet, a stream that carries sections
	// (SCTE-35), and PES on it that must be ignored.
	long := bytes.Repeat([]byte{0x05, 0x04, 'T', 'E', 'S', 'T'}, 25)
	streams := []Stream{
		{PID: 0x100, Type: StreamTypeH264, Descriptors: long},
		{PID: 0x101, Type: StreamTypeAAC, Descriptors: long},
		{PID: 0x102, Type: 0x86},
	}
	m := newTestMuxer(t, nil, streams...)
	b := m.AppendTables(nil)
	if len(b) != 3*PacketSize {
		t.Fatalf("tables take %d bytes, want a PAT and a two-packet PMT", len(b))
	}
	b, _ = m.AppendFrame(b, &Frame{PID: 0x102, PTS: 0, Data: []byte{1}})
	b, _ = m.AppendFrame(b, &Frame{PID: 0x101, PTS: 0, Data: []byte{2}})
	d := NewDemuxer(bytes.NewReader(b))
	frames, err := readAllFrames(d)
	if err != nil {
		t.Fatal(err)
	}
	progs := d.Programs()
	if len(frames) != 1 || frames[0].PID != 0x101 || len(progs) != 1 || len(progs[0].Streams) != 3 ||
		!bytes.Equal(progs[0].Streams[1].Descriptors, long) || d.Stats().PSIErrors+d.Stats().DroppedPES != 0 {
		t.Fatalf("frames %+v programs %+v stats %+v", frames, progs, d.Stats())
	}
}
