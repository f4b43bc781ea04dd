package mp4

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/castd/castd/internal/av"
)

// ffmpeg 5.1 cannot write HEVC or AV1 into FLV, so these tests take the
// configuration record and frames from an MP4 that ffmpeg made (read with
// this package's parser) and wrap them as enhanced-RTMP messages, as OBS
// publishes them.

// ertmpPacketsFromMP4 returns enhanced-RTMP video packets for the video
// track of an MP4: a SequenceStart with its record, then one coded frame per
// sample. withTD prepends a temporal delimiter OBU to AV1 frames.
func ertmpPacketsFromMP4(t *testing.T, path, fourCC string, withTD bool) []*av.Packet {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Movie == nil || len(f.Movie.Tracks) != 1 {
		t.Fatalf("%s: want one track, have %+v", path, f.Movie)
	}
	tr := f.Movie.Tracks[0]
	if tr.Entry.Format != fourCC || len(tr.Entry.Config) == 0 {
		t.Fatalf("%s: sample entry %q with %d config bytes", path, tr.Entry.Format, len(tr.Entry.Config))
	}
	const (
		exHeader       = 0x80
		keyFrame       = 1 << 4
		interFrame     = 2 << 4
		sequenceStart  = 0
		codedFrames    = 1
		codedFramesNoC = 3
	)
	newPacket := func(ts uint32, body []byte) *av.Packet {
		p, err := av.NewPacket(av.KindVideo, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := append([]byte{exHeader | keyFrame | sequenceStart}, fourCC...)
	packets := []*av.Packet{newPacket(0, append(header, tr.Entry.Config...))}
	ms := func(ticks int64) int64 { return ticks * 1000 / int64(tr.Timescale) }
	err = f.Samples(tr.ID, func(s SampleInfo) bool {
		data, err := SampleData(b, s)
		if err != nil {
			t.Fatal(err)
		}
		frame := byte(interFrame)
		if s.Sync {
			frame = keyFrame
		}
		var body []byte
		if fourCC == "hvc1" {
			cts := ms(s.PTS) - ms(s.DTS)
			body = append([]byte{exHeader | frame | codedFrames}, fourCC...)
			body = append(body, byte(cts>>16), byte(cts>>8), byte(cts))
		} else {
			body = append([]byte{exHeader | frame | codedFramesNoC}, fourCC...)
			if withTD {
				body = append(body, 0x12, 0x00) // OBU_TEMPORAL_DELIMITER, has_size, size 0
			}
		}
		packets = append(packets, newPacket(uint32(ms(s.DTS)), append(body, data...)))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return packets
}

func TestFFmpegEnhancedRTMPVideo(t *testing.T) {
	requireFFmpeg(t)
	cases := []struct {
		name, fourCC, codec string
		encoder             []string
		withTD              bool
	}{
		{"hevc", "hvc1", "hevc", []string{"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:bframes=3:keyint=25", "-tag:v", "hvc1"}, false},
		{"av1", "av01", "av1", []string{"-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1", "-g", "25"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			src := filepath.Join(dir, "src.mp4")
			runFFmpeg(t, append(append(lavfiInputs(true, false, 0), c.encoder...), src)...)
			ref := newReference(t, src)
			m := mediaFromPackets(t, ertmpPacketsFromMP4(t, src, c.fourCC, c.withTD))
			if len(m.tracks) != 1 || m.tracks[0].Width != 160 || m.tracks[0].Height != 120 {
				t.Fatalf("tracks %+v", m.tracks)
			}
			codecs := map[string]string{"video": c.codec}

			prog := filepath.Join(dir, "prog.mp4")
			writeProgressive(t, m, prog)
			ref.check(t, prog, codecs, true)
			checkOwnParse(t, m, prog)
			checkSameSampleData(t, src, prog)

			segDir := filepath.Join(dir, "seg")
			if err := os.Mkdir(segDir, 0o755); err != nil {
				t.Fatal(err)
			}
			all := filepath.Join(dir, "all.mp4")
			concatFiles(t, all, writeSegments(t, m, segDir, 0))
			ref.check(t, all, codecs, true)
			checkSameSampleData(t, src, all)
		})
	}
}

// checkSameSampleData checks that the frames of a written file are the
// source MP4's, byte for byte (for AV1: the temporal delimiters the RTMP
// packets carried are gone again).
func checkSameSampleData(t *testing.T, srcPath, gotPath string) {
	t.Helper()
	frames := func(path string) [][]byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := ParseFile(b)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]byte
		if err := f.Samples(f.Movie.Tracks[0].ID, func(s SampleInfo) bool {
			d, err := SampleData(b, s)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	src, got := frames(srcPath), frames(gotPath)
	if len(src) != len(got) {
		t.Fatalf("%d frames, source %d", len(got), len(src))
	}
	for i := range src {
		if string(src[i]) != string(got[i]) {
			t.Fatalf("frame %d differs: %d bytes, source %d", i, len(got[i]), len(src[i]))
		}
	}
}
