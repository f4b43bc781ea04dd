package av

import (
	"math"
	"testing"
)

// H.264 sequence header tag bodies from `ffmpeg -f lavfi -i testsrc=size=WxH:rate=R
// -c:v libx264 -profile:v P -f flv`; expectations from ffprobe and the
// encoder options (x264 writes VUI timing with time_scale = 2 × rate).
var h264SequenceHeaders = []struct {
	name          string
	tag           string
	profile       uint8
	level         uint8
	width, height int
	chroma        uint32
	frameMBSOnly  bool
	fps           float64
}{
	{"high 720p25", "17000000000164001fffe1001a6764001facd9405005bb011000000300100000030320f183196001000668ebe3cb22c0fdf8f800",
		100, 31, 1280, 720, 1, true, 25},
	{"constrained baseline 640x360 30fps (cropped from 368)", "17000000000142c01effe100196742c01ed900a02ff970110000030001000003003c0f162e4801000568cb83cb20",
		66, 30, 640, 360, 1, true, 30},
	{"main 854x480 24fps (cropped from 864)", "1700000000014d401fffe10018674d401feca06c1ef37808800000030080000018078c18cb01000568ebe3cb20",
		77, 31, 854, 480, 1, true, 24},
	{"high 1366x768 30000/1001 (cropped from 1376)", "170000000001640029ffe1001967640029acd94056061e6f011000003e90000ea600f183196001000668ebe3cb22c0fdf8f800",
		100, 41, 1366, 768, 1, true, 30000.0 / 1001},
	{"high 4:2:2 642x362", "1700000000017a001effe1001b677a001ebcd940a42fe227c044000003000400000300c83c58b65801000668ebe3cb22c0fef8f800",
		122, 30, 642, 362, 2, true, 25},
	{"high 4:4:4 predictive 642x362", "170000000001f4001effe1001a67f4001e919b281485fc7cf808800000030080000019078b16cb01000668ebe3c44844fff8f800",
		244, 30, 642, 362, 3, true, 25},
	{"high interlaced 720x576", "17000000000164001effe100186764001eacd940b424d8088000000300800000190f8a14cb01000668fba3cb22c0fdf8f800",
		100, 30, 720, 576, 1, false, 25},
	{"high 1080p50 level 4.2", "17000000000164002affe1001b6764002aacd940780227e5c044000003000400000301903c60c65801000768ebe3cb3002c0fdf8f800",
		100, 42, 1920, 1080, 1, true, 50},
	{"baseline 32x32", "17000000000142c00affe100156742c00ad9096c0440000003004000000c83c4899201000568cb83cb20",
		66, 10, 32, 32, 1, true, 25},
}

func TestParseAVCConfigAndSPSFromFFmpeg(t *testing.T) {
	for _, tt := range h264SequenceHeaders {
		t.Run(tt.name, func(t *testing.T) {
			body := mustHex(t, tt.tag)
			tag, err := ParseFLVVideoTag(body)
			if err != nil || !tag.IsSequenceHeader() || tag.Codec != CodecH264 {
				t.Fatalf("tag %+v, %v; want an H.264 sequence header", tag, err)
			}
			c, err := ParseAVCConfig(body[tag.PayloadOffset:])
			if err != nil {
				t.Fatalf("ParseAVCConfig: %v", err)
			}
			if c.Version != 1 || c.Profile != tt.profile || c.Level != tt.level || c.NALULengthSize != 4 {
				t.Errorf("config %+v; want version 1, profile %d, level %d, length size 4", c, tt.profile, tt.level)
			}
			if len(c.SPS) != 1 || len(c.PPS) != 1 || H264NALUType(c.SPS[0]) != H264NALSPS || H264NALUType(c.PPS[0]) != H264NALPPS {
				t.Fatalf("got %d SPS and %d PPS", len(c.SPS), len(c.PPS))
			}
			s, err := ParseH264SPS(c.SPS[0])
			if err != nil {
				t.Fatalf("ParseH264SPS: %v", err)
			}
			if s.ProfileIDC != tt.profile || s.LevelIDC != tt.level || s.ConstraintFlags != c.Compatibility&0xfc {
				t.Errorf("SPS profile %d level %d flags %#x; want %d %d %#x", s.ProfileIDC, s.LevelIDC, s.ConstraintFlags, tt.profile, tt.level, c.Compatibility)
			}
			if s.Width != tt.width || s.Height != tt.height {
				t.Errorf("size %dx%d, want %dx%d", s.Width, s.Height, tt.width, tt.height)
			}
			if s.ChromaFormatIDC != tt.chroma || s.FrameMBSOnly != tt.frameMBSOnly || s.BitDepthLuma != 8 {
				t.Errorf("chroma %d frame_mbs_only %v depth %d; want %d %v 8", s.ChromaFormatIDC, s.FrameMBSOnly, s.BitDepthLuma, tt.chroma, tt.frameMBSOnly)
			}
			if math.Abs(s.FrameRate()-tt.fps) > 1e-9 {
				t.Errorf("frame rate %v, want %v", s.FrameRate(), tt.fps)
			}
		})
	}
}

// writeH264SPSHeader writes profile, constraint byte, level and sps id 0.
func writeH264SPSHeader(w *bitWriter, profile, constraints, level uint8) {
	w.write(uint64(profile), 8)
	w.write(uint64(constraints), 8)
	w.write(uint64(level), 8)
	w.ue(0)
}

func finishSPS(w *bitWriter) []byte {
	return AppendEscapedRBSP([]byte{0x67}, w.rbspWithTrailingBits())
}

// A High-profile SPS with scaling lists, POC type 1, cropping and a full VUI,
// written field by field from 7.3.2.1.1 and E.1.1.
func craftedHighSPS() []byte {
	var w bitWriter
	writeH264SPSHeader(&w, 100, 0, 40)
	w.ue(1)       // chroma_format_idc 4:2:0
	w.ue(0)       // bit_depth_luma_minus8
	w.ue(0)       // bit_depth_chroma_minus8
	w.flag(false) // qpprime_y_zero_transform_bypass_flag
	w.flag(true)  // seq_scaling_matrix_present_flag
	for i := 0; i < 8; i++ {
		switch i {
		case 0: // delta -8 makes nextScale 0: the rest of the list is implied
			w.flag(true)
			w.se(-8)
		case 2: // sixteen explicit deltas
			w.flag(true)
			for j := 0; j < 16; j++ {
				w.se(1)
			}
		case 6: // sixty-four explicit deltas
			w.flag(true)
			for j := 0; j < 64; j++ {
				if j%2 == 0 {
					w.se(3)
				} else {
					w.se(-3)
				}
			}
		case 7: // five deltas, then one reaching zero
			w.flag(true)
			for j := 0; j < 5; j++ {
				w.se(1)
			}
			w.se(-13)
		default:
			w.flag(false)
		}
	}
	w.ue(4)       // log2_max_frame_num_minus4
	w.ue(1)       // pic_order_cnt_type
	w.flag(false) // delta_pic_order_always_zero_flag
	w.se(-2)      // offset_for_non_ref_pic
	w.se(3)       // offset_for_top_to_bottom_field
	w.ue(3)       // num_ref_frames_in_pic_order_cnt_cycle
	w.se(1)
	w.se(-1)
	w.se(5)
	w.ue(4)       // max_num_ref_frames
	w.flag(false) // gaps_in_frame_num_value_allowed_flag
	w.ue(119)     // pic_width_in_mbs_minus1: 1920
	w.ue(67)      // pic_height_in_map_units_minus1: 1088
	w.flag(true)  // frame_mbs_only_flag
	w.flag(true)  // direct_8x8_inference_flag
	w.flag(true)  // frame_cropping_flag
	w.ue(0)
	w.ue(0)
	w.ue(0)
	w.ue(4)      // bottom: 4 × 2 lines
	w.flag(true) // vui_parameters_present_flag
	w.flag(true) // aspect_ratio_info_present_flag
	w.write(255, 8)
	w.write(4, 16)
	w.write(3, 16)
	w.flag(false) // overscan_info_present_flag
	w.flag(true)  // video_signal_type_present_flag
	w.write(5, 3)
	w.flag(false)
	w.flag(true) // colour_description_present_flag
	w.write(1, 8)
	w.write(1, 8)
	w.write(1, 8)
	w.flag(true) // chroma_loc_info_present_flag
	w.ue(0)
	w.ue(0)
	w.flag(true) // timing_info_present_flag
	w.write(1001, 32)
	w.write(60000, 32)
	w.flag(true)
	w.write(0, 5) // no HRD, no pic_struct, no restriction
	return finishSPS(&w)
}

// A 4:4:4 SPS with separate colour planes, 10-bit, twelve scaling lists and
// POC type 2: crop units are single samples.
func craftedSeparatePlanesSPS() []byte {
	var w bitWriter
	writeH264SPSHeader(&w, 244, 0, 30)
	w.ue(3)      // chroma_format_idc 4:4:4
	w.flag(true) // separate_colour_plane_flag
	w.ue(2)      // bit depth 10
	w.ue(2)
	w.flag(false)
	w.flag(true) // seq_scaling_matrix_present_flag
	for i := 0; i < 12; i++ {
		w.flag(i >= 8)
		if i >= 8 {
			w.se(-8)
		}
	}
	w.ue(0) // log2_max_frame_num_minus4
	w.ue(2) // pic_order_cnt_type
	w.ue(1) // max_num_ref_frames
	w.flag(false)
	w.ue(39) // 640
	w.ue(29) // 480
	w.flag(true)
	w.flag(true)
	w.flag(true) // cropping
	w.ue(3)
	w.ue(5)
	w.ue(0)
	w.ue(2)
	w.flag(false) // no VUI
	return finishSPS(&w)
}

// A monochrome interlaced SPS (chroma_format_idc 0, frame_mbs_only 0).
func craftedMonochromeFieldSPS() []byte {
	var w bitWriter
	writeH264SPSHeader(&w, 100, 0, 30)
	w.ue(0) // chroma_format_idc 0
	w.ue(0)
	w.ue(0)
	w.flag(false)
	w.flag(false)
	w.ue(0)
	w.ue(0) // POC type 0
	w.ue(2) // log2_max_pic_order_cnt_lsb_minus4
	w.ue(1)
	w.flag(false)
	w.ue(44)      // 720
	w.ue(17)      // 18 map units of field pairs: 576 lines
	w.flag(false) // frame_mbs_only_flag
	w.flag(true)  // mb_adaptive_frame_field_flag
	w.flag(true)
	w.flag(true) // cropping: top and bottom 1 unit of 2 lines
	w.ue(0)
	w.ue(0)
	w.ue(1)
	w.ue(1)
	w.flag(false)
	return finishSPS(&w)
}

func TestParseH264SPSCrafted(t *testing.T) {
	t.Run("scaling lists, POC type 1, VUI", func(t *testing.T) {
		s, err := ParseH264SPS(craftedHighSPS())
		if err != nil {
			t.Fatal(err)
		}
		if s.Width != 1920 || s.Height != 1080 || s.CropBottom != 8 {
			t.Errorf("size %dx%d crop bottom %d, want 1920x1080 and 8", s.Width, s.Height, s.CropBottom)
		}
		if s.PicOrderCntType != 1 || s.Log2MaxFrameNum != 8 || s.MaxNumRefFrames != 4 {
			t.Errorf("poc %d log2 frame num %d refs %d", s.PicOrderCntType, s.Log2MaxFrameNum, s.MaxNumRefFrames)
		}
		if s.SARWidth != 4 || s.SARHeight != 3 || s.NumUnitsInTick != 1001 || s.TimeScale != 60000 {
			t.Errorf("SAR %d:%d timing %d/%d", s.SARWidth, s.SARHeight, s.NumUnitsInTick, s.TimeScale)
		}
		if math.Abs(s.FrameRate()-29.97002997) > 1e-6 {
			t.Errorf("frame rate %v", s.FrameRate())
		}
	})
	t.Run("separate colour planes", func(t *testing.T) {
		s, err := ParseH264SPS(craftedSeparatePlanesSPS())
		if err != nil {
			t.Fatal(err)
		}
		if !s.SeparateColourPlane || s.BitDepthLuma != 10 || s.BitDepthChroma != 10 || s.ChromaFormatIDC != 3 {
			t.Errorf("%+v", s)
		}
		if s.Width != 640-8 || s.Height != 480-2 || s.FrameRate() != 0 {
			t.Errorf("size %dx%d fps %v, want 632x478 and no timing", s.Width, s.Height, s.FrameRate())
		}
	})
	t.Run("monochrome fields", func(t *testing.T) {
		s, err := ParseH264SPS(craftedMonochromeFieldSPS())
		if err != nil {
			t.Fatal(err)
		}
		if s.FrameMBSOnly || s.Log2MaxPicOrderCntLsb != 6 || s.Width != 720 || s.Height != 576-4 {
			t.Errorf("frame_mbs_only %v lsb %d size %dx%d, want false 6 720x572", s.FrameMBSOnly, s.Log2MaxPicOrderCntLsb, s.Width, s.Height)
		}
	})
}

func TestParseH264SPSTruncatedVUI(t *testing.T) {
	// The 720p SPS cut inside its VUI timing: size stays, timing goes.
	full := mustHex(t, "6764001facd9405005bb011000000300100000030320f1831960")
	s, err := ParseH264SPS(full[:len(full)-8])
	if err != nil {
		t.Fatalf("truncated VUI rejected: %v", err)
	}
	if s.Width != 1280 || s.Height != 720 || s.FrameRate() != 0 {
		t.Errorf("size %dx%d fps %v, want 1280x720 without timing", s.Width, s.Height, s.FrameRate())
	}
}

func TestParseH264SPSErrors(t *testing.T) {
	var w bitWriter
	writeH264SPSHeader(&w, 66, 0, 30)
	w.ue(0)
	w.ue(3) // pic_order_cnt_type 3 is invalid
	badPOC := finishSPS(&w)

	w = bitWriter{}
	writeH264SPSHeader(&w, 100, 0, 30)
	w.ue(4) // chroma_format_idc 4 is invalid
	badChroma := finishSPS(&w)

	spsWith := func(widthMBs, heightUnits uint32, crop [4]uint32) []byte {
		var w bitWriter
		writeH264SPSHeader(&w, 66, 0, 30)
		w.ue(0)
		w.ue(2)
		w.ue(1)
		w.flag(false)
		w.ue(widthMBs - 1)
		w.ue(heightUnits - 1)
		w.flag(true)
		w.flag(true)
		w.flag(true)
		for _, c := range crop {
			w.ue(c)
		}
		w.flag(false)
		return finishSPS(&w)
	}
	if s, err := ParseH264SPS(spsWith(2, 2, [4]uint32{1, 1, 1, 1})); err != nil || s.Width != 28 || s.Height != 28 {
		t.Fatalf("control SPS: %dx%d, %v", s.Width, s.Height, err)
	}

	tests := []struct {
		name string
		sps  []byte
	}{
		{"empty", nil},
		{"three bytes", []byte{0x67, 0x42, 0xc0}},
		{"PPS not SPS", mustHex(t, "68cb83cb20")},
		{"cut before the size", mustHex(t, "6764001facd9")},
		{"POC type 3", badPOC},
		{"chroma format 4", badChroma},
		{"cropped to nothing", spsWith(2, 2, [4]uint32{8, 8, 0, 0})},
		{"huge crop", spsWith(2, 2, [4]uint32{0, 1 << 30, 0, 0})},
		{"huge width", spsWith(1<<20, 2, [4]uint32{})},
		{"huge height", spsWith(2, 1<<20, [4]uint32{})},
	}
	for _, tt := range tests {
		if s, err := ParseH264SPS(tt.sps); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, s)
		}
	}
}

func TestParseAVCConfigErrors(t *testing.T) {
	tests := []struct {
		name, hex string
	}{
		{"short", "0164001f"},
		{"version 0", "0064001fffe1000467640000"},
		{"length size 3", "0164001ffee1000467640000"},
		{"SPS length cut", "0164001fffe100"},
		{"SPS overruns", "0164001fffe1000967640000"},
		{"SPS of length 0", "0164001fffe10000"},
		{"no PPS count", "0164001fffe100046764001f"},
		{"PPS overruns", "0164001fffe100046764001f010005686b"},
	}
	for _, tt := range tests {
		if c, err := ParseAVCConfig(mustHex(t, tt.hex)); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, c)
		}
	}
	// No parameter sets at all is a valid, if useless, record.
	c, err := ParseAVCConfig(mustHex(t, "0142c01efce000"))
	if err != nil || len(c.SPS) != 0 || len(c.PPS) != 0 || c.NALULengthSize != 1 {
		t.Errorf("empty record: %+v, %v", c, err)
	}
	// Two SPS and a 2-byte length size.
	c, err = ParseAVCConfig(mustHex(t, "0142c01efde20002 6742 0003 674201 01 0002 68ce"))
	if err != nil || len(c.SPS) != 2 || len(c.PPS) != 1 || c.NALULengthSize != 2 || len(c.SPS[1]) != 3 {
		t.Errorf("two SPS: %+v, %v", c, err)
	}
}
