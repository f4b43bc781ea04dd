package flv

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFFmpegFileRoundTrip reads a whole FLV file made by ffmpeg and writes its
// tags back: the result must be byte-identical. With DVR-style updated
// metadata, ffprobe must read the new duration. Skipped without ffmpeg.
func TestFFmpegFileRoundTrip(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000",
		"-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-g", "5", "-c:a", "aac", "-b:a", "16k",
		"-f", "flv", src)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("ffmpeg cannot make a test file (%v): %s", err, out)
	}
	h, tags, err := ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var kinds [32]int
	for _, tag := range tags {
		kinds[tag.Type]++
	}
	if !h.HasAudio || !h.HasVideo || kinds[TagScript] != 1 || kinds[TagVideo] < 10 || kinds[TagAudio] < 5 {
		t.Fatalf("header %+v, script/video/audio tags %d/%d/%d", h, kinds[TagScript], kinds[TagVideo], kinds[TagAudio])
	}

	var buf bytes.Buffer
	w, err := NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		if err := w.WriteTag(tag); err != nil {
			t.Fatal(err)
		}
	}
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), orig) {
		t.Fatalf("rewritten file differs: %d bytes vs %d", buf.Len(), len(orig))
	}

	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		return
	}
	meta, err := SetMetadataNumbers(tags[0].Data, map[string]float64{"duration": 42.5})
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "dst.flv")
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	w, err = NewWriter(bw, h)
	if err != nil {
		t.Fatal(err)
	}
	tags[0].Data = meta
	for _, tag := range tags {
		if err := w.WriteTag(tag); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", dst).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	if d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err != nil || d != 42.5 {
		t.Fatalf("ffprobe duration %q, want 42.5", out)
	}
}
