package av

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseFLVVideoTag(t *testing.T) {
	big := cat(mustHex(t, "97ff0100"), bytes.Repeat([]byte{0xee}, 257), mustHex(t, "10"), []byte("avc1"), mustHex(t, "01"))
	tests := []struct {
		name      string
		body      []byte
		want      VideoTag
		seqHeader bool
		keyframe  bool
		command   bool
	}{
		{"legacy AVC sequence header", mustHex(t, "1700000000 0164001f"),
			VideoTag{FrameType: 1, CodecID: 7, Codec: CodecH264, PacketType: 0, PayloadOffset: 5}, true, true, false},
		{"legacy AVC keyframe, CTS 80", mustHex(t, "1701000050 00000002"),
			VideoTag{FrameType: 1, CodecID: 7, Codec: CodecH264, PacketType: 1, CompositionTime: 80, PayloadOffset: 5}, false, true, false},
		{"legacy AVC inter frame, CTS -40", mustHex(t, "2701ffffd8 00"),
			VideoTag{FrameType: 2, CodecID: 7, Codec: CodecH264, PacketType: 1, CompositionTime: -40, PayloadOffset: 5}, false, false, false},
		{"legacy AVC end of sequence", mustHex(t, "1702000000"),
			VideoTag{FrameType: 1, CodecID: 7, Codec: CodecH264, PacketType: 2, PayloadOffset: 5}, false, true, false},
		{"legacy HEVC (codec id 12) sequence header", mustHex(t, "1c00000000 01"),
			VideoTag{FrameType: 1, CodecID: 12, Codec: CodecH265, PacketType: 0, PayloadOffset: 5}, true, true, false},
		{"legacy generated keyframe", mustHex(t, "4701000000"),
			VideoTag{FrameType: 4, CodecID: 7, Codec: CodecH264, PacketType: 1, PayloadOffset: 5}, false, true, false},
		{"legacy AVC command frame (start seek)", mustHex(t, "5700"),
			VideoTag{FrameType: 5, CodecID: 7, Codec: CodecH264, PacketType: 1, Command: 0, PayloadOffset: 2}, false, false, true},
		{"legacy VP6 keyframe", mustHex(t, "1400 aabb"),
			VideoTag{FrameType: 1, CodecID: 4, Codec: CodecOther, PacketType: 1, PayloadOffset: 1}, false, true, false},
		{"legacy H.263 disposable frame", mustHex(t, "32"),
			VideoTag{FrameType: 3, CodecID: 2, Codec: CodecOther, PacketType: 1, PayloadOffset: 1}, false, false, false},
		{"E-RTMP HEVC sequence start", cat(mustHex(t, "90"), []byte("hvc1"), mustHex(t, "01")),
			VideoTag{FrameType: 1, Enhanced: true, FourCC: [4]byte{'h', 'v', 'c', '1'}, Codec: CodecH265, PacketType: 0, PayloadOffset: 5}, true, true, false},
		{"E-RTMP HEVC coded frames, CTS 33", cat(mustHex(t, "91"), []byte("hvc1"), mustHex(t, "000021 00000001")),
			VideoTag{FrameType: 1, Enhanced: true, FourCC: [4]byte{'h', 'v', 'c', '1'}, Codec: CodecH265, PacketType: 1, CompositionTime: 33, PayloadOffset: 8}, false, true, false},
		{"E-RTMP HEVC coded frames X", cat(mustHex(t, "a3"), []byte("hvc1"), mustHex(t, "00000001")),
			VideoTag{FrameType: 2, Enhanced: true, FourCC: [4]byte{'h', 'v', 'c', '1'}, Codec: CodecH265, PacketType: 3, PayloadOffset: 5}, false, false, false},
		{"E-RTMP AV1 coded frames carry no CTS", cat(mustHex(t, "91"), []byte("av01"), mustHex(t, "12000a")),
			VideoTag{FrameType: 1, Enhanced: true, FourCC: [4]byte{'a', 'v', '0', '1'}, Codec: CodecAV1, PacketType: 1, PayloadOffset: 5}, false, true, false},
		{"E-RTMP VP9 sequence start", cat(mustHex(t, "90"), []byte("vp09")),
			VideoTag{FrameType: 1, Enhanced: true, FourCC: [4]byte{'v', 'p', '0', '9'}, Codec: CodecVP9, PacketType: 0, PayloadOffset: 5}, true, true, false},
		{"E-RTMP unknown FourCC", cat(mustHex(t, "92"), []byte("xyz1")),
			VideoTag{FrameType: 1, Enhanced: true, FourCC: [4]byte{'x', 'y', 'z', '1'}, Codec: CodecOther, PacketType: 2, PayloadOffset: 5}, false, true, false},
		{"E-RTMP metadata ignores its frame type", cat(mustHex(t, "d4"), []byte("hvc1"), mustHex(t, "02")),
			VideoTag{FrameType: 5, Enhanced: true, FourCC: [4]byte{'h', 'v', 'c', '1'}, Codec: CodecH265, PacketType: 4, PayloadOffset: 5}, false, false, false},
		{"E-RTMP command frame has no FourCC", mustHex(t, "d101"),
			VideoTag{FrameType: 5, Enhanced: true, PacketType: 1, Command: 1, PayloadOffset: 2}, false, false, true},
		{"E-RTMP ModEx nanosecond offset", cat(mustHex(t, "97 02 000f42 01"), []byte("hvc1"), mustHex(t, "000000 ab")),
			VideoTag{FrameType: 1, Enhanced: true, FourCC: [4]byte{'h', 'v', 'c', '1'}, Codec: CodecH265, PacketType: 1, TimestampNanoOffset: 3906, PayloadOffset: 13}, false, true, false},
		{"E-RTMP ModEx with a 16-bit size", big,
			VideoTag{FrameType: 1, Enhanced: true, FourCC: [4]byte{'a', 'v', 'c', '1'}, Codec: CodecH264, PacketType: 0, PayloadOffset: 4 + 257 + 1 + 4}, true, true, false},
		{"E-RTMP one-track multitrack", cat(mustHex(t, "96 01"), []byte("avc1"), mustHex(t, "02 000010 ff")),
			VideoTag{FrameType: 1, Enhanced: true, FourCC: [4]byte{'a', 'v', 'c', '1'}, Codec: CodecH264, PacketType: 1, CompositionTime: 16, Multitrack: true, TrackID: 2, PayloadOffset: 10}, false, true, false},
	}
	for _, tt := range tests {
		got, err := ParseFLVVideoTag(tt.body)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
		if got.IsSequenceHeader() != tt.seqHeader || got.IsKeyframe() != tt.keyframe || got.IsCommand() != tt.command {
			t.Errorf("%s: sequence header %v keyframe %v command %v; want %v %v %v", tt.name,
				got.IsSequenceHeader(), got.IsKeyframe(), got.IsCommand(), tt.seqHeader, tt.keyframe, tt.command)
		}
		if got.PayloadOffset > len(tt.body) {
			t.Errorf("%s: payload offset %d beyond %d bytes", tt.name, got.PayloadOffset, len(tt.body))
		}
	}
}

func TestParseFLVVideoTagErrors(t *testing.T) {
	tests := []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"legacy AVC without CTS", mustHex(t, "1700")},
		{"legacy AVC packet type 3", mustHex(t, "1703000000")},
		{"legacy command without command byte", mustHex(t, "57")},
		{"E-RTMP cut in the FourCC", mustHex(t, "906876")},
		{"E-RTMP reserved packet type 8", cat(mustHex(t, "98"), []byte("hvc1"))},
		{"E-RTMP HEVC coded frames cut in the CTS", cat(mustHex(t, "91"), []byte("hvc1"), mustHex(t, "00"))},
		{"E-RTMP command without command byte", mustHex(t, "d1")},
		{"E-RTMP ModEx cut in its size", mustHex(t, "97")},
		{"E-RTMP ModEx cut in its data", mustHex(t, "970500")},
		{"E-RTMP ModEx cut in its 16-bit size", mustHex(t, "97ff01")},
		{"E-RTMP multitrack cut", mustHex(t, "96")},
		{"E-RTMP multitrack nests multitrack", cat(mustHex(t, "96 06"), []byte("avc1"))},
		{"E-RTMP multitrack holds ModEx", cat(mustHex(t, "96 07"), []byte("avc1"))},
		{"E-RTMP multitrack without track id", cat(mustHex(t, "96 00"), []byte("avc1"))},
	}
	for _, tt := range tests {
		if got, err := ParseFLVVideoTag(tt.body); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, got)
		}
	}
	for _, trackType := range []byte{MultitrackManyTracks, MultitrackManyTracksManyCodecs} {
		body := cat([]byte{0x96, trackType<<4 | 1}, []byte("avc1"), mustHex(t, "00 000004"))
		if _, err := ParseFLVVideoTag(body); !errors.Is(err, ErrMultitrackUnsupported) {
			t.Errorf("multitrack type %d: %v, want ErrMultitrackUnsupported", trackType, err)
		}
	}
}

func TestParseFLVAudioTag(t *testing.T) {
	tests := []struct {
		name      string
		body      []byte
		want      AudioTag
		seqHeader bool
		rate, ch  int
	}{
		{"AAC sequence header", mustHex(t, "af00 1210"),
			AudioTag{SoundFormat: SoundAAC, SoundRate: 3, SoundSize: 1, SoundType: 1, Codec: CodecAAC, PacketType: 0, PayloadOffset: 2}, true, 44100, 2},
		{"AAC raw", mustHex(t, "af01 de02"),
			AudioTag{SoundFormat: SoundAAC, SoundRate: 3, SoundSize: 1, SoundType: 1, Codec: CodecAAC, PacketType: 1, PayloadOffset: 2}, false, 44100, 2},
		{"MP3 44k stereo", mustHex(t, "2f fffb9064"),
			AudioTag{SoundFormat: SoundMP3, SoundRate: 3, SoundSize: 1, SoundType: 1, Codec: CodecMP3, PacketType: 1, PayloadOffset: 1}, false, 44100, 2},
		{"MP3 8 kHz", mustHex(t, "e2 ffe338c0"),
			AudioTag{SoundFormat: SoundMP38k, SoundRate: 0, SoundSize: 1, SoundType: 0, Codec: CodecMP3, PacketType: 1, PayloadOffset: 1}, false, 5512, 1},
		{"PCM 22k mono", mustHex(t, "3a 0000"),
			AudioTag{SoundFormat: SoundPCMLE, SoundRate: 2, SoundSize: 1, SoundType: 0, Codec: CodecOther, PacketType: 1, PayloadOffset: 1}, false, 22050, 1},
		{"Speex", mustHex(t, "b2"),
			AudioTag{SoundFormat: SoundSpeex, SoundRate: 0, SoundSize: 1, Codec: CodecOther, PacketType: 1, PayloadOffset: 1}, false, 5512, 1},
		{"SRS Opus sequence header", mustHex(t, "d200 4f707573"),
			AudioTag{SoundFormat: SoundOpusSRS, SoundSize: 1, Codec: CodecOpus, PacketType: 0, PayloadOffset: 2}, true, 5512, 1},
		{"E-RTMP AAC sequence start", cat(mustHex(t, "90"), []byte("mp4a"), mustHex(t, "1210")),
			AudioTag{SoundFormat: SoundExHeader, Enhanced: true, FourCC: [4]byte{'m', 'p', '4', 'a'}, Codec: CodecAAC, PacketType: 0, PayloadOffset: 5}, true, 0, 0},
		{"E-RTMP Opus coded frames", cat(mustHex(t, "91"), []byte("Opus"), mustHex(t, "fc")),
			AudioTag{SoundFormat: SoundExHeader, Enhanced: true, FourCC: [4]byte{'O', 'p', 'u', 's'}, Codec: CodecOpus, PacketType: 1, PayloadOffset: 5}, false, 0, 0},
		{"E-RTMP MP3", cat(mustHex(t, "91"), []byte(".mp3"), mustHex(t, "fffb9064")),
			AudioTag{SoundFormat: SoundExHeader, Enhanced: true, FourCC: [4]byte{'.', 'm', 'p', '3'}, Codec: CodecMP3, PacketType: 1, PayloadOffset: 5}, false, 0, 0},
		{"E-RTMP FLAC", cat(mustHex(t, "90"), []byte("fLaC")),
			AudioTag{SoundFormat: SoundExHeader, Enhanced: true, FourCC: [4]byte{'f', 'L', 'a', 'C'}, Codec: CodecOther, PacketType: 0, PayloadOffset: 5}, true, 0, 0},
		{"E-RTMP multichannel config", cat(mustHex(t, "94"), []byte("Opus"), mustHex(t, "0102")),
			AudioTag{SoundFormat: SoundExHeader, Enhanced: true, FourCC: [4]byte{'O', 'p', 'u', 's'}, Codec: CodecOpus, PacketType: 4, PayloadOffset: 5}, false, 0, 0},
		{"E-RTMP ModEx with a short data block", cat(mustHex(t, "97 00 05 01"), []byte("Opus")),
			AudioTag{SoundFormat: SoundExHeader, Enhanced: true, FourCC: [4]byte{'O', 'p', 'u', 's'}, Codec: CodecOpus, PacketType: 1, PayloadOffset: 8}, false, 0, 0},
		{"E-RTMP ModEx nanosecond offset", cat(mustHex(t, "97 02 000064 00"), []byte("mp4a"), mustHex(t, "1210")),
			AudioTag{SoundFormat: SoundExHeader, Enhanced: true, FourCC: [4]byte{'m', 'p', '4', 'a'}, Codec: CodecAAC, PacketType: 0, TimestampNanoOffset: 100, PayloadOffset: 10}, true, 0, 0},
		{"E-RTMP one-track multitrack", cat(mustHex(t, "95 00"), []byte("mp4a"), mustHex(t, "01 1210")),
			AudioTag{SoundFormat: SoundExHeader, Enhanced: true, FourCC: [4]byte{'m', 'p', '4', 'a'}, Codec: CodecAAC, PacketType: 0, Multitrack: true, TrackID: 1, PayloadOffset: 7}, true, 0, 0},
	}
	for _, tt := range tests {
		got, err := ParseFLVAudioTag(tt.body)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
		if got.IsSequenceHeader() != tt.seqHeader || got.FLVSampleRate() != tt.rate || got.FLVChannels() != tt.ch {
			t.Errorf("%s: sequence header %v rate %d channels %d; want %v %d %d", tt.name,
				got.IsSequenceHeader(), got.FLVSampleRate(), got.FLVChannels(), tt.seqHeader, tt.rate, tt.ch)
		}
	}
}

func TestParseFLVAudioTagErrors(t *testing.T) {
	tests := []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"AAC without packet type", mustHex(t, "af")},
		{"AAC packet type 2", mustHex(t, "af02")},
		{"SRS Opus without packet type", mustHex(t, "d2")},
		{"E-RTMP cut in the FourCC", mustHex(t, "906d70")},
		{"E-RTMP reserved packet type 3", cat(mustHex(t, "93"), []byte("mp4a"))},
		{"E-RTMP ModEx cut", mustHex(t, "970300")},
		{"E-RTMP multitrack nests multitrack", cat(mustHex(t, "95 05"), []byte("mp4a"), []byte{0})},
		{"E-RTMP multitrack holds ModEx", cat(mustHex(t, "95 07"), []byte("mp4a"), []byte{0})},
		{"E-RTMP multitrack without track id", cat(mustHex(t, "95 01"), []byte("mp4a"))},
	}
	for _, tt := range tests {
		if got, err := ParseFLVAudioTag(tt.body); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, got)
		}
	}
	if _, err := ParseFLVAudioTag(cat(mustHex(t, "95 11"), []byte("mp4a"))); !errors.Is(err, ErrMultitrackUnsupported) {
		t.Errorf("many tracks: %v, want ErrMultitrackUnsupported", err)
	}
}
