package flv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/castd/castd/internal/format/amf"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// The start of an FLV file written by ffmpeg 5.1 (Lavf59.27.100) from lavfi
// testsrc 64x48 and a 8 kHz sine: header, onMetaData, the AVC sequence header
// and the AAC sequence header, each with its PreviousTagSize.
const ffmpegFLVStart = "464c5601050000000900000000120001250000000000000002000a6f6e4d65746144617461080000000d0008647572617469" +
	"6f6e003fdb645a1cac0831000577696474680040500000000000000006686569676874004048000000000000000d76696465" +
	"6f646174617261746500000000000000000000096672616d6572617465004024000000000000000c766964656f636f646563" +
	"696400401c000000000000000d617564696f646174617261746500402f400000000000000f617564696f73616d706c657261" +
	"74650040bf400000000000000f617564696f73616d706c6573697a65004030000000000000000673746572656f0100000c61" +
	"7564696f636f64656369640040240000000000000007656e636f64657202000d4c61766635392e32372e313030000866696c" +
	"6573697a650040b3bd0000000000000009000001300900003000000000000000170000000001f4000affe1001767f4000a91" +
	"96847b011000000300100000030140f1226a01000568ce0f1920fff8f8000000003b0800000700000000000000af00158856" +
	"e50000000012"

// Offsets of the tags in ffmpegFLVStart.
const (
	ffmpegMetaStart  = 13
	ffmpegMetaSize   = 293
	ffmpegVideoStart = 321
	ffmpegAudioStart = 384
)

func TestAppendHeader(t *testing.T) {
	tests := []struct {
		h    Header
		want string
	}{
		{Header{HasAudio: true, HasVideo: true}, "464c5601 05 00000009 00000000"},
		{Header{HasVideo: true}, "464c5601 01 00000009 00000000"},
		{Header{HasAudio: true}, "464c5601 04 00000009 00000000"},
		{Header{}, "464c5601 00 00000009 00000000"},
	}
	for _, tc := range tests {
		got := AppendHeader([]byte{0xEE}, tc.h)
		if want := append([]byte{0xEE}, unhex(t, tc.want)...); !bytes.Equal(got, want) {
			t.Errorf("AppendHeader(%+v) = %x, want %x", tc.h, got, want)
		}
	}
}

func TestPutTagHeader(t *testing.T) {
	tests := []struct {
		name string
		typ  uint8
		size int
		ts   uint32
		want string
	}{
		{"metadata", TagScript, 293, 0, "12 000125 000000 00 000000"},
		{"video", TagVideo, 0x1234, 40, "09 001234 000028 00 000000"},
		{"24-bit timestamp max", TagAudio, 7, 0xFFFFFF, "08 000007 ffffff 00 000000"},
		{"extended timestamp", TagAudio, 1, 0x12345678, "08 000001 345678 12 000000"},
		{"max size", TagVideo, MaxDataSize, 0xFFFFFFFF, "09 ffffff ffffff ff 000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := bytes.Repeat([]byte{0xEE}, 12)
			PutTagHeader(got, tc.typ, tc.size, tc.ts)
			if want := append(unhex(t, tc.want), 0xEE); !bytes.Equal(got, want) {
				t.Errorf("got %x, want %x", got, want)
			}
		})
	}
	p := make([]byte, 4)
	PutPreviousTagSize(p, 304)
	if !bytes.Equal(p, []byte{0, 0, 1, 0x30}) {
		t.Errorf("PutPreviousTagSize = %x", p)
	}
}

func TestReaderFFmpegFile(t *testing.T) {
	b := unhex(t, ffmpegFLVStart)
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); !h.HasAudio || !h.HasVideo {
		t.Errorf("Header = %+v", h)
	}
	want := []struct {
		typ   uint8
		start int
		size  int
	}{
		{TagScript, ffmpegMetaStart, ffmpegMetaSize},
		{TagVideo, ffmpegVideoStart, 48},
		{TagAudio, ffmpegAudioStart, 7},
	}
	for i, w := range want {
		tag, err := r.ReadTag()
		if err != nil {
			t.Fatalf("tag %d: %v", i, err)
		}
		data := b[w.start+TagHeaderSize : w.start+TagHeaderSize+w.size]
		if tag.Type != w.typ || tag.Timestamp != 0 || tag.StreamID != 0 || !bytes.Equal(tag.Data, data) {
			t.Errorf("tag %d = type %d ts %d sid %d data %x, want type %d data %x", i, tag.Type, tag.Timestamp, tag.StreamID, tag.Data, w.typ, data)
		}
		if &tag.Data[0] == &data[0] {
			t.Errorf("tag %d data aliases the input", i)
		}
	}
	if _, err := r.ReadTag(); err != io.EOF {
		t.Fatalf("at end: %v, want io.EOF", err)
	}
	if r.Offset() != int64(len(b)) {
		t.Errorf("Offset = %d, want %d", r.Offset(), len(b))
	}
}

// buildFLV writes a header and tags with the given previous-tag-size fixups.
func buildFLV(t testing.TB, tags ...Tag) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{HasAudio: true, HasVideo: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if err := w.WriteTag(tag); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestReaderEnds(t *testing.T) {
	full := buildFLV(t, Tag{Type: TagVideo, Timestamp: 0x01020304, Data: []byte{0x17, 0x01}})
	tests := []struct {
		name    string
		b       []byte
		tags    int
		wantErr error // io.EOF for a clean end
	}{
		{"complete", full, 1, io.EOF},
		{"last PreviousTagSize missing", full[:len(full)-4], 1, io.EOF},
		{"header only, no PreviousTagSize0", full[:9], 0, io.EOF},
		{"header and PreviousTagSize0", full[:13], 0, io.EOF},
		{"cut in PreviousTagSize0", full[:11], 0, io.ErrUnexpectedEOF},
		{"cut in tag header", full[:13+5], 0, io.ErrUnexpectedEOF},
		{"cut in tag data", full[:13+11+1], 0, io.ErrUnexpectedEOF},
		{"cut in last PreviousTagSize", full[:len(full)-2], 1, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.b))
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.tags {
				tag, err := r.ReadTag()
				if err != nil {
					t.Fatalf("tag %d: %v", i, err)
				}
				if tag.Timestamp != 0x01020304 {
					t.Errorf("timestamp %#x", tag.Timestamp)
				}
			}
			_, err = r.ReadTag()
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == io.EOF && err != io.EOF {
				t.Fatalf("clean end must be io.EOF itself, got %v", err)
			}
			if _, again := r.ReadTag(); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	good := buildFLV(t, Tag{Type: TagAudio, Data: []byte{0xaf, 0x01, 0x02}}, Tag{Type: TagVideo, Data: []byte{0x27}})
	patch := func(off int, p ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[off:], p)
		return b
	}
	secondPrev := 13 + 11 + 3 // PreviousTagSize after the first tag
	tests := []struct {
		name    string
		b       []byte
		max     int
		ignore  bool
		tags    int // tags that read fine before the error
		wantErr error
		wantMsg string
	}{
		{"wrong PreviousTagSize0", patch(9, 0, 0, 0, 1), 0, false, 0, ErrPreviousTagSize,
			"flv: PreviousTagSize at offset 9 is 1, want 0: PreviousTagSize mismatch"},
		{"wrong PreviousTagSize", patch(secondPrev, 0, 0, 0, 3), 0, false, 1, ErrPreviousTagSize,
			"flv: PreviousTagSize at offset 27 is 3, want 14: PreviousTagSize mismatch"},
		{"wrong PreviousTagSize ignored", patch(secondPrev, 0, 0, 0, 3), 0, true, 2, io.EOF, ""},
		{"tag over MaxTagSize", good, 2, false, 0, ErrTagTooLarge,
			"flv: tag at offset 13: data size 3 over the 2 limit: tag too large"},
		{"encrypted", patch(13, 0x28), 0, false, 0, ErrEncryptedTag, ""},
		{"cut in tag header names offset", good[:20], 0, false, 0, io.ErrUnexpectedEOF,
			"flv: tag header at offset 9: unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.b))
			if err != nil {
				t.Fatal(err)
			}
			if tc.max > 0 {
				r.MaxTagSize = tc.max
			}
			r.IgnorePreviousTagSize = tc.ignore
			for i := range tc.tags {
				if _, err := r.ReadTag(); err != nil {
					t.Fatalf("tag %d: %v", i, err)
				}
			}
			_, err = r.ReadTag()
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if tc.wantMsg != "" && err.Error() != tc.wantMsg {
				t.Errorf("error %q, want %q", err, tc.wantMsg)
			}
		})
	}
}

func TestReaderReservedBitsAndStreamID(t *testing.T) {
	b := buildFLV(t, Tag{Type: TagScript, Data: []byte{5}})
	b[13] |= 0xC0                  // reserved bits
	b[13+8], b[13+10] = 0x01, 0x02 // stream id
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tag, err := r.ReadTag()
	if err != nil {
		t.Fatal(err)
	}
	if tag.Type != TagScript || tag.StreamID != 0x010002 {
		t.Errorf("type %d stream id %#x", tag.Type, tag.StreamID)
	}
}

func TestNewReaderHeader(t *testing.T) {
	tests := []struct {
		name    string
		hex     string
		want    Header
		wantErr error
	}{
		{"video only", "464c5601 01 00000009", Header{HasVideo: true}, nil},
		{"extra header bytes skipped", "464c5601 04 0000000c aabbcc 00000000", Header{HasAudio: true}, nil},
		{"bad signature", "464c5801 05 00000009", Header{}, ErrBadHeader},
		{"offset below 9", "464c5601 05 00000008", Header{}, ErrBadHeader},
		{"offset huge", "464c5601 05 ffffffff", Header{}, ErrBadHeader},
		{"short", "464c56", Header{}, io.ErrUnexpectedEOF},
		{"empty", "", Header{}, io.ErrUnexpectedEOF},
		{"extra bytes missing", "464c5601 05 0000000c aa", Header{}, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(unhex(t, tc.hex)))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if r.Header() != tc.want {
				t.Errorf("Header = %+v, want %+v", r.Header(), tc.want)
			}
			if _, err := r.ReadTag(); err != io.EOF {
				t.Errorf("ReadTag = %v, want io.EOF", err)
			}
		})
	}
}

// A reader fed one byte at a time (as from a slow socket) gives the same tags.
func TestReaderOneByteReads(t *testing.T) {
	big := bytes.Repeat([]byte{0x42}, 200_000) // grows past the first read size
	b := buildFLV(t, Tag{Type: TagVideo, Timestamp: 1, Data: big}, Tag{Type: TagAudio, Timestamp: 2, Data: []byte{1}})
	h, tags, err := ReadAll(iotest.OneByteReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	if !h.HasAudio || len(tags) != 2 || !bytes.Equal(tags[0].Data, big) || tags[1].Timestamp != 2 {
		t.Fatalf("got %d tags", len(tags))
	}
	// A body declared large but cut short fails without reading forever.
	cut := b[:13+11+100_000]
	_, tags, err = ReadAll(bytes.NewReader(cut))
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(tags) != 0 {
		t.Fatalf("cut body: %d tags, %v", len(tags), err)
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{HasAudio: true, HasVideo: true})
	if err != nil {
		t.Fatal(err)
	}
	if w.Offset() != 13 {
		t.Errorf("Offset after header = %d", w.Offset())
	}
	b := unhex(t, ffmpegFLVStart)
	tags := []Tag{
		{Type: TagScript, Data: b[ffmpegMetaStart+TagHeaderSize : ffmpegMetaStart+TagHeaderSize+ffmpegMetaSize]},
		{Type: TagVideo, Data: b[ffmpegVideoStart+TagHeaderSize : ffmpegVideoStart+TagHeaderSize+48]},
		{Type: TagAudio, StreamID: 7, Data: b[ffmpegAudioStart+TagHeaderSize : ffmpegAudioStart+TagHeaderSize+7]},
	}
	for _, tag := range tags {
		if err := w.WriteTag(tag); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(buf.Bytes(), b) {
		t.Fatalf("Writer output differs from ffmpeg's:\n%x\n%x", buf.Bytes(), b)
	}
	if w.Offset() != int64(len(b)) {
		t.Errorf("Offset = %d, want %d", w.Offset(), len(b))
	}
	if err := w.WriteTag(Tag{Type: TagVideo, Data: make([]byte, MaxDataSize+1)}); !errors.Is(err, ErrTagTooLarge) {
		t.Errorf("oversized tag: %v", err)
	}
}

func TestWriterLargeTagRoundTrip(t *testing.T) {
	big := make([]byte, smallTag*3+5)
	for i := range big {
		big[i] = byte(i)
	}
	in := []Tag{
		{Type: TagVideo, Timestamp: 0xFF000001, Data: big},
		{Type: TagAudio, Timestamp: 5, Data: []byte{}},
		{Type: TagScript, Timestamp: 6, Data: []byte{1, 2, 3}},
	}
	h, out, err := ReadAll(bytes.NewReader(buildFLV(t, in...)))
	if err != nil {
		t.Fatal(err)
	}
	if !h.HasVideo || !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip mismatch: %d tags", len(out))
	}
}

type failingWriter struct {
	n     int // bytes accepted before failing
	short bool
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	n := f.n
	f.n = 0
	if f.short {
		return n, nil
	}
	return n, errors.New("disk full")
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(&failingWriter{n: 5}, Header{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("NewWriter: %v", err)
	}
	fw := &failingWriter{n: 13 + 11 + 2, short: true}
	w, err := NewWriter(fw, Header{})
	if err != nil {
		t.Fatal(err)
	}
	err = w.WriteTag(Tag{Type: TagAudio, Data: []byte{1, 2, 3}})
	if !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("short write: %v", err)
	}
	fw.n = 1 << 20
	if err2 := w.WriteTag(Tag{Type: TagAudio, Data: []byte{1}}); err2 != err {
		t.Fatalf("error not sticky: %v", err2)
	}
	// Large tags take the three-write path; a failure there is sticky too.
	w2, err := NewWriter(&failingWriter{n: 13 + 11 + 10}, Header{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.WriteTag(Tag{Type: TagVideo, Data: make([]byte, smallTag+1)}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("large tag: %v", err)
	}
}

func TestReadAllStopsAtError(t *testing.T) {
	b := buildFLV(t, Tag{Type: TagAudio, Data: []byte{1}}, Tag{Type: TagAudio, Data: []byte{2}})
	b[13+11+1+3] = 99 // corrupt the first tag's PreviousTagSize
	_, tags, err := ReadAll(bytes.NewReader(b))
	if !errors.Is(err, ErrPreviousTagSize) || len(tags) != 1 {
		t.Fatalf("ReadAll: %d tags, %v", len(tags), err)
	}
	if _, _, err := ReadAll(strings.NewReader("nope")); err == nil {
		t.Fatal("ReadAll accepted a non-FLV stream")
	}
	if _, _, err := ReadFile("testdata/does-not-exist.flv"); err == nil {
		t.Fatal("ReadFile of a missing file succeeded")
	}
}

func TestParseFFmpegMetadata(t *testing.T) {
	b := unhex(t, ffmpegFLVStart)
	data := b[ffmpegMetaStart+TagHeaderSize : ffmpegMetaStart+TagHeaderSize+ffmpegMetaSize]
	name, v, err := ParseScriptData(data)
	if err != nil {
		t.Fatal(err)
	}
	meta, ok := v.(amf.ECMAArray)
	if name != OnMetaData || !ok {
		t.Fatalf("got %q %T", name, v)
	}
	checks := map[string]float64{"duration": 0.428, "width": 64, "height": 48, "framerate": 10,
		"videocodecid": 7, "audiocodecid": 10, "audiosamplerate": 8000, "filesize": 5053}
	for k, want := range checks {
		if got, ok := meta.Number(k); !ok || got != want {
			t.Errorf("%s = %v, %v; want %v", k, got, ok, want)
		}
	}
	if enc, _ := meta.String("encoder"); enc != "Lavf59.27.100" {
		t.Errorf("encoder = %q", enc)
	}
}
