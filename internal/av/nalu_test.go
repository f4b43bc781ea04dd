package av

import (
	"bytes"
	"errors"
	"testing"
)

func naluTypes(codec Codec, nalus [][]byte) []uint8 {
	var types []uint8
	for _, n := range nalus {
		if codec == CodecH265 {
			types = append(types, H265NALUType(n))
		} else {
			types = append(types, H264NALUType(n))
		}
	}
	return types
}

func TestSplitAVCCRealFrame(t *testing.T) {
	body := mustHex(t, tinyH264Keyframe)
	tag, err := ParseFLVVideoTag(body)
	if err != nil || tag.PacketType != VideoPacketCodedFrames {
		t.Fatalf("tag %+v, %v", tag, err)
	}
	frame := body[tag.PayloadOffset:]
	nalus, err := SplitAVCC(frame, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := naluTypes(CodecH264, nalus); !bytes.Equal(got, []uint8{H264NALSEI, H264NALIDR}) {
		t.Fatalf("NAL unit types %v, want SEI then IDR", got)
	}
	if !IsKeyframeNALUs(CodecH264, nalus) || IsKeyframeNALUs(CodecH264, nalus[:1]) {
		t.Error("IsKeyframeNALUs must see the IDR and only the IDR")
	}
	if IsKeyframeNALUs(CodecAV1, nalus) {
		t.Error("IsKeyframeNALUs must be false for codecs without NAL units")
	}
	// AVCC → Annex-B → split gives the same units back.
	annexB, err := AVCCToAnnexB([]byte{0xaa}, frame, 4)
	if err != nil {
		t.Fatal(err)
	}
	if annexB[0] != 0xaa || len(annexB) != 1+len(frame) {
		t.Fatalf("AVCCToAnnexB did not append: %d bytes from %d", len(annexB), len(frame))
	}
	back, err := SplitAnnexB(annexB[1:])
	if err != nil || len(back) != len(nalus) {
		t.Fatalf("SplitAnnexB: %d units, %v", len(back), err)
	}
	for i := range nalus {
		if !bytes.Equal(back[i], nalus[i]) {
			t.Errorf("unit %d differs after the round trip", i)
		}
	}
	if avcc := AppendAVCC(nil, back...); !bytes.Equal(avcc, frame) {
		t.Error("AppendAVCC does not rebuild the original frame")
	}
}

func TestSplitAnnexBRealH265(t *testing.T) {
	nalus, err := SplitAnnexB(mustHex(t, tinyH265AnnexB))
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{H265NALVPS, H265NALSPS, H265NALPPS, H265NALIDRNLP, H265NALTrailR}
	if got := naluTypes(CodecH265, nalus); !bytes.Equal(got, want) {
		t.Fatalf("NAL unit types %v, want %v", got, want)
	}
	for i, n := range nalus {
		if ps := IsParameterSetNALU(CodecH265, n); ps != (i < 3) {
			t.Errorf("unit %d: IsParameterSetNALU = %v", i, ps)
		}
	}
	if !IsKeyframeNALUs(CodecH265, nalus) || IsKeyframeNALUs(CodecH265, nalus[4:]) {
		t.Error("IsKeyframeNALUs must see the IDR_N_LP picture only")
	}
	s, err := ParseH265SPS(nalus[1])
	if err != nil || s.Width != 32 || s.Height != 32 {
		t.Errorf("SPS from the stream: %+v, %v", s, err)
	}
	avcc := AppendAVCC(nil, nalus...)
	again, err := SplitAVCC(avcc, 4)
	if err != nil || len(again) != len(nalus) || !bytes.Equal(again[3], nalus[3]) {
		t.Errorf("AVCC round trip: %d units, %v", len(again), err)
	}
}

func TestIsKeyframeNALUsH265IRAPRange(t *testing.T) {
	for typ := uint8(0); typ < 41; typ++ {
		nalu := []byte{typ << 1, 0x01, 0xaf}
		want := typ >= 16 && typ <= 23
		if got := IsKeyframeNALUs(CodecH265, [][]byte{nalu}); got != want {
			t.Errorf("type %d: keyframe %v, want %v", typ, got, want)
		}
	}
	if !IsParameterSetNALU(CodecH264, []byte{0x67}) || !IsParameterSetNALU(CodecH264, []byte{0x68}) || IsParameterSetNALU(CodecH264, []byte{0x65}) {
		t.Error("IsParameterSetNALU H.264")
	}
	if IsParameterSetNALU(CodecAAC, []byte{0x67}) || H264NALUType(nil) != 0 || H265NALUType(nil) != 0 {
		t.Error("empty and non-video inputs")
	}
}

func TestSplitAVCCLengthSizes(t *testing.T) {
	tests := []struct {
		size  int
		frame string
		want  []string
	}{
		{1, "02 6588 00 01 41", []string{"6588", "41"}},
		{2, "0003 658880 0001 06", []string{"658880", "06"}},
		{4, "00000001 09 00000000 00000002 4101", []string{"09", "4101"}}, // empty unit skipped
		{4, "", nil},
	}
	for _, tt := range tests {
		got, err := SplitAVCC(mustHex(t, tt.frame), tt.size)
		if err != nil {
			t.Errorf("size %d %q: %v", tt.size, tt.frame, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("size %d %q: %d units, want %d", tt.size, tt.frame, len(got), len(tt.want))
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], mustHex(t, tt.want[i])) {
				t.Errorf("size %d %q: unit %d = %x", tt.size, tt.frame, i, got[i])
			}
		}
	}
	errs := []struct {
		size  int
		frame string
	}{
		{3, "00000141"},
		{0, "41"},
		{4, "000001"},
		{4, "00000005 4101"},
		{2, "0001 41 00"},
		{4, "7fffffff 41"},
	}
	for _, tt := range errs {
		if got, err := SplitAVCC(mustHex(t, tt.frame), tt.size); err == nil {
			t.Errorf("size %d %q: accepted as %x", tt.size, tt.frame, got)
		}
		if _, err := AVCCToAnnexB(nil, mustHex(t, tt.frame), tt.size); err == nil {
			t.Errorf("AVCCToAnnexB size %d %q: accepted", tt.size, tt.frame)
		}
	}
}

func TestSplitAnnexB(t *testing.T) {
	tests := []struct {
		name, stream string
		want         []string
	}{
		{"4-byte start codes", "00000001 6742 00000001 68ce", []string{"6742", "68ce"}},
		{"3-byte start codes", "000001 6742 000001 68ce", []string{"6742", "68ce"}},
		{"mixed, leading zeros", "0000 00000001 09f0 000001 6588 00000001 4101", []string{"09f0", "6588", "4101"}},
		{"trailing zeros dropped", "000001 6588 0000 000001 41 00", []string{"6588", "41"}},
		{"empty units skipped", "000001 000001 00000001 6588", []string{"6588"}},
		{"start code only", "00000001", nil},
		{"emulation prevention kept", "000001 65000003 01", []string{"6500000301"}},
	}
	for _, tt := range tests {
		got, err := SplitAnnexB(mustHex(t, tt.stream))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d units %x, want %d", tt.name, len(got), got, len(tt.want))
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], mustHex(t, tt.want[i])) {
				t.Errorf("%s: unit %d = %x, want %s", tt.name, i, got[i], tt.want[i])
			}
		}
	}
	for _, bad := range []string{"", "6742", "ff 000001 6742", "0000"} {
		if got, err := SplitAnnexB(mustHex(t, bad)); !errors.Is(err, ErrNoStartCode) {
			t.Errorf("%q: %x, %v; want ErrNoStartCode", bad, got, err)
		}
	}
}
