package av

import (
	"testing"
)

// HEVCDecoderConfigurationRecords from the hvcC box of `ffmpeg -f lavfi -i
// testsrc=size=WxH -pix_fmt F -c:v libx265 out.mp4`, with x265's SEI array
// dropped (numOfArrays 4 → 3) to keep them short. Expectations from ffprobe.
var hevcConfigs = []struct {
	name          string
	record        string
	profile       uint8
	level         uint8
	chroma        uint8
	depth         int
	width, height int
	profileName   string
	levelName     string
}{
	{"main 1280x720", "0101600000009000000000005df000fcfdf8f800000f03" +
		"200001001840010c01ffff01600000030090000003000003005d959809" +
		"210001002b42010101600000030090000003000003005da00280802d165959a4932bc05a020000030002000003003210" +
		"22000100074401c172b46240",
		1, 93, 1, 8, 1280, 720, "Main", "3.1"},
	{"main10 854x480", "0102200000009000000000005af000fcfdfafa00000f03" +
		"200001001840010c01ffff02200000030090000003000003005a959809" +
		"210001002c42010102200000030090000003000003005aa006b201e1d6d96566924caf016808000003000800000300f040" +
		"22000100074401c172b46240",
		2, 90, 1, 10, 854, 480, "Main10", "3"},
	{"rext 4:2:2 10-bit 1920x1080", "0104080000009d08000000007bf000fcfefafa00000f03" +
		"200001001740010c01ffff0408000003009d0800000300007b959809" +
		"210001002b4201010408000003009d0800000300007bb003c08010e4d96566924caf016808000003000800000301e040" +
		"22000100074401c172b46240",
		4, 123, 2, 10, 1920, 1080, "Rext", "4.1"},
}

func TestParseHEVCConfigAndSPSFromFFmpeg(t *testing.T) {
	for _, tt := range hevcConfigs {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseHEVCConfig(mustHex(t, tt.record))
			if err != nil {
				t.Fatalf("ParseHEVCConfig: %v", err)
			}
			if c.Version != 1 || c.ProfileIDC != tt.profile || c.LevelIDC != tt.level || c.Tier != 0 {
				t.Errorf("config profile %d level %d tier %d", c.ProfileIDC, c.LevelIDC, c.Tier)
			}
			if c.ChromaFormat != tt.chroma || c.BitDepthLuma != tt.depth || c.BitDepthChroma != tt.depth || c.NALULengthSize != 4 || c.NumTemporalLayers != 1 {
				t.Errorf("config %+v", c)
			}
			if len(c.VPS) != 1 || len(c.SPS) != 1 || len(c.PPS) != 1 || len(c.SEI) != 0 {
				t.Fatalf("arrays: %d VPS %d SPS %d PPS %d SEI", len(c.VPS), len(c.SPS), len(c.PPS), len(c.SEI))
			}
			if H265NALUType(c.VPS[0]) != H265NALVPS || H265NALUType(c.PPS[0]) != H265NALPPS {
				t.Error("NAL unit types do not match their arrays")
			}
			s, err := ParseH265SPS(c.SPS[0])
			if err != nil {
				t.Fatalf("ParseH265SPS: %v", err)
			}
			if s.ProfileIDC != tt.profile || s.LevelIDC != tt.level || s.ChromaFormatIDC != uint32(tt.chroma) || s.BitDepthLuma != tt.depth {
				t.Errorf("SPS %+v", s)
			}
			if s.Width != tt.width || s.Height != tt.height {
				t.Errorf("size %dx%d, want %dx%d (coded %dx%d)", s.Width, s.Height, tt.width, tt.height, s.CodedWidth, s.CodedHeight)
			}
			if s.CompatibilityFlags != c.CompatibilityFlags {
				t.Errorf("SPS compatibility %#x, record %#x", s.CompatibilityFlags, c.CompatibilityFlags)
			}
			if H265ProfileName(c.ProfileIDC) != tt.profileName || H265LevelName(c.LevelIDC) != tt.levelName {
				t.Errorf("names %q %q, want %q %q", H265ProfileName(c.ProfileIDC), H265LevelName(c.LevelIDC), tt.profileName, tt.levelName)
			}
		})
	}
}

func TestParseHEVCConfigVersion0(t *testing.T) {
	rec := mustHex(t, hevcConfigs[0].record)
	rec[0] = 0 // as early HEVC muxers wrote it
	c, err := ParseHEVCConfig(rec)
	if err != nil || c.Version != 0 || len(c.SPS) != 1 {
		t.Errorf("version 0 record: %+v, %v", c, err)
	}
}

func TestParseHEVCConfigKeepsSEIAndSkipsUnknownArrays(t *testing.T) {
	rec := mustHex(t, "0101600000009000000000005df000fcfdf8f800000f03"+
		"2700010004 4e01 0580"+ // prefix SEI array
		"3000010002 6001"+ // an array of another type
		"22000100074401c172b46240")
	c, err := ParseHEVCConfig(rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SEI) != 1 || len(c.PPS) != 1 || len(c.SPS) != 0 {
		t.Errorf("SEI %d PPS %d SPS %d, want 1 1 0", len(c.SEI), len(c.PPS), len(c.SPS))
	}
}

func TestParseHEVCConfigErrors(t *testing.T) {
	header := "0101600000009000000000005df000fcfdf8f800000f"
	tests := []struct{ name, hex string }{
		{"short", "01016000000090"},
		{"version 2", "0201600000009000000000005df000fcfdf8f800000f00"},
		{"Annex-B start code", "0000000140010c01ffff01600000030090000003000003005d959809"},
		{"length size 3", "0101600000009000000000005df000fcfdf8f800000e00"},
		{"array header cut", header + "01" + "2000"},
		{"NALU length cut", header + "01" + "20000100"},
		{"NALU overruns", header + "01" + "2000010009400101"},
		{"NALU of length 0", header + "01" + "2000010000"},
		{"missing arrays", header + "02" + "200001000240 01"},
	}
	for _, tt := range tests {
		if c, err := ParseHEVCConfig(mustHex(t, tt.hex)); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, c)
		}
	}
}

// craftedH265SPS writes an SPS with sub-layers, so the sub-layer part of
// profile_tier_level must be skipped right, and a 4:4:4 conformance window.
func craftedH265SPS(maxSubLayersMinus1 int, chroma uint32, w, h uint32, win [4]uint32) []byte {
	var bw bitWriter
	bw.write(0, 4) // sps_video_parameter_set_id
	bw.write(uint64(maxSubLayersMinus1), 3)
	bw.flag(true)
	// profile_tier_level(1, maxSubLayersMinus1)
	bw.write(0, 2)
	bw.write(1, 1) // High tier
	bw.write(1, 5) // Main
	bw.write(0x60000000, 32)
	bw.write(0, 48)
	bw.write(153, 8) // level 5.1
	for i := 0; i < maxSubLayersMinus1; i++ {
		bw.flag(true) // sub_layer_profile_present_flag
		bw.flag(i%2 == 0)
	}
	if maxSubLayersMinus1 > 0 {
		bw.write(0, 2*(8-maxSubLayersMinus1))
	}
	for i := 0; i < maxSubLayersMinus1; i++ {
		bw.write(0x3ff, 88) // sub-layer profile: garbage to be skipped
		if i%2 == 0 {
			bw.write(0xff, 8)
		}
	}
	bw.ue(0) // sps_seq_parameter_set_id
	bw.ue(chroma)
	if chroma == 3 {
		bw.flag(false)
	}
	bw.ue(w)
	bw.ue(h)
	bw.flag(true)
	for _, o := range win {
		bw.ue(o)
	}
	bw.ue(4) // bit depth 12
	bw.ue(4)
	bw.ue(4) // log2_max_pic_order_cnt_lsb_minus4: parsing stops before it matters
	return AppendEscapedRBSP([]byte{0x42, 0x01}, bw.rbspWithTrailingBits())
}

func TestParseH265SPSCrafted(t *testing.T) {
	s, err := ParseH265SPS(craftedH265SPS(3, 3, 3840, 2176, [4]uint32{2, 2, 0, 16}))
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxSubLayers != 4 || s.Tier != 1 || s.ProfileIDC != 1 || s.LevelIDC != 153 || s.BitDepthLuma != 12 {
		t.Errorf("%+v", s)
	}
	if s.Width != 3836 || s.Height != 2160 {
		t.Errorf("size %dx%d, want 3836x2160", s.Width, s.Height)
	}
	s, err = ParseH265SPS(craftedH265SPS(6, 0, 64, 64, [4]uint32{1, 1, 1, 1}))
	if err != nil || s.Width != 62 || s.Height != 62 {
		t.Errorf("monochrome, 7 sub-layers: %dx%d, %v", s.Width, s.Height, err)
	}
}

func TestParseH265SPSErrors(t *testing.T) {
	good := craftedH265SPS(0, 1, 64, 64, [4]uint32{})
	if _, err := ParseH265SPS(good); err != nil {
		t.Fatalf("control SPS rejected: %v", err)
	}
	tests := []struct {
		name string
		sps  []byte
	}{
		{"empty", nil},
		{"short", []byte{0x42, 0x01}},
		{"VPS", mustHex(t, "40010c01ffff01600000030090000003000003005d959809")},
		{"cut", good[:12]},
		{"chroma 4", craftedH265SPS(0, 4, 64, 64, [4]uint32{})},
		{"zero width", craftedH265SPS(0, 1, 0, 64, [4]uint32{})},
		{"huge height", craftedH265SPS(0, 1, 64, 1<<20, [4]uint32{})},
		{"window too large", craftedH265SPS(0, 1, 64, 64, [4]uint32{16, 16, 0, 0})},
		{"huge window", craftedH265SPS(0, 1, 64, 64, [4]uint32{1 << 30, 0, 0, 0})},
	}
	for _, tt := range tests {
		if s, err := ParseH265SPS(tt.sps); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, s)
		}
	}
}
