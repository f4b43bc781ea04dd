package mpegps

import (
	"bytes"
	"fmt"
	"testing"
)

// demuxAll feeds data in pieces of size chunk (all at once when 0) and
// flushes at the end.
func demuxAll(d *Demuxer, data []byte, chunk int) []Frame {
	var out []Frame
	if chunk <= 0 {
		chunk = len(data) + 1
	}
	for len(data) > 0 {
		n := min(chunk, len(data))
		out = d.Append(out, data[:n])
		data = data[n:]
	}
	return d.Flush(out)
}

// annexB makes an Annex-B access unit of n bytes whose first NAL unit has
// header hdr (one or two bytes); the rest is a pattern free of start codes.
func annexB(hdr []byte, n int, seed byte) []byte {
	b := append([]byte{0, 0, 0, 1}, hdr...)
	for len(b) < n {
		b = append(b, 0x80|seed+byte(len(b)))
	}
	return b
}

// adts makes one ADTS frame of n bytes (AAC LC, 44.1 kHz, stereo).
func adts(n int) []byte {
	b := []byte{0xff, 0xf1, 0x50, 0x80, byte(n >> 3), byte(n<<5) | 0x1f, 0xfc}
	for len(b) < n {
		b = append(b, byte(len(b)))
	}
	return b
}

func sameFrames(t *testing.T, got, want []Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d frames, want %d:\n%s", len(got), len(want), describe(got))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.StreamID != w.StreamID || g.StreamType != w.StreamType || g.PTS != w.PTS || g.DTS != w.DTS || g.HasDTS != w.HasDTS {
			t.Errorf("frame %d: got id %#x %s pts %d dts %d/%v, want id %#x %s pts %d dts %d/%v", i,
				g.StreamID, g.StreamType, g.PTS, g.DTS, g.HasDTS, w.StreamID, w.StreamType, w.PTS, w.DTS, w.HasDTS)
		}
		if !bytes.Equal(g.Data, w.Data) {
			t.Errorf("frame %d: %d bytes differ from the %d sent", i, len(g.Data), len(w.Data))
		}
	}
}

func describe(fs []Frame) string {
	var b bytes.Buffer
	for _, f := range fs {
		fmt.Fprintf(&b, "  %#x %s pts %d dts %d len %d\n", f.StreamID, f.StreamType, f.PTS, f.DTS, len(f.Data))
	}
	return b.String()
}
