package mp4

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/flv"
)

// Real media for the interop tests: ffmpeg makes an FLV from lavfi sources,
// its tags become castd packets, and the packets become tracks and samples
// exactly as castd's DASH and DVR builders will do it.

// media is a stream as castd sees it: tracks and the samples in arrival
// order (tracks interleaved as in the source).
type media struct {
	tracks  []Track
	samples []trackSample
}

type trackSample struct {
	track int // index in tracks
	s     Sample
}

// perTrack returns the samples of track i in order.
func (m *media) perTrack(i int) []Sample {
	var out []Sample
	for _, ts := range m.samples {
		if ts.track == i {
			out = append(out, ts.s)
		}
	}
	return out
}

func requireFFmpeg(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

// runFFmpeg runs ffmpeg quietly and fails the test on error.
func runFFmpeg(t testing.TB, args ...string) {
	t.Helper()
	args = append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// lavfiInputs are two seconds of 25 fps video and a tone.
func lavfiInputs(video, audio bool, rate int) []string {
	var args []string
	if video {
		args = append(args, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=2")
	}
	if audio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate="+strconv.Itoa(rate)+":duration=2")
	}
	return args
}

// packetsFromFLV reads an FLV file into castd packets.
func packetsFromFLV(t testing.TB, path string) []*av.Packet {
	t.Helper()
	_, tags, err := flv.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*av.Packet
	for _, tag := range tags {
		if tag.Type != flv.TagAudio && tag.Type != flv.TagVideo {
			continue
		}
		p, err := av.NewPacket(av.Kind(tag.Type), tag.Timestamp, tag.Data)
		if err != nil {
			t.Fatalf("packet at %d ms: %v", tag.Timestamp, err)
		}
		out = append(out, p)
	}
	return out
}

// mediaFromPackets builds tracks from the sequence headers (or the first MP3
// frame) and samples from the frames, as a castd muxer would.
func mediaFromPackets(t testing.TB, packets []*av.Packet) *media {
	t.Helper()
	m := &media{}
	index := map[av.Kind]int{}
	for _, p := range packets {
		i, known := index[p.Kind]
		if !known {
			var tr Track
			var err error
			switch {
			case p.SequenceHeader:
				tr, err = TrackFromSequenceHeader(p)
			case p.Codec == av.CodecMP3:
				tr, err = TrackFromMP3Frame(p)
			default:
				t.Fatalf("%s frame before its sequence header", p.Codec)
			}
			if err != nil {
				t.Fatalf("track from %s packet: %v", p.Codec, err)
			}
			i = len(m.tracks)
			index[p.Kind] = i
			m.tracks = append(m.tracks, tr)
		}
		s, err := m.tracks[i].SampleFromPacket(p)
		if errors.Is(err, ErrNoSample) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		m.samples = append(m.samples, trackSample{i, s})
	}
	return m
}

func mediaFromFLV(t testing.TB, path string) *media {
	return mediaFromPackets(t, packetsFromFLV(t, path))
}

// writeProgressive writes m with a FileWriter.
func writeProgressive(t testing.TB, m *media, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewFileWriter(f, m.tracks...)
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

// writeSegments writes an init segment for the tracks and one media segment
// per track per GOP, cut at video keyframes (or every 50 audio frames for
// audio-only media), as a DASH packager does. The last sample of each
// segment gets the gap to the next segment as its duration.
func writeSegments(t testing.TB, m *media, dir string, trackIdx ...int) []string {
	t.Helper()
	var tracks []Track
	for _, i := range trackIdx {
		tracks = append(tracks, m.tracks[i])
	}
	init, err := InitSegment(tracks...)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(dir, "init.mp4")}
	if err := os.WriteFile(files[0], init, 0o644); err != nil {
		t.Fatal(err)
	}
	// Cut points: DTS (in seconds) of video keyframes, or every 50th sample.
	var cuts []float64
	for _, ts := range m.samples {
		tr := m.tracks[ts.track]
		if tr.Kind == KindVideo && ts.s.Keyframe {
			cuts = append(cuts, float64(ts.s.DTS)/float64(tr.Timescale))
		}
	}
	if len(cuts) == 0 {
		for n, s := range m.perTrack(trackIdx[0]) {
			if n%50 == 0 {
				cuts = append(cuts, float64(s.DTS)/float64(m.tracks[trackIdx[0]].Timescale))
			}
		}
	}
	cuts = append(cuts, math.Inf(1))
	seq := uint32(1)
	for c := 0; c+1 < len(cuts); c++ {
		for _, i := range trackIdx {
			tr := m.tracks[i]
			all := m.perTrack(i)
			var seg []Sample
			var next *Sample
			for k := range all {
				sec := float64(all[k].DTS) / float64(tr.Timescale)
				if sec >= cuts[c+1] {
					next = &all[k]
					break
				}
				if sec >= cuts[c] || (c == 0 && sec < cuts[0]) {
					seg = append(seg, all[k])
				}
			}
			if len(seg) == 0 {
				continue
			}
			if next != nil {
				seg[len(seg)-1].Duration = uint32(next.DTS - seg[len(seg)-1].DTS)
			}
			b, err := MediaSegment(seq, tr, seg, uint64(seg[0].DTS))
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(dir, "seg"+strconv.Itoa(int(seq))+".m4s")
			if err := os.WriteFile(name, b, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, name)
			seq++
		}
	}
	return files
}

func concatFiles(t testing.TB, dst string, files []string) {
	t.Helper()
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if err := os.WriteFile(dst, all, 0o644); err != nil {
		t.Fatal(err)
	}
}

// probe is what ffprobe reports about a file.
type probe struct {
	Streams []struct {
		CodecName  string `json:"codec_name"`
		CodecType  string `json:"codec_type"`
		CodecTag   string `json:"codec_tag_string"`
		Width      int    `json:"width"`
		Height     int    `json:"height"`
		SampleRate string `json:"sample_rate"`
		Channels   int    `json:"channels"`
		Packets    string `json:"nb_read_packets"`
		StartTime  string `json:"start_time"`
		Duration   string `json:"duration"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
	Packets []struct {
		CodecType string `json:"codec_type"`
		PTS       string `json:"pts_time"`
		DTS       string `json:"dts_time"`
		Flags     string `json:"flags"`
	} `json:"packets"`
}

func ffprobe(t testing.TB, path string) probe {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_packets",
		"-show_entries", "stream=codec_name,codec_type,codec_tag_string,width,height,sample_rate,channels,nb_read_packets,start_time,duration:format=duration:packet=codec_type,pts_time,dts_time,flags",
		"-of", "json", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	return p
}

func (p probe) stream(t testing.TB, kind string) (i int) {
	t.Helper()
	for i, s := range p.Streams {
		if s.CodecType == kind {
			return i
		}
	}
	t.Fatalf("no %s stream in %+v", kind, p.Streams)
	return -1
}

// ptsList returns the presentation times of one kind of packet, in ms.
func (p probe) ptsList(kind string) []float64 {
	var out []float64
	for _, pk := range p.Packets {
		if pk.CodecType == kind {
			v, _ := strconv.ParseFloat(pk.PTS, 64)
			out = append(out, v*1000)
		}
	}
	return out
}

func parseSeconds(t testing.TB, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return v
}

// rebase subtracts the smallest value from every value.
func rebase(v []float64) {
	least := math.Inf(1)
	for _, x := range v {
		least = min(least, x)
	}
	for i := range v {
		v[i] -= least
	}
}

// reordered reports presentation times out of decode order (B-frames).
func reordered(pts []float64) bool {
	for i := 1; i < len(pts); i++ {
		if pts[i] < pts[i-1] {
			return true
		}
	}
	return false
}

// decodeErrors decodes the whole file and returns what ffmpeg complains about.
func decodeErrors(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil {
		return err.Error() + ": " + string(out)
	}
	return string(out)
}

// reference is a source file and what ffprobe says of it, to compare the
// files made from it with.
type reference struct {
	path  string
	probe probe
}

func newReference(t testing.TB, path string) *reference {
	return &reference{path: path, probe: ffprobe(t, path)}
}

// check compares an MP4 with the source it came from: the same streams,
// codecs, sizes and rates, packet counts, durations within 1%, presentation
// times per packet within 1 ms, and a clean decode. relative compares times
// from each file's first presentation time, for a source MP4 whose edit
// list shifts them.
func (r *reference) check(t *testing.T, mp4 string, wantCodecs map[string]string, relative bool) {
	t.Helper()
	if msg := decodeErrors(t, mp4); msg != "" {
		t.Errorf("%s does not decode cleanly: %s", filepath.Base(mp4), msg)
	}
	src, got := r.probe, ffprobe(t, mp4)
	if len(got.Streams) != len(src.Streams) {
		t.Fatalf("%s has %d streams, source %d", filepath.Base(mp4), len(got.Streams), len(src.Streams))
	}
	for _, kind := range []string{"video", "audio"} {
		want, ok := wantCodecs[kind]
		if !ok {
			continue
		}
		s, g := src.Streams[src.stream(t, kind)], got.Streams[got.stream(t, kind)]
		if g.CodecName != want || g.Width != s.Width || g.Height != s.Height || g.SampleRate != s.SampleRate || g.Channels != s.Channels {
			t.Errorf("%s %s stream %+v, source %+v", filepath.Base(mp4), kind, g, s)
		}
		if g.Packets != s.Packets {
			t.Errorf("%s has %s %s packets, source %s", filepath.Base(mp4), g.Packets, kind, s.Packets)
		}
		sp, gp := src.ptsList(kind), got.ptsList(kind)
		if relative {
			rebase(sp)
			rebase(gp)
		}
		comparePTS(t, filepath.Base(mp4)+" "+kind, sp, gp)
	}
	sd, gd := parseSeconds(t, src.Format.Duration), parseSeconds(t, got.Format.Duration)
	if math.Abs(gd-sd) > 0.01*sd {
		t.Errorf("%s lasts %.3f s, source %.3f s", filepath.Base(mp4), gd, sd)
	}
}

// comparePTS checks that the first len(got) presentation times match the
// source's within 1 ms.
func comparePTS(t *testing.T, what string, src, got []float64) {
	t.Helper()
	if len(got) > len(src) {
		t.Errorf("%s: %d packets, source %d", what, len(got), len(src))
		return
	}
	for i := range got {
		if math.Abs(src[i]-got[i]) > 1 {
			t.Errorf("%s packet %d pts %.3f ms, source %.3f ms", what, i, got[i], src[i])
			return
		}
	}
}
