package av

import (
	"encoding/binary"
	"fmt"
)

// HEVCConfig is an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1),
// the body of an H.265 sequence header. The NAL unit slices alias the input.
type HEVCConfig struct {
	Version            uint8
	ProfileSpace       uint8
	Tier               uint8 // 0 Main, 1 High
	ProfileIDC         uint8 // general_profile_idc: 1 Main, 2 Main10, 3 Main Still Picture, 4 RExt
	CompatibilityFlags uint32
	ConstraintFlags    uint64 // the 48 general_constraint_indicator_flags
	LevelIDC           uint8  // general_level_idc: 30 × the level number
	ChromaFormat       uint8
	BitDepthLuma       int
	BitDepthChroma     int
	AvgFrameRate       uint16 // frames per 256 seconds; 0 when unspecified
	NumTemporalLayers  uint8
	NALULengthSize     int // 1, 2 or 4

	VPS, SPS, PPS [][]byte
	SEI           [][]byte // prefix and suffix SEI arrays, e.g. the encoder's banner
}

// hevcConfigHeaderSize is the fixed part before the NAL unit arrays.
const hevcConfigHeaderSize = 23

// ParseHEVCConfig parses an HEVCDecoderConfigurationRecord. NAL unit arrays of
// types other than VPS, SPS, PPS and SEI are skipped.
func ParseHEVCConfig(b []byte) (HEVCConfig, error) {
	var c HEVCConfig
	if len(b) < hevcConfigHeaderSize {
		return c, fmt.Errorf("av: HEVC config needs %d bytes, have %d", hevcConfigHeaderSize, len(b))
	}
	c.Version = b[0]
	// Early HEVC muxers wrote version 0; a record starting 00 00 is Annex-B.
	if c.Version > 1 || (c.Version == 0 && b[1] == 0) {
		return c, fmt.Errorf("av: HEVC config version %d (%02x %02x), want 1", c.Version, b[0], b[1])
	}
	c.ProfileSpace, c.Tier, c.ProfileIDC = b[1]>>6, (b[1]>>5)&1, b[1]&0x1f
	c.CompatibilityFlags = binary.BigEndian.Uint32(b[2:])
	c.ConstraintFlags = uint64(binary.BigEndian.Uint16(b[6:]))<<32 | uint64(binary.BigEndian.Uint32(b[8:]))
	c.LevelIDC = b[12]
	c.ChromaFormat = b[16] & 0x03
	c.BitDepthLuma = int(b[17]&0x07) + 8
	c.BitDepthChroma = int(b[18]&0x07) + 8
	c.AvgFrameRate = binary.BigEndian.Uint16(b[19:])
	c.NumTemporalLayers = (b[21] >> 3) & 0x07
	c.NALULengthSize = int(b[21]&0x03) + 1
	if c.NALULengthSize == 3 {
		return c, fmt.Errorf("av: HEVC config NALU length size 3 is invalid")
	}
	arrays := int(b[22])
	p := hevcConfigHeaderSize
	for i := 0; i < arrays; i++ {
		if p+3 > len(b) {
			return c, fmt.Errorf("av: HEVC config truncated in array %d header", i)
		}
		nalType := b[p] & 0x3f
		count := int(binary.BigEndian.Uint16(b[p+1:]))
		p += 3
		for j := 0; j < count; j++ {
			if p+2 > len(b) {
				return c, fmt.Errorf("av: HEVC config truncated in array %d NALU %d length", i, j)
			}
			n := int(binary.BigEndian.Uint16(b[p:]))
			p += 2
			if n == 0 || p+n > len(b) {
				return c, fmt.Errorf("av: HEVC config array %d NALU %d has length %d, %d bytes left", i, j, n, len(b)-p)
			}
			nalu := b[p : p+n]
			p += n
			switch nalType {
			case H265NALVPS:
				c.VPS = append(c.VPS, nalu)
			case H265NALSPS:
				c.SPS = append(c.SPS, nalu)
			case H265NALPPS:
				c.PPS = append(c.PPS, nalu)
			case H265NALPrefixSEI, H265NALSuffixSEI:
				c.SEI = append(c.SEI, nalu)
			}
		}
	}
	return c, nil
}

// H265SPS holds the fields of an H.265 sequence parameter set
// (ITU-T H.265 7.3.2.2.1) that servers and muxers use. Parsing stops after
// the bit depths: the rest (reference picture sets, VUI) is not needed here.
type H265SPS struct {
	VPSID              uint8
	MaxSubLayers       int
	ProfileSpace       uint8
	Tier               uint8
	ProfileIDC         uint8
	CompatibilityFlags uint32
	LevelIDC           uint8
	ID                 uint32

	ChromaFormatIDC     uint32
	SeparateColourPlane bool
	BitDepthLuma        int
	BitDepthChroma      int

	// Width and Height are the displayed size, after the conformance window.
	Width, Height int
	// CodedWidth and CodedHeight are pic_width/height_in_luma_samples.
	CodedWidth, CodedHeight int
}

// ParseH265SPS parses an SPS NAL unit, its 2-byte header included, with
// emulation prevention bytes still in place.
func ParseH265SPS(nalu []byte) (H265SPS, error) {
	var s H265SPS
	if len(nalu) < 3 {
		return s, fmt.Errorf("av: H.265 SPS needs 3 bytes, have %d", len(nalu))
	}
	if t := H265NALUType(nalu); t != H265NALSPS {
		return s, fmt.Errorf("av: NAL unit type %d is not an H.265 SPS", t)
	}
	r := NewBitReader(UnescapeRBSP(nalu[2:]))
	s.VPSID = uint8(r.ReadBits(4))
	s.MaxSubLayers = int(r.ReadBits(3)) + 1
	r.Skip(1) // sps_temporal_id_nesting_flag
	s.readProfileTierLevel(r)
	s.ID = r.ReadUE()
	s.ChromaFormatIDC = r.ReadUE()
	if s.ChromaFormatIDC > 3 {
		return s, fmt.Errorf("av: H.265 SPS chroma_format_idc %d is invalid", s.ChromaFormatIDC)
	}
	if s.ChromaFormatIDC == 3 {
		s.SeparateColourPlane = r.ReadFlag()
	}
	codedW, codedH := r.ReadUE(), r.ReadUE()
	var win [4]uint32
	if r.ReadFlag() { // conformance_window_flag
		for i := range win {
			win[i] = r.ReadUE()
		}
	}
	s.BitDepthLuma = int(r.ReadUE()) + 8
	s.BitDepthChroma = int(r.ReadUE()) + 8
	if err := r.Err(); err != nil {
		return s, fmt.Errorf("av: H.265 SPS: %w", err)
	}
	if codedW == 0 || codedH == 0 || codedW > maxPicDimension || codedH > maxPicDimension {
		return s, fmt.Errorf("av: H.265 SPS size %dx%d is invalid", codedW, codedH)
	}
	s.CodedWidth, s.CodedHeight = int(codedW), int(codedH)
	return s, s.applyConformanceWindow(win)
}

// readProfileTierLevel reads profile_tier_level(1, MaxSubLayers-1) (7.3.3),
// keeping the general fields and skipping the sub-layer ones.
func (s *H265SPS) readProfileTierLevel(r *BitReader) {
	s.ProfileSpace = uint8(r.ReadBits(2))
	s.Tier = r.ReadBit()
	s.ProfileIDC = uint8(r.ReadBits(5))
	s.CompatibilityFlags = r.ReadU32()
	r.Skip(48) // progressive/interlaced/non-packed/frame-only flags and 44 constraint bits
	s.LevelIDC = r.ReadU8()
	subLayers := s.MaxSubLayers - 1
	profilePresent := make([]bool, subLayers)
	levelPresent := make([]bool, subLayers)
	for i := 0; i < subLayers; i++ {
		profilePresent[i] = r.ReadFlag()
		levelPresent[i] = r.ReadFlag()
	}
	if subLayers > 0 {
		r.Skip(2 * (8 - subLayers)) // reserved_zero_2bits
	}
	for i := 0; i < subLayers; i++ {
		if profilePresent[i] {
			r.Skip(88)
		}
		if levelPresent[i] {
			r.Skip(8)
		}
	}
}

// applyConformanceWindow crops the coded size; offsets count in chroma units.
func (s *H265SPS) applyConformanceWindow(win [4]uint32) error {
	subW, subH := 1, 1
	if !s.SeparateColourPlane {
		switch s.ChromaFormatIDC {
		case 1:
			subW, subH = 2, 2
		case 2:
			subW = 2
		}
	}
	for _, w := range win {
		if w > maxPicDimension {
			return fmt.Errorf("av: H.265 SPS conformance window offset %d is too large", w)
		}
	}
	s.Width = s.CodedWidth - subW*int(win[0]+win[1])
	s.Height = s.CodedHeight - subH*int(win[2]+win[3])
	if s.Width <= 0 || s.Height <= 0 {
		return fmt.Errorf("av: H.265 SPS conformance window crops %dx%d down to %dx%d",
			s.CodedWidth, s.CodedHeight, s.Width, s.Height)
	}
	return nil
}
