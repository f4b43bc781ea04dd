package mpegts

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Interop with ffmpeg: ffmpeg makes a transport stream, the demuxer reads
// it, the muxer writes the frames again, and ffprobe must read the result
// as it read ffmpeg's own file. Skipped without ffmpeg.

func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	return p
}

// ffmpegTS makes a transport stream with ffmpeg from lavfi sources.
func ffmpegTS(t testing.TB, dir, name string, codecArgs ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc=size=128x96:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "2"}
	args = append(args, codecArgs...)
	args = append(args, "-f", "mpegts", out)
	cmd := exec.Command(requireTool(t, "ffmpeg"), args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make %s (%v): %s", name, err, b)
	}
	return out
}

type probedStream struct {
	CodecName    string `json:"codec_name"`
	CodecType    string `json:"codec_type"`
	NbReadFrames string `json:"nb_read_frames"`
	Duration     string `json:"duration"`
}

// ffprobeStreams returns the streams ffprobe sees, counting frames by
// decoding them; anything ffprobe prints at -v error fails the test.
func ffprobeStreams(t testing.TB, file string) []probedStream {
	t.Helper()
	cmd := exec.Command(requireTool(t, "ffprobe"), "-v", "error", "-count_frames", "-show_streams", "-of", "json", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe %s: %v: %s", file, err, stderr.String())
	}
	var r struct{ Streams []probedStream }
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	return r.Streams
}

func (s probedStream) seconds(t testing.TB) float64 {
	v, err := strconv.ParseFloat(s.Duration, 64)
	if err != nil {
		t.Fatalf("stream %s duration %q: %v", s.CodecName, s.Duration, err)
	}
	return v
}

func TestFFmpegInterop(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		codecs []string
	}{
		{"h264-aac", []string{"-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-c:a", "aac", "-b:a", "64k"}, []string{"h264", "aac"}},
		{"h265-aac", []string{"-c:v", "libx265", "-x265-params", "log-level=error:bframes=2", "-g", "25", "-c:a", "aac", "-b:a", "64k"}, []string{"hevc", "aac"}},
		{"h264-mp3", []string{"-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "libmp3lame", "-b:a", "64k"}, []string{"h264", "mp3"}},
		{"aac-only", []string{"-vn", "-c:a", "aac", "-b:a", "64k"}, []string{"aac"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := ffmpegTS(t, dir, "src.ts", tt.args...)
			in, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			d := NewDemuxer(bytes.NewReader(in))
			frames, err := readAllFrames(d)
			if err != nil {
				t.Fatal(err)
			}
			if st := d.Stats(); st.ContinuityErrors+st.DroppedPES+st.PSIErrors+st.SkippedBytes != 0 || len(frames) == 0 {
				t.Fatalf("demuxing ffmpeg's file: %d frames, stats %+v", len(frames), st)
			}
			progs := d.Programs()
			if len(progs) != 1 || len(progs[0].Streams) != len(tt.codecs) {
				t.Fatalf("programs %+v", progs)
			}

			// Mux again on castd's PIDs.
			pids := map[uint16]uint16{}
			var streams []Stream
			for i, s := range progs[0].Streams {
				pids[s.PID] = DefaultVideoPID + uint16(i)
				streams = append(streams, Stream{PID: pids[s.PID], Type: s.Type})
			}
			var out bytes.Buffer
			m, err := NewMuxer(&out, MuxerConfig{Streams: streams})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.WriteTables(); err != nil {
				t.Fatal(err)
			}
			for _, f := range frames {
				if f.RandomAccess && f.StreamType.IsVideo() {
					if err := m.WriteTables(); err != nil {
						t.Fatal(err)
					}
				}
				f.PID = pids[f.PID]
				if err := m.WriteFrame(&f); err != nil {
					t.Fatal(err)
				}
			}
			dst := filepath.Join(dir, "castd.ts")
			if err := os.WriteFile(dst, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}

			// Round trip: the same frames come back.
			again := demuxAll(t, out.Bytes())
			if len(again) != len(frames) {
				t.Fatalf("remuxed %d frames, demuxed %d back", len(frames), len(again))
			}
			for i := range frames {
				want := frames[i]
				want.PID = pids[want.PID]
				if !sameFrame(again[i], want) {
					t.Fatalf("frame %d differs after the round trip", i)
				}
			}

			// ffprobe reads both files alike.
			srcProbe, dstProbe := ffprobeStreams(t, src), ffprobeStreams(t, dst)
			if len(dstProbe) != len(tt.codecs) || len(srcProbe) != len(dstProbe) {
				t.Fatalf("streams: ffmpeg's %+v, castd's %+v", srcProbe, dstProbe)
			}
			for i, s := range dstProbe {
				if s.CodecName != tt.codecs[i] || s.NbReadFrames != srcProbe[i].NbReadFrames || s.NbReadFrames == "0" {
					t.Errorf("stream %d: castd's %+v, ffmpeg's %+v", i, s, srcProbe[i])
				}
				if a, b := s.seconds(t), srcProbe[i].seconds(t); math.Abs(a-b) > b/100 || a < 1.5 {
					t.Errorf("stream %d (%s): duration %.3f s, ffmpeg's %.3f s", i, s.CodecName, a, b)
				}
			}
			decodeErrors := exec.Command(requireTool(t, "ffmpeg"), "-v", "error", "-i", dst, "-f", "null", "-")
			if b, err := decodeErrors.CombinedOutput(); err != nil || len(b) > 0 {
				t.Fatalf("decoding castd's file: %v: %s", err, b)
			}
		})
	}
}
