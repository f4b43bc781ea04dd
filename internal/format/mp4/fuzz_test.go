package mp4

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// fuzzSeeds returns files from this package's writers and, when ffmpeg is
// installed, a progressive MP4 and a fragmented MP4 made by ffmpeg.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	init, err := InitSegment(testVideo, testAudio)
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, init)
	seg, err := MediaSegment(1, testVideo, frames(6, 0, []int{0, 4}, []int64{7200, 0, 3600}), 0)
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, seg, append(append([]byte(nil), init...), seg...))
	if sidx, err := AppendSidx(nil, SegmentIndex{ReferenceID: 1, Timescale: 90000, References: []SegmentReference{{Size: 10, Duration: 5}}}); err == nil {
		seeds = append(seeds, append(sidx, seg...))
	}
	m := &memFile{}
	w, err := NewFileWriter(m, testVideo, testAudio)
	if err != nil {
		f.Fatal(err)
	}
	for _, x := range interleaved {
		if err := w.WriteSample(x.track, x.s); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, m.b)
	fm := &memFile{}
	fw, err := NewFragmentedWriter(fm, 500*time.Millisecond, testVideo, testAudio)
	if err != nil {
		f.Fatal(err)
	}
	for _, x := range recording()[:60] {
		if err := fw.WriteSample(x.track, x.s); err != nil {
			f.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, fm.b)

	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return seeds
	}
	dir := f.TempDir()
	for i, extra := range [][]string{nil, {"-movflags", "frag_keyframe+empty_moov+default_base_moof"}} {
		out := filepath.Join(dir, "ff"+string(rune('0'+i))+".mp4")
		args := []string{"-hide_banner", "-loglevel", "error", "-y",
			"-f", "lavfi", "-i", "testsrc=size=32x32:rate=10:duration=0.5", "-f", "lavfi", "-i", "sine=sample_rate=8000:duration=0.5",
			"-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "3", "-c:a", "aac", "-b:a", "16k"}
		args = append(append(args, extra...), out)
		if err := exec.Command("ffmpeg", args...).Run(); err != nil {
			f.Logf("ffmpeg seed %d: %v", i, err)
			continue
		}
		b, err := os.ReadFile(out)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzParse feeds arbitrary bytes to the parser, the sample walker and
// ValidLength: none may panic, hang, read outside the input or allocate
// beyond what the input justifies.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, _ := ParseFile(b)
		if file != nil {
			ids := map[uint32]bool{}
			if file.Movie != nil {
				for _, tr := range file.Movie.Tracks {
					ids[tr.ID] = true
				}
			}
			for _, fr := range file.Fragments {
				for _, tf := range fr.Trafs {
					ids[tf.TrackID] = true
				}
			}
			for id := range ids {
				n := 0
				_ = file.Samples(id, func(s SampleInfo) bool {
					if d, err := SampleData(b, s); err == nil && int64(len(d)) != int64(s.Size) {
						t.Fatalf("sample data of %d bytes for size %d", len(d), s.Size)
					}
					n++
					return n < 2000
				})
			}
		}
		n, err := ValidLength(bytes.NewReader(b), int64(len(b)))
		if err == nil && (n < 0 || n > int64(len(b))) {
			t.Fatalf("ValidLength %d of %d bytes", n, len(b))
		}
	})
}

// FuzzWriters builds samples from arbitrary bytes (DTS steps that may go
// backwards, composition offsets, keyframes, sizes), writes them as a media
// segment and as a progressive file, and checks that the parser gives back
// the same data, sync flags, durations and composition offsets.
func FuzzWriters(f *testing.F) {
	f.Add([]byte{10, 20, 1, 3, 10, 0, 0, 2, 10, 0xf6, 0, 1})
	f.Add([]byte{0, 0, 1, 0})
	f.Add([]byte{0x80, 0x7f, 0, 15, 0x7f, 0x80, 1, 15, 0xff, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var samples []Sample
		var dts int64
		for i := 0; i+4 <= len(b) && len(samples) < 500; i += 4 {
			dts += int64(int8(b[i])) * 100
			s := Sample{DTS: dts, PTS: dts + int64(int8(b[i+1]))*100, Keyframe: b[i+2]&1 == 1}
			s.Data = bytes.Repeat([]byte{byte(i)}, int(b[i+3]&15))
			samples = append(samples, s)
		}
		if len(samples) == 0 {
			return
		}
		var want []runTiming
		walkRun(samples, testVideo.DefaultDuration, KindVideo, func(_ int, tm runTiming) { want = append(want, tm) })

		seg, err := MediaSegment(1, testVideo, samples, 1000)
		if err != nil {
			t.Fatal(err)
		}
		checkRoundTrip(t, "segment", seg, samples, want)

		m := &memFile{}
		w, err := NewFileWriter(m, testVideo)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range samples {
			if err := w.WriteSample(1, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		checkRoundTrip(t, "file", m.b, samples, want)
	})
}

func checkRoundTrip(t *testing.T, what string, b []byte, samples []Sample, want []runTiming) {
	t.Helper()
	f, err := ParseFile(b)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	n := 0
	err = f.Samples(1, func(s SampleInfo) bool {
		d, err := SampleData(b, s)
		if err != nil || !bytes.Equal(d, samples[n].Data) || s.Sync != samples[n].Keyframe ||
			s.Duration != want[n].duration || s.PTS-s.DTS != int64(want[n].cto) {
			t.Fatalf("%s sample %d: %+v %x (%v), want %+v timing %+v", what, n, s, d, err, samples[n], want[n])
		}
		n++
		return true
	})
	if err != nil || n != len(samples) {
		t.Fatalf("%s: %d samples of %d, %v", what, n, len(samples), err)
	}
}
