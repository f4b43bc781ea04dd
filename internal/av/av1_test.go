package av

import "testing"

func TestParseAV1ConfigFromFFmpeg(t *testing.T) {
	// av1C boxes of `ffmpeg -f lavfi -i testsrc=size=WxH -pix_fmt F -c:v libaom-av1 out.mp4`.
	tests := []struct {
		name          string
		record        string
		level         uint8
		depth         int
		width, height int
	}{
		{"8-bit 640x360", "81010c000a0b0000000cc4ff6736be4010", 1, 8, 640, 360},
		{"10-bit 1366x768", "81054c000a0b0000002d4d55bfccaf9404", 5, 10, 1366, 768},
	}
	for _, tt := range tests {
		c, err := ParseAV1Config(mustHex(t, tt.record))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if c.Profile != 0 || c.Level != tt.level || c.Tier != 0 || c.BitDepth != tt.depth || !c.ChromaSubX || !c.ChromaSubY || c.Monochrome {
			t.Errorf("%s: %+v", tt.name, c)
		}
		if c.Width != tt.width || c.Height != tt.height {
			t.Errorf("%s: size %dx%d, want %dx%d", tt.name, c.Width, c.Height, tt.width, tt.height)
		}
	}
}

// craftedAV1SequenceHeader writes a sequence_header_obu (AV1 spec 5.5.1) with
// timing info, a decoder model and two operating points.
func craftedAV1SequenceHeader(width, height int) []byte {
	var w bitWriter
	w.write(2, 3)  // seq_profile
	w.flag(false)  // still_picture
	w.flag(false)  // reduced_still_picture_header
	w.flag(true)   // timing_info_present_flag
	w.write(1, 32) // num_units_in_display_tick
	w.write(60, 32)
	w.flag(true)   // equal_picture_interval
	w.write(0, 4)  // uvlc: 4 leading zeros,
	w.write(1, 1)  // the marker,
	w.write(5, 4)  // and 4 value bits
	w.flag(true)   // decoder_model_info_present_flag
	w.write(9, 5)  // buffer_delay_length_minus_1: 10-bit delays
	w.write(1, 32) // num_units_in_decoding_tick
	w.write(0, 10) // two more length fields
	w.flag(true)   // initial_display_delay_present_flag
	w.write(1, 5)  // operating_points_cnt_minus_1
	for op, level := range []uint64{12, 4} {
		w.write(0x101, 12) // operating_point_idc
		w.write(level, 5)
		if level > 7 {
			w.write(1, 1) // seq_tier
		}
		w.flag(op == 0) // decoder_model_present_for_this_op
		if op == 0 {
			w.write(0x3ff, 10)
			w.write(0x155, 10)
			w.flag(true)
		}
		w.flag(true) // initial_display_delay_present_for_this_op
		w.write(3, 4)
	}
	w.write(15, 4) // frame_width_bits_minus_1
	w.write(11, 4)
	w.write(uint64(width-1), 16)
	w.write(uint64(height-1), 12)
	return w.rbspWithTrailingBits()
}

func TestParseAV1SequenceHeaderCrafted(t *testing.T) {
	h, err := ParseAV1SequenceHeader(craftedAV1SequenceHeader(3840, 2160))
	if err != nil {
		t.Fatal(err)
	}
	if h.Profile != 2 || h.Level != 12 || h.Tier != 1 || h.MaxWidth != 3840 || h.MaxHeight != 2160 {
		t.Errorf("%+v", h)
	}
	if h.ColorKnown {
		t.Error("color_config reported for a header that ends after the frame size")
	}
	// Reduced still picture header: profile, flags, level, then the size.
	var w bitWriter
	w.write(0, 3)
	w.flag(true)
	w.flag(true)
	w.write(3, 5)
	w.write(7, 4)
	w.write(7, 4)
	w.write(199, 8)
	w.write(99, 8)
	h, err = ParseAV1SequenceHeader(w.rbspWithTrailingBits())
	if err != nil || !h.StillPicture || h.Level != 3 || h.MaxWidth != 200 || h.MaxHeight != 100 {
		t.Errorf("reduced still picture: %+v, %v", h, err)
	}
}

func TestParseAV1ConfigOBUs(t *testing.T) {
	seq := craftedAV1SequenceHeader(1920, 1080)
	header := mustHex(t, "815fec00") // profile 2, level 31, tier 1, high_bitdepth and twelve_bit
	// A sized temporal delimiter, then a sequence header with an extension byte.
	obus := cat([]byte{0x12, 0x00}, []byte{0x0e, 0x00, byte(len(seq))}, seq)
	c, err := ParseAV1Config(cat(header, obus))
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile != 2 || c.Level != 31 || c.Tier != 1 || c.Width != 1920 || c.Height != 1080 {
		t.Errorf("%+v", c)
	}
	if c.BitDepth != 12 {
		t.Errorf("bit depth %d from header byte %#x", c.BitDepth, header[2])
	}
	if c, err := ParseAV1Config(mustHex(t, "81000c00")); err != nil || c.Width != 0 {
		t.Errorf("no config OBUs: %+v, %v", c, err)
	}
}

func TestParseAV1ConfigErrors(t *testing.T) {
	tests := []struct{ name, hex string }{
		{"short", "8101"},
		{"no marker", "01010c00"},
		{"version 2", "82010c00"},
		{"forbidden OBU bit", "81010c00" + "8a00"},
		{"OBU overruns", "81010c00" + "0a0b0000"},
		{"leb128 cut", "81010c00" + "0a80"},
		{"leb128 too long", "81010c00" + "0a808080808080808001"},
		{"extension byte missing", "81010c00" + "0e"},
		{"sequence header cut", "81010c00" + "0a0300000c"},
	}
	for _, tt := range tests {
		if c, err := ParseAV1Config(mustHex(t, tt.hex)); err == nil {
			t.Errorf("%s: accepted as %+v", tt.name, c)
		}
	}
}
