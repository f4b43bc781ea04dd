package remux

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/format/mpegts"
)

// Interop for TSToFLV: ffmpeg makes transport streams as SRT publishers
// send them; the converted packets, written to FLV (or muxed back to TS
// for H.265, which this ffmpeg cannot read from FLV), must decode cleanly
// with every frame.

// convertFile demuxes a transport stream file and converts every frame.
func convertFile(t testing.TB, file string, opts TSToFLVOptions) ([]*av.Packet, TSToFLVStats) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d := mpegts.NewDemuxer(bytes.NewReader(b))
	c := NewTSToFLV(opts)
	var out []*av.Packet
	for {
		f, err := d.ReadFrame()
		if err != nil {
			break
		}
		out = c.AppendPackets(out, &f)
	}
	return out, c.Stats()
}

// writeFLV writes packets as an FLV file.
func writeFLV(t testing.TB, file string, packets []*av.Packet) {
	t.Helper()
	var buf bytes.Buffer
	w, err := flv.NewWriter(&buf, flv.Header{HasAudio: true, HasVideo: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packets {
		if err := w.WriteTag(flv.Tag{Type: uint8(p.Kind), Timestamp: p.Timestamp, Data: p.Payload}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sourceFrames(t testing.TB, file string) (video, audio int) {
	t.Helper()
	for _, s := range probe(t, file) {
		var n int
		fmt.Sscan(s.frames, &n)
		switch s.codec {
		case "h264", "hevc":
			video = n
		default:
			audio = n
		}
	}
	return video, audio
}

func TestFFmpegTSToFLV(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		video, audio string
	}{
		{"h264-aac-bframes", []string{"-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-c:a", "aac", "-b:a", "64k"}, "h264", "aac"},
		{"h264-mp3", []string{"-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "libmp3lame", "-b:a", "64k"}, "h264", "mp3"},
		{"hevc-aac-bframes", []string{"-c:v", "libx265", "-x265-params", "log-level=error:bframes=2:keyint=25", "-c:a", "aac", "-b:a", "64k"}, "hevc", "aac"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "src.ts")
			ffmpegMake(t, src, append(tt.args, "-f", "mpegts")...)
			wantV, wantA := sourceFrames(t, src)
			if wantV != srcSeconds*srcFPS || wantA == 0 {
				t.Fatalf("ffmpeg made %d video and %d audio frames", wantV, wantA)
			}
			packets, st := convertFile(t, src, TSToFLVOptions{})
			if st.VideoFrames != uint64(wantV) || st.AudioFrames != uint64(wantA) || st.Dropped != 0 {
				t.Fatalf("converted %+v, want %d video and %d audio frames", st, wantV, wantA)
			}
			if first := packets[0].Timestamp; first > 100 {
				t.Errorf("the stream starts at %d ms, want near 0", first)
			}
			secsA := aacSeconds(wantA)
			if tt.audio == "mp3" {
				secsA = mp3Seconds(wantA)
			}
			var got []probedStream
			if tt.video == "hevc" {
				out := filepath.Join(dir, "out.ts")
				remuxTS(t, out, packets, TSOptions{})
				got = checkProbe(t, out, wantStream{"hevc", wantV, float64(wantV) / srcFPS}, wantStream{tt.audio, wantA, secsA})
			} else {
				out := filepath.Join(dir, "out.flv")
				writeFLV(t, out, packets)
				got = checkProbe(t, out, wantStream{tt.video, wantV, float64(wantV) / srcFPS}, wantStream{tt.audio, wantA, secsA})
			}
			if tt.name != "h264-mp3" && got[0].reordered == 0 {
				t.Error("no B-frames survived the conversion")
			}
		})
	}
}

// TestFFmpegFLVThroughTS: an ffmpeg FLV stream muxed to TS by TSWriter and
// converted back gives the same frames and headers (the round trip an RTMP
// stream makes through an SRT relay).
func TestFFmpegFLVThroughTS(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	ffmpegMake(t, src, "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-c:a", "aac", "-b:a", "64k", "-f", "flv")
	in := flvPackets(t, src)
	out, c := convertAll(tsOf(t, in), TSToFLVOptions{})
	wantV, wantA := describe(t, in)
	gotV, gotA := describe(t, out)
	sameLists(t, "video", gotV, wantV)
	sameLists(t, "audio", gotA, wantA)
	if st := c.Stats(); st.Dropped != 0 || len(gotV) != srcSeconds*srcFPS+1 {
		t.Errorf("stats %+v, %d video packets", st, len(gotV))
	}
}
