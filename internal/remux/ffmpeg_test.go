package remux

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/flv"
)

// Interop: ffmpeg makes FLV files, the remuxers convert them tag by tag as
// the hub would deliver them, and ffprobe/ffmpeg must read the output with
// the right codecs, frame counts and durations, and without errors.

func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	return p
}

// Sources: 2 s of 25 fps video and a 44.1 kHz tone.
var lavfiInputs = []string{
	"-f", "lavfi", "-i", "testsrc=size=160x120:rate=25",
	"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
	"-t", "2",
}

const (
	srcSeconds = 2.0
	srcFPS     = 25
)

func ffmpegMake(t testing.TB, out string, args ...string) {
	t.Helper()
	full := append([]string{"-hide_banner", "-loglevel", "error", "-y"}, lavfiInputs...)
	full = append(append(full, args...), out)
	if b, err := exec.Command(requireTool(t, "ffmpeg"), full...).CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make %s (%v): %s", filepath.Base(out), err, b)
	}
}

// flvPackets reads an FLV file into hub packets.
func flvPackets(t testing.TB, file string) []*av.Packet {
	t.Helper()
	_, tags, err := flv.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var packets []*av.Packet
	for _, tag := range tags {
		if tag.Type != flv.TagAudio && tag.Type != flv.TagVideo {
			continue
		}
		p, err := av.NewPacket(av.Kind(tag.Type), tag.Timestamp, tag.Data)
		if errors.Is(err, av.ErrEmptyPayload) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		packets = append(packets, p)
	}
	return packets
}

// mediaFrames counts the packets that are frames, not sequence headers or
// the end-of-sequence tag ffmpeg ends FLV files with.
func mediaFrames(packets []*av.Packet, kind av.Kind) int {
	n := 0
	for _, p := range packets {
		if p.Kind == kind && isCodedFrame(p) {
			n++
		}
	}
	return n
}

type probeResult struct {
	Streams []struct {
		Index        int    `json:"index"`
		CodecName    string `json:"codec_name"`
		CodecType    string `json:"codec_type"`
		NbReadFrames string `json:"nb_read_frames"`
	} `json:"streams"`
	Packets []struct {
		StreamIndex int    `json:"stream_index"`
		PTSTime     string `json:"pts_time"`
		DTSTime     string `json:"dts_time"`
		DurTime     string `json:"duration_time"`
		Flags       string `json:"flags"`
	} `json:"packets"`
}

type probedStream struct {
	codec        string
	frames       string  // decoded frames
	packets      int     // after ffmpeg's parser split them
	duration     float64 // from the first PTS to the end of the last packet
	ptsBeforeDTS int
	reordered    int // packets with PTS > DTS: B-frames
}

// probe runs ffprobe on file; anything printed at -v error fails the test.
func probe(t testing.TB, file string) []probedStream {
	t.Helper()
	cmd := exec.Command(requireTool(t, "ffprobe"), "-v", "error", "-count_frames", "-show_streams", "-show_packets", "-of", "json", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe %s: %v: %s", filepath.Base(file), err, stderr.String())
	}
	var r probeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	streams := make([]probedStream, len(r.Streams))
	first := make([]float64, len(r.Streams))
	end := make([]float64, len(r.Streams))
	for i, s := range r.Streams {
		streams[i] = probedStream{codec: s.CodecName, frames: s.NbReadFrames}
		first[i], end[i] = math.Inf(1), math.Inf(-1)
	}
	for _, p := range r.Packets {
		var pts, dts, dur float64
		fmt.Sscan(p.PTSTime, &pts)
		fmt.Sscan(p.DTSTime, &dts)
		fmt.Sscan(p.DurTime, &dur)
		s := &streams[p.StreamIndex]
		s.packets++
		if pts < dts {
			s.ptsBeforeDTS++
		}
		if pts > dts {
			s.reordered++
		}
		first[p.StreamIndex] = math.Min(first[p.StreamIndex], pts)
		end[p.StreamIndex] = math.Max(end[p.StreamIndex], pts+dur)
	}
	for i := range streams {
		streams[i].duration = end[i] - first[i]
	}
	return streams
}

// decodeCleanly fails the test if ffmpeg reports anything decoding file.
func decodeCleanly(t testing.TB, file string) {
	t.Helper()
	cmd := exec.Command(requireTool(t, "ffmpeg"), "-v", "error", "-i", file, "-f", "null", "-")
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("decoding %s: %v: %s", filepath.Base(file), err, out)
	}
}

type wantStream struct {
	codec   string
	frames  int
	seconds float64
}

func checkProbe(t testing.TB, file string, want ...wantStream) []probedStream {
	t.Helper()
	got := probe(t, file)
	t.Logf("%s: %+v", filepath.Base(file), got)
	if len(got) != len(want) {
		t.Fatalf("%s: %d streams %+v, want %d", filepath.Base(file), len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.codec != w.codec || g.frames != fmt.Sprint(w.frames) {
			t.Errorf("%s stream %d: %s with %s frames, want %s with %d", filepath.Base(file), i, g.codec, g.frames, w.codec, w.frames)
		}
		if math.Abs(g.duration-w.seconds) > w.seconds/100 {
			t.Errorf("%s stream %d (%s): %.4f s, want %.4f s", filepath.Base(file), i, g.codec, g.duration, w.seconds)
		}
		if g.ptsBeforeDTS > 0 {
			t.Errorf("%s stream %d: %d packets with PTS < DTS", filepath.Base(file), i, g.ptsBeforeDTS)
		}
	}
	decodeCleanly(t, file)
	return got
}

// remuxTS writes packets through a TSWriter to a file.
func remuxTS(t testing.TB, file string, packets []*av.Packet, opts TSOptions) *TSWriter {
	t.Helper()
	var out bytes.Buffer
	tw := newTS(t, &out, opts)
	for _, p := range packets {
		if err := tw.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if st := tw.Stats(); st.Dropped != 0 {
		t.Fatalf("dropped packets: %+v", st)
	}
	return tw
}

// aacSeconds is the duration of n AAC frames at 44.1 kHz.
func aacSeconds(n int) float64 { return float64(n) * 1024 / 44100 }

// mp3Seconds is the duration of n MP3 frames at 44.1 kHz.
func mp3Seconds(n int) float64 { return float64(n) * 1152 / 44100 }

func TestFFmpegFLVToTS(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		opts  TSOptions
		video string
		audio string
	}{
		{"h264-aac-bframes", []string{"-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-c:a", "aac", "-b:a", "64k"}, TSOptions{}, "h264", "aac"},
		{"h264-aac-sample-dts", []string{"-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-c:a", "aac", "-b:a", "64k"}, TSOptions{AudioDTSFromSamples: true, AggregatePureAudio: true}, "h264", "aac"},
		{"h264-mp3", []string{"-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "libmp3lame", "-b:a", "64k"}, TSOptions{}, "h264", "mp3"},
		{"aac-only", []string{"-vn", "-c:a", "aac", "-b:a", "64k"}, TSOptions{}, "", "aac"},
		{"aac-only-hls", []string{"-vn", "-c:a", "aac", "-b:a", "64k"}, TSOptions{AudioDTSFromSamples: true, AggregatePureAudio: true}, "", "aac"},
		{"mp3-only-hls", []string{"-vn", "-c:a", "libmp3lame", "-b:a", "64k"}, TSOptions{AudioDTSFromSamples: true, AggregatePureAudio: true}, "", "mp3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "src.flv")
			ffmpegMake(t, src, append(tt.args, "-f", "flv")...)
			packets := flvPackets(t, src)
			dst := filepath.Join(dir, "out.ts")
			remuxTS(t, dst, packets, tt.opts)

			var want []wantStream
			if tt.video != "" {
				n := mediaFrames(packets, av.KindVideo)
				if n != srcSeconds*srcFPS {
					t.Fatalf("ffmpeg wrote %d video frames", n)
				}
				want = append(want, wantStream{tt.video, n, float64(n) / srcFPS})
			}
			n := mediaFrames(packets, av.KindAudio)
			secs := aacSeconds(n)
			if tt.audio == "mp3" {
				secs = mp3Seconds(n)
			}
			want = append(want, wantStream{tt.audio, n, secs})
			got := checkProbe(t, dst, want...)
			if strings.Contains(tt.name, "bframes") && got[0].reordered == 0 {
				t.Error("no B-frames reached the transport stream")
			}
		})
	}
}

func TestFFmpegRawAudio(t *testing.T) {
	dir := t.TempDir()
	aacFLV, mp3FLV := filepath.Join(dir, "aac.flv"), filepath.Join(dir, "mp3.flv")
	// With video in the source, as a real stream: the writers skip it.
	ffmpegMake(t, aacFLV, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "64k", "-f", "flv")
	ffmpegMake(t, mp3FLV, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libmp3lame", "-b:a", "64k", "-f", "flv")

	packets := flvPackets(t, aacFLV)
	var out bytes.Buffer
	a := NewADTSWriter(&out, nil)
	for _, p := range packets {
		if err := a.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	aacFile := filepath.Join(dir, "out.aac")
	if err := os.WriteFile(aacFile, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	n := mediaFrames(packets, av.KindAudio)
	if st := a.Stats(); st.Frames != uint64(n) || st.Dropped != 0 {
		t.Fatalf("aac stats %+v for %d frames", st, n)
	}
	checkProbe(t, aacFile, wantStream{"aac", n, aacSeconds(n)})

	packets = flvPackets(t, mp3FLV)
	out.Reset()
	m := NewMP3Writer(&out, nil)
	for _, p := range packets {
		if err := m.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	mp3File := filepath.Join(dir, "out.mp3")
	if err := os.WriteFile(mp3File, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	n = mediaFrames(packets, av.KindAudio)
	if st := m.Stats(); st.Frames != uint64(n) || st.Dropped != 0 {
		t.Fatalf("mp3 stats %+v for %d frames", st, n)
	}
	checkProbe(t, mp3File, wantStream{"mp3", n, mp3Seconds(n)})
}

// TestFFmpegHLSSegments cuts segments before keyframes as HLS does, with
// Reset: every segment must play on its own, and together they must hold
// every frame.
func TestFFmpegHLSSegments(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	ffmpegMake(t, src, "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "25", "-c:a", "aac", "-b:a", "64k", "-f", "flv")
	packets := flvPackets(t, src)

	var segs []*bytes.Buffer
	cur := &bytes.Buffer{}
	segs = append(segs, cur)
	tw := newTS(t, cur, TSOptions{})
	for _, p := range packets {
		if IsKeyframe(p) && tw.LastFrame().Kind != 0 {
			cur = &bytes.Buffer{}
			segs = append(segs, cur)
			if err := tw.Reset(cur); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	if len(segs) != 2 {
		t.Fatalf("%d segments for 2 s at a 1 s GOP", len(segs))
	}
	videoFrames, audioFrames := 0, 0
	for i, seg := range segs {
		file := filepath.Join(dir, fmt.Sprintf("seg%d.ts", i))
		if err := os.WriteFile(file, seg.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got := probe(t, file)
		if len(got) != 2 || got[0].codec != "h264" || got[1].codec != "aac" {
			t.Fatalf("segment %d: %+v", i, got)
		}
		var v, a int
		fmt.Sscan(got[0].frames, &v)
		fmt.Sscan(got[1].frames, &a)
		videoFrames += v
		audioFrames += a
		decodeCleanly(t, file)
	}
	if videoFrames != mediaFrames(packets, av.KindVideo) || audioFrames != mediaFrames(packets, av.KindAudio) {
		t.Fatalf("segments decode %d video and %d audio frames, want %d and %d",
			videoFrames, audioFrames, mediaFrames(packets, av.KindVideo), mediaFrames(packets, av.KindAudio))
	}
}

// TestFFmpegHEVCEnhancedRTMP builds an enhanced-RTMP H.265 stream from an
// ffmpeg transport stream (this ffmpeg cannot write H.265 in FLV): the
// demuxer reads the access units, the test wraps them as hvc1 tags with an
// hvcC made from the parameter sets, and the remuxer must give back a
// stream ffprobe reads like the original.
func TestFFmpegHEVCEnhancedRTMP(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.ts")
	ffmpegMake(t, src, "-c:v", "libx265", "-x265-params", "log-level=error:bframes=2:keyint=25", "-c:a", "aac", "-b:a", "64k", "-f", "mpegts")
	packets := hevcPacketsFromTS(t, src)
	dst := filepath.Join(dir, "out.ts")
	remuxTS(t, dst, packets, TSOptions{})
	nv, na := mediaFrames(packets, av.KindVideo), mediaFrames(packets, av.KindAudio)
	if nv != srcSeconds*srcFPS {
		t.Fatalf("%d H.265 frames", nv)
	}
	if got := checkProbe(t, dst, wantStream{"hevc", nv, float64(nv) / srcFPS}, wantStream{"aac", na, aacSeconds(na)}); got[0].reordered == 0 {
		t.Error("no B-frames reached the transport stream")
	}
}

// timedPacket orders packets by DTS, video first on ties, as RTMP would.
type timedPacket struct {
	ms    int64
	video bool
	p     *av.Packet
}

func sortPackets(tp []timedPacket) []*av.Packet {
	sort.SliceStable(tp, func(i, j int) bool {
		if tp[i].ms != tp[j].ms {
			return tp[i].ms < tp[j].ms
		}
		return tp[i].video && !tp[j].video
	})
	out := make([]*av.Packet, len(tp))
	for i := range tp {
		out[i] = tp[i].p
	}
	return out
}
