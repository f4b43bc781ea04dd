package av

import (
	"errors"
	"fmt"
)

// SoundFormat is the FLV audio format (the high nibble of the first byte).
type SoundFormat uint8

const (
	SoundPCMPlatform SoundFormat = 0
	SoundADPCM       SoundFormat = 1
	SoundMP3         SoundFormat = 2
	SoundPCMLE       SoundFormat = 3
	SoundNelly16k    SoundFormat = 4
	SoundNelly8k     SoundFormat = 5
	SoundNelly       SoundFormat = 6
	SoundG711A       SoundFormat = 7
	SoundG711U       SoundFormat = 8
	SoundExHeader    SoundFormat = 9 // enhanced RTMP v2: a FourCC follows
	SoundAAC         SoundFormat = 10
	SoundSpeex       SoundFormat = 11
	SoundOpusSRS     SoundFormat = 13 // SRS's private id, laid out like AAC
	SoundMP38k       SoundFormat = 14
	SoundDevice      SoundFormat = 15
)

// AudioPacketType is the enhanced-RTMP AudioPacketType. For legacy AAC the
// AACPacketType is reported here: 0 sequence header and 1 raw mean the same.
type AudioPacketType uint8

const (
	AudioPacketSequenceStart      AudioPacketType = 0
	AudioPacketCodedFrames        AudioPacketType = 1
	AudioPacketSequenceEnd        AudioPacketType = 2
	AudioPacketMultichannelConfig AudioPacketType = 4
	AudioPacketMultitrack         AudioPacketType = 5
	AudioPacketModEx              AudioPacketType = 7
)

// AudioTag is the parsed header of an FLV audio tag body (an RTMP audio
// message), legacy or enhanced RTMP v2.
type AudioTag struct {
	SoundFormat SoundFormat
	// SoundRate (0..3: 5.5, 11, 22, 44 kHz), SoundSize (0 8-bit, 1 16-bit) and
	// SoundType (0 mono, 1 stereo) are the legacy header bits; zero when Enhanced.
	SoundRate uint8
	SoundSize uint8
	SoundType uint8

	Enhanced bool
	FourCC   [4]byte // enhanced tags only
	Codec    Codec
	// PacketType: see AudioPacketType. Legacy formats other than AAC (and
	// SRS's Opus) report CodedFrames.
	PacketType          AudioPacketType
	TimestampNanoOffset uint32
	Multitrack          bool
	TrackID             uint8
	PayloadOffset       int
}

// IsSequenceHeader reports an AAC AudioSpecificConfig or an E-RTMP SequenceStart.
func (t AudioTag) IsSequenceHeader() bool {
	if t.PacketType != AudioPacketSequenceStart {
		return false
	}
	return t.Enhanced || t.SoundFormat == SoundAAC || t.SoundFormat == SoundOpusSRS
}

// flvSoundRates maps the legacy SoundRate bits to Hz.
var flvSoundRates = [4]int{5512, 11025, 22050, 44100}

// FLVSampleRate is the rate the legacy header bits claim (0 for enhanced
// tags). AAC always claims 44 kHz; read the AudioSpecificConfig instead.
func (t AudioTag) FLVSampleRate() int {
	if t.Enhanced {
		return 0
	}
	return flvSoundRates[t.SoundRate&0x03]
}

// FLVChannels is the channel count the legacy header bits claim (0 for enhanced tags).
func (t AudioTag) FLVChannels() int {
	if t.Enhanced {
		return 0
	}
	return int(t.SoundType) + 1
}

// ParseFLVAudioTag parses the header of an audio tag body.
func ParseFLVAudioTag(b []byte) (AudioTag, error) {
	var t AudioTag
	if len(b) == 0 {
		return t, errors.New("av: empty audio tag")
	}
	t.SoundFormat = SoundFormat(b[0] >> 4)
	if t.SoundFormat == SoundExHeader {
		return parseExAudioTag(b)
	}
	t.SoundRate, t.SoundSize, t.SoundType = (b[0]>>2)&0x03, (b[0]>>1)&0x01, b[0]&0x01
	t.PacketType = AudioPacketCodedFrames
	t.PayloadOffset = 1
	switch t.SoundFormat {
	case SoundAAC, SoundOpusSRS:
		t.Codec = CodecAAC
		if t.SoundFormat == SoundOpusSRS {
			t.Codec = CodecOpus
		}
		if len(b) < 2 {
			return t, fmt.Errorf("av: %s audio tag needs 2 bytes, have 1", t.Codec)
		}
		if b[1] > 1 {
			return t, fmt.Errorf("av: %s packet type %d is invalid", t.Codec, b[1])
		}
		t.PacketType = AudioPacketType(b[1])
		t.PayloadOffset = 2
	case SoundMP3, SoundMP38k:
		t.Codec = CodecMP3
	default:
		t.Codec = CodecOther
	}
	return t, nil
}

// parseExAudioTag follows the ExAudioTagHeader pseudocode of E-RTMP v2.
func parseExAudioTag(b []byte) (AudioTag, error) {
	t := AudioTag{SoundFormat: SoundExHeader, Enhanced: true}
	packetType, p, nano, err := readModEx(b, b[0]&0x0f, uint8(AudioPacketModEx), "audio")
	if err != nil {
		return t, err
	}
	t.PacketType, t.TimestampNanoOffset = AudioPacketType(packetType), nano
	if t.PacketType == AudioPacketMultitrack {
		if t.PacketType, p, err = readMultitrackHeader[AudioPacketType](b, p, uint8(AudioPacketMultitrack), "audio"); err != nil {
			return t, err
		}
		t.Multitrack = true
	}
	switch t.PacketType {
	case AudioPacketSequenceStart, AudioPacketCodedFrames, AudioPacketSequenceEnd, AudioPacketMultichannelConfig:
	default:
		return t, fmt.Errorf("av: enhanced audio packet type %d is reserved or misplaced", t.PacketType)
	}
	if p+exHeaderFourCCSize > len(b) {
		return t, fmt.Errorf("av: enhanced audio tag truncated before its FourCC (%d bytes)", len(b))
	}
	copy(t.FourCC[:], b[p:])
	t.Codec = audioFourCC(t.FourCC[:])
	p += exHeaderFourCCSize
	if t.Multitrack {
		if p >= len(b) {
			return t, errors.New("av: enhanced audio tag truncated before its track id")
		}
		t.TrackID = b[p]
		p++
	}
	t.PayloadOffset = p
	return t, nil
}
