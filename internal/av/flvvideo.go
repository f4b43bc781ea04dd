package av

import (
	"errors"
	"fmt"
)

// VideoFrameType is the FLV video frame type (the high bits of the first byte).
type VideoFrameType uint8

const (
	VideoFrameKey          VideoFrameType = 1
	VideoFrameInter        VideoFrameType = 2
	VideoFrameDisposable   VideoFrameType = 3 // H.263 only
	VideoFrameGeneratedKey VideoFrameType = 4 // reserved for server use
	VideoFrameCommand      VideoFrameType = 5 // no picture: a one-byte command follows
)

// VideoPacketType is the enhanced-RTMP VideoPacketType. For legacy AVC and
// HEVC tags the AVCPacketType is reported here: its values 0 (sequence
// header), 1 (NALUs) and 2 (end of sequence) mean the same.
type VideoPacketType uint8

const (
	VideoPacketSequenceStart        VideoPacketType = 0
	VideoPacketCodedFrames          VideoPacketType = 1 // with an SI24 composition time for avc1/hvc1
	VideoPacketSequenceEnd          VideoPacketType = 2
	VideoPacketCodedFramesX         VideoPacketType = 3 // composition time implied zero
	VideoPacketMetadata             VideoPacketType = 4 // AMF metadata such as colorInfo
	VideoPacketMPEG2TSSequenceStart VideoPacketType = 5
	VideoPacketMultitrack           VideoPacketType = 6
	VideoPacketModEx                VideoPacketType = 7
)

// Legacy FLV video codec ids (the low nibble of the first byte).
const (
	FLVVideoH263     = 2
	FLVVideoScreen   = 3
	FLVVideoVP6      = 4
	FLVVideoVP6Alpha = 5
	FLVVideoScreen2  = 6
	FLVVideoAVC      = 7
	FLVVideoHEVC     = 12 // not in the FLV spec: the Chinese CDN convention SRS accepts
	FLVVideoAV1      = 13 // not in the FLV spec: SRS's enum, laid out like AVC here
)

const (
	flvVideoHeaderSize = 1
	flvAVCHeaderSize   = 5 // frame type/codec, AVCPacketType, SI24 composition time
)

// VideoTag is the parsed header of an FLV video tag body (an RTMP video
// message), legacy or enhanced RTMP (E-RTMP v1/v2).
type VideoTag struct {
	FrameType VideoFrameType
	Enhanced  bool
	CodecID   uint8   // legacy FLV codec id; 0 for enhanced tags
	FourCC    [4]byte // enhanced tags only
	Codec     Codec
	// PacketType: see VideoPacketType. Legacy codecs other than AVC/HEVC/AV1
	// report CodedFrames.
	PacketType VideoPacketType
	// CompositionTime is PTS - DTS in milliseconds (SI24), for AVC/HEVC coded frames.
	CompositionTime int32
	// Command is the one-byte video command when IsCommand (0 start seek, 1 end seek).
	Command uint8
	// TimestampNanoOffset refines the message time, from an E-RTMP ModEx.
	TimestampNanoOffset uint32
	Multitrack          bool // an E-RTMP one-track multitrack tag
	TrackID             uint8
	// PayloadOffset is where the codec data (configuration record, NAL
	// units, OBUs...) starts in the tag body.
	PayloadOffset int
}

// IsKeyframe reports a (generated) keyframe; commands and metadata never are.
func (t VideoTag) IsKeyframe() bool {
	if t.IsCommand() || (t.Enhanced && t.PacketType == VideoPacketMetadata) {
		return false
	}
	return t.FrameType == VideoFrameKey || t.FrameType == VideoFrameGeneratedKey
}

// IsCommand reports a command frame, which carries no picture.
func (t VideoTag) IsCommand() bool {
	return t.FrameType == VideoFrameCommand && !(t.Enhanced && t.PacketType == VideoPacketMetadata)
}

// IsSequenceHeader reports a decoder configuration record (AVC/HEVC/AV1
// sequence header, or an E-RTMP SequenceStart for any FourCC).
func (t VideoTag) IsSequenceHeader() bool {
	if t.IsCommand() || t.PacketType != VideoPacketSequenceStart {
		return false
	}
	return t.Enhanced || t.CodecID == FLVVideoAVC || t.CodecID == FLVVideoHEVC || t.CodecID == FLVVideoAV1
}

// ParseFLVVideoTag parses the header of a video tag body.
func ParseFLVVideoTag(b []byte) (VideoTag, error) {
	var t VideoTag
	if len(b) < flvVideoHeaderSize {
		return t, errors.New("av: empty video tag")
	}
	if b[0]&0x80 != 0 {
		return parseExVideoTag(b)
	}
	t.FrameType = VideoFrameType(b[0] >> 4)
	t.CodecID = b[0] & 0x0f
	t.Codec = legacyVideoCodec(t.CodecID)
	t.PacketType = VideoPacketCodedFrames
	if t.FrameType == VideoFrameCommand {
		if len(b) < 2 {
			return t, errors.New("av: video command frame has no command byte")
		}
		t.Command = b[1]
		t.PayloadOffset = 2
		return t, nil
	}
	switch t.CodecID {
	case FLVVideoAVC, FLVVideoHEVC, FLVVideoAV1:
		if len(b) < flvAVCHeaderSize {
			return t, fmt.Errorf("av: %s video tag needs %d bytes, have %d", t.Codec, flvAVCHeaderSize, len(b))
		}
		t.PacketType = VideoPacketType(b[1])
		if t.PacketType > VideoPacketSequenceEnd {
			return t, fmt.Errorf("av: %s packet type %d is invalid", t.Codec, b[1])
		}
		t.CompositionTime = readSI24(b[2:5])
		t.PayloadOffset = flvAVCHeaderSize
	default:
		t.PayloadOffset = flvVideoHeaderSize
	}
	return t, nil
}

func legacyVideoCodec(id uint8) Codec {
	switch id {
	case FLVVideoAVC:
		return CodecH264
	case FLVVideoHEVC:
		return CodecH265
	case FLVVideoAV1:
		return CodecAV1
	}
	return CodecOther
}

// parseExVideoTag follows the ExVideoTagHeader pseudocode of E-RTMP v2.
func parseExVideoTag(b []byte) (VideoTag, error) {
	t := VideoTag{Enhanced: true, FrameType: VideoFrameType((b[0] >> 4) & 0x07)}
	packetType, p, nano, err := readModEx(b, b[0]&0x0f, uint8(VideoPacketModEx), "video")
	if err != nil {
		return t, err
	}
	t.PacketType, t.TimestampNanoOffset = VideoPacketType(packetType), nano
	if t.IsCommand() {
		if p >= len(b) {
			return t, errors.New("av: enhanced video command frame has no command byte")
		}
		t.Command = b[p]
		t.PayloadOffset = p + 1
		return t, nil
	}
	if t.PacketType == VideoPacketMultitrack {
		if t.PacketType, p, err = readMultitrackHeader[VideoPacketType](b, p, uint8(VideoPacketMultitrack), "video"); err != nil {
			return t, err
		}
		t.Multitrack = true
	}
	if t.PacketType > VideoPacketMPEG2TSSequenceStart {
		return t, fmt.Errorf("av: enhanced video packet type %d is reserved or misplaced", t.PacketType)
	}
	if p+exHeaderFourCCSize > len(b) {
		return t, fmt.Errorf("av: enhanced video tag truncated before its FourCC (%d bytes)", len(b))
	}
	copy(t.FourCC[:], b[p:])
	t.Codec = videoFourCC(t.FourCC[:])
	p += exHeaderFourCCSize
	if t.Multitrack {
		if p >= len(b) {
			return t, errors.New("av: enhanced video tag truncated before its track id")
		}
		t.TrackID = b[p]
		p++
	}
	if t.PacketType == VideoPacketCodedFrames && (t.Codec == CodecH264 || t.Codec == CodecH265) {
		if p+3 > len(b) {
			return t, errors.New("av: enhanced video tag truncated in its composition time")
		}
		t.CompositionTime = readSI24(b[p : p+3])
		p += 3
	}
	t.PayloadOffset = p
	return t, nil
}
