package mpegps

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Interop with ffmpeg: its MPEG-2 program stream (vob) and MPEG-1 system
// stream (mpeg) muxers are demuxed here, and ffprobe reads what the Muxer
// writes.

func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	return p
}

func ffmpeg(t testing.TB, args ...string) {
	t.Helper()
	full := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)
	if out, err := exec.Command(requireTool(t, "ffmpeg"), full...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v: %s", args, err, out)
	}
}

// h264File encodes 2 s of 25 fps H.264 with an AUD before each frame.
func h264File(t testing.TB, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "v.h264")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast",
		"-pix_fmt", "yuv420p", "-g", "25", "-bsf:v", "h264_metadata=aud=insert", "-f", "h264", out)
	return out
}

func TestDemuxFFmpegProgramStreams(t *testing.T) {
	dir := t.TempDir()
	es, err := os.ReadFile(h264File(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"vob", "mpeg"} {
		ps := filepath.Join(dir, "v."+format)
		ffmpeg(t, "-f", "h264", "-i", filepath.Join(dir, "v.h264"), "-c", "copy", "-f", format, ps)
		data, err := os.ReadFile(ps)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDemuxer()
		frames := demuxAll(d, data, 1400)
		var joined []byte
		last := int64(-1)
		for _, f := range frames {
			if !IsVideoID(f.StreamID) || f.StreamType != StreamTypeH264 {
				t.Fatalf("%s: frame of stream %#x %s", format, f.StreamID, f.StreamType)
			}
			if f.PTS <= last {
				t.Errorf("%s: PTS %d after %d", format, f.PTS, last)
			}
			last = f.PTS
			joined = append(joined, f.Data...)
		}
		// ffmpeg's packs do not follow frames, so only the bytes in order
		// can be compared: they must be the elementary stream, unchanged.
		if !bytes.Equal(joined, es) {
			t.Errorf("%s: %d bytes demuxed, want the %d of the elementary stream", format, len(joined), len(es))
		}
		if st := d.Stats(); st.Resyncs != 0 || st.DroppedPES != 0 || st.Packs == 0 {
			t.Errorf("%s: stats %+v", format, st)
		}
	}
}

// splitAUD cuts an Annex-B stream before each access unit delimiter.
func splitAUD(es []byte) [][]byte {
	aud := []byte{0, 0, 0, 1, 0x09}
	var out [][]byte
	for len(es) > 0 {
		i := bytes.Index(es[1:], aud)
		if i < 0 {
			return append(out, es)
		}
		out = append(out, es[:1+i])
		es = es[1+i:]
	}
	return out
}

func TestFFprobeReadsMuxerOutput(t *testing.T) {
	dir := t.TempDir()
	es, err := os.ReadFile(h264File(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	aus := splitAUD(es)
	if len(aus) != 50 {
		t.Fatalf("%d access units, want 50", len(aus))
	}
	m := NewMuxer(gbStreams[0])
	var out []byte
	for i, au := range aus {
		pts := int64(i) * 3600
		out = m.AppendFrame(out, Frame{StreamID: StreamIDVideo, PTS: pts, DTS: pts, Data: au}, i%25 == 0)
	}
	out = m.AppendEnd(out)
	file := filepath.Join(dir, "out.mpg")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := exec.Command(requireTool(t, "ffprobe"), "-v", "error", "-of", "json", "-count_frames", "-show_streams", file).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var r struct {
		Streams []struct {
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Streams) != 1 || r.Streams[0].CodecName != "h264" || r.Streams[0].Width != 160 || r.Streams[0].NbReadFrames != "50" {
		t.Errorf("ffprobe: %s", raw)
	}
	// And back through the demuxer, frame for frame.
	got := demuxAll(NewDemuxer(), out, 1400)
	if len(got) != 50 || !bytes.Equal(got[49].Data, aus[49]) || got[49].PTS != 49*3600 {
		t.Errorf("demuxed %d frames", len(got))
	}
}
