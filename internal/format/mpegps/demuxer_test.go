package mpegps

import (
	"bytes"
	"strings"
	"testing"
)

var gbStreams = []MuxStream{{ID: StreamIDVideo, Type: StreamTypeH264}, {ID: StreamIDAudio, Type: StreamTypeAAC}}

// deviceStream is what a camera sends: a keyframe bigger than one PES, P
// frames with B-frame style DTS, and AAC frames, each in its own pack.
func deviceStream() ([]byte, []Frame) {
	m := NewMuxer(gbStreams...)
	var want []Frame
	var out []byte
	for i := range 6 {
		pts := int64(90000 + i*3600)
		size := 1500
		if i%3 == 0 {
			size = 150000 // three PES packets
		}
		v := Frame{StreamID: StreamIDVideo, StreamType: StreamTypeH264, PTS: pts + 3600, DTS: pts, HasDTS: true,
			Data: annexB([]byte{0x65}, size, byte(i))}
		out = m.AppendFrame(out, v, i%3 == 0)
		a := Frame{StreamID: StreamIDAudio, StreamType: StreamTypeAAC, PTS: pts, DTS: pts, Data: adts(200 + i)}
		out = m.AppendFrame(out, a, false)
		want = append(want, v, a)
	}
	return out, want
}

// byStream orders frames as the demuxer completes them: a frame is out
// when the next one of its stream starts, so per stream order is kept.
func byStream(fs []Frame, id uint8) []Frame {
	var out []Frame
	for _, f := range fs {
		if f.StreamID == id {
			out = append(out, f)
		}
	}
	return out
}

func TestDemuxDeviceStreamInAnyChunks(t *testing.T) {
	data, want := deviceStream()
	for _, chunk := range []int{0, 1, 3, 188, 1400, 65536} {
		d := NewDemuxer()
		got := demuxAll(d, data, chunk)
		sameFrames(t, byStream(got, StreamIDVideo), byStream(want, StreamIDVideo))
		sameFrames(t, byStream(got, StreamIDAudio), byStream(want, StreamIDAudio))
		st := d.Stats()
		if st.Packs != 12 || st.PSMs != 2 || st.SystemHeaders != 2 || st.Frames != 12 || st.Resyncs != 0 || st.DroppedPES != 0 {
			t.Errorf("chunk %d: stats %+v", chunk, st)
		}
		if len(d.buf) != 0 {
			t.Errorf("chunk %d: %d bytes left unparsed", chunk, len(d.buf))
		}
	}
}

func TestFrameCompletesWhenTheNextStarts(t *testing.T) {
	m := NewMuxer(gbStreams...)
	f1 := Frame{StreamID: StreamIDVideo, PTS: 1000, DTS: 1000, Data: annexB([]byte{0x65}, 100, 1)}
	f2 := Frame{StreamID: StreamIDVideo, PTS: 4600, DTS: 4600, Data: annexB([]byte{0x41}, 100, 2)}
	d := NewDemuxer()
	if got := d.Append(nil, m.AppendFrame(nil, f1, true)); len(got) != 0 {
		t.Fatalf("a frame came out before the next started: %s", describe(got))
	}
	got := d.Append(nil, m.AppendFrame(nil, f2, false))
	if len(got) != 1 || got[0].PTS != 1000 || got[0].StreamType != StreamTypeH264 {
		t.Fatalf("got %s, want the first frame", describe(got))
	}
	got = d.Append(nil, m.AppendEnd(nil))
	if len(got) != 1 || got[0].PTS != 4600 {
		t.Fatalf("the end code gave %s, want the second frame", describe(got))
	}
}

// pesBytes builds a PES packet by hand: hdr is everything after the length.
func pesBytes(id uint8, hdr, payload []byte) []byte {
	n := len(hdr) + len(payload)
	b := append([]byte{0, 0, 1, id, byte(n >> 8), byte(n)}, hdr...)
	return append(b, payload...)
}

func TestPESHeaders(t *testing.T) {
	pts90000 := []byte{0x21, 0x00, 0x05, 0xbf, 0x21} // PTS 90000, prefix 0010
	ptsDTS := []byte{0x31, 0x00, 0x05, 0xbf, 0x21, 0x11, 0x00, 0x05, 0xa3, 0x01}
	for _, tc := range []struct {
		name         string
		hdr          []byte
		pts, dts     int64
		hasPTS, hDTS bool
		err          string
	}{
		{"mpeg2 pts", append([]byte{0x80, 0x80, 5}, pts90000...), 90000, 90000, true, false, ""},
		{"mpeg2 pts dts", append([]byte{0x80, 0xc0, 10}, ptsDTS...), 90000, 86400, true, true, ""},
		{"mpeg2 none", []byte{0x80, 0x00, 0}, 0, 0, false, false, ""},
		{"mpeg2 stuffing after pts", append(append([]byte{0x84, 0x80, 7}, pts90000...), 0xff, 0xff), 90000, 90000, true, false, ""},
		{"mpeg2 header overruns", []byte{0x80, 0x80, 20, 0x21}, 0, 0, false, false, "longer than"},
		{"mpeg2 pts without room", []byte{0x80, 0x80, 2, 0, 0}, 0, 0, false, false, "longer than"},
		{"mpeg2 forbidden flags", []byte{0x80, 0x40, 0}, 0, 0, false, false, "forbidden"},
		{"mpeg1 pts", append([]byte{0xff, 0xff}, pts90000...), 90000, 90000, true, false, ""},
		{"mpeg1 std buffer pts dts", append([]byte{0x60, 0x10}, ptsDTS...), 90000, 86400, true, true, ""},
		{"mpeg1 none", []byte{0x0f}, 0, 0, false, false, ""},
		{"mpeg1 bad", []byte{0x55}, 0, 0, false, false, "bad PES header"},
		{"mpeg1 cut", []byte{0xff, 0x21, 0x00}, 0, 0, false, false, "longer than"},
		{"no header", nil, 0, 0, false, false, "bad PES header"},
	} {
		payload := []byte{0xde, 0xad}
		h, got, err := parsePES(pesBytes(0xe0, tc.hdr, payload))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if h.pts != tc.pts || h.dts != tc.dts || h.hasPTS != tc.hasPTS || h.hasDTS != tc.hDTS || !bytes.Equal(got, payload) {
			t.Errorf("%s: got %+v payload % x", tc.name, h, got)
		}
	}
}

func TestTimestampRoundTrip(t *testing.T) {
	for _, ts := range []int64{0, 1, 90000, 1<<32 + 12345, 1<<33 - 1} {
		var b [5]byte
		putTimestamp(b[:], 0x2, ts)
		if got := readTimestamp(b[:]); got != ts {
			t.Errorf("%d came back as %d (% x)", ts, got, b)
		}
		if b[0]>>4 != 0x2 || b[0]&1 != 1 || b[2]&1 != 1 || b[4]&1 != 1 {
			t.Errorf("%d: prefix or marker bits wrong: % x", ts, b)
		}
	}
}

func TestPackHeaders(t *testing.T) {
	mpeg2 := appendPackHeader(nil, 123456)
	for _, tc := range []struct {
		name string
		b    []byte
		want int
		err  bool
	}{
		{"mpeg2", mpeg2, 14, false},
		{"mpeg2 stuffing", append(append(append([]byte{}, mpeg2[:13]...), 0xfb), 0xff, 0xff, 0xff), 17, false},
		{"mpeg1", []byte{0, 0, 1, 0xba, 0x21, 0, 1, 0, 1, 0x80, 0, 1}, 12, false},
		{"too short to tell", []byte{0, 0, 1, 0xba}, 0, false},
		{"mpeg2 too short", mpeg2[:10], 0, false},
		{"neither", []byte{0, 0, 1, 0xba, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, true},
	} {
		n, err := packHeaderSize(tc.b)
		if n != tc.want || (err != nil) != tc.err {
			t.Errorf("%s: got %d, %v; want %d, error %v", tc.name, n, err, tc.want, tc.err)
		}
	}
}

func TestPSM(t *testing.T) {
	m := NewMuxer(MuxStream{ID: 0xe0, Type: StreamTypeH265}, MuxStream{ID: 0xc0, Type: StreamTypeG711A})
	psm := m.appendPSM(nil)
	entries, err := parsePSM(psm)
	if err != nil || len(entries) != 2 || entries[0] != (psmEntry{StreamTypeH265, 0xe0}) || entries[1] != (psmEntry{StreamTypeG711A, 0xc0}) {
		t.Fatalf("got %+v, %v", entries, err)
	}
	// The CRC of a map is the value that makes the CRC of map and CRC zero.
	if crc32MPEG(psm[:]) != 0 {
		t.Errorf("CRC of the map and its CRC is %#x, want 0", crc32MPEG(psm))
	}
	notCurrent := append([]byte{}, psm...)
	notCurrent[6] &^= 0x80
	if e, err := parsePSM(notCurrent); e != nil || err != nil {
		t.Errorf("a map not yet current gave %+v, %v", e, err)
	}
	// An elementary_stream_map_length past the end is cut at the CRC.
	long := append([]byte{}, psm...)
	long[10], long[11] = 0x01, 0x00
	if e, err := parsePSM(long); err != nil || len(e) != 2 {
		t.Errorf("overlong es map: %+v, %v", e, err)
	}
	bad := append([]byte{}, psm...)
	bad[8], bad[9] = 0x00, 0x40 // program_stream_info_length past the end
	if _, err := parsePSM(bad); err == nil {
		t.Error("program_stream_info_length past the end was accepted")
	}
	if _, err := parsePSM([]byte{0, 0, 1, 0xbc, 0, 2, 0xe0, 0xff}); err == nil {
		t.Error("a map too short was accepted")
	}
}

func TestGuessStreamTypeWithoutPSM(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   uint8
		data []byte
		want StreamType
	}{
		{"h264 aud", 0xe0, annexB([]byte{0x09, 0xf0}, 20, 0), StreamTypeH264},
		{"h264 sps", 0xe2, annexB([]byte{0x67, 0x64}, 20, 0), StreamTypeH264},
		{"h264 sei pic timing", 0xe0, annexB([]byte{0x06, 0x01}, 20, 0), StreamTypeH264},
		{"h265 vps", 0xe0, annexB([]byte{0x40, 0x01}, 20, 0), StreamTypeH265},
		{"h265 aud", 0xe0, annexB([]byte{0x46, 0x01}, 20, 0), StreamTypeH265},
		{"no start code", 0xe0, []byte{1, 2, 3}, StreamTypeH264},
		{"aac", 0xc0, adts(30), StreamTypeAAC},
		{"mp3", 0xc0, []byte{0xff, 0xfb, 0x90, 0x64}, StreamTypeMPEG1Audio},
		{"other audio", 0xc0, []byte{0xd5, 0xd5, 0xd5}, StreamTypeUnknown},
	} {
		if got := guessStreamType(tc.id, tc.data); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestPSMWinsOverGuess(t *testing.T) {
	// No PSM yet: guessed H.264; then a PSM says H.265.
	plain := NewMuxer()
	withPSM := NewMuxer(MuxStream{ID: 0xe0, Type: StreamTypeH265})
	f := func(pts int64) Frame {
		return Frame{StreamID: 0xe0, PTS: pts, DTS: pts, Data: annexB([]byte{0x65, 0x88}, 50, 0)}
	}
	var data []byte
	data = plain.AppendFrame(data, f(0), false)
	data = withPSM.AppendFrame(data, f(3600), true)
	got := demuxAll(NewDemuxer(), data, 0)
	if len(got) != 2 || got[0].StreamType != StreamTypeH264 || got[1].StreamType != StreamTypeH265 {
		t.Fatalf("got %s", describe(got))
	}
}

func TestSamePTSJoinsAndContinuations(t *testing.T) {
	// Devices that repeat the PTS on every PES of a frame, and PES without
	// a PTS before any frame started.
	hdr := []byte{0x80, 0x80, 5, 0x21, 0x00, 0x05, 0xbf, 0x21}
	var data []byte
	data = append(data, appendPackHeader(nil, 0)...)
	data = append(data, pesBytes(0xe0, []byte{0x80, 0x00, 0}, []byte("orphan"))...)
	data = append(data, pesBytes(0xe0, hdr, []byte("\x00\x00\x01\x67sps"))...)
	data = append(data, pesBytes(0xe0, hdr, []byte("\x00\x00\x01\x65idr"))...)
	data = append(data, pesBytes(0xe0, []byte{0x80, 0x00, 0}, []byte("more"))...)
	d := NewDemuxer()
	got := demuxAll(d, data, 5)
	if len(got) != 1 || string(got[0].Data) != "\x00\x00\x01\x67sps\x00\x00\x01\x65idrmore" || got[0].PTS != 90000 {
		t.Fatalf("got %s", describe(got))
	}
	if d.Stats().DroppedPES != 1 {
		t.Errorf("stats %+v, want the orphan dropped", d.Stats())
	}
}

func TestDamageResyncsAtNextPack(t *testing.T) {
	data, want := deviceStream()
	// Break the start code of the fifth video frame's PES (pack 8): the
	// demuxer skips to the next pack and loses that frame only.
	packs := splitPacks(data)
	var damaged []byte
	for i, p := range packs {
		if i == 8 {
			p = append([]byte{}, p...)
			p[16] = 0x02 // 00 00 01 e0 after the 14-byte pack header
		}
		damaged = append(damaged, p...)
	}
	d := NewDemuxer()
	var warnings []string
	d.Warn = func(err error) { warnings = append(warnings, err.Error()) }
	got := demuxAll(d, append([]byte("junk before the first pack"), damaged...), 700)
	st := d.Stats()
	if st.Resyncs != 2 || st.SkippedBytes < 26+1500 || len(warnings) != 2 {
		t.Errorf("stats %+v, warnings %q", st, warnings)
	}
	var wantLeft []Frame
	for i, f := range want {
		if i != 8 {
			wantLeft = append(wantLeft, f)
		}
	}
	sameFrames(t, byStream(got, StreamIDVideo), byStream(wantLeft, StreamIDVideo))
	sameFrames(t, byStream(got, StreamIDAudio), byStream(wantLeft, StreamIDAudio))
}

func TestCutPESIsBounded(t *testing.T) {
	// A PES cut short swallows what follows up to its declared length;
	// the demuxer then resyncs and goes on.
	data, _ := deviceStream()
	packs := splitPacks(data)
	var damaged []byte
	for i, p := range packs {
		if i == 4 { // a 1500-byte P frame cut to 100 bytes
			p = p[:100]
		}
		damaged = append(damaged, p...)
	}
	d := NewDemuxer()
	got := demuxAll(d, damaged, 1400)
	if len(got) < 8 || d.Stats().Resyncs == 0 {
		t.Errorf("got %s, stats %+v", describe(got), d.Stats())
	}
}

// splitPacks cuts a muxed stream at its pack headers.
func splitPacks(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.Index(data[4:], packStartCode)
		if i < 0 {
			return append(out, data)
		}
		out = append(out, data[:4+i])
		data = data[4+i:]
	}
	return out
}

func TestMaxFrameSize(t *testing.T) {
	data, _ := deviceStream()
	d := NewDemuxer()
	d.MaxFrameSize = 100000
	got := demuxAll(d, data, 1400)
	if n := len(byStream(got, StreamIDVideo)); n != 4 {
		t.Errorf("%d video frames, want the 2 keyframes over the limit dropped:\n%s", n, describe(got))
	}
	if st := d.Stats(); st.DroppedFrames != 2 || st.DroppedPES != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestUnitsOfOtherKindsAreSkipped(t *testing.T) {
	var data []byte
	data = append(data, appendPackHeader(nil, 0)...)
	data = append(data, pesBytes(idPadding, nil, bytes.Repeat([]byte{0xff}, 30))...)
	data = append(data, pesBytes(idPrivate1, []byte{0x80, 0, 0}, []byte{1, 2, 3})...)
	data = append(data, pesBytes(idPrivate2, nil, []byte{1, 2, 3})...)
	data = append(data, NewMuxer().AppendFrame(nil, Frame{StreamID: 0xc0, PTS: 9, DTS: 9, Data: adts(50)}, false)...)
	d := NewDemuxer()
	got := demuxAll(d, data, 0)
	if len(got) != 1 || got[0].StreamType != StreamTypeAAC || d.Stats().Resyncs != 0 {
		t.Fatalf("got %s, stats %+v", describe(got), d.Stats())
	}
}

func TestBadStartCodeValues(t *testing.T) {
	for _, code := range []byte{0x00, 0x65, 0xb8} {
		d := NewDemuxer()
		var warned bool
		d.Warn = func(error) { warned = true }
		demuxAll(d, []byte{0, 0, 1, code, 1, 2, 3, 4}, 0)
		if d.Stats().Resyncs != 1 || !warned {
			t.Errorf("00 00 01 %02x: stats %+v", code, d.Stats())
		}
	}
}
