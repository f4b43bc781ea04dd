package rtc

import "github.com/castd/castd/internal/av"

// H.265, AV1, VP9 and VP8 travel through the hub as enhanced-RTMP video
// (E-RTMP v1, "ExVideoTagHeader"): the IsExHeader bit, the frame type and
// the packet type in the first byte, then the codec's FourCC. Sequence
// starts carry the codec's configuration record; coded frames carry
// AVCC NAL units (hvc1, with CodedFramesX: no composition time, since
// WebRTC has no B-frames), OBUs (av01) or the frame (vp09, vp08).
const exVideoHeader = 0x80

// Enhanced-RTMP FourCCs, as av reads them.
const (
	fourCCHEVC = "hvc1"
	fourCCAV1  = "av01"
	fourCCVP9  = "vp09"
	fourCCVP8  = "vp08"
)

// appendExVideoHeader appends the 5-byte header of an enhanced video tag.
func appendExVideoHeader(dst []byte, keyframe bool, packetType av.VideoPacketType, fourCC string) []byte {
	frameType := av.VideoFrameInter
	if keyframe {
		frameType = av.VideoFrameKey
	}
	dst = append(dst, exVideoHeader|byte(frameType)<<4|byte(packetType))
	return append(dst, fourCC...)
}

// exSequenceStart is the tag body of a sequence start carrying record.
func exSequenceStart(fourCC string, record []byte) []byte {
	b := make([]byte, 0, 5+len(record))
	b = appendExVideoHeader(b, true, av.VideoPacketSequenceStart, fourCC)
	return append(b, record...)
}

// exCodedFrame is the tag body of one frame: data as it is.
func exCodedFrame(fourCC string, keyframe bool, data []byte) []byte {
	b := make([]byte, 0, 5+len(data))
	b = appendExVideoHeader(b, keyframe, av.VideoPacketCodedFrames, fourCC)
	return append(b, data...)
}

// vpConfig is a VPCodecConfigurationRecord ("VP Codec ISO Media File
// Format Binding" 2.2: the vpcC box's content after its version and
// flags), the body of a vp09 or vp08 sequence start.
type vpConfig struct {
	profile, level              uint8
	bitDepth                    uint8 // 8, 10 or 12
	chromaSubsampling           uint8 // 0 4:2:0 vertical, 1 4:2:0 colocated, 2 4:2:2, 3 4:4:4
	fullRange                   bool
	primaries, transfer, matrix uint8 // ISO/IEC 23091-2 code points; 2 is unspecified
}

// record returns the 8-byte record; castd sends no codec initialization data.
func (c vpConfig) record() []byte {
	b := c.bitDepth<<4 | c.chromaSubsampling<<1
	if c.fullRange {
		b |= 1
	}
	return []byte{c.profile, c.level, b, c.primaries, c.transfer, c.matrix, 0, 0}
}

// vpLevel is the VP9 level (times ten) whose picture size limit fits a
// picture of w×h (VP9 levels, Annex A): the level a decoder needs at least.
func vpLevel(w, h int) uint8 {
	levels := [...]struct {
		samples int
		level   uint8
	}{
		{36864, 10}, {73728, 11}, {122880, 20}, {245760, 21}, {552960, 30}, {983040, 31},
		{2228224, 40}, {8912896, 50}, {35651584, 60},
	}
	for _, l := range levels {
		if w*h <= l.samples {
			return l.level
		}
	}
	return 62
}
