package mp4

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// recording is 3 s of 25 fps video with a keyframe every 10 frames and
// 44.1 kHz audio frames starting 20 ms later, interleaved by time.
func recording() []struct {
	track uint32
	s     Sample
} {
	var out []struct {
		track uint32
		s     Sample
	}
	a := 0
	for v := 0; v < 75; v++ {
		vt := int64(v) * 3600
		for ; ; a++ {
			at := 882 + int64(a)*1024 // 20 ms in, 1024 samples each
			if at*90000/44100 > vt {
				break
			}
			out = append(out, struct {
				track uint32
				s     Sample
			}{2, Sample{DTS: at, Data: []byte{byte(a), 0xaa}}})
		}
		out = append(out, struct {
			track uint32
			s     Sample
		}{1, Sample{DTS: vt, PTS: vt + 7200, Keyframe: v%10 == 0, Data: bytes.Repeat([]byte{byte(v)}, 5+v%7)}})
	}
	return out
}

func writeRecording(t *testing.T, w *FragmentedWriter) {
	t.Helper()
	for _, x := range recording() {
		if err := w.WriteSample(x.track, x.s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFragmentedWriter(t *testing.T) {
	m := &memFile{}
	w, err := NewFragmentedWriter(m, time.Second, testVideo, testAudio)
	if err != nil {
		t.Fatal(err)
	}
	writeRecording(t, w)
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if w.Written() != int64(len(m.b)) {
		t.Fatalf("Written %d, file %d bytes", w.Written(), len(m.b))
	}
	f, err := ParseFile(m.b)
	if err != nil {
		t.Fatal(err)
	}
	// Fragments start at keyframes (every 10 frames = 0.4 s) once 1 s is
	// buffered: at frames 30 and 60.
	if len(f.Fragments) != 3 {
		t.Fatalf("%d fragments, want 3", len(f.Fragments))
	}
	for i, fr := range f.Fragments {
		if fr.Sequence != uint32(i+1) || len(fr.Trafs) != 2 {
			t.Fatalf("fragment %d: %+v", i, fr)
		}
	}
	// Time 0 is the video's first DTS; audio starts 20 ms (882 ticks) in.
	if tf := f.Fragments[0].Trafs[1]; tf.TrackID != 2 || tf.BaseDecodeTime != 882 {
		t.Fatalf("first audio traf %+v", tf)
	}
	// mehd holds the duration: 75 frames of 40 ms.
	if f.Movie.FragmentDuration != 3000 {
		t.Fatalf("mehd %d ms, want 3000", f.Movie.FragmentDuration)
	}
	want := map[uint32][]Sample{}
	for _, x := range recording() {
		want[x.track] = append(want[x.track], x.s)
	}
	for id, samples := range want {
		var prevEnd int64 = -1
		n := 0
		err := f.Samples(id, func(s SampleInfo) bool {
			w := samples[n]
			d, err := SampleData(m.b, s)
			if err != nil || !bytes.Equal(d, w.Data) {
				t.Fatalf("track %d sample %d data %x, want %x (%v)", id, n, d, w.Data, err)
			}
			if prevEnd >= 0 && s.DTS != prevEnd {
				t.Fatalf("track %d sample %d at %d, the previous one ended at %d", id, n, s.DTS, prevEnd)
			}
			if id == 1 && (s.DTS != w.DTS || s.PTS != w.PTS || s.Sync != w.Keyframe) {
				t.Fatalf("video sample %d: %+v, want %+v", n, s, w)
			}
			prevEnd = s.DTS + int64(s.Duration)
			n++
			return true
		})
		if err != nil || n != len(samples) {
			t.Fatalf("track %d: %d samples of %d, %v", id, n, len(samples), err)
		}
	}
	// Each fragment's video run starts with a keyframe.
	for i, fr := range f.Fragments {
		run := fr.Trafs[0].Runs[0]
		first := fr.Trafs[0].DefaultFlags
		if run.Flags&trunFirstSampleFlags != 0 {
			first = run.FirstSampleFlags
		} else if len(run.Entries) > 0 && run.Flags&trunSampleFlags != 0 {
			first = run.Entries[0].Flags
		}
		if first != sampleFlagsSync {
			t.Errorf("fragment %d starts with flags %#x", i, first)
		}
	}
}

func TestFragmentedWriterLongGOPAndAudioOnly(t *testing.T) {
	// Video without keyframes after the first: fragments are cut anyway
	// once four times the target is buffered.
	m := &memFile{}
	w, err := NewFragmentedWriter(m, 250*time.Millisecond, testVideo)
	if err != nil {
		t.Fatal(err)
	}
	for v := range 100 {
		if err := w.WriteSample(1, Sample{DTS: int64(v) * 3600, PTS: int64(v) * 3600, Keyframe: v == 0, Data: []byte{1}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := ParseFile(m.b)
	if err != nil || len(f.Fragments) != 4 { // 25 frames (1 s) each
		t.Fatalf("%d fragments, %v", len(f.Fragments), err)
	}

	// Audio only: a fragment every target; not seekable, so no mehd.
	var buf bytes.Buffer
	w, err = NewFragmentedWriter(&buf, 0, testAudio)
	if err != nil {
		t.Fatal(err)
	}
	for a := range 431 { // 10 s
		if err := w.WriteSample(2, Sample{DTS: int64(a) * 1024, Data: []byte{2}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err = ParseFile(buf.Bytes())
	if err != nil || len(f.Fragments) != 5 || f.Movie.FragmentDuration != 0 || Find(f.Boxes, "moov", "mvex", "mehd") != nil {
		t.Fatalf("%d fragments, mehd %d, %v", len(f.Fragments), f.Movie.FragmentDuration, err)
	}
}

func TestFragmentedWriterErrors(t *testing.T) {
	if _, err := NewFragmentedWriter(&memFile{}, 0); err == nil {
		t.Fatal("no tracks accepted")
	}
	if _, err := NewFragmentedWriter(&memFile{failSeek: true}, 0, testAudio); !errors.Is(err, errInjected) {
		t.Fatalf("seek failure: %v", err)
	}
	if _, err := NewFragmentedWriter(&memFile{failAfter: 10}, 0, testAudio); !errors.Is(err, errInjected) {
		t.Fatalf("init write failure: %v", err)
	}
	m := &memFile{}
	w, err := NewFragmentedWriter(m, 0, testAudio)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSample(7, Sample{}); err == nil {
		t.Fatal("unknown track accepted")
	}
	m.failAfter = m.written + 10
	for a := range 200 {
		err = w.WriteSample(2, Sample{DTS: int64(a) * 1024, Data: []byte{1}})
		if err != nil {
			break
		}
	}
	if !errors.Is(err, errInjected) {
		t.Fatalf("fragment write failure: %v", err)
	}
	if err := w.Close(); !errors.Is(err, errInjected) {
		t.Fatalf("close after failure: %v", err)
	}
	if err := w.WriteSample(2, Sample{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

// TestValidLengthAtEveryCut cuts a fragmented recording at every byte and
// checks that ValidLength keeps exactly the complete fragments, or reports
// that nothing can be kept while the init segment is incomplete.
func TestValidLengthAtEveryCut(t *testing.T) {
	m := &memFile{}
	w, err := NewFragmentedWriter(m, 500*time.Millisecond, testVideo, testAudio)
	if err != nil {
		t.Fatal(err)
	}
	writeRecording(t, w)
	f, err := ParseFile(m.b)
	if err != nil {
		t.Fatal(err)
	}
	initEnd := f.Fragments[0].Offset
	var fragEnds []int64
	for _, b := range f.Boxes {
		if b.Type == "mdat" {
			fragEnds = append(fragEnds, b.Offset+b.Size)
		}
	}
	for cut := int64(0); cut <= int64(len(m.b)); cut++ {
		got, err := ValidLength(bytes.NewReader(m.b[:cut]), cut)
		if cut < initEnd {
			if !errors.Is(err, ErrNotRecoverable) {
				t.Fatalf("cut at %d inside the init segment: %d, %v", cut, got, err)
			}
			continue
		}
		want := initEnd
		for _, e := range fragEnds {
			if e <= cut {
				want = e
			}
		}
		if err != nil || got != want {
			t.Fatalf("cut at %d: kept %d, %v; want %d", cut, got, err, want)
		}
	}
}

func TestValidLengthOtherFiles(t *testing.T) {
	// A progressive file whose writer died: no moov.
	m := &memFile{}
	w, err := NewFileWriter(m, testVideo, testAudio)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range interleaved {
		if err := w.WriteSample(x.track, x.s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.bw.Flush(); err != nil { // what the file system holds when the process dies
		t.Fatal(err)
	}
	if _, err := ValidLength(bytes.NewReader(m.b), int64(len(m.b))); !errors.Is(err, ErrNotRecoverable) {
		t.Fatalf("unclosed progressive file: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := ValidLength(bytes.NewReader(m.b), int64(len(m.b))); err != nil || n != int64(len(m.b)) {
		t.Fatalf("closed progressive file: %d of %d, %v", n, len(m.b), err)
	}
	damaged := append(append([]byte(nil), m.b...), 0, 0, 0, 9, 'j', 'u', 'n', 'k')
	if _, err := ValidLength(bytes.NewReader(damaged), int64(len(damaged))); !errors.Is(err, ErrNotRecoverable) {
		t.Fatalf("progressive file with junk: %v", err)
	}

	// A fragmented file with zeros after it (a file system that had
	// allocated but not written the tail) is cut before the zeros.
	m = &memFile{}
	fw, err := NewFragmentedWriter(m, 0, testAudio)
	if err != nil {
		t.Fatal(err)
	}
	for a := range 100 {
		if err := fw.WriteSample(2, Sample{DTS: int64(a) * 1024, Data: []byte{1}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	zeros := append(append([]byte(nil), m.b...), make([]byte, 4096)...)
	if n, err := ValidLength(bytes.NewReader(zeros), int64(len(zeros))); err != nil || n != int64(len(m.b)) {
		t.Fatalf("zero tail: kept %d of %d, %v", n, len(m.b), err)
	}
	// A moof that does not parse ends the valid part.
	f, err := ParseFile(m.b)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), m.b...)
	trun := Find(f.Boxes, "moof", "traf", "trun")
	copy(bad[trun.Offset+12:], []byte{0xff, 0xff, 0xff, 0xff}) // sample_count past the box
	if n, err := ValidLength(bytes.NewReader(bad), int64(len(bad))); err != nil || n != f.Fragments[0].Offset {
		t.Fatalf("broken moof: kept %d, %v; want %d", n, err, f.Fragments[0].Offset)
	}
	// A moof must be followed by its mdat.
	mdat := f.MediaData[0]
	split := cat(m.b[:mdat.Offset], []byte{0, 0, 0, 8, 'f', 'r', 'e', 'e'}, m.b[mdat.Offset:])
	if n, err := ValidLength(bytes.NewReader(split), int64(len(split))); err != nil || n != f.Fragments[0].Offset {
		t.Fatalf("moof without its mdat: kept %d, %v; want %d", n, err, f.Fragments[0].Offset)
	}
	if _, err := ValidLength(bytes.NewReader(nil), 0); !errors.Is(err, ErrNotRecoverable) {
		t.Fatalf("empty file: %v", err)
	}
}

func TestRecoverFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.mp4")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewFragmentedWriter(file, 500*time.Millisecond, testVideo, testAudio)
	if err != nil {
		t.Fatal(err)
	}
	// The process "dies" with the last fragments unwritten: no Close.
	for _, x := range recording() {
		if err := w.WriteSample(x.track, x.s); err != nil {
			t.Fatal(err)
		}
	}
	written := w.Written()
	if _, err := file.Write([]byte{0, 0, 1, 0, 'm', 'o', 'o', 'f', 1, 2}); err != nil { // a torn fragment
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	kept, dropped, err := RecoverFile(path)
	if err != nil || kept != written || dropped != 10 {
		t.Fatalf("kept %d dropped %d (%v); want %d and 10", kept, dropped, err, written)
	}
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) != written {
		t.Fatalf("file is %d bytes, %v", len(b), err)
	}
	if kept, dropped, err = RecoverFile(path); err != nil || kept != written || dropped != 0 {
		t.Fatalf("second recovery: %d %d %v", kept, dropped, err)
	}
	if _, _, err := RecoverFile(filepath.Join(dir, "missing.mp4")); err == nil {
		t.Fatal("a missing file was recovered")
	}
	if err := os.WriteFile(path, []byte("not an mp4 at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := RecoverFile(path); !errors.Is(err, ErrNotRecoverable) {
		t.Fatalf("garbage: %v", err)
	}
}
