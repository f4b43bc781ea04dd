package remux

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// Test H.264 parameter sets: their content is opaque to the remuxer.
var (
	testSPS = []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9}
	testPPS = []byte{0x68, 0xeb, 0xe3, 0xcb}
	testVPS = []byte{0x40, 0x01, 0x0c, 0x01}
	// HEVC SPS/PPS NAL headers: types 33 and 34.
	testHEVCSPS = []byte{0x42, 0x01, 0x01, 0x02}
	testHEVCPPS = []byte{0x44, 0x01, 0xc1, 0x72}
	// AAC LC, 44.1 kHz, stereo.
	testASC = []byte{0x12, 0x10}
)

func mustPacket(t testing.TB, kind av.Kind, ms uint32, payload []byte) *av.Packet {
	t.Helper()
	p, err := av.NewPacket(kind, ms, payload)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// avcSequenceHeader builds a legacy FLV AVC sequence header with 4-byte NALU lengths.
func avcSequenceHeader(sps, pps []byte) []byte {
	b := []byte{0x17, 0, 0, 0, 0, 1, sps[1], sps[2], sps[3], 0xff, 0xe1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	return append(b, pps...)
}

// avcFrame builds a legacy FLV AVC frame.
func avcFrame(key bool, ctsMS int32, nalus ...[]byte) []byte {
	first := byte(0x27)
	if key {
		first = 0x17
	}
	b := []byte{first, 1, byte(ctsMS >> 16), byte(ctsMS >> 8), byte(ctsMS)}
	return av.AppendAVCC(b, nalus...)
}

// hevcRecord builds an HEVCDecoderConfigurationRecord around parameter sets,
// with 4-byte NALU lengths. The profile fields are zero: the remuxer only
// needs the length size and the NAL units.
func hevcRecord(vps, sps, pps []byte) []byte {
	b := make([]byte, 23)
	b[0] = 1
	b[13], b[14], b[15], b[16], b[17], b[18] = 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8
	b[21] = 0x0f // one temporal layer, nested, lengthSizeMinusOne 3
	b[22] = 3
	for i, n := range [][]byte{vps, sps, pps} {
		b = append(b, 0x80|byte(av.H265NALVPS+i), 0, 1)
		b = binary.BigEndian.AppendUint16(b, uint16(len(n)))
		b = append(b, n...)
	}
	return b
}

// hevcEnhanced builds an enhanced-RTMP hvc1 tag: a SequenceStart when
// record is set, else CodedFrames (with its CTS) or CodedFramesX when ctsMS is 0.
func hevcEnhanced(key bool, ctsMS int32, record []byte, nalus ...[]byte) []byte {
	return enhancedVideo("hvc1", key, ctsMS, record, nalus...)
}

func enhancedVideo(fourCC string, key bool, ctsMS int32, record []byte, nalus ...[]byte) []byte {
	f := fourCC
	ft := byte(2)
	if key {
		ft = 1
	}
	if record != nil {
		return append([]byte{0x80 | ft<<4 | 0, f[0], f[1], f[2], f[3]}, record...)
	}
	if ctsMS == 0 {
		return av.AppendAVCC([]byte{0x80 | ft<<4 | 3, f[0], f[1], f[2], f[3]}, nalus...)
	}
	b := []byte{0x80 | ft<<4 | 1, f[0], f[1], f[2], f[3], byte(ctsMS >> 16), byte(ctsMS >> 8), byte(ctsMS)}
	return av.AppendAVCC(b, nalus...)
}

func aacSequenceHeader(asc []byte) []byte { return append([]byte{0xaf, 0}, asc...) }
func aacFrame(raw []byte) []byte          { return append([]byte{0xaf, 1}, raw...) }

// mp3Frame builds an FLV MP3 tag around an MPEG-1 Layer III frame header
// (128 kbit/s, 44.1 kHz, stereo) and size bytes of filler.
func mp3Frame(size int) []byte {
	return append([]byte{0x2f, 0xff, 0xfb, 0x90, 0x00}, make([]byte, size)...)
}

func filler(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

func demux(t testing.TB, b []byte) ([]mpegts.Frame, *mpegts.Demuxer) {
	t.Helper()
	d := mpegts.NewDemuxer(bytes.NewReader(b))
	var frames []mpegts.Frame
	for {
		f, err := d.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	st := d.Stats()
	if st.ContinuityErrors+st.DroppedPES+st.PSIErrors+st.SkippedBytes != 0 {
		t.Fatalf("demuxing our own output: %+v", st)
	}
	return frames, d
}

func newTS(t testing.TB, w io.Writer, opts TSOptions) *TSWriter {
	t.Helper()
	tw, err := NewTSWriter(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tw
}

// countTables counts PAT packets in a transport stream.
func countTables(b []byte) int {
	n := 0
	for p := 0; p+mpegts.PacketSize <= len(b); p += mpegts.PacketSize {
		if b[p+1]&0x1f == 0 && b[p+2] == 0 {
			n++
		}
	}
	return n
}
