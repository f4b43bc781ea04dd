//go:build cgo && !castd_nolibav

package transcode

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
)

// aacStream is AAC made by ffmpeg: the ASC and the raw frames.
type aacStream struct {
	asc    []byte
	rate   int
	frames [][]byte
}

// pts is the exact timestamp of frame i.
func (s aacStream) pts(i int) time.Duration {
	return samplesToDuration(int64(i)*1024, s.rate)
}

func needFFmpeg(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		tb.Skipf("ffmpeg not installed: %v", err)
	}
}

// makeAAC encodes a 440 Hz sine with ffmpeg's AAC encoder into ADTS and
// splits it into raw frames.
func makeAAC(tb testing.TB, seconds float64, rate, channels int) aacStream {
	tb.Helper()
	needFFmpeg(tb)
	src := fmt.Sprintf("sine=frequency=440:sample_rate=%d:duration=%g", rate, seconds)
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", src,
		"-ac", strconv.Itoa(channels), "-c:a", "aac", "-b:a", "96k", "-f", "adts", "pipe:1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("ffmpeg: %v: %s", err, stderr.String())
	}
	s := aacStream{rate: rate}
	for len(out) > 0 {
		h, err := av.ParseADTSHeader(out)
		if err != nil || h.FrameLength > len(out) {
			tb.Fatalf("ADTS from ffmpeg: %v (frame %d bytes, %d left)", err, h.FrameLength, len(out))
		}
		if s.asc == nil {
			if s.asc, err = h.Config.AudioSpecificConfig(); err != nil {
				tb.Fatal(err)
			}
		}
		s.frames = append(s.frames, out[h.HeaderLength:h.FrameLength])
		out = out[h.FrameLength:]
	}
	if len(s.frames) == 0 {
		tb.Fatal("ffmpeg made no AAC frames")
	}
	return s
}

// makeOpus turns AAC into Opus packets with our own AAC→Opus direction.
func makeOpus(tb testing.TB, seconds float64) []Frame {
	tb.Helper()
	in := makeAAC(tb, seconds, 48000, 2)
	tc, err := NewAACToOpus(in.asc, DefaultBitrate)
	if err != nil {
		tb.Fatal(err)
	}
	defer tc.Close()
	var out []Frame
	for i, f := range in.frames {
		frames, err := tc.Write(f, in.pts(i))
		if err != nil {
			tb.Fatalf("frame %d: %v", i, err)
		}
		for _, o := range frames {
			o.Data = bytes.Clone(o.Data)
			out = append(out, o)
		}
	}
	return out
}

// writeADTS writes raw AAC frames as an ADTS file ffmpeg can read.
func writeADTS(tb testing.TB, asc []byte, frames []Frame) string {
	tb.Helper()
	cfg, err := av.ParseAudioSpecificConfig(asc)
	if err != nil {
		tb.Fatalf("output ASC %x: %v", asc, err)
	}
	var b bytes.Buffer
	for _, f := range frames {
		h := cfg.ADTSHeader(len(f.Data))
		b.Write(h[:])
		b.Write(f.Data)
	}
	path := filepath.Join(tb.TempDir(), "out.aac")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// decodeWithFFmpeg decodes an audio file and returns its decoded duration
// and mean volume; any decoding error fails the test.
func decodeWithFFmpeg(tb testing.TB, path string) (time.Duration, float64) {
	tb.Helper()
	cmd := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-err_detect", "crccheck+bitstream+buffer+explode",
		"-i", path, "-af", "volumedetect", "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("ffmpeg decoding %s: %v\n%s", path, err, out)
	}
	text := string(out)
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(strings.ToLower(line), "error") {
			tb.Errorf("ffmpeg reported: %s", line)
		}
	}
	samples := regexp.MustCompile(`n_samples: (\d+)`).FindStringSubmatch(text)
	mean := regexp.MustCompile(`mean_volume: (-?[\d.]+) dB`).FindStringSubmatch(text)
	if samples == nil || mean == nil {
		tb.Fatalf("no volumedetect result from ffmpeg:\n%s", text)
	}
	n, _ := strconv.ParseInt(samples[1], 10, 64)
	db, _ := strconv.ParseFloat(mean[1], 64)
	// volumedetect counts samples of all channels; the output is stereo 48 kHz.
	return samplesToDuration(n/outputChannels, outputRate), db
}

// opusTOCDuration is the duration of the frames in an Opus packet from its
// TOC byte (RFC 6716 3.1), and their count for codes 0-2.
func opusTOCDuration(toc byte) (frame time.Duration, count int) {
	config := int(toc >> 3)
	us := 0
	switch {
	case config < 12: // SILK
		us = []int{10000, 20000, 40000, 60000}[config%4]
	case config < 16: // hybrid
		us = []int{10000, 20000}[config%2]
	default: // CELT
		us = []int{2500, 5000, 10000, 20000}[config%4]
	}
	count = []int{1, 2, 2, 0}[toc&3] // 0: code 3 carries its own count
	return time.Duration(us) * time.Microsecond, count
}

// irregular returns the PTS steps that differ from each frame's duration by
// more than the nanosecond rounding of 1024 samples at 48 kHz.
func irregular(frames []Frame) []time.Duration {
	var steps []time.Duration
	for i := 1; i < len(frames); i++ {
		if d := frames[i].PTS - frames[i-1].PTS - frames[i-1].Duration; d < -1 || d > 1 {
			steps = append(steps, frames[i].PTS-frames[i-1].PTS)
		}
	}
	return steps
}
