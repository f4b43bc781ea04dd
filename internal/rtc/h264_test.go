package rtc

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/castd/castd/internal/av"
)

// A baseline SPS and its PPS from libx264 (320x240).
var (
	testSPS = mustHex("6742c00dd90141fb011000000300100000030320f142a480")
	testPPS = mustHex("68cb83cb20")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// testSlice is a synthetic slice NAL unit: an IDR (I slice) or a P slice
// whose body carries n as its first bytes and a pattern with no zero byte
// (so no Annex-B emulation can occur), size bytes in all.
func testSlice(idr bool, n, size int) []byte {
	b := make([]byte, 0, size)
	if idr {
		b = append(b, 0x65, 0x88) // first_mb 0, slice_type 7 (I)
	} else {
		b = append(b, 0x41, 0xc0|0x1f) // first_mb 0, slice_type 0 (P)
	}
	b = append(b, byte(n>>14&0x7f)|0x80, byte(n>>7&0x7f)|0x80, byte(n&0x7f)|0x80, byte(n>>8&0x7f)+1, byte(n&0x7f)+1)
	for i := len(b); i < size; i++ {
		b = append(b, byte((i*7+n)%255)+1)
	}
	return b
}

// rtpOf packetizes nalus into RTP packets starting at seq.
func rtpOf(nalus [][]byte, seq uint16, ts uint32, max int) []rtpPacket {
	payloads := packetizeH264(nil, nalus, max, false)
	out := make([]rtpPacket, len(payloads))
	for i, p := range payloads {
		out[i] = rtpPacket{seq: seq + uint16(i), timestamp: ts, marker: i == len(payloads)-1, payload: p}
	}
	return out
}

func TestPacketizeDepacketizeRoundTrip(t *testing.T) {
	frames := [][][]byte{
		{testSPS, testPPS, testSlice(true, 0, 5000)},
		{testSlice(false, 1, 30)},
		{testSlice(false, 2, 1200)}, // exactly one payload
		{testSlice(false, 3, 1201)}, // one byte too many: FU-A
		{testSlice(false, 4, 2500), testSlice(false, 4, 40)},
	}
	d := newH264Depacketizer(nil)
	seq := uint16(65530) // wraps
	var got []*videoFrame
	for i, f := range frames {
		for _, p := range rtpOf(f, seq, uint32(i*3000), rtpMaxPayload) {
			var err error
			got, err = d.push(p, got)
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			seq++
		}
	}
	if len(got) != len(frames) {
		t.Fatalf("got %d frames, want %d", len(got), len(frames))
	}
	for i, f := range got {
		if !equalNALUs(f.units, frames[i]) {
			t.Errorf("frame %d differs", i)
		}
		if f.timestamp != uint32(i*3000) || f.keyframe != (i == 0) {
			t.Errorf("frame %d: timestamp %d keyframe %v", i, f.timestamp, f.keyframe)
		}
	}
}

func equalNALUs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestPacketizeParameterSetsInOneSTAPA(t *testing.T) {
	ps := packetizeH264(nil, [][]byte{testSPS, testPPS, testSlice(true, 0, 100)}, rtpMaxPayload, false)
	if len(ps) != 2 || ps[0][0]&0x1f != nalSTAPA || ps[1][0] != 0x65 {
		t.Fatalf("want STAP-A(SPS,PPS) then the IDR, got %d payloads starting %x", len(ps), ps[0][:1])
	}
	merged := packetizeH264(nil, [][]byte{testSlice(false, 1, 100), testSlice(false, 1, 100)}, rtpMaxPayload, true)
	if len(merged) != 1 || merged[0][0]&0x1f != nalSTAPA {
		t.Fatalf("merge_nalus: want one STAP-A, got %d payloads", len(merged))
	}
	apart := packetizeH264(nil, [][]byte{testSlice(false, 1, 100), testSlice(false, 1, 100)}, rtpMaxPayload, false)
	if len(apart) != 2 {
		t.Fatalf("without merge_nalus: want 2 payloads, got %d", len(apart))
	}
	for _, p := range packetizeH264(nil, [][]byte{testSlice(true, 0, 10000)}, 1000, false) {
		if len(p) > 1000 {
			t.Fatalf("FU-A fragment of %d bytes over the 1000-byte limit", len(p))
		}
	}
}

func TestDepacketizerLossWaitsForKeyframe(t *testing.T) {
	var asked int
	d := newH264Depacketizer(func() { asked++ })
	feed := func(nalus [][]byte, seq uint16, ts uint32, skip int) (frames []*videoFrame) {
		for i, p := range rtpOf(nalus, seq, ts, rtpMaxPayload) {
			if i == skip {
				d.lost()
				continue
			}
			frames, _ = d.push(p, frames)
		}
		return frames
	}
	if got := feed([][]byte{testSlice(false, 0, 100)}, 0, 0, -1); len(got) != 0 {
		t.Fatal("a P frame before any keyframe must be dropped")
	}
	if got := feed([][]byte{testSlice(true, 1, 5000)}, 1, 3000, -1); len(got) != 1 {
		t.Fatal("the keyframe must come out")
	}
	if got := feed([][]byte{testSlice(false, 2, 3000)}, 10, 6000, 1); len(got) != 0 {
		t.Fatal("a frame that lost a fragment must be dropped")
	}
	if asked != 1 {
		t.Fatalf("keyframe requested %d times after a loss, want 1", asked)
	}
	if got := feed([][]byte{testSlice(false, 3, 100)}, 20, 9000, -1); len(got) != 0 {
		t.Fatal("P frames after a loss must wait for a keyframe")
	}
	if got := feed([][]byte{testSlice(true, 4, 100)}, 21, 12000, -1); len(got) != 1 || !got[0].keyframe {
		t.Fatal("the next keyframe must come out")
	}
	if got := feed([][]byte{testSlice(false, 5, 100)}, 22, 15000, -1); len(got) != 1 {
		t.Fatal("P frames after the keyframe must come out")
	}
}

func TestDepacketizerFrameEndsOnTimestampWithoutMarker(t *testing.T) {
	d := newH264Depacketizer(nil)
	if fs, err := d.push(rtpPacket{seq: 1, timestamp: 100, payload: testSlice(true, 0, 50)}, nil); len(fs) != 0 || err != nil { // no marker
		t.Fatalf("a frame without its marker must wait: %v %v", fs, err)
	}
	fs, err := d.push(rtpPacket{seq: 2, timestamp: 200, marker: true, payload: testSlice(false, 1, 50)}, nil)
	if err != nil || len(fs) != 2 || fs[0].timestamp != 100 || fs[1].timestamp != 200 {
		t.Fatalf("both frames must come out: %+v %v", fs, err)
	}
}

func TestDepacketizerMalformed(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
	}{
		{"forbidden bit", []byte{0x85, 1}},
		{"reserved type", []byte{0x1e, 1}},
		{"STAP-B", []byte{nalSTAPB, 0, 1, 2}},
		{"FU-B", []byte{nalFUB, 0x85, 1}},
		{"short FU-A", []byte{nalFUA, 0x85}},
		{"FU-A without start", []byte{nalFUA, 0x05, 1}},
		{"STAP-A empty", []byte{nalSTAPA}},
		{"STAP-A truncated size", []byte{nalSTAPA, 0}},
		{"STAP-A overlong", []byte{nalSTAPA, 0, 9, 0x65}},
		{"STAP-A zero size", []byte{nalSTAPA, 0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newH264Depacketizer(nil)
			if _, err := d.push(rtpPacket{payload: c.payload, marker: true}, nil); err == nil {
				t.Fatal("want an error")
			}
			// The depacketizer recovers at the next keyframe.
			f, err := d.push(rtpPacket{seq: 1, timestamp: 9, marker: true, payload: testSlice(true, 0, 20)}, nil)
			if err != nil || len(f) != 1 {
				t.Fatalf("no recovery: %v", err)
			}
		})
	}
}

// TestDepacketizerSkipsPadding: a padding-only packet (empty once pion
// strips the padding) between a frame's packets neither breaks the frame
// nor makes the depacketizer wait for a keyframe.
func TestDepacketizerSkipsPadding(t *testing.T) {
	keyframes := 0
	d := newH264Depacketizer(func() { keyframes++ })
	if f, err := d.push(rtpPacket{seq: 1, timestamp: 9, marker: true, payload: testSlice(true, 0, 20)}, nil); err != nil || len(f) != 1 {
		t.Fatalf("keyframe: %v %d", err, len(f))
	}
	if f, err := d.push(rtpPacket{seq: 2, timestamp: 9, marker: false}, nil); err != nil || len(f) != 0 {
		t.Fatalf("padding: %v %d frames", err, len(f))
	}
	if f, err := d.push(rtpPacket{seq: 3, timestamp: 12, marker: true, payload: testSlice(false, 0, 20)}, nil); err != nil || len(f) != 1 {
		t.Fatalf("the frame after the padding: %v %d", err, len(f))
	}
	if keyframes != 0 {
		t.Errorf("%d keyframe requests after padding", keyframes)
	}
}

func TestDepacketizerBoundsFrameSize(t *testing.T) {
	d := newH264Depacketizer(nil)
	frag := append([]byte{nalFUA, 0x85}, make([]byte, 1400)...)
	var err error
	for i := 0; i < maxFrameBytes/1400+2 && err == nil; i++ {
		_, err = d.push(rtpPacket{seq: uint16(i), payload: frag}, nil)
		frag[1] = 0x05 // middle fragments after the first
	}
	if err == nil {
		t.Fatal("an endless FU-A must be refused")
	}
}

func TestIsBFrame(t *testing.T) {
	b := []byte{0x01, 0xa0}  // first_mb 0 ("1"), slice_type 1 ("010"): B
	b6 := []byte{0x01, 0x9c} // "1" + "00111" = slice_type 6: B
	for _, c := range []struct {
		nalus [][]byte
		want  bool
	}{
		{[][]byte{testSlice(true, 0, 10)}, false},
		{[][]byte{testSlice(false, 0, 10)}, false},
		{[][]byte{{0x06, 1, 2}, b}, true},
		{[][]byte{b6}, true},
		{[][]byte{testSPS}, false},
	} {
		if got := isBFrame(c.nalus); got != c.want {
			t.Errorf("isBFrame(%x) = %v, want %v", c.nalus, got, c.want)
		}
	}
}

func TestFLVAVCPackets(t *testing.T) {
	sh, err := flvAVCSequenceHeader(testSPS, testPPS)
	if err != nil {
		t.Fatal(err)
	}
	p, err := av.NewPacket(av.KindVideo, 0, sh)
	if err != nil || !p.SequenceHeader || p.Codec != av.CodecH264 {
		t.Fatalf("sequence header: %+v %v", p, err)
	}
	vi, err := av.VideoInfoFromSequenceHeader(p)
	if err != nil || vi.Width != 320 || vi.Height != 240 {
		t.Fatalf("video info %+v, %v", vi, err)
	}
	frame := flvAVCFrame(true, [][]byte{testSlice(true, 0, 30)})
	fp, err := av.NewPacket(av.KindVideo, 40, frame)
	if err != nil || !fp.Keyframe || fp.SequenceHeader {
		t.Fatalf("frame: %+v %v", fp, err)
	}
	tag, _ := fp.VideoTag()
	nalus, err := av.SplitAVCC(frame[tag.PayloadOffset:], 4)
	if err != nil || len(nalus) != 1 || !bytes.Equal(nalus[0], testSlice(true, 0, 30)) || tag.CompositionTime != 0 {
		t.Fatalf("frame NALUs %x, %v", nalus, err)
	}
	if _, err := flvAVCSequenceHeader(testSPS[:3], testPPS); err == nil {
		t.Fatal("a 3-byte SPS must be refused")
	}
}
