package flvscan

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/castd/castd/internal/format/flv"
)

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)*7 + seed
	}
	return b
}

// stream writes tags with flv.Writer.
func stream(t testing.TB, tags ...flv.Tag) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flv.NewWriter(&buf, flv.Header{HasAudio: true, HasVideo: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range tags {
		if err := w.WriteTag(tg); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func sampleTags() []flv.Tag {
	return []flv.Tag{
		{Type: flv.TagScript, Timestamp: 0, Data: pattern(300, 1)},
		{Type: flv.TagVideo, Timestamp: 0, Data: pattern(40, 2)},
		{Type: flv.TagAudio, Timestamp: 0, Data: pattern(4, 3)},
		{Type: flv.TagVideo, Timestamp: 40, Data: pattern(200000, 4)},     // grows the buffer
		{Type: flv.TagAudio, Timestamp: 0x01020304, Data: pattern(10, 5)}, // extended timestamp byte
		{Type: flv.TagVideo, Timestamp: 0x7FFFFFFF, Data: pattern(70000, 6)},
		{Type: flv.TagVideo, Timestamp: 80, Data: nil},
	}
}

func TestScannerReadsWriterOutput(t *testing.T) {
	want := sampleTags()
	in := stream(t, want...)
	// A reader that returns a few bytes at a time exercises every partial read.
	for name, r := range map[string]io.Reader{"whole": bytes.NewReader(in), "trickle": &trickle{b: in, n: 7}} {
		s := New(r)
		for i, w := range want {
			got, err := s.Next()
			if err != nil {
				t.Fatalf("%s: tag %d: %v", name, i, err)
			}
			if got.Type != w.Type || got.Timestamp != w.Timestamp || !bytes.Equal(got.Data, w.Data) {
				t.Fatalf("%s: tag %d: type %d ts %d len %d, want type %d ts %d len %d",
					name, i, got.Type, got.Timestamp, len(got.Data), w.Type, w.Timestamp, len(w.Data))
			}
		}
		if _, err := s.Next(); err != io.EOF {
			t.Errorf("%s: end of stream: %v", name, err)
		}
		if _, err := s.Next(); err != io.EOF {
			t.Errorf("%s: error not sticky: %v", name, err)
		}
		if s.BytesRead() != int64(len(in)) {
			t.Errorf("%s: %d bytes read of %d", name, s.BytesRead(), len(in))
		}
	}
}

type trickle struct {
	b []byte
	n int
}

func (t *trickle) Read(p []byte) (int, error) {
	if len(t.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), t.n)], t.b)
	t.b = t.b[n:]
	return n, nil
}

func TestScannerErrors(t *testing.T) {
	good := stream(t, sampleTags()[:3]...)
	hdrLen := flv.HeaderSize + flv.PreviousTagSizeSize
	badPrev := bytes.Clone(good)
	badPrev[hdrLen+flv.TagHeaderSize+300+3]++ // PreviousTagSize after the first tag
	bigOffset := bytes.Clone(good)
	bigOffset[8] = 13 // DataOffset 13: 4 more header bytes, which eat PreviousTagSize0
	tooBig := stream(t, flv.Tag{Type: flv.TagVideo, Data: pattern(2000, 1)})
	tests := []struct {
		name string
		in   []byte
		max  int
		tags int // tags read before the error
		want error
	}{
		{"empty", nil, 0, 0, io.ErrUnexpectedEOF},
		{"not FLV", []byte("GIF89a..........."), 0, 0, ErrBadHeader},
		{"short header", good[:5], 0, 0, io.ErrUnexpectedEOF},
		{"DataOffset below 9", append([]byte("FLV\x01\x05\x00\x00\x00\x08"), good[9:]...), 0, 0, ErrBadHeader},
		{"DataOffset past the tags", bigOffset, 0, 0, ErrPreviousTagSize},
		{"PreviousTagSize mismatch", badPrev, 0, 1, ErrPreviousTagSize},
		{"cut in a tag header", good[:hdrLen+5], 0, 0, io.ErrUnexpectedEOF},
		{"cut in a body", good[:hdrLen+flv.TagHeaderSize+100], 0, 0, io.ErrUnexpectedEOF},
		{"cut in a PreviousTagSize", good[:len(good)-2], 0, 3, io.ErrUnexpectedEOF},
		{"no last PreviousTagSize", good[:len(good)-4], 0, 3, io.EOF},
		{"tag over the limit", tooBig, 1000, 0, ErrTagTooLarge},
	}
	for _, tt := range tests {
		s := New(bytes.NewReader(tt.in))
		s.MaxTagSize = tt.max
		n := 0
		var err error
		for {
			if _, err = s.Next(); err != nil {
				break
			}
			n++
		}
		if n != tt.tags || !errors.Is(err, tt.want) {
			t.Errorf("%s: %d tags then %v, want %d then %v", tt.name, n, err, tt.tags, tt.want)
		}
	}
}

func TestScannerAllocatesNothingInSteadyState(t *testing.T) {
	var tags []flv.Tag
	for i := range 400 {
		tags = append(tags, flv.Tag{Type: flv.TagVideo, Timestamp: uint32(i * 40), Data: pattern(5000+i%3*1000, byte(i))},
			flv.Tag{Type: flv.TagAudio, Timestamp: uint32(i * 40), Data: pattern(300, byte(i))})
	}
	s := New(bytes.NewReader(stream(t, tags...)))
	for range 10 { // grow the buffer to the largest tag
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(500, func() {
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per tag", allocs)
	}
}

// FuzzFLVScanner compares the scanner with package flv's Reader on any
// input: same tags, and they end at the same place.
func FuzzFLVScanner(f *testing.F) {
	tags := sampleTags()
	f.Add(stream(f, tags[:3]...))
	f.Add(stream(f, tags[4], tags[6]))
	f.Add(stream(f)[:9])
	f.Add([]byte("FLV\x01\x05\x00\x00\x00\x0d\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add(append(stream(f, tags[1]), 9, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x17))
	f.Fuzz(func(t *testing.T, in []byte) {
		ref, rerr := flv.NewReader(bytes.NewReader(in))
		s := New(bytes.NewReader(in))
		s.MaxTagSize = 1 << 20
		if rerr == nil {
			ref.MaxTagSize = 1 << 20
		}
		for i := 0; ; i++ {
			got, err := s.Next()
			if rerr != nil {
				if err == nil {
					t.Fatalf("header accepted, flv.NewReader said %v", rerr)
				}
				return
			}
			want, werr := ref.ReadTag()
			if errors.Is(werr, flv.ErrEncryptedTag) {
				return // the scanner does not look at the filter bit
			}
			if (err == nil) != (werr == nil) || (errors.Is(err, io.EOF) != errors.Is(werr, io.EOF)) {
				t.Fatalf("tag %d: scanner %v, flv.Reader %v", i, err, werr)
			}
			if err != nil {
				return
			}
			if got.Type != want.Type || got.Timestamp != want.Timestamp || !bytes.Equal(got.Data, want.Data) {
				t.Fatalf("tag %d differs", i)
			}
		}
	})
}
