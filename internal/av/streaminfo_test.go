package av

import (
	"errors"
	"testing"
)

func mustPacket(t *testing.T, kind Kind, body []byte) *Packet {
	t.Helper()
	p, err := NewPacket(kind, 0, body)
	if err != nil {
		t.Fatalf("NewPacket(%s, %x): %v", kind, body, err)
	}
	return p
}

func TestVideoInfoH264(t *testing.T) {
	// Profile and level names as SRS's srs_avc_profile2str/srs_avc_level2str print them.
	names := map[string][2]string{
		"high 720p25": {"High", "3.1"},
		"constrained baseline 640x360 30fps (cropped from 368)": {"Baseline", "3"},
		"main 854x480 24fps (cropped from 864)":                 {"Main", "3.1"},
		"high 1366x768 30000/1001 (cropped from 1376)":          {"High", "4.1"},
		"high 4:2:2 642x362":                                    {"High(422)", "3"},
		"high 4:4:4 predictive 642x362":                         {"High(444+Predictive)", "3"},
		"high interlaced 720x576":                               {"High", "3"},
		"high 1080p50 level 4.2":                                {"High", "Other"},
		"baseline 32x32":                                        {"Baseline", "1"},
	}
	for _, tt := range h264SequenceHeaders {
		want, ok := names[tt.name]
		if !ok {
			t.Fatalf("no expected names for %q", tt.name)
		}
		info, err := VideoInfoFromSequenceHeader(mustPacket(t, KindVideo, mustHex(t, tt.tag)))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if info != (VideoInfo{Codec: CodecH264, Profile: want[0], Level: want[1], Width: tt.width, Height: tt.height}) {
			t.Errorf("%s: %+v", tt.name, info)
		}
	}
}

func TestVideoInfoH265AndAV1(t *testing.T) {
	for _, tt := range hevcConfigs {
		rec := mustHex(t, tt.record)
		want := VideoInfo{Codec: CodecH265, Profile: tt.profileName, Level: tt.levelName, Width: tt.width, Height: tt.height}
		for _, body := range [][]byte{
			cat([]byte{0x90}, []byte("hvc1"), rec), // enhanced RTMP
			cat(mustHex(t, "1c00000000"), rec),     // legacy codec id 12
		} {
			info, err := VideoInfoFromSequenceHeader(mustPacket(t, KindVideo, body))
			if err != nil || info != want {
				t.Errorf("%s (%x...): %+v, %v; want %+v", tt.name, body[:5], info, err, want)
			}
		}
	}
	av1 := cat([]byte{0x90}, []byte("av01"), mustHex(t, "81010c000a0b0000000cc4ff6736be4010"))
	info, err := VideoInfoFromSequenceHeader(mustPacket(t, KindVideo, av1))
	if err != nil || info != (VideoInfo{Codec: CodecAV1, Width: 640, Height: 360}) {
		t.Errorf("AV1: %+v, %v (SRS prints null profile and level)", info, err)
	}
	vp9 := cat([]byte{0x90}, []byte("vp09"), mustHex(t, "01000000"))
	if info, err := VideoInfoFromSequenceHeader(mustPacket(t, KindVideo, vp9)); err != nil || info != (VideoInfo{Codec: CodecVP9}) {
		t.Errorf("VP9: %+v, %v", info, err)
	}
}

func TestVideoInfoErrors(t *testing.T) {
	frame := mustPacket(t, KindVideo, mustHex(t, tinyH264Keyframe))
	if _, err := VideoInfoFromSequenceHeader(frame); !errors.Is(err, ErrNotSequenceHeader) {
		t.Errorf("frame: %v, want ErrNotSequenceHeader", err)
	}
	audio := mustPacket(t, KindAudio, mustHex(t, "af001210"))
	if _, err := VideoInfoFromSequenceHeader(audio); err == nil {
		t.Error("audio packet accepted")
	}
	bad := []string{
		"1700000000 0164001fffe1",                                   // record cut in the SPS list
		"1700000000 0164001fffe0 00",                                // no SPS
		"1700000000 0164001fffe1000368ebe3 00",                      // the "SPS" is a PPS
		"1c00000000 0101600000009000000000005df000fcfdf8f800000f00", // HEVC without SPS
	}
	for _, h := range bad {
		if info, err := VideoInfoFromSequenceHeader(mustPacket(t, KindVideo, mustHex(t, h))); err == nil {
			t.Errorf("%s: accepted as %+v", h, info)
		}
	}
	badAV1 := cat([]byte{0x90}, []byte("av01"), mustHex(t, "01010c00"))
	if _, err := VideoInfoFromSequenceHeader(mustPacket(t, KindVideo, badAV1)); err == nil {
		t.Error("AV1 config without marker accepted")
	}
}

func TestAudioInfo(t *testing.T) {
	opusHead := cat([]byte("OpusHead"), mustHex(t, "01 02 3801 80bb0000 0000 00"))
	tests := []struct {
		name string
		body []byte
		want AudioInfo
	}{
		{"AAC LC 44100 stereo", mustHex(t, "af00121056e500"), AudioInfo{CodecAAC, 44100, 2, "LC"}},
		{"AAC LC 48000 mono", mustHex(t, "af00118856e500"), AudioInfo{CodecAAC, 48000, 1, "LC"}},
		{"AAC LC 22050 stereo", mustHex(t, "af00139056e500"), AudioInfo{CodecAAC, 22050, 2, "LC"}},
		{"AAC LC 48000 5.1", mustHex(t, "af0011b056e500"), AudioInfo{CodecAAC, 48000, 6, "LC"}},
		{"AAC Main", mustHex(t, "af000a1056e500"), AudioInfo{CodecAAC, 44100, 2, "Main"}},
		{"HE-AAC", mustHex(t, "af002b118800"), AudioInfo{CodecAAC, 48000, 2, "HE"}},
		{"HE-AAC v2 (mono core, stereo out)", mustHex(t, "af00eb098800"), AudioInfo{CodecAAC, 48000, 2, "HEv2"}},
		{"E-RTMP AAC", cat([]byte{0x90}, []byte("mp4a"), mustHex(t, "1190")), AudioInfo{CodecAAC, 48000, 2, "LC"}},
		{"MP3 44100 stereo from FLV", mustHex(t, "2ffffb90640000026b"), AudioInfo{CodecMP3, 44100, 2, "Other"}},
		{"MP3 22050 mono from FLV", mustHex(t, "2afff340c40013"), AudioInfo{CodecMP3, 22050, 1, "Other"}},
		{"MP3 48000 claimed as 44k by FLV bits", mustHex(t, "2ffffbb400"), AudioInfo{CodecMP3, 48000, 2, "Other"}},
		{"E-RTMP MP3", cat([]byte{0x91}, []byte(".mp3"), mustHex(t, "ffe338c0")), AudioInfo{CodecMP3, 8000, 1, "Other"}},
		{"E-RTMP Opus", cat([]byte{0x90}, []byte("Opus"), opusHead), AudioInfo{CodecOpus, 48000, 2, "Other"}},
		{"PCM from FLV bits", mustHex(t, "3a0000ff01"), AudioInfo{CodecOther, 22050, 1, "Other"}},
		{"Speex from FLV bits", mustHex(t, "b2aa"), AudioInfo{CodecOther, 5512, 1, "Other"}},
		{"Nellymoser 44k stereo from FLV bits", mustHex(t, "6faa"), AudioInfo{CodecOther, 44100, 2, "Other"}},
	}
	for _, tt := range tests {
		got, err := AudioInfoFromPacket(mustPacket(t, KindAudio, tt.body))
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestAudioInfoErrors(t *testing.T) {
	if _, err := AudioInfoFromPacket(mustPacket(t, KindAudio, mustHex(t, "af01de02"))); !errors.Is(err, ErrNotSequenceHeader) {
		t.Errorf("AAC raw frame: %v, want ErrNotSequenceHeader", err)
	}
	if _, err := AudioInfoFromPacket(mustPacket(t, KindAudio, cat([]byte{0x91}, []byte("Opus"), mustHex(t, "fc")))); !errors.Is(err, ErrNotSequenceHeader) {
		t.Errorf("Opus frame: %v, want ErrNotSequenceHeader", err)
	}
	bad := [][]byte{
		mustHex(t, "af00"),     // empty AudioSpecificConfig
		mustHex(t, "af000210"), // object type 0
		mustHex(t, "2f00"),     // not an MPEG audio frame
		cat([]byte{0x90}, []byte("Opus"), []byte("OpusHe")),
		cat([]byte{0x90}, []byte("fLaC"), []byte("fLaC")),
	}
	for _, b := range bad {
		if info, err := AudioInfoFromPacket(mustPacket(t, KindAudio, b)); err == nil {
			t.Errorf("%x: accepted as %+v", b, info)
		}
	}
	if _, err := AudioInfoFromPacket(mustPacket(t, KindVideo, mustHex(t, "1701000000"))); err == nil {
		t.Error("video packet accepted")
	}
}

func TestSRSNames(t *testing.T) {
	h264Profiles := map[uint8]string{66: "Baseline", 77: "Main", 88: "Extended", 100: "High", 110: "High(10)",
		122: "High(422)", 144: "High(444)", 244: "High(444+Predictive)", 44: "Other", 118: "Other", 0: "Other"}
	for idc, want := range h264Profiles {
		if got := H264ProfileName(idc); got != want {
			t.Errorf("H264ProfileName(%d) = %q, want %q", idc, got, want)
		}
	}
	h264Levels := map[uint8]string{9: "Other", 10: "1", 11: "1.1", 12: "1.2", 13: "1.3", 20: "2", 21: "2.1", 22: "2.2",
		30: "3", 31: "3.1", 32: "3.2", 40: "4", 41: "4.1", 42: "Other", 50: "5", 51: "5.1", 52: "Other", 60: "Other", 0: "Other"}
	for idc, want := range h264Levels {
		if got := H264LevelName(idc); got != want {
			t.Errorf("H264LevelName(%d) = %q, want %q", idc, got, want)
		}
	}
	h265Profiles := map[uint8]string{1: "Main", 2: "Main10", 3: "Main Still Picture", 4: "Rext", 5: "Other", 0: "Other"}
	for idc, want := range h265Profiles {
		if got := H265ProfileName(idc); got != want {
			t.Errorf("H265ProfileName(%d) = %q, want %q", idc, got, want)
		}
	}
	h265Levels := map[uint8]string{30: "1", 60: "2", 63: "2.1", 90: "3", 93: "3.1", 120: "4", 123: "4.1", 150: "5",
		153: "5.1", 156: "5.2", 180: "6", 183: "6.1", 186: "6.2", 0: "Other", 33: "Other", 189: "Other", 255: "Other"}
	for idc, want := range h265Levels {
		if got := H265LevelName(idc); got != want {
			t.Errorf("H265LevelName(%d) = %q, want %q", idc, got, want)
		}
	}
	aac := map[int]string{1: "Main", 2: "LC", 3: "SSR", 4: "Other", 5: "HE", 29: "HEv2", 42: "Other"}
	for aot, want := range aac {
		if got := AACObjectName(aot); got != want {
			t.Errorf("AACObjectName(%d) = %q, want %q", aot, got, want)
		}
	}
}
