package av

import (
	"errors"
	"fmt"
)

// ErrEmptyPayload is returned for audio or video messages with no body; some
// encoders send them and SRS drops them silently, so callers should too.
var ErrEmptyPayload = errors.New("av: empty audio/video payload")

// FLV video frame types (the high nibble of the first byte).
const (
	videoFrameKey        = 1
	videoFrameGenerated  = 4
	videoFrameCommand    = 5
	flvCodecAVC          = 7
	flvCodecHEVC         = 12
	flvCodecAV1          = 13 // not standard FLV; SRS's enum, kept for symmetry
	exVideoSequenceStart = 0
)

// FLV audio sound formats (the high nibble of the first byte).
const (
	flvSoundMP3      = 2
	flvSoundExHeader = 9 // enhanced RTMP v2: a FourCC follows
	flvSoundAAC      = 10
	flvSoundOpusSRS  = 13 // SRS's private Opus-in-RTMP id
	flvSoundMP38k    = 14
	exAudioSeqStart  = 0
)

func (p *Packet) classifyVideo() error {
	b := p.Payload
	if len(b) == 0 {
		return ErrEmptyPayload
	}
	if b[0]&0x80 != 0 { // enhanced RTMP: [1 ex|3 frame type|4 packet type][FourCC]
		frameType := (b[0] >> 4) & 0x07
		packetType := b[0] & 0x0f
		if len(b) < 5 {
			return fmt.Errorf("av: enhanced video header needs 5 bytes, have %d", len(b))
		}
		p.Codec = videoFourCC(b[1:5])
		p.Keyframe = frameType == videoFrameKey || frameType == videoFrameGenerated
		p.SequenceHeader = packetType == exVideoSequenceStart && frameType != videoFrameCommand
		return nil
	}
	frameType := b[0] >> 4
	switch b[0] & 0x0f {
	case flvCodecAVC:
		p.Codec = CodecH264
	case flvCodecHEVC:
		p.Codec = CodecH265
	case flvCodecAV1:
		p.Codec = CodecAV1
	default:
		p.Codec = CodecOther
	}
	p.Keyframe = frameType == videoFrameKey || frameType == videoFrameGenerated
	if p.Codec.IsVideo() {
		if len(b) < 2 {
			return fmt.Errorf("av: %s video header needs 2 bytes, have %d", p.Codec, len(b))
		}
		p.SequenceHeader = b[1] == 0
	}
	return nil
}

func (p *Packet) classifyAudio() error {
	b := p.Payload
	if len(b) == 0 {
		return ErrEmptyPayload
	}
	switch b[0] >> 4 {
	case flvSoundAAC:
		p.Codec = CodecAAC
		if len(b) < 2 {
			return errors.New("av: AAC audio header needs 2 bytes")
		}
		p.SequenceHeader = b[1] == 0
	case flvSoundMP3, flvSoundMP38k:
		p.Codec = CodecMP3
	case flvSoundOpusSRS:
		p.Codec = CodecOpus
		p.SequenceHeader = len(b) > 1 && b[1] == 0
	case flvSoundExHeader:
		if len(b) < 5 {
			return fmt.Errorf("av: enhanced audio header needs 5 bytes, have %d", len(b))
		}
		p.Codec = audioFourCC(b[1:5])
		p.SequenceHeader = b[0]&0x0f == exAudioSeqStart
	default:
		p.Codec = CodecOther
	}
	return nil
}

func videoFourCC(f []byte) Codec {
	switch string(f) {
	case "avc1":
		return CodecH264
	case "hvc1":
		return CodecH265
	case "av01":
		return CodecAV1
	case "vp09":
		return CodecVP9
	case "vp08":
		return CodecVP8
	}
	return CodecOther
}

func audioFourCC(f []byte) Codec {
	switch string(f) {
	case "mp4a":
		return CodecAAC
	case ".mp3":
		return CodecMP3
	case "Opus":
		return CodecOpus
	}
	return CodecOther
}
