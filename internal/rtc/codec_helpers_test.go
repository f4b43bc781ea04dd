package rtc

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/castd/castd/internal/av"
)

// testVideoFrame is one frame of testdata/video as an encoder gave it: a
// VP8 or VP9 frame, an AV1 temporal unit (OBUs with sizes, a temporal
// delimiter first) or an H.265 access unit in Annex B.
type testVideoFrame struct {
	data []byte
	key  bool
}

// testVideo reads the test video of a codec (see testdata/video/README.md):
// 50 frames, key frames at 0 and 25.
func testVideo(t testing.TB, codec av.Codec) []testVideoFrame {
	t.Helper()
	var frames [][]byte
	switch codec {
	case av.CodecVP8:
		frames = readIVF(t, "vp8.ivf")
	case av.CodecVP9:
		frames = readIVF(t, "vp9.ivf")
	case av.CodecAV1:
		frames = readIVF(t, "av1.ivf")
	case av.CodecH265:
		frames = readAnnexBAUs(t, "h265.hevc")
	default:
		t.Fatalf("no test video for %s", codec)
	}
	if len(frames) != 50 {
		t.Fatalf("%s test video has %d frames, want 50", codec, len(frames))
	}
	out := make([]testVideoFrame, len(frames))
	for i, f := range frames {
		out[i] = testVideoFrame{data: f, key: i%25 == 0}
	}
	return out
}

// readIVF returns the frames of an IVF file: a 32-byte header, then each
// frame behind its 4-byte little-endian size and 8-byte timestamp.
func readIVF(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "video", name))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		t.Fatalf("%s is not IVF", name)
	}
	var frames [][]byte
	for p := int(binary.LittleEndian.Uint16(b[6:])); p < len(b); {
		if p+12 > len(b) {
			t.Fatalf("%s: truncated frame header", name)
		}
		n := int(binary.LittleEndian.Uint32(b[p:]))
		p += 12
		if p+n > len(b) {
			t.Fatalf("%s: truncated frame", name)
		}
		frames = append(frames, b[p:p+n])
		p += n
	}
	return frames
}

// readAnnexBAUs splits an H.265 Annex-B file into access units at its AUDs.
func readAnnexBAUs(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "video", name))
	if err != nil {
		t.Fatal(err)
	}
	nalus, err := av.SplitAnnexB(b)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][]byte
	var cur []byte
	for _, n := range nalus {
		if av.H265NALUType(n) == av.H265NALAUD && cur != nil {
			aus, cur = append(aus, cur), nil
		}
		cur = append(append(cur, 0, 0, 0, 1), n...)
	}
	return append(aus, cur)
}

// rtpPacketsOf numbers payloads as one frame's packets from seq on.
func rtpPacketsOf(payloads [][]byte, seq uint16, ts uint32) []rtpPacket {
	out := make([]rtpPacket, len(payloads))
	for i, p := range payloads {
		out[i] = rtpPacket{seq: seq + uint16(i), timestamp: ts, marker: i == len(payloads)-1, payload: p}
	}
	return out
}

// depacketizeAll pushes every packet through d and returns the frames.
func depacketizeAll(t testing.TB, d *depacketizer, pkts []rtpPacket) []*videoFrame {
	t.Helper()
	var frames []*videoFrame
	for _, p := range pkts {
		var err error
		if frames, err = d.push(p, frames); err != nil {
			t.Fatalf("packet %d: %v", p.seq, err)
		}
	}
	return frames
}

// canonicalAV1 returns a temporal unit as castd's ingest gives it: OBUs
// with minimal sizes, without temporal delimiters, tile lists or padding.
func canonicalAV1(t testing.TB, tu []byte) []byte {
	t.Helper()
	obus, err := splitOBUs(tu)
	if err != nil {
		t.Fatalf("test AV1 temporal unit: %v", err)
	}
	var out []byte
	for _, o := range obus {
		switch o.typ {
		case obuTemporalDelim, obuTileList, obuPadding:
			continue
		}
		out = o.appendSized(out)
	}
	return out
}

// slicesOf returns the VCL NAL units (the pictures' slices) of an
// H.265 access unit in Annex B.
func slicesOf(t testing.TB, au []byte) [][]byte {
	t.Helper()
	nalus, err := av.SplitAnnexB(au)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, n := range nalus {
		if av.H265NALUType(n) < 32 {
			out = append(out, n)
		}
	}
	return out
}

func joinUnits(units [][]byte) []byte { return bytes.Join(units, nil) }
