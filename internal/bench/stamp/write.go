package stamp

import (
	"errors"
	"fmt"

	"github.com/castd/castd/internal/av"
)

// sei NAL unit header bytes, and what precedes the UUID in the RBSP:
// payload type 5 and payload size 32.
const (
	h264SEIHeader  = av.H264NALSEI
	h265SEIHeader0 = av.H265NALPrefixSEI << 1
	h265SEIHeader1 = 0x01 // layer 0, temporal id 0 (plus one)
	payloadSize    = 16 + DataSize
	rbspSize       = 2 + payloadSize + 1 // type, size, payload, trailing bits
)

// AppendStamped appends to dst a copy of the video tag body (an RTMP video
// message body) with a stamp NAL unit inserted, and returns it. tag is the
// parsed header of body, which must be an H.264 or H.265 coded frame;
// lengthSize is the NALU length size of the stream's decoder configuration
// record. It allocates nothing when dst has room for len(body)+64 bytes.
func AppendStamped(dst, body []byte, tag av.VideoTag, lengthSize int, s Stamp) ([]byte, error) {
	if !Stampable(tag) {
		return dst, fmt.Errorf("stamp: %s video packet type %d carries no NAL units to stamp", tag.Codec, tag.PacketType)
	}
	if lengthSize != 1 && lengthSize != 2 && lengthSize != 4 {
		return dst, fmt.Errorf("stamp: NALU length size %d, want 1, 2 or 4", lengthSize)
	}
	if tag.PayloadOffset > len(body) {
		return dst, errors.New("stamp: video tag shorter than its header")
	}
	at := insertPoint(body, tag, lengthSize)
	dst = append(dst, body[:at]...)
	lenAt := len(dst)
	dst = append(dst, 0, 0, 0, 0)[:lenAt+lengthSize]
	naluAt := len(dst)
	dst = appendSEI(dst, tag.Codec, s)
	n := len(dst) - naluAt
	for i := range lengthSize {
		dst[lenAt+i] = byte(n >> (8 * (lengthSize - 1 - i)))
	}
	return append(dst, body[at:]...), nil
}

// Stampable reports whether a video tag is a frame AppendStamped can stamp:
// H.264 or H.265 coded frames, legacy or enhanced RTMP.
func Stampable(tag av.VideoTag) bool {
	if tag.Codec != av.CodecH264 && tag.Codec != av.CodecH265 {
		return false
	}
	if tag.IsCommand() || tag.IsSequenceHeader() {
		return false
	}
	return tag.PacketType == av.VideoPacketCodedFrames || (tag.Enhanced && tag.PacketType == av.VideoPacketCodedFramesX)
}

// insertPoint returns where the stamp goes in body: after a leading access
// unit delimiter, which must stay first, or else before the first NAL unit.
func insertPoint(body []byte, tag av.VideoTag, lengthSize int) int {
	p := tag.PayloadOffset
	if p+lengthSize >= len(body) {
		return p
	}
	n := 0
	for _, c := range body[p : p+lengthSize] {
		n = n<<8 | int(c)
	}
	first := body[p+lengthSize:]
	if n > len(first) {
		return p
	}
	aud := (tag.Codec == av.CodecH264 && av.H264NALUType(first) == av.H264NALAUD) ||
		(tag.Codec == av.CodecH265 && av.H265NALUType(first) == av.H265NALAUD)
	if aud {
		return p + lengthSize + n
	}
	return p
}

// appendSEI appends the stamp's SEI NAL unit (header included, no length).
func appendSEI(dst []byte, codec av.Codec, s Stamp) []byte {
	if codec == av.CodecH265 {
		dst = append(dst, h265SEIHeader0, h265SEIHeader1)
	} else {
		dst = append(dst, h264SEIHeader)
	}
	var rbsp [rbspSize]byte
	rbsp[0], rbsp[1] = av.SEIUserDataUnregistered, payloadSize
	copy(rbsp[2:], UUID)
	s.putData(rbsp[2+16:])
	rbsp[rbspSize-1] = 0x80 // rbsp_stop_one_bit and alignment
	return av.AppendEscapedRBSP(dst, rbsp[:])
}
