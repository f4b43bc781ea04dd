package remux

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// H.264 NAL unit types dropped on the way into FLV besides parameter sets.
const (
	h264NALAUD    = 9
	h264NALFiller = 12
)

// tsVideo turns Annex-B access units into FLV video tags, keeping the
// parameter sets for the sequence header.
type tsVideo struct {
	codec         av.Codec
	vps, sps, pps [][]byte // the latest of each, copied
	dirty         bool     // parameter sets changed since the last record was built
	record        []byte   // the configuration record last sent
	seenKeyframe  bool
	frame         [][]byte // the current access unit's picture NAL units, reused
}

// reset forgets everything about the previous codec.
func (v *tsVideo) reset(codec av.Codec) {
	*v = tsVideo{codec: codec, frame: v.frame[:0]}
}

func (c *TSToFLV) appendVideo(dst []*av.Packet, f *mpegts.Frame) []*av.Packet {
	codec := av.CodecH264
	if f.StreamType == mpegts.StreamTypeH265 {
		codec = av.CodecH265
	}
	v := &c.video
	if v.codec != codec {
		v.reset(codec)
	}
	nalus, err := av.SplitAnnexB(f.Data)
	if errors.Is(err, av.ErrNoStartCode) {
		// Some encoders put length-prefixed (IBMF) NAL units in TS; SRS
		// tries that form second too (publish.try_annexb_first).
		nalus, err = av.SplitAVCC(f.Data, 4)
	}
	if err != nil {
		c.drops.drop(dropMalformedVideo, err)
		return dst
	}
	dts, cts, ok := c.timestamps(f)
	if !ok {
		c.drops.drop(dropNoTimestamp, codec.String())
		return dst
	}
	v.frame = v.frame[:0]
	var vps, sps, pps [][]byte
	for _, n := range nalus {
		switch v.classify(n) {
		case nalVPS:
			vps = append(vps, n)
		case nalSPS:
			sps = append(sps, n)
		case nalPPS:
			pps = append(pps, n)
		case nalSEI:
			if !c.opts.DropSEI {
				v.frame = append(v.frame, n)
			}
		case nalPicture:
			v.frame = append(v.frame, n)
		}
	}
	v.update(&v.vps, vps)
	v.update(&v.sps, sps)
	v.update(&v.pps, pps)
	if v.dirty && v.complete() {
		v.dirty = false
		record, err := v.buildRecord()
		if err != nil {
			c.drops.drop(dropBadVideoConfig, err)
		} else if !bytes.Equal(record, v.record) {
			v.record = record
			dst = c.packet(dst, av.KindVideo, dts, c.videoTag(true, true, 0, record))
		}
	}
	if len(v.frame) == 0 {
		return dst // parameter sets, an AUD or filler only
	}
	if v.record == nil {
		c.drops.drop(dropVideoBeforeConfig, codec.String())
		return dst
	}
	key := av.IsKeyframeNALUs(codec, v.frame)
	if !key && !v.seenKeyframe {
		c.drops.drop(dropWaitKeyframe, codec.String())
		return dst
	}
	v.seenKeyframe = true
	ctsMs := min(cts/(mpegts.ClockRate/1000), maxCompositionTime)
	return c.packet(dst, av.KindVideo, dts, c.videoTag(key, false, int32(ctsMs), nil, v.frame...))
}

// nalKind sorts NAL units for the way into FLV.
type nalKind uint8

const (
	nalPicture nalKind = iota // slices and everything else a frame carries
	nalDropped                // AUD, filler
	nalSEI                    // kept unless TSToFLVOptions.DropSEI
	nalVPS
	nalSPS
	nalPPS
)

func (v *tsVideo) classify(n []byte) nalKind {
	if v.codec == av.CodecH265 {
		switch av.H265NALUType(n) {
		case av.H265NALAUD:
			return nalDropped
		case av.H265NALVPS:
			return nalVPS
		case av.H265NALSPS:
			return nalSPS
		case av.H265NALPPS:
			return nalPPS
		case av.H265NALPrefixSEI, av.H265NALSuffixSEI:
			return nalSEI
		}
		return nalPicture
	}
	switch av.H264NALUType(n) {
	case h264NALAUD, h264NALFiller:
		return nalDropped
	case av.H264NALSPS:
		return nalSPS
	case av.H264NALPPS:
		return nalPPS
	case av.H264NALSEI:
		return nalSEI
	}
	return nalPicture
}

// update replaces a kind of parameter set when the access unit carried
// some that differ from what is kept.
func (v *tsVideo) update(kept *[][]byte, seen [][]byte) {
	if len(seen) == 0 || slices.EqualFunc(*kept, seen, bytes.Equal) {
		return
	}
	*kept = (*kept)[:0]
	for _, s := range seen {
		*kept = append(*kept, bytes.Clone(s))
	}
	v.dirty = true
}

func (v *tsVideo) complete() bool {
	return len(v.sps) > 0 && len(v.pps) > 0 && (v.codec != av.CodecH265 || len(v.vps) > 0)
}

func (v *tsVideo) buildRecord() ([]byte, error) {
	if v.codec == av.CodecH265 {
		return hevcConfigRecord(v.vps, v.sps, v.pps)
	}
	return avcConfigRecord(v.sps, v.pps)
}

// videoTag builds an FLV video tag body: a sequence header around record,
// or a frame of NAL units with 4-byte lengths.
func (c *TSToFLV) videoTag(key, header bool, ctsMs int32, record []byte, nalus ...[]byte) []byte {
	frameType := byte(av.VideoFrameInter)
	if key || header {
		frameType = byte(av.VideoFrameKey)
	}
	size := len(record)
	for _, n := range nalus {
		size += 4 + len(n)
	}
	var b []byte
	if c.video.codec == av.CodecH265 && !c.opts.LegacyHEVC {
		// Enhanced RTMP: CodedFramesX when the composition time is 0.
		packetType := byte(av.VideoPacketCodedFrames)
		switch {
		case header:
			packetType = byte(av.VideoPacketSequenceStart)
		case ctsMs == 0:
			packetType = byte(av.VideoPacketCodedFramesX)
		}
		b = make([]byte, 0, 8+size)
		b = append(b, 0x80|frameType<<4|packetType, 'h', 'v', 'c', '1')
		if packetType == byte(av.VideoPacketCodedFrames) {
			b = append(b, byte(ctsMs>>16), byte(ctsMs>>8), byte(ctsMs))
		}
	} else {
		codecID := byte(av.FLVVideoAVC)
		if c.video.codec == av.CodecH265 {
			codecID = av.FLVVideoHEVC
		}
		packetType := byte(av.VideoPacketCodedFrames)
		if header {
			packetType = byte(av.VideoPacketSequenceStart)
		}
		b = make([]byte, 0, 5+size)
		b = append(b, frameType<<4|codecID, packetType, byte(ctsMs>>16), byte(ctsMs>>8), byte(ctsMs))
	}
	b = append(b, record...)
	return av.AppendAVCC(b, nalus...)
}

// avcConfigRecord builds an AVCDecoderConfigurationRecord (ISO/IEC 14496-15
// 5.3.3.1) with 4-byte NAL unit lengths. The profile, compatibility and
// level bytes are the first SPS's.
func avcConfigRecord(sps, pps [][]byte) ([]byte, error) {
	if len(sps[0]) < 4 {
		return nil, errors.New("remux: H.264 SPS shorter than 4 bytes")
	}
	if len(sps) > 31 || len(pps) > 255 {
		return nil, errors.New("remux: too many H.264 parameter sets")
	}
	b := []byte{1, sps[0][1], sps[0][2], sps[0][3], 0xff, 0xe0 | byte(len(sps))}
	var err error
	if b, err = appendParameterSets(b, sps); err != nil {
		return nil, err
	}
	b = append(b, byte(len(pps)))
	return appendParameterSets(b, pps)
}

// hevcConfigRecord builds an HEVCDecoderConfigurationRecord (ISO/IEC
// 14496-15 8.3.3.1) with 4-byte NAL unit lengths. The general profile,
// tier, compatibility, constraint and level fields are copied from the
// first SPS's profile_tier_level, which sits byte-aligned at its start;
// chroma format and bit depths come from parsing it.
func hevcConfigRecord(vps, sps, pps [][]byte) ([]byte, error) {
	const ptlStart, ptlLen = 1, 12 // in the SPS RBSP after the NAL header
	rbsp := av.UnescapeRBSP(sps[0][min(2, len(sps[0])):])
	if len(rbsp) < ptlStart+ptlLen {
		return nil, errors.New("remux: H.265 SPS too short for its profile_tier_level")
	}
	chroma, lumaDepth, chromaDepth, subLayers := uint8(1), 8, 8, 1
	if s, err := av.ParseH265SPS(sps[0]); err == nil {
		chroma, lumaDepth, chromaDepth, subLayers = uint8(s.ChromaFormatIDC), s.BitDepthLuma, s.BitDepthChroma, s.MaxSubLayers
	}
	temporalNested := rbsp[0] & 0x01
	b := make([]byte, 0, hevcRecordSize(vps, sps, pps))
	b = append(b, 1)
	b = append(b, rbsp[ptlStart:ptlStart+ptlLen]...)
	b = append(b,
		0xf0, 0x00, // min_spatial_segmentation_idc 0
		0xfc,                          // parallelismType 0
		0xfc|chroma&0x03,              // chroma_format_idc
		0xf8|byte(lumaDepth-8)&0x07,   // bit_depth_luma_minus8
		0xf8|byte(chromaDepth-8)&0x07, // bit_depth_chroma_minus8
		0, 0,                          // avgFrameRate unspecified
		byte(subLayers&0x07)<<3|temporalNested<<2|0x03, // constantFrameRate 0, lengthSizeMinusOne 3
		3, // arrays: VPS, SPS, PPS
	)
	var err error
	for i, sets := range [][][]byte{vps, sps, pps} {
		if len(sets) > 0xffff {
			return nil, errors.New("remux: too many H.265 parameter sets")
		}
		b = append(b, 0x80|byte(av.H265NALVPS+i)) // array_completeness 1
		b = binary.BigEndian.AppendUint16(b, uint16(len(sets)))
		if b, err = appendParameterSets(b, sets); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func hevcRecordSize(sets ...[][]byte) int {
	n := 23
	for _, s := range sets {
		n += 3
		for _, p := range s {
			n += 2 + len(p)
		}
	}
	return n
}

// appendParameterSets appends NAL units, each after its 16-bit length.
func appendParameterSets(b []byte, sets [][]byte) ([]byte, error) {
	for _, s := range sets {
		if len(s) > 0xffff {
			return nil, errors.New("remux: parameter set longer than 65535 bytes")
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return b, nil
}
