package mp4

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
)

// unhex decodes hex written with optional spaces and line breaks.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestBoxWriterBytes(t *testing.T) {
	cases := []struct {
		name  string
		build func(w *BoxWriter)
		want  string
	}{
		{
			name: "nested box and full box",
			build: func(w *BoxWriter) {
				w.Begin("abcd")
				w.U8(1)
				w.BeginFull("efgh", 1, 0x020304)
				w.U16(0xbeef)
				w.End()
				w.End()
			},
			// inner: 8 + 4 + 2 = 14; outer: 8 + 1 + 14 = 23.
			want: "00000017 61626364 01 0000000e 65666768 01020304 beef",
		},
		{
			name: "flags keep 24 bits",
			build: func(w *BoxWriter) {
				w.BeginFull("ffff", 2, 0xff123456)
				w.End()
			},
			want: "0000000c 66666666 02123456",
		},
		{
			name: "64-bit size",
			build: func(w *BoxWriter) {
				w.BeginLarge("mdat")
				w.U64(0x0102030405060708)
				w.EndLarge()
			},
			want: "00000001 6d646174 0000000000000018 0102030405060708",
		},
		{
			name: "integers and patches",
			build: func(w *BoxWriter) {
				w.Begin("ints")
				w.U24(0xabcdef)
				w.I32(-2)
				pos := w.Pos()
				w.U32(0)
				w.U64(0)
				w.PatchU32(pos, 0x11223344)
				w.PatchU64(pos+4, 42)
				w.Zeros(3)
				w.FourCC("wxyz")
				w.End()
			},
			want: "00000022 696e7473 abcdef fffffffe 11223344 000000000000002a 000000 7778797a",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := NewBoxWriter([]byte{0xaa}) // existing bytes stay in front
			c.build(w)
			if err := w.Err(); err != nil {
				t.Fatal(err)
			}
			want := append([]byte{0xaa}, unhex(t, c.want)...)
			if !bytes.Equal(w.Bytes(), want) {
				t.Fatalf("got  %x\nwant %x", w.Bytes(), want)
			}
		})
	}
}

func TestBoxWriterErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(w *BoxWriter)
		want  string
	}{
		{"short type", func(w *BoxWriter) { w.Begin("abc"); w.End() }, "not four characters"},
		{"long fourcc", func(w *BoxWriter) { w.Begin("abcd"); w.FourCC("abcde"); w.End() }, "5 characters"},
		{"end without begin", func(w *BoxWriter) { w.End() }, "End without Begin"},
		{"endlarge without begin", func(w *BoxWriter) { w.EndLarge() }, "EndLarge without"},
		{"endlarge on a small box", func(w *BoxWriter) { w.Begin("abcd"); w.U64(0); w.EndLarge() }, "not begun with BeginLarge"},
		{"unbalanced", func(w *BoxWriter) { w.Begin("abcd") }, "not ended"},
		{"too deep", func(w *BoxWriter) {
			for range maxWriterDepth + 1 {
				w.Begin("abcd")
			}
		}, "nested more than"},
		{"patch outside", func(w *BoxWriter) { w.PatchU32(2, 1) }, "outside"},
		{"patch64 outside", func(w *BoxWriter) { w.U32(0); w.PatchU64(0, 1) }, "outside"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w BoxWriter
			c.build(&w)
			if err := w.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			w.Reset()
			if w.Err() != nil || w.Len() != 0 {
				t.Fatalf("after Reset: %v, %d bytes", w.Err(), w.Len())
			}
		})
	}
}

// TestEsdsBytes checks the esds for AAC LC 44.1 kHz stereo against bytes
// worked out from ISO/IEC 14496-1 (ES_Descriptor, DecoderConfigDescriptor,
// DecoderSpecificInfo, SLConfigDescriptor) and for MP3 without the
// DecoderSpecificInfo.
func TestEsdsBytes(t *testing.T) {
	cases := []struct {
		name  string
		track Track
		want  string
	}{
		{
			name:  "AAC",
			track: Track{Codec: av.CodecAAC, SampleRate: 44100, Config: []byte{0x12, 0x10}},
			want: "00000027 65736473 00000000" +
				"03 19 0000 00" + // ES_Descriptor: 25 bytes, ES_ID 0, no flags
				"04 11 40 15 000000 00000000 00000000" + // DecoderConfig: 17 bytes, AAC, audio stream
				"05 02 1210" + // DecoderSpecificInfo: the AudioSpecificConfig
				"06 01 02", // SLConfig: predefined 2
		},
		{
			name:  "MP3 44.1 kHz",
			track: Track{Codec: av.CodecMP3, SampleRate: 44100},
			want:  "00000023 65736473 00000000 03 15 0000 00 04 0d 6b 15 000000 00000000 00000000 06 01 02",
		},
		{
			name:  "MP3 22.05 kHz",
			track: Track{Codec: av.CodecMP3, SampleRate: 22050},
			want:  "00000023 65736473 00000000 03 15 0000 00 04 0d 69 15 000000 00000000 00000000 06 01 02",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w BoxWriter
			writeEsds(&w, &c.track)
			if want := unhex(t, c.want); !bytes.Equal(w.Bytes(), want) {
				t.Fatalf("got  %x\nwant %x", w.Bytes(), want)
			}
			obj, dsi, err := parseEsds(w.Bytes()[8:])
			if err != nil || obj != unhex(t, c.want)[19] /* objectTypeIndication */ || !bytes.Equal(dsi, c.track.Config) {
				t.Fatalf("parsed back: object type %#x, dsi %x, %v", obj, dsi, err)
			}
		})
	}
}

func TestDescriptorHeader(t *testing.T) {
	cases := []struct {
		size int
		want string
	}{
		{0, "05 00"},
		{127, "05 7f"},
		{128, "05 81 00"},
		{200, "05 81 48"},
		{1<<14 - 1, "05 ff 7f"},
		{1 << 14, "05 81 80 00"},
		{1 << 21, "05 81 80 80 00"},
	}
	for _, c := range cases {
		var w BoxWriter
		writeDescriptorHeader(&w, 5, c.size)
		if want := unhex(t, c.want); !bytes.Equal(w.Bytes(), want) {
			t.Errorf("size %d: got %x, want %x", c.size, w.Bytes(), want)
		}
		if descriptorHeaderSize(c.size) != w.Len() {
			t.Errorf("size %d: descriptorHeaderSize %d, wrote %d", c.size, descriptorHeaderSize(c.size), w.Len())
		}
		r := newFields("test", append(w.Bytes(), make([]byte, c.size)...))
		if tag, body := readDescriptor(r); tag != 5 || len(body) != c.size || r.err != nil {
			t.Errorf("size %d: read back tag %d, %d bytes, %v", c.size, tag, len(body), r.err)
		}
	}
}

// TestMediaSegmentBytes checks a whole two-sample video segment against
// bytes worked out by hand from ISO/IEC 14496-12 8.8.
func TestMediaSegmentBytes(t *testing.T) {
	track := Track{ID: 1, Kind: KindVideo, Codec: av.CodecH264, Timescale: 90000}
	samples := []Sample{
		{DTS: 90000, PTS: 90000, Keyframe: true, Data: []byte("abc")},
		{DTS: 93000, PTS: 96000, Data: []byte("de")}, // duration 0: repeats 3000
	}
	got, err := MediaSegment(7, track, samples, 90000)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, ""+
		"00000014 73747970 6d736468 00000000 6d736468"+ // styp msdh
		"00000074 6d6f6f66"+ // moof, 116 bytes
		"00000010 6d666864 00000000 00000007"+ // mfhd, sequence 7
		"0000005c 74726166"+ // traf, 92 bytes
		"00000018 74666864 00020028 00000001 00000bb8 01010000"+ // tfhd: base is moof, default duration 3000, default flags non-sync
		"00000014 74666474 01000000 0000000000015f90"+ // tfdt v1: 90000
		"00000028 7472756e 01000a05 00000002 0000007c 02000000"+ // trun v1: offset 124, first sample sync
		"00000003 00000000 00000002 00000bb8"+ // sizes and composition offsets
		"0000000d 6d646174 616263 6465") // mdat
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
}

func TestSidxBytes(t *testing.T) {
	got, err := AppendSidx([]byte{0xaa}, SegmentIndex{
		ReferenceID: 1, Timescale: 90000, EarliestPresentationTime: 0x0102030405, FirstOffset: 7,
		References: []SegmentReference{{Size: 1000, Duration: 180000, StartsWithSAP: true, SAPType: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "aa 00000034 73696478 01000000 00000001 00015f90 0000000102030405 0000000000000007 0000 0001"+
		"000003e8 0002bf20 90000000")
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
	f, err := ParseFile(got[1:])
	if err != nil || len(f.Indexes) != 1 || f.Indexes[0].References[0].Size != 1000 || !f.Indexes[0].References[0].StartsWithSAP ||
		f.Indexes[0].EarliestPresentationTime != 0x0102030405 {
		t.Fatalf("parsed back %+v, %v", f.Indexes, err)
	}
	if _, err := AppendSidx(nil, SegmentIndex{References: []SegmentReference{{Size: 1 << 31}}}); err == nil {
		t.Fatal("a 2 GiB reference was accepted")
	}
}
