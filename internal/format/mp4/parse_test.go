package mp4

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// box builds a box from a type and hex payload, for hand-made inputs.
func box(t *testing.T, typ string, payloadHex ...string) []byte {
	t.Helper()
	var w BoxWriter
	w.Begin(typ)
	for _, p := range payloadHex {
		w.Write(unhex(t, p))
	}
	w.End()
	return w.Bytes()
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestParseBoxes(t *testing.T) {
	in := cat(box(t, "ftyp", "69736f6d 00000000"),
		box(t, "moov", ""), // an empty container
		unhex(t, "00000001 6d646174 0000000000000012 aabb"), // 64-bit size
		unhex(t, "00000000 66726565 0102"))                  // size 0: to the end
	boxes, err := ParseBoxes(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typ          string
		off, size    int64
		header, data int
	}{
		{"ftyp", 0, 16, 8, 8}, {"moov", 16, 8, 8, 0}, {"mdat", 24, 18, 16, 2}, {"free", 42, 10, 8, 2},
	}
	if len(boxes) != len(want) {
		t.Fatalf("%d boxes", len(boxes))
	}
	for i, w := range want {
		b := boxes[i]
		if b.Type != w.typ || b.Offset != w.off || b.Size != w.size || b.HeaderSize != w.header || len(b.Data) != w.data {
			t.Errorf("box %d: %s at %d size %d header %d data %d; want %+v", i, b.Type, b.Offset, b.Size, b.HeaderSize, len(b.Data), w)
		}
	}
	uuid := cat(unhex(t, "00000020 75756964"), make([]byte, 16), unhex(t, "0102030405060708"))
	if boxes, err := ParseBoxes(uuid); err != nil || boxes[0].HeaderSize != 24 || len(boxes[0].Data) != 8 {
		t.Fatalf("uuid: %+v %v", boxes, err)
	}
}

func TestParseErrors(t *testing.T) {
	trak := func(stbl ...[]byte) []byte {
		var w BoxWriter
		w.Begin("moov")
		writeMvhd(&w, 0, 2)
		w.Begin("trak")
		writeTkhd(&w, &testAudio, 0)
		w.Begin("mdia")
		writeMdhd(&w, 44100, 0)
		writeHdlr(&w, KindAudio)
		w.Begin("minf")
		w.Begin("stbl")
		for _, b := range stbl {
			w.Write(b)
		}
		w.End()
		w.End()
		w.End()
		w.End()
		w.End()
		return w.Bytes()
	}
	cases := []struct {
		name      string
		in        []byte
		truncated bool
		want      string
	}{
		{"short header", unhex(t, "000000"), true, "needs 8 bytes"},
		{"size below header", unhex(t, "00000004 66726565"), false, "smaller than its 8-byte header"},
		{"size past the end", unhex(t, "00000010 66726565 00"), true, "size 16, 9 bytes left"},
		{"64-bit size cut", unhex(t, "00000001 6d646174 0000"), true, "64-bit size"},
		{"64-bit size below header", unhex(t, "00000001 6d646174 0000000000000008"), false, "smaller than its 16-byte header"},
		{"uuid too short", unhex(t, "0000000c 75756964 00000000"), false, "smaller than its 24-byte header"},
		{"truncated child", cat(unhex(t, "00000010 6d6f6f76"), unhex(t, "00000010 74726b00")), true, "in moov at 0"},
		{"ftyp not brands", box(t, "ftyp", "69736f6d 00000000 0102"), false, "not a list of brands"},
		{"ftyp short", box(t, "ftyp", "6973"), true, "ftyp needs"},
		{"moov without mvhd", box(t, "moov", ""), false, "no mvhd"},
		{"stts count too large", trak(box(t, "stts", "00000000 00000100 00000001 00000001")), true, "stts has 256 entries"},
		{"stsz count too large", trak(box(t, "stsz", "00000000 00000000 ffffffff")), true, "stsz has 4294967295 entries"},
		{"stsd without entries", trak(box(t, "stsd", "00000000 00000000")), false, "no sample entry"},
		{"sample entry cut", trak(box(t, "stsd", "00000000 00000001 0000000c 6d703461 00000000")), true, "mp4a needs"},
		{"esds garbage", trak(box(t, "stsd", "00000000 00000001", hexOf(box(t, "mp4a", hexOf(make([]byte, 28)), hexOf(box(t, "esds", "00000000 0502aabb")))))), false, "descriptor tag 5"},
		{"esds without config", trak(box(t, "stsd", "00000000 00000001", hexOf(box(t, "mp4a", hexOf(make([]byte, 28)), hexOf(box(t, "esds", "00000000 0303000000")))))), false, "no DecoderConfigDescriptor"},
		{"trun count too large", box(t, "moof", hexOf(box(t, "traf", hexOf(box(t, "tfhd", "00000000 00000001")), hexOf(box(t, "trun", "00000200 00001000"))))), true, "trun has 4096 samples"},
		{"traf without tfhd", box(t, "moof", hexOf(box(t, "traf", ""))), false, "has no tfhd"},
		{"tfdt short", box(t, "moof", hexOf(box(t, "traf", hexOf(box(t, "tfhd", "00000000 00000001")), hexOf(box(t, "tfdt", "01000000 0000"))))), true, "tfdt needs"},
		{"sidx references past the end", box(t, "sidx", "00000000 00000001 00000001 00000000 00000000 0000 0009"), true, "9 references"},
		{"second moov", cat(trak(), trak()), false, "second moov"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFile(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if errors.Is(err, ErrTruncated) != c.truncated {
				t.Fatalf("errors.Is(%v, ErrTruncated) = %v", err, !c.truncated)
			}
		})
	}
	var w BoxWriter
	w.Begin("moov")
	writeMvhd(&w, 0, 2)
	w.Begin("trak")
	w.End()
	w.End()
	if _, err := ParseFile(w.Bytes()); err == nil || !strings.Contains(err.Error(), "no tkhd") {
		t.Fatalf("trak without tkhd: %v", err)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestNestingLimit(t *testing.T) {
	var w BoxWriter
	for range maxBoxDepth + 2 {
		w.Begin("moov")
	}
	for range maxBoxDepth + 2 {
		w.End()
	}
	if _, err := ParseBoxes(w.Bytes()); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("deep nesting: %v", err)
	}
}

func TestSampleWalkErrors(t *testing.T) {
	cases := []struct {
		name  string
		table SampleTable
		want  string
	}{
		{"sizes missing", SampleTable{SampleCount: 2, Sizes: []uint32{1}}, "lists 1 sizes for 2"},
		{"no chunks", SampleTable{SampleSize: 1, SampleCount: 1}, "past the 0 chunks"},
		{"stsc missing", SampleTable{SampleSize: 1, SampleCount: 1, ChunkOffsets: []uint64{0}}, "no samples per stsc"},
		{"stts short", SampleTable{SampleSize: 1, SampleCount: 2, ChunkOffsets: []uint64{0},
			SampleToChunk: []SampleToChunk{{1, 2, 1}}, TimeToSample: []TimeToSample{{1, 5}}}, "stts covers fewer than 2"},
		{"ctts short", SampleTable{SampleSize: 1, SampleCount: 2, ChunkOffsets: []uint64{0},
			SampleToChunk: []SampleToChunk{{1, 2, 1}}, TimeToSample: []TimeToSample{{2, 5}}, CompositionOffsets: []CompositionOffset{{1, 0}}},
			"ctts covers fewer than 2"},
		{"offset past int64", SampleTable{SampleSize: 1, SampleCount: 1, ChunkOffsets: []uint64{1 << 63},
			SampleToChunk: []SampleToChunk{{1, 1, 1}}, TimeToSample: []TimeToSample{{1, 5}}}, "offset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &File{Movie: &Movie{Tracks: []*TrackInfo{{ID: 1, Table: c.table}}}}
			err := f.Samples(1, func(SampleInfo) bool { return true })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
	// A table claiming billions of constant-size samples costs only what
	// the callback lets it.
	huge := SampleTable{SampleSize: 1, SampleCount: 4_000_000_000, ChunkOffsets: []uint64{0},
		SampleToChunk: []SampleToChunk{{1, 4_000_000_000, 1}}, TimeToSample: []TimeToSample{{4_000_000_000, 1}}}
	f := &File{Movie: &Movie{Tracks: []*TrackInfo{{ID: 1, Table: huge}}}}
	n := 0
	if err := f.Samples(1, func(SampleInfo) bool { n++; return n < 10 }); err != nil || n != 10 {
		t.Fatalf("stopped after %d, %v", n, err)
	}
	if _, err := SampleData([]byte{1, 2}, SampleInfo{Offset: 1, Size: 2}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("sample outside the input: %v", err)
	}
	if _, err := SampleData([]byte{1, 2}, SampleInfo{Offset: -1, Size: 1}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("negative offset: %v", err)
	}
}
