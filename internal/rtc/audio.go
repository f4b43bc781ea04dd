package rtc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/castd/castd/internal/av"
)

// Opus travels through the hub as enhanced-RTMP v2 audio (FourCC "Opus"):
// a SequenceStart carrying an OpusHead, then CodedFrames with one Opus
// packet each, the form av parses and E-RTMP players read.
const (
	exAudioHeader = 0x90 // SoundFormat 9 (ExHeader) in the high nibble
	opusClockRate = 48000
)

var opusFourCC = []byte("Opus")

// opusHead is an OpusHead (RFC 7845 5.1) for a stream of channels, mapping
// family 0 (mono or stereo), no pre-skip and no gain: what WebRTC sends.
func opusHead(channels int) []byte {
	h := make([]byte, 19)
	copy(h, "OpusHead")
	h[8] = 1 // version
	h[9] = byte(channels)
	binary.LittleEndian.PutUint32(h[12:], opusClockRate)
	return h
}

// flvOpusSequenceHeader is the hub payload that announces Opus.
func flvOpusSequenceHeader(channels int) []byte {
	b := append([]byte{exAudioHeader | byte(av.AudioPacketSequenceStart)}, opusFourCC...)
	return append(b, opusHead(channels)...)
}

// flvOpusFrame is the hub payload of one Opus packet.
func flvOpusFrame(frame []byte) []byte {
	b := make([]byte, 0, 5+len(frame))
	b = append(b, exAudioHeader|byte(av.AudioPacketCodedFrames))
	b = append(b, opusFourCC...)
	return append(b, frame...)
}

// FLV AAC tag bytes: AAC, 44 kHz, 16-bit, stereo (the header bits players
// ignore for AAC), then the AACPacketType.
const flvAACHeader = 0xaf

func flvAACSequenceHeader(asc []byte) []byte {
	return append([]byte{flvAACHeader, 0}, asc...)
}

func flvAACFrame(frame []byte) []byte {
	b := make([]byte, 0, 2+len(frame))
	b = append(b, flvAACHeader, 1)
	return append(b, frame...)
}

// hubAudio is the codec data of a hub audio packet: an Opus or AAC frame,
// or the AAC AudioSpecificConfig / OpusHead when header is set.
type hubAudio struct {
	codec  av.Codec
	header bool
	data   []byte
}

// parseHubAudio reads an audio packet from the hub. Codecs other than Opus
// and AAC are an error: WebRTC players get Opus only.
func parseHubAudio(p *av.Packet) (hubAudio, error) {
	t, err := av.ParseFLVAudioTag(p.Payload)
	if err != nil {
		return hubAudio{}, err
	}
	if t.Multitrack && t.TrackID != 0 {
		return hubAudio{}, errors.New("rtc: only the first audio track is played")
	}
	if t.Codec != av.CodecOpus && t.Codec != av.CodecAAC {
		return hubAudio{}, fmt.Errorf("rtc: %s audio cannot be sent over WebRTC", t.Codec)
	}
	if t.PayloadOffset > len(p.Payload) {
		return hubAudio{}, errors.New("rtc: audio tag shorter than its header")
	}
	a := hubAudio{codec: t.Codec, header: t.IsSequenceHeader(), data: p.Payload[t.PayloadOffset:]}
	if !a.header && t.PacketType != av.AudioPacketCodedFrames {
		return hubAudio{}, fmt.Errorf("rtc: audio packet type %d carries no frame", t.PacketType)
	}
	return a, nil
}

// AudioFrame is one encoded audio frame out of a transcoder.
type AudioFrame struct {
	Data     []byte
	PTS      time.Duration
	Duration time.Duration
}

// OpusToAAC turns a WebRTC publisher's Opus into AAC for RTMP and HTTP
// players (rtc_to_rtmp). The frames Write returns are valid until the next
// Write: castd copies them into hub packets at once.
type OpusToAAC interface {
	Write(frame []byte, pts time.Duration) ([]AudioFrame, error)
	AudioSpecificConfig() []byte
	Close() error
}

// AACToOpus turns an RTMP publisher's AAC into Opus for WebRTC players
// (rtmp_to_rtc); its frames too are valid until the next Write.
type AACToOpus interface {
	Write(frame []byte, pts time.Duration) ([]AudioFrame, error)
	Close() error
}

// Transcoders makes the audio transcoders of the bridges. The server wires
// internal/transcode in; nil means none is available.
type Transcoders interface {
	// Available says why transcoding cannot work here (nil when it can).
	Available() error
	NewOpusToAAC(channels, bitrate int) (OpusToAAC, error)
	NewAACToOpus(asc []byte, bitrate int) (AACToOpus, error)
}

// errNoTranscoder is what Available reports when no transcoder was wired.
var errNoTranscoder = errors.New("rtc: no audio transcoder is built in")

// transcodersAvailable reports whether t can transcode, and why not.
func transcodersAvailable(t Transcoders) error {
	if t == nil {
		return errNoTranscoder
	}
	return t.Available()
}
