package av

import (
	"errors"
	"testing"
)

func TestNewPacketClassifiesVideo(t *testing.T) {
	tests := []struct {
		name      string
		body      []byte
		codec     Codec
		keyframe  bool
		seqHeader bool
	}{
		{"AVC sequence header", mustHex(t, h264SequenceHeaders[0].tag), CodecH264, true, true},
		{"AVC keyframe", mustHex(t, tinyH264Keyframe), CodecH264, true, false},
		{"AVC inter frame", mustHex(t, "2701000000 00000001 41"), CodecH264, false, false},
		// A command frame's second byte is the command, not an AVCPacketType:
		// "start seek" (0) must not pass for a sequence header.
		{"AVC command frame", mustHex(t, "5700"), CodecH264, false, false},
		{"legacy HEVC sequence header", mustHex(t, "1c00000000 01"), CodecH265, true, true},
		{"VP6 keyframe", mustHex(t, "14 00"), CodecOther, true, false},
		{"E-RTMP HEVC sequence start", cat([]byte{0x90}, []byte("hvc1"), mustHex(t, "01")), CodecH265, true, true},
		{"E-RTMP AV1 inter frame", cat([]byte{0xa1}, []byte("av01"), mustHex(t, "12")), CodecAV1, false, false},
		// With ModEx the FourCC is not at offset 1.
		{"E-RTMP ModEx HEVC keyframe", cat(mustHex(t, "97 02 000001 01"), []byte("hvc1"), mustHex(t, "000000")), CodecH265, true, false},
		{"E-RTMP ModEx HEVC sequence start", cat(mustHex(t, "97 00 00 00"), []byte("hvc1"), mustHex(t, "01")), CodecH265, true, true},
		{"E-RTMP one-track multitrack", cat(mustHex(t, "96 00"), []byte("avc1"), mustHex(t, "00 01")), CodecH264, true, true},
		{"E-RTMP metadata with a keyframe type", cat(mustHex(t, "94"), []byte("hvc1"), mustHex(t, "02")), CodecH265, false, false},
		{"E-RTMP command frame", mustHex(t, "d000"), CodecUnknown, false, false},
	}
	for _, tt := range tests {
		p, err := NewPacket(KindVideo, 0xffffffff, tt.body)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if p.Codec != tt.codec || p.Keyframe != tt.keyframe || p.SequenceHeader != tt.seqHeader {
			t.Errorf("%s: codec %s keyframe %v sequence header %v; want %s %v %v", tt.name,
				p.Codec, p.Keyframe, p.SequenceHeader, tt.codec, tt.keyframe, tt.seqHeader)
		}
		if p.Timestamp != TimestampMask || !p.IsVideo() {
			t.Errorf("%s: timestamp %#x", tt.name, p.Timestamp)
		}
	}
}

func TestNewPacketClassifiesAudio(t *testing.T) {
	tests := []struct {
		name      string
		body      []byte
		codec     Codec
		seqHeader bool
	}{
		{"AAC sequence header", mustHex(t, "af00121056e500"), CodecAAC, true},
		{"AAC raw", mustHex(t, "af01de02"), CodecAAC, false},
		{"MP3", mustHex(t, "2ffffb9064"), CodecMP3, false},
		{"MP3 8 kHz", mustHex(t, "e2ffe338c0"), CodecMP3, false},
		{"SRS Opus sequence header", mustHex(t, "d200"), CodecOpus, true},
		{"PCM", mustHex(t, "3a0000"), CodecOther, false},
		{"E-RTMP AAC sequence start", cat([]byte{0x90}, []byte("mp4a"), mustHex(t, "1210")), CodecAAC, true},
		{"E-RTMP ModEx Opus frame", cat(mustHex(t, "97 02 000010 01"), []byte("Opus"), mustHex(t, "fc")), CodecOpus, false},
		{"E-RTMP FLAC sequence start", cat([]byte{0x90}, []byte("fLaC")), CodecOther, true},
	}
	for _, tt := range tests {
		p, err := NewPacket(KindAudio, 40, tt.body)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if p.Codec != tt.codec || p.SequenceHeader != tt.seqHeader || p.Keyframe || !p.IsAudio() {
			t.Errorf("%s: codec %s sequence header %v keyframe %v; want %s %v", tt.name, p.Codec, p.SequenceHeader, p.Keyframe, tt.codec, tt.seqHeader)
		}
	}
}

func TestNewPacketRejects(t *testing.T) {
	for _, kind := range []Kind{KindAudio, KindVideo} {
		if _, err := NewPacket(kind, 0, nil); !errors.Is(err, ErrEmptyPayload) {
			t.Errorf("%s: empty payload gave %v, want ErrEmptyPayload", kind, err)
		}
	}
	tests := []struct {
		name string
		kind Kind
		body []byte
	}{
		{"AVC too short for its header", KindVideo, mustHex(t, "1700")},
		{"E-RTMP video cut in its FourCC", KindVideo, mustHex(t, "9068")},
		{"E-RTMP video with many tracks", KindVideo, cat(mustHex(t, "96 11"), []byte("avc1"), mustHex(t, "00 000004"))},
		{"AAC without packet type", KindAudio, mustHex(t, "af")},
		{"E-RTMP audio cut in its FourCC", KindAudio, mustHex(t, "906d")},
		{"unknown kind", Kind(20), mustHex(t, "0102")},
	}
	for _, tt := range tests {
		if p, err := NewPacket(tt.kind, 0, tt.body); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, p)
		}
	}
	p, err := NewPacket(KindData, 7, []byte{0x02})
	if err != nil || !p.IsData() || p.Codec != CodecUnknown {
		t.Errorf("data packet: %+v, %v", p, err)
	}
}

func TestPacketTagAccessors(t *testing.T) {
	v := mustPacket(t, KindVideo, mustHex(t, "2701ffffd800"))
	if tag, err := v.VideoTag(); err != nil || tag.CompositionTime != -40 {
		t.Errorf("VideoTag: %+v, %v", tag, err)
	}
	if _, err := v.AudioTag(); err == nil {
		t.Error("AudioTag of a video packet")
	}
	a := mustPacket(t, KindAudio, mustHex(t, "af01de"))
	if tag, err := a.AudioTag(); err != nil || tag.PayloadOffset != 2 {
		t.Errorf("AudioTag: %+v, %v", tag, err)
	}
	if _, err := a.VideoTag(); err == nil {
		t.Error("VideoTag of an audio packet")
	}
}
