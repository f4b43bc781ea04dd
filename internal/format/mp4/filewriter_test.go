package mp4

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// memFile is an in-memory io.WriteSeeker that can fail after a number of
// written bytes or on seeks.
type memFile struct {
	b         []byte
	pos       int64
	failAfter int // fail writes once this many bytes were written; 0 never
	written   int
	failSeek  bool
}

var errInjected = errors.New("injected failure")

func (m *memFile) Write(p []byte) (int, error) {
	if m.failAfter > 0 && m.written+len(p) > m.failAfter {
		return 0, errInjected
	}
	m.written += len(p)
	if end := m.pos + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	copy(m.b[m.pos:], p)
	m.pos += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	if m.failSeek {
		return 0, errInjected
	}
	switch whence {
	case io.SeekStart:
		m.pos = off
	case io.SeekCurrent:
		m.pos += off
	case io.SeekEnd:
		m.pos = int64(len(m.b)) + off
	}
	return m.pos, nil
}

// interleaved is a small A/V recording: video with B-frames (composition
// offsets 7200, 14400, 3600, 3600) and audio starting 500 ms later.
var interleaved = []struct {
	track uint32
	s     Sample
}{
	{1, Sample{DTS: 0, PTS: 7200, Keyframe: true, Data: []byte("0123456789")}},
	{1, Sample{DTS: 3600, PTS: 18000, Data: []byte("abcdefghijk")}},
	{2, Sample{DTS: 22050, Data: []byte("a")}},
	{2, Sample{DTS: 23074, Data: []byte("bb")}},
	{1, Sample{DTS: 7200, PTS: 10800, Data: []byte("lmnopqrstuvw")}},
	{1, Sample{DTS: 10800, PTS: 14400, Keyframe: true, Data: []byte("ABCDEFGHIJKLM")}},
	{2, Sample{DTS: 24098, Data: []byte("ccc")}},
}

func writeInterleaved(t *testing.T, m *memFile, limit32 uint64) {
	t.Helper()
	w, err := NewFileWriter(m, testVideo, testAudio)
	if err != nil {
		t.Fatal(err)
	}
	if limit32 > 0 {
		w.limit32 = limit32
	}
	for _, x := range interleaved {
		if err := w.WriteSample(x.track, x.s); err != nil {
			t.Fatal(err)
		}
	}
	if w.Written() != 100 {
		t.Fatalf("written %d bytes before Close, want 100", w.Written())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.WriteSample(1, Sample{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

// TestFileWriterTables checks every table of a small progressive file
// against values worked out by hand. The layout: a 32-byte ftyp, the free
// and mdat headers (16 bytes), then samples from offset 48 in write order.
func TestFileWriterTables(t *testing.T) {
	for _, wide := range []bool{false, true} {
		name := "32-bit"
		var limit uint64
		if wide {
			name, limit = "64-bit", 50 // pretend 50 bytes is 4 GiB
		}
		t.Run(name, func(t *testing.T) {
			m := &memFile{b: []byte("junk!"), pos: 5} // the file may start past 0
			writeInterleaved(t, m, limit)
			b := m.b[5:]
			f, err := ParseFile(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type.Major != "isom" || f.Type.Minor != 0x200 || !slices.Equal(f.Type.Compatible, []string{"isom", "iso2", "mp41", "avc1"}) {
				t.Errorf("ftyp %+v", f.Type)
			}
			var types []string
			for _, box := range f.Boxes {
				types = append(types, box.Type)
			}
			mdat := f.MediaData[0]
			if wide {
				if !slices.Equal(types, []string{"ftyp", "mdat", "moov"}) || mdat.Offset != 32 || mdat.HeaderSize != 16 || mdat.Size != 68 {
					t.Fatalf("boxes %v, mdat %+v", types, mdat)
				}
			} else if !slices.Equal(types, []string{"ftyp", "free", "mdat", "moov"}) || mdat.Offset != 40 || mdat.Size != 60 {
				t.Fatalf("boxes %v, mdat at %d size %d", types, mdat.Offset, mdat.Size)
			}
			mv := f.Movie
			if mv.Timescale != 1000 || mv.Duration != 570 || mv.NextTrackID != 3 || mv.Fragmented {
				t.Errorf("movie %+v", mv)
			}
			v, a := mv.Track(1), mv.Track(2)
			vt, at := v.Table, a.Table
			if !slices.Equal(vt.TimeToSample, []TimeToSample{{4, 3600}}) ||
				!slices.Equal(vt.CompositionOffsets, []CompositionOffset{{1, 7200}, {1, 14400}, {2, 3600}}) || vt.CompositionVersion != 0 ||
				!slices.Equal(vt.SyncSamples, []uint32{1, 4}) ||
				!slices.Equal(vt.SampleToChunk, []SampleToChunk{{1, 2, 1}}) ||
				!slices.Equal(vt.Sizes, []uint32{10, 11, 12, 13}) ||
				!slices.Equal(vt.ChunkOffsets, []uint64{48, 72}) || vt.ChunkOffsets64 != wide {
				t.Errorf("video tables %+v", vt)
			}
			if v.MediaDuration != 14400 || v.Duration != 160 || len(v.Edits) != 0 {
				t.Errorf("video durations %d/%d, edits %+v", v.MediaDuration, v.Duration, v.Edits)
			}
			if !slices.Equal(at.TimeToSample, []TimeToSample{{3, 1024}}) || at.CompositionOffsets != nil || at.HasSyncTable ||
				!slices.Equal(at.SampleToChunk, []SampleToChunk{{1, 2, 1}, {2, 1, 1}}) ||
				!slices.Equal(at.Sizes, []uint32{1, 2, 3}) || !slices.Equal(at.ChunkOffsets, []uint64{69, 97}) {
				t.Errorf("audio tables %+v", at)
			}
			// Audio starts 500 ms after video: an empty edit delays it.
			if a.MediaDuration != 3072 || a.Duration != 570 || !slices.Equal(a.Edits, []Edit{{500, -1, 0x10000}, {70, 0, 0x10000}}) {
				t.Errorf("audio durations %d/%d, edits %+v", a.MediaDuration, a.Duration, a.Edits)
			}
			checkSamplesBack(t, f, b)
		})
	}
}

// checkSamplesBack reads the interleaved samples back through the tables.
func checkSamplesBack(t *testing.T, f *File, b []byte) {
	t.Helper()
	for _, id := range []uint32{1, 2} {
		var want []Sample
		for _, x := range interleaved {
			if x.track == id {
				want = append(want, x.s)
			}
		}
		n := 0
		err := f.Samples(id, func(s SampleInfo) bool {
			w := want[n]
			d, err := SampleData(b, s)
			if err != nil || string(d) != string(w.Data) || s.DTS != w.DTS-want[0].DTS {
				t.Errorf("track %d sample %d: %+v %q, want %+v", id, n, s, d, w)
			}
			if id == 1 && (s.PTS-s.DTS != w.PTS-w.DTS || s.Sync != w.Keyframe) {
				t.Errorf("track %d sample %d: %+v, want %+v", id, n, s, w)
			}
			n++
			return true
		})
		if err != nil || n != len(want) {
			t.Errorf("track %d: %d samples, %v", id, n, err)
		}
	}
}

func TestFileWriterEdgeCases(t *testing.T) {
	t.Run("no samples", func(t *testing.T) {
		m := &memFile{}
		w, err := NewFileWriter(m, testVideo)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := ParseFile(m.b)
		if err != nil || f.Movie.Duration != 0 || f.Movie.Tracks[0].Table.SampleCount != 0 {
			t.Fatalf("%+v, %v", f.Movie, err)
		}
	})
	t.Run("DTS going back and constant sizes", func(t *testing.T) {
		m := &memFile{}
		w, err := NewFileWriter(m, testVideo)
		if err != nil {
			t.Fatal(err)
		}
		for _, dts := range []int64{0, 3600, 3600, 10800} {
			if err := w.WriteSample(1, Sample{DTS: dts, PTS: dts, Keyframe: true, Data: []byte("xy")}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := ParseFile(m.b)
		if err != nil {
			t.Fatal(err)
		}
		st := f.Movie.Tracks[0].Table
		if !slices.Equal(st.TimeToSample, []TimeToSample{{1, 3600}, {1, 1}, {2, 7199}}) || st.SampleSize != 2 || st.SampleCount != 4 ||
			st.Sizes != nil || st.HasSyncTable || !slices.Equal(st.CompositionOffsets, []CompositionOffset{{2, 0}, {1, -1}, {1, 0}}) ||
			st.CompositionVersion != 1 {
			t.Fatalf("tables %+v", st)
		}
	})
	t.Run("unknown track and oversized config", func(t *testing.T) {
		m := &memFile{}
		w, err := NewFileWriter(m, testAudio)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteSample(9, Sample{}); err == nil || !strings.Contains(err.Error(), "no track with id 9") {
			t.Fatalf("unknown track: %v", err)
		}
		if _, err := NewFileWriter(m); err == nil {
			t.Fatal("no tracks accepted")
		}
	})
	t.Run("write failure sticks", func(t *testing.T) {
		m := &memFile{failAfter: 100}
		w, err := NewFileWriter(m, testAudio)
		if err != nil {
			t.Fatal(err)
		}
		big := make([]byte, fileBufferSize+1) // passes the buffer, reaches the file
		if err := w.WriteSample(2, Sample{Data: big}); !errors.Is(err, errInjected) {
			t.Fatalf("write: %v", err)
		}
		if err := w.WriteSample(2, Sample{Data: []byte{1}}); !errors.Is(err, errInjected) {
			t.Fatalf("write after failure: %v", err)
		}
		if err := w.Close(); !errors.Is(err, errInjected) {
			t.Fatalf("close after failure: %v", err)
		}
	})
	t.Run("failure at close", func(t *testing.T) {
		m := &memFile{failAfter: 200}
		w, err := NewFileWriter(m, testAudio)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteSample(2, Sample{Data: []byte{1}}); err != nil {
			t.Fatal(err) // buffered
		}
		if err := w.Close(); !errors.Is(err, errInjected) {
			t.Fatalf("close: %v", err)
		}
	})
	t.Run("seek failure", func(t *testing.T) {
		if _, err := NewFileWriter(&memFile{failSeek: true}, testAudio); !errors.Is(err, errInjected) {
			t.Fatalf("new: %v", err)
		}
		m := &memFile{}
		w, err := NewFileWriter(m, testAudio)
		if err != nil {
			t.Fatal(err)
		}
		m.failSeek = true
		if err := w.Close(); !errors.Is(err, errInjected) {
			t.Fatalf("close: %v", err)
		}
	})
}
