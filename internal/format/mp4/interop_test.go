package mp4

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// flvCase is an FLV that ffmpeg makes at test time, and what its MP4s must
// show in ffprobe.
type flvCase struct {
	name   string
	args   []string // ffmpeg arguments after the inputs
	video  bool
	bframe bool // the source must have B-frames
	rate   int  // audio sample rate; 0 for none
	codecs map[string]string
}

var flvCases = []flvCase{
	{
		name:  "h264_bframes_aac",
		video: true, bframe: true, rate: 44100,
		args:   []string{"-c:v", "libx264", "-preset", "veryfast", "-x264-params", "bframes=2:b-adapt=0:keyint=25:min-keyint=25:scenecut=0", "-c:a", "aac", "-b:a", "64k"},
		codecs: map[string]string{"video": "h264", "audio": "aac"},
	},
	{
		name:  "h264_mp3",
		video: true, rate: 44100,
		args:   []string{"-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "libmp3lame", "-b:a", "64k"},
		codecs: map[string]string{"video": "h264", "audio": "mp3"},
	},
	{
		name: "aac_only", rate: 48000,
		args:   []string{"-c:a", "aac", "-b:a", "64k"},
		codecs: map[string]string{"audio": "aac"},
	},
	{
		name: "mp3_22k_only", rate: 22050,
		args:   []string{"-c:a", "libmp3lame", "-b:a", "32k"},
		codecs: map[string]string{"audio": "mp3"},
	},
}

func makeFLV(t *testing.T, dir string, c flvCase) string {
	t.Helper()
	src := filepath.Join(dir, c.name+".flv")
	args := append(lavfiInputs(c.video, c.rate > 0, c.rate), c.args...)
	runFFmpeg(t, append(args, "-f", "flv", src)...)
	return src
}

// TestFFmpegFLV feeds the tags of FLVs made by ffmpeg through the writers,
// as castd's DVR and DASH builders will, and checks the results with
// ffprobe, ffmpeg and this package's parser:
//
//	(a) a progressive file (FileWriter);
//	(b) init + media segments concatenated, all tracks in one init segment
//	    and, as DASH does it, one init segment per track;
//	(c) a fragmented recording (FragmentedWriter), whole and cut short as a
//	    crash leaves it, after RecoverFile.
func TestFFmpegFLV(t *testing.T) {
	requireFFmpeg(t)
	for _, c := range flvCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := makeFLV(t, dir, c)
			ref := newReference(t, src)
			if c.bframe && !reordered(ref.probe.ptsList("video")) {
				t.Fatal("the source has no B-frames: the test would prove nothing about composition offsets")
			}
			m := mediaFromFLV(t, src)

			t.Run("progressive", func(t *testing.T) {
				out := filepath.Join(dir, "prog.mp4")
				writeProgressive(t, m, out)
				ref.check(t, out, c.codecs, false)
				checkOwnParse(t, m, out)
			})
			t.Run("segments", func(t *testing.T) {
				all := make([]int, len(m.tracks))
				for i := range all {
					all[i] = i
				}
				segDir := filepath.Join(dir, "muxed")
				if err := os.Mkdir(segDir, 0o755); err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(dir, "all.mp4")
				concatFiles(t, out, writeSegments(t, m, segDir, all...))
				ref.check(t, out, c.codecs, false)
				checkOwnParse(t, m, out)
				for i, tr := range m.tracks {
					d := filepath.Join(dir, tr.Kind.String())
					if err := os.Mkdir(d, 0o755); err != nil {
						t.Fatal(err)
					}
					one := filepath.Join(d, "all.mp4")
					concatFiles(t, one, writeSegments(t, m, d, i))
					if msg := decodeErrors(t, one); msg != "" {
						t.Errorf("%s track alone: %s", tr.Kind, msg)
					}
					p := ffprobe(t, one)
					if len(p.Streams) != 1 || p.Streams[0].Packets != strconv.Itoa(len(m.perTrack(i))) {
						t.Errorf("%s track alone: %+v, want %d packets", tr.Kind, p.Streams, len(m.perTrack(i)))
					}
				}
			})
			t.Run("fragmented_and_recovered", func(t *testing.T) {
				checkFragmentedRecording(t, m, ref, dir, c.codecs)
			})
		})
	}
}

// checkOwnParse parses a written file with this package's parser and checks
// that every sample's bytes, times and sync flag came back.
func checkOwnParse(t *testing.T, m *media, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range m.tracks {
		want := m.perTrack(i)
		n := 0
		err := f.Samples(tr.ID, func(s SampleInfo) bool {
			if n >= len(want) {
				n++
				return false
			}
			w := want[n]
			data, err := SampleData(b, s)
			if err != nil || string(data) != string(w.Data) {
				t.Errorf("track %d sample %d: data differs (%v)", tr.ID, n, err)
				return false
			}
			// The first DTS is the writer's origin; differences must match.
			if s.PTS-s.DTS != w.PTS-w.DTS {
				t.Errorf("track %d sample %d: composition offset %d, want %d", tr.ID, n, s.PTS-s.DTS, w.PTS-w.DTS)
				return false
			}
			if tr.Kind == KindVideo && s.Sync != w.Keyframe {
				t.Errorf("track %d sample %d: sync %v, keyframe %v", tr.ID, n, s.Sync, w.Keyframe)
				return false
			}
			n++
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != len(want) {
			t.Errorf("track %d: parsed %d samples, wrote %d", tr.ID, n, len(want))
		}
	}
}

// writeFragmented records m with a FragmentedWriter and closes it.
func writeFragmented(t testing.TB, m *media, path string, fragment time.Duration) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewFragmentedWriter(f, fragment, m.tracks...)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range m.samples {
		if err := w.WriteSample(m.tracks[ts.track].ID, ts.s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkFragmentedRecording checks a whole fragmented recording against the
// source, then cuts it where a crash could (inside the last moof, inside its
// mdat, one byte short) and checks that RecoverFile leaves a file that
// decodes cleanly with every sample of the complete fragments.
func checkFragmentedRecording(t *testing.T, m *media, ref *reference, dir string, codecs map[string]string) {
	whole := filepath.Join(dir, "frag.mp4")
	writeFragmented(t, m, whole, 500*time.Millisecond)
	ref.check(t, whole, codecs, false)
	checkOwnParse(t, m, whole)

	b, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Fragments) < 2 { // cut at 1 s GOPs, or every 0.5 s without video
		t.Fatalf("%d fragments in 2 s", len(f.Fragments))
	}
	last := f.Fragments[len(f.Fragments)-1]
	for _, cut := range []int64{last.Offset + 10, last.Offset + last.Size + 20, int64(len(b)) - 1} {
		torn := filepath.Join(dir, "torn"+strconv.FormatInt(cut, 10)+".mp4")
		if err := os.WriteFile(torn, b[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		kept, dropped, err := RecoverFile(torn)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if kept != last.Offset || dropped != cut-last.Offset {
			t.Fatalf("cut at %d: kept %d, dropped %d; the last fragment starts at %d", cut, kept, dropped, last.Offset)
		}
		if msg := decodeErrors(t, torn); msg != "" {
			t.Errorf("cut at %d, recovered: %s", cut, msg)
		}
		got := ffprobe(t, torn)
		rb, err := os.ReadFile(torn)
		if err != nil {
			t.Fatal(err)
		}
		rf, err := ParseFile(rb)
		if err != nil {
			t.Fatalf("cut at %d, recovered: %v", cut, err)
		}
		for _, tr := range m.tracks {
			n := 0
			if err := rf.Samples(tr.ID, func(SampleInfo) bool { n++; return true }); err != nil {
				t.Fatal(err)
			}
			kind := tr.Kind.String()
			s := got.Streams[got.stream(t, kind)]
			if s.Packets != strconv.Itoa(n) || n == 0 || n >= len(m.perTrack(trackIndex(m, tr.ID))) {
				t.Errorf("cut at %d: ffprobe reads %s %s packets, the kept fragments hold %d of %d", cut, s.Packets, kind, n, len(m.perTrack(trackIndex(m, tr.ID))))
			}
			comparePTS(t, "recovered "+kind, ref.probe.ptsList(kind), got.ptsList(kind))
		}
	}
}

func trackIndex(m *media, id uint32) int {
	for i, tr := range m.tracks {
		if tr.ID == id {
			return i
		}
	}
	return -1
}
