package av

import (
	"errors"
	"fmt"
)

// ErrEmptyPayload is returned for audio or video messages with no body; some
// encoders send them and SRS drops them silently, so callers should too.
var ErrEmptyPayload = errors.New("av: empty audio/video payload")

// classifyVideo sets the codec and flags from the tag header. Malformed or
// unsupported headers are errors: SRS drops such messages too.
func (p *Packet) classifyVideo() error {
	if len(p.Payload) == 0 {
		return ErrEmptyPayload
	}
	t, err := ParseFLVVideoTag(p.Payload)
	if err != nil {
		return fmt.Errorf("av: classify video: %w", err)
	}
	p.Codec = t.Codec
	p.Keyframe = t.IsKeyframe()
	p.SequenceHeader = t.IsSequenceHeader()
	return nil
}

func (p *Packet) classifyAudio() error {
	if len(p.Payload) == 0 {
		return ErrEmptyPayload
	}
	t, err := ParseFLVAudioTag(p.Payload)
	if err != nil {
		return fmt.Errorf("av: classify audio: %w", err)
	}
	p.Codec = t.Codec
	p.SequenceHeader = t.IsSequenceHeader()
	return nil
}

// VideoTag parses the packet's video tag header (see ParseFLVVideoTag).
func (p *Packet) VideoTag() (VideoTag, error) {
	if p.Kind != KindVideo {
		return VideoTag{}, fmt.Errorf("av: %s packet has no video tag", p.Kind)
	}
	return ParseFLVVideoTag(p.Payload)
}

// AudioTag parses the packet's audio tag header (see ParseFLVAudioTag).
func (p *Packet) AudioTag() (AudioTag, error) {
	if p.Kind != KindAudio {
		return AudioTag{}, fmt.Errorf("av: %s packet has no audio tag", p.Kind)
	}
	return ParseFLVAudioTag(p.Payload)
}

// videoFourCC maps an enhanced-RTMP video FourCC to a codec.
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

// audioFourCC maps an enhanced-RTMP audio FourCC to a codec.
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
