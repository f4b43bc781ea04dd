package av

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// AVCConfig is an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1),
// the body of an H.264 sequence header. SPS and PPS alias the parsed input.
type AVCConfig struct {
	Version        uint8
	Profile        uint8 // AVCProfileIndication, the SPS profile_idc
	Compatibility  uint8 // profile_compatibility, the SPS constraint flags byte
	Level          uint8 // AVCLevelIndication, the SPS level_idc
	NALULengthSize int   // 1, 2 or 4: the size of the length before each NALU in frames
	SPS            [][]byte
	PPS            [][]byte
}

// ParseAVCConfig parses an AVCDecoderConfigurationRecord. The optional
// high-profile extension after the PPS list is ignored.
func ParseAVCConfig(b []byte) (AVCConfig, error) {
	var c AVCConfig
	if len(b) < 6 {
		return c, fmt.Errorf("av: AVC config needs 6 bytes, have %d", len(b))
	}
	c.Version, c.Profile, c.Compatibility, c.Level = b[0], b[1], b[2], b[3]
	if c.Version != 1 {
		return c, fmt.Errorf("av: AVC config version %d, want 1", c.Version)
	}
	c.NALULengthSize = int(b[4]&0x03) + 1
	if c.NALULengthSize == 3 {
		return c, errors.New("av: AVC config NALU length size 3 is invalid")
	}
	p := 5
	var err error
	if c.SPS, p, err = readParameterSets(b, p, int(b[p]&0x1f), "SPS"); err != nil {
		return c, err
	}
	if p >= len(b) {
		return c, errors.New("av: AVC config truncated before PPS count")
	}
	if c.PPS, _, err = readParameterSets(b, p, int(b[p]), "PPS"); err != nil {
		return c, err
	}
	return c, nil
}

// readParameterSets reads count 16-bit-length-prefixed NAL units that start
// after the count byte at b[p], returning them and the offset after them.
func readParameterSets(b []byte, p, count int, what string) ([][]byte, int, error) {
	p++
	var sets [][]byte
	for i := 0; i < count; i++ {
		if p+2 > len(b) {
			return nil, p, fmt.Errorf("av: AVC config truncated in %s %d length", what, i)
		}
		n := int(binary.BigEndian.Uint16(b[p:]))
		p += 2
		if n == 0 || p+n > len(b) {
			return nil, p, fmt.Errorf("av: AVC config %s %d has length %d, %d bytes left", what, i, n, len(b)-p)
		}
		sets = append(sets, b[p:p+n])
		p += n
	}
	return sets, p, nil
}

// H264SPS holds the fields of an H.264 sequence parameter set
// (ISO/IEC 14496-10 7.3.2.1.1) that servers and muxers use.
type H264SPS struct {
	ProfileIDC      uint8
	ConstraintFlags uint8 // constraint_set0..5 in bits 7..2, as in the SPS byte
	LevelIDC        uint8
	ID              uint32

	ChromaFormatIDC     uint32 // 1 (4:2:0) unless a high profile says otherwise
	SeparateColourPlane bool
	BitDepthLuma        int
	BitDepthChroma      int

	Log2MaxFrameNum       int
	PicOrderCntType       uint32
	Log2MaxPicOrderCntLsb int // only for PicOrderCntType 0
	MaxNumRefFrames       uint32
	FrameMBSOnly          bool // false for interlaced (field or MBAFF) coding

	// Width and Height are the displayed size, after frame cropping.
	Width, Height int
	CropLeft      int // in luma samples
	CropRight     int
	CropTop       int
	CropBottom    int

	// From the VUI, when present (zero otherwise).
	SARWidth, SARHeight uint16
	NumUnitsInTick      uint32
	TimeScale           uint32
	FixedFrameRate      bool
}

// FrameRate derives frames per second from the VUI timing (a frame is two
// ticks in H.264); 0 when the SPS carries no timing.
func (s *H264SPS) FrameRate() float64 {
	if s.NumUnitsInTick == 0 || s.TimeScale == 0 {
		return 0
	}
	return float64(s.TimeScale) / float64(2*s.NumUnitsInTick)
}

// H.264 profiles whose SPS carries chroma format, bit depth and scaling lists.
func h264HasChromaInfo(profile uint8) bool {
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		return true
	}
	return false
}

// Limits that keep arithmetic on hostile input far from overflow while
// admitting every real size (level 6.2 tops out at 8192x4320, 139264 MBs).
const (
	maxMBDimension   = 1 << 12 // macroblocks per row or column
	maxPicDimension  = 1 << 16 // luma samples per row or column (H.265)
	maxPOCCycleFrame = 255
)

// ParseH264SPS parses an SPS NAL unit, header byte included, with emulation
// prevention bytes still in place. An SPS whose VUI is cut short is accepted
// without timing information, because some encoders write such SPSs and the
// picture size comes before the VUI.
func ParseH264SPS(nalu []byte) (H264SPS, error) {
	var s H264SPS
	if len(nalu) < 4 {
		return s, fmt.Errorf("av: H.264 SPS needs 4 bytes, have %d", len(nalu))
	}
	if t := nalu[0] & 0x1f; t != H264NALSPS {
		return s, fmt.Errorf("av: NAL unit type %d is not an H.264 SPS", t)
	}
	r := NewBitReader(UnescapeRBSP(nalu[1:]))
	s.ProfileIDC = r.ReadU8()
	s.ConstraintFlags = r.ReadU8() & 0xfc
	s.LevelIDC = r.ReadU8()
	s.ID = r.ReadUE()
	s.ChromaFormatIDC = 1
	s.BitDepthLuma, s.BitDepthChroma = 8, 8
	if h264HasChromaInfo(s.ProfileIDC) {
		if err := s.readChromaInfo(r); err != nil {
			return s, err
		}
	}
	s.Log2MaxFrameNum = int(r.ReadUE()) + 4
	s.PicOrderCntType = r.ReadUE()
	switch s.PicOrderCntType {
	case 0:
		s.Log2MaxPicOrderCntLsb = int(r.ReadUE()) + 4
	case 1:
		r.Skip(1)  // delta_pic_order_always_zero_flag
		r.ReadSE() // offset_for_non_ref_pic
		r.ReadSE() // offset_for_top_to_bottom_field
		n := r.ReadUE()
		if n > maxPOCCycleFrame {
			return s, fmt.Errorf("av: H.264 SPS num_ref_frames_in_pic_order_cnt_cycle %d > 255", n)
		}
		for i := uint32(0); i < n; i++ {
			r.ReadSE()
		}
	case 2:
	default:
		return s, fmt.Errorf("av: H.264 SPS pic_order_cnt_type %d is invalid", s.PicOrderCntType)
	}
	s.MaxNumRefFrames = r.ReadUE()
	r.Skip(1) // gaps_in_frame_num_value_allowed_flag
	widthMBs := r.ReadUE() + 1
	heightMapUnits := r.ReadUE() + 1
	s.FrameMBSOnly = r.ReadFlag()
	if !s.FrameMBSOnly {
		r.Skip(1) // mb_adaptive_frame_field_flag
	}
	r.Skip(1) // direct_8x8_inference_flag
	cropping := r.ReadFlag()
	var crop [4]uint32
	if cropping {
		for i := range crop {
			crop[i] = r.ReadUE()
		}
	}
	if err := r.Err(); err != nil {
		return s, fmt.Errorf("av: H.264 SPS: %w", err)
	}
	if widthMBs > maxMBDimension || heightMapUnits > maxMBDimension {
		return s, fmt.Errorf("av: H.264 SPS size %dx%d macroblocks is too large", widthMBs, heightMapUnits)
	}
	if err := s.setSize(int(widthMBs), int(heightMapUnits), crop); err != nil {
		return s, err
	}
	if r.ReadFlag() { // vui_parameters_present_flag
		s.readVUI(r)
	}
	return s, nil
}

func (s *H264SPS) readChromaInfo(r *BitReader) error {
	s.ChromaFormatIDC = r.ReadUE()
	if s.ChromaFormatIDC > 3 {
		return fmt.Errorf("av: H.264 SPS chroma_format_idc %d is invalid", s.ChromaFormatIDC)
	}
	if s.ChromaFormatIDC == 3 {
		s.SeparateColourPlane = r.ReadFlag()
	}
	s.BitDepthLuma = int(r.ReadUE()) + 8
	s.BitDepthChroma = int(r.ReadUE()) + 8
	if s.BitDepthLuma > 14 || s.BitDepthChroma > 14 {
		return fmt.Errorf("av: H.264 SPS bit depth %d/%d is invalid", s.BitDepthLuma, s.BitDepthChroma)
	}
	r.Skip(1)         // qpprime_y_zero_transform_bypass_flag
	if r.ReadFlag() { // seq_scaling_matrix_present_flag
		lists := 8
		if s.ChromaFormatIDC == 3 {
			lists = 12
		}
		for i := 0; i < lists; i++ {
			if r.ReadFlag() {
				size := 16
				if i >= 6 {
					size = 64
				}
				skipH264ScalingList(r, size)
			}
		}
	}
	return r.Err()
}

// skipH264ScalingList walks a scaling_list() (7.3.2.1.1.1); only its length matters here.
func skipH264ScalingList(r *BitReader, size int) {
	last, next := int32(8), int32(8)
	for j := 0; j < size && r.Err() == nil; j++ {
		if next != 0 {
			delta := r.ReadSE()
			next = (last + delta + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
}

// setSize applies frame cropping (7.4.2.1.1): crop offsets count in chroma
// sample units, and in field pairs when the stream may be interlaced.
func (s *H264SPS) setSize(widthMBs, heightMapUnits int, crop [4]uint32) error {
	fieldFactor := 1
	if !s.FrameMBSOnly {
		fieldFactor = 2
	}
	width := widthMBs * 16
	height := heightMapUnits * 16 * fieldFactor
	cropUnitX, cropUnitY := 1, fieldFactor
	if !s.SeparateColourPlane {
		switch s.ChromaFormatIDC {
		case 1:
			cropUnitX, cropUnitY = 2, 2*fieldFactor
		case 2:
			cropUnitX, cropUnitY = 2, fieldFactor
		}
	}
	for _, c := range crop {
		if c > maxMBDimension*16 {
			return fmt.Errorf("av: H.264 SPS crop offset %d is too large", c)
		}
	}
	s.CropLeft, s.CropRight = int(crop[0])*cropUnitX, int(crop[1])*cropUnitX
	s.CropTop, s.CropBottom = int(crop[2])*cropUnitY, int(crop[3])*cropUnitY
	s.Width = width - s.CropLeft - s.CropRight
	s.Height = height - s.CropTop - s.CropBottom
	if s.Width <= 0 || s.Height <= 0 {
		return fmt.Errorf("av: H.264 SPS crops %dx%d down to %dx%d", width, height, s.Width, s.Height)
	}
	return nil
}

// readVUI reads the VUI (E.1.1) up to the timing information. A truncated
// VUI leaves the timing unset instead of failing the SPS.
func (s *H264SPS) readVUI(r *BitReader) {
	var sarW, sarH uint16
	if r.ReadFlag() { // aspect_ratio_info_present_flag
		idc := r.ReadU8()
		if idc == 255 { // Extended_SAR
			sarW, sarH = r.ReadU16(), r.ReadU16()
		} else if int(idc) < len(h264SampleAspectRatios) {
			sarW, sarH = h264SampleAspectRatios[idc][0], h264SampleAspectRatios[idc][1]
		}
	}
	if r.ReadFlag() { // overscan_info_present_flag
		r.Skip(1)
	}
	if r.ReadFlag() { // video_signal_type_present_flag
		r.Skip(4) // video_format, video_full_range_flag
		if r.ReadFlag() {
			r.Skip(24) // colour_primaries, transfer_characteristics, matrix_coefficients
		}
	}
	if r.ReadFlag() { // chroma_loc_info_present_flag
		r.ReadUE()
		r.ReadUE()
	}
	if r.Err() != nil {
		return
	}
	s.SARWidth, s.SARHeight = sarW, sarH
	if r.ReadFlag() { // timing_info_present_flag
		units, scale, fixed := r.ReadU32(), r.ReadU32(), r.ReadFlag()
		if r.Err() == nil {
			s.NumUnitsInTick, s.TimeScale, s.FixedFrameRate = units, scale, fixed
		}
	}
}

// Table E-1: sample aspect ratios for aspect_ratio_idc 0..16.
var h264SampleAspectRatios = [...][2]uint16{
	{0, 0}, {1, 1}, {12, 11}, {10, 11}, {16, 11}, {40, 33}, {24, 11}, {20, 11}, {32, 11},
	{80, 33}, {18, 11}, {15, 11}, {64, 33}, {160, 99}, {4, 3}, {3, 2}, {2, 1},
}
