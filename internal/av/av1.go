package av

import (
	"errors"
	"fmt"
)

// AV1Config is an AV1CodecConfigurationRecord (the av1C box of the AV1 ISOBMFF
// binding, section 2.3), the body of an enhanced-RTMP AV1 sequence start.
type AV1Config struct {
	Profile      uint8 // seq_profile: 0 Main, 1 High, 2 Professional
	Level        uint8 // seq_level_idx_0
	Tier         uint8 // seq_tier_0
	BitDepth     int   // 8, 10 or 12
	Monochrome   bool
	ChromaSubX   bool
	ChromaSubY   bool
	ConfigOBUs   []byte // aliases the input
	Width        int    // from the sequence header OBU in ConfigOBUs, 0 if absent
	Height       int
	StillPicture bool
}

// ParseAV1Config parses an AV1CodecConfigurationRecord and, when its configOBUs
// hold a sequence header OBU, the maximum frame size from it.
func ParseAV1Config(b []byte) (AV1Config, error) {
	var c AV1Config
	if len(b) < 4 {
		return c, fmt.Errorf("av: AV1 config needs 4 bytes, have %d", len(b))
	}
	if b[0]&0x80 == 0 {
		return c, errors.New("av: AV1 config marker bit is not set")
	}
	if v := b[0] & 0x7f; v != 1 {
		return c, fmt.Errorf("av: AV1 config version %d, want 1", v)
	}
	c.Profile, c.Level = b[1]>>5, b[1]&0x1f
	c.Tier = b[2] >> 7
	highBitDepth, twelveBit := b[2]&0x40 != 0, b[2]&0x20 != 0
	c.Monochrome = b[2]&0x10 != 0
	c.ChromaSubX, c.ChromaSubY = b[2]&0x08 != 0, b[2]&0x04 != 0
	c.BitDepth = 8
	switch {
	case c.Profile == 2 && highBitDepth && twelveBit:
		c.BitDepth = 12
	case highBitDepth:
		c.BitDepth = 10
	}
	c.ConfigOBUs = b[4:]
	seq, found, err := findAV1SequenceHeader(c.ConfigOBUs)
	if err != nil {
		return c, err
	}
	if found {
		h, err := ParseAV1SequenceHeader(seq)
		if err != nil {
			return c, err
		}
		c.Width, c.Height, c.StillPicture = h.MaxWidth, h.MaxHeight, h.StillPicture
	}
	return c, nil
}

// AV1 OBU types (AV1 spec 6.2.2).
const (
	AV1OBUSequenceHeader = 1
	AV1OBUTemporalDelim  = 2
)

// findAV1SequenceHeader walks low-overhead OBUs and returns the payload of the
// first sequence header.
func findAV1SequenceHeader(b []byte) ([]byte, bool, error) {
	for len(b) > 0 {
		obuType, payload, rest, err := splitAV1OBU(b)
		if err != nil {
			return nil, false, err
		}
		if obuType == AV1OBUSequenceHeader {
			return payload, true, nil
		}
		b = rest
	}
	return nil, false, nil
}

// splitAV1OBU reads one OBU (5.3): a header, an optional extension byte and
// an optional LEB128 size; without a size the OBU runs to the end of b.
func splitAV1OBU(b []byte) (obuType uint8, payload, rest []byte, err error) {
	h := b[0]
	if h&0x80 != 0 {
		return 0, nil, nil, errors.New("av: AV1 OBU forbidden bit is set")
	}
	obuType = (h >> 3) & 0x0f
	p := 1
	if h&0x04 != 0 { // obu_extension_flag
		p++
	}
	if p > len(b) {
		return 0, nil, nil, errors.New("av: AV1 OBU header truncated")
	}
	if h&0x02 == 0 { // no obu_has_size_field
		return obuType, b[p:], nil, nil
	}
	size, n, err := readLEB128(b[p:])
	if err != nil {
		return 0, nil, nil, err
	}
	p += n
	if size > uint64(len(b)-p) {
		return 0, nil, nil, fmt.Errorf("av: AV1 OBU size %d, %d bytes left", size, len(b)-p)
	}
	end := p + int(size)
	return obuType, b[p:end], b[end:], nil
}

// readLEB128 reads an unsigned LEB128 value of at most 8 bytes (4.10.5).
func readLEB128(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < 8; i++ {
		if i >= len(b) {
			return 0, 0, errors.New("av: AV1 leb128 truncated")
		}
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("av: AV1 leb128 longer than 8 bytes")
}

// AV1SequenceHeader holds the fields of a sequence header OBU (5.5) that
// castd uses: the codec facts the API reports and what an
// AV1CodecConfigurationRecord is built from.
type AV1SequenceHeader struct {
	Profile                   uint8
	StillPicture              bool
	ReducedStillPictureHeader bool
	Level                     uint8 // seq_level_idx of operating point 0
	Tier                      uint8
	MaxWidth                  int
	MaxHeight                 int
	// Color is color_config (5.5.2); ColorKnown is false when the payload
	// ends before it (the size is enough for the API).
	Color      AV1ColorConfig
	ColorKnown bool
}

// AV1ColorConfig is the part of color_config an AV1CodecConfigurationRecord
// carries.
type AV1ColorConfig struct {
	HighBitDepth, TwelveBit, Monochrome bool
	SubX, SubY                          bool // chroma subsampling
	ChromaSamplePosition                uint8
}

// ParseAV1SequenceHeader parses a sequence header OBU payload (no OBU
// header). It fails when the payload ends before the maximum frame size.
func ParseAV1SequenceHeader(b []byte) (AV1SequenceHeader, error) {
	var h AV1SequenceHeader
	r := NewBitReader(b)
	h.Profile = uint8(r.ReadBits(3))
	h.StillPicture = r.ReadFlag()
	h.ReducedStillPictureHeader = r.ReadFlag()
	if h.ReducedStillPictureHeader {
		h.Level = uint8(r.ReadBits(5))
	} else {
		readAV1OperatingPoints(r, &h)
	}
	widthBits := int(r.ReadBits(4)) + 1
	heightBits := int(r.ReadBits(4)) + 1
	h.MaxWidth = int(r.ReadBits(widthBits)) + 1
	h.MaxHeight = int(r.ReadBits(heightBits)) + 1
	if err := r.Err(); err != nil {
		return h, fmt.Errorf("av: AV1 sequence header: %w", err)
	}
	skipAV1CodingTools(r, h.ReducedStillPictureHeader)
	h.Color = readAV1ColorConfig(r, h.Profile)
	h.ColorKnown = r.Err() == nil
	return h, nil
}

// skipAV1CodingTools skips from frame_id_numbers_present_flag to
// enable_restoration (5.5.1).
func skipAV1CodingTools(r *BitReader, reduced bool) {
	if !reduced && r.ReadFlag() { // frame_id_numbers_present_flag
		r.Skip(4 + 3)
	}
	r.Skip(3) // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
	if !reduced {
		r.Skip(4) // interintra, masked compound, warped motion, dual filter
		orderHint := r.ReadFlag()
		if orderHint {
			r.Skip(2) // enable_jnt_comp, enable_ref_frame_mvs
		}
		forceScreenContent := uint64(2) // SELECT_SCREEN_CONTENT_TOOLS
		if !r.ReadFlag() {              // seq_choose_screen_content_tools
			forceScreenContent = r.ReadBits(1)
		}
		if forceScreenContent > 0 && !r.ReadFlag() { // seq_choose_integer_mv
			r.Skip(1) // seq_force_integer_mv
		}
		if orderHint {
			r.Skip(3) // order_hint_bits_minus_1
		}
	}
	r.Skip(3) // enable_superres, enable_cdef, enable_restoration
}

// readAV1ColorConfig reads color_config() (5.5.2).
func readAV1ColorConfig(r *BitReader, profile uint8) AV1ColorConfig {
	var c AV1ColorConfig
	c.HighBitDepth = r.ReadFlag()
	if profile == 2 && c.HighBitDepth {
		c.TwelveBit = r.ReadFlag()
	}
	if profile != 1 {
		c.Monochrome = r.ReadFlag()
	}
	primaries, transfer, matrix := uint64(2), uint64(2), uint64(2)
	if r.ReadFlag() { // color_description_present_flag
		primaries, transfer, matrix = r.ReadBits(8), r.ReadBits(8), r.ReadBits(8)
	}
	switch {
	case c.Monochrome:
		r.Skip(1) // color_range
		c.SubX, c.SubY = true, true
		return c
	case primaries == 1 && transfer == 13 && matrix == 0: // sRGB
		return c // 4:4:4
	}
	r.Skip(1) // color_range
	switch {
	case profile == 0:
		c.SubX, c.SubY = true, true
	case profile == 2 && c.TwelveBit:
		if c.SubX = r.ReadFlag(); c.SubX {
			c.SubY = r.ReadFlag()
		}
	case profile == 2:
		c.SubX = true
	}
	if c.SubX && c.SubY {
		c.ChromaSamplePosition = uint8(r.ReadBits(2))
	}
	return c
}

func readAV1OperatingPoints(r *BitReader, h *AV1SequenceHeader) {
	decoderModelInfo := false
	bufferDelayBits := 0
	if r.ReadFlag() { // timing_info_present_flag
		r.Skip(64)        // num_units_in_display_tick, time_scale
		if r.ReadFlag() { // equal_picture_interval
			skipAV1UVLC(r)
		}
		decoderModelInfo = r.ReadFlag()
		if decoderModelInfo {
			bufferDelayBits = int(r.ReadBits(5)) + 1
			r.Skip(32 + 5 + 5) // num_units_in_decoding_tick, two length fields
		}
	}
	initialDisplayDelay := r.ReadFlag()
	points := int(r.ReadBits(5)) + 1
	for i := 0; i < points && r.Err() == nil; i++ {
		r.Skip(12) // operating_point_idc
		level := uint8(r.ReadBits(5))
		var tier uint8
		if level > 7 {
			tier = r.ReadBit()
		}
		if i == 0 {
			h.Level, h.Tier = level, tier
		}
		if decoderModelInfo && r.ReadFlag() { // decoder_model_present_for_this_op
			r.Skip(2*bufferDelayBits + 1)
		}
		if initialDisplayDelay && r.ReadFlag() {
			r.Skip(4)
		}
	}
}

// skipAV1UVLC skips a uvlc() code (4.10.3).
func skipAV1UVLC(r *BitReader) {
	zeros := 0
	for r.Err() == nil && r.ReadBits(1) == 0 {
		zeros++
	}
	if zeros < 32 {
		r.Skip(zeros)
	}
}
