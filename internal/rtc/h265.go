package rtc

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/castd/castd/internal/av"
)

// H.265 over RTP (RFC 7798). NAL units have a 2-byte header (F, type,
// layer id, temporal id); payloads are single NAL units (types 0..47),
// aggregation packets (48: 16-bit sizes and units) or fragmentation units
// (49: a payload header, an S/E/type header, then a piece of the unit).
// WebRTC sends no DONL fields (sprop-max-don-diff is 0).
const (
	h265AP   = 48
	h265FU   = 49
	h265PACI = 50
)

func h265Type(b []byte) uint8 { return (b[0] >> 1) & 0x3f }

// h265Format is RFC 7798's payload format.
type h265Format struct {
	fu fragmentedUnit // the NAL unit an FU is rebuilding
}

func (h *h265Format) pending() bool                { return h.fu.pending() }
func (h *h265Format) reset()                       { h.fu.reset() }
func (h *h265Format) endFrame(*depacketizer) error { return nil }
func (h *h265Format) keyframe(units [][]byte) bool { return av.IsKeyframeNALUs(av.CodecH265, units) }

func (h *h265Format) parse(b []byte, d *depacketizer) error {
	if len(b) < 3 {
		return fmt.Errorf("rtc: H.265 RTP payload of %d bytes is too short", len(b))
	}
	if b[0]&0x80 != 0 {
		return errors.New("rtc: H.265 RTP payload has the forbidden bit set")
	}
	switch t := h265Type(b); {
	case t < h265AP:
		if h.fu.pending() {
			return errors.New("rtc: H.265 NAL unit inside an unfinished FU")
		}
		return d.add(b)
	case t == h265AP:
		if h.fu.pending() {
			return errors.New("rtc: H.265 aggregation packet inside an unfinished FU")
		}
		return stapA(b[2:], d)
	case t == h265FU:
		return h.fragment(b, d)
	case t == h265PACI:
		return errors.New("rtc: H.265 PACI packets are not supported")
	default:
		return fmt.Errorf("rtc: H.265 RTP payload type %d is unspecified", t)
	}
}

// fragment rebuilds a fragmented NAL unit: its header is the payload
// header with the FU header's type.
func (h *h265Format) fragment(b []byte, d *depacketizer) error {
	if len(b) < 4 {
		return fmt.Errorf("rtc: H.265 FU of %d bytes is too short", len(b))
	}
	start, end, typ := b[2]&0x80 != 0, b[2]&0x40 != 0, b[2]&0x3f
	return h.fu.add(d, "H.265", "FU", start, end, b[3:], len(b), b[0]&0x81|typ<<1, b[1])
}

// packetizeH265 appends the RTP payloads of one access unit to dst.
// Parameter sets go together in an aggregation packet; with merge set,
// every run of small NAL units does. Larger units are fragmented.
func packetizeH265(dst [][]byte, nalus [][]byte, maxPayload int, merge bool) [][]byte {
	isParams := func(n []byte) bool { return av.IsParameterSetNALU(av.CodecH265, n) }
	for i := 0; i < len(nalus); {
		n := nalus[i]
		if len(n) < 3 {
			i++ // not a NAL unit with a payload
			continue
		}
		if len(n) > maxPayload {
			dst = appendH265FU(dst, n, maxPayload)
			i++
			continue
		}
		j, size := i+1, 2+2+len(n)
		for j < len(nalus) && len(nalus[j]) >= 3 && size+2+len(nalus[j]) <= maxPayload &&
			(merge || isParams(n) && isParams(nalus[j])) {
			size += 2 + len(nalus[j])
			j++
		}
		if j == i+1 {
			dst = append(dst, n)
			i++
			continue
		}
		dst = append(dst, h265Aggregate(nalus[i:j], size))
		i = j
	}
	return dst
}

// h265Aggregate builds an aggregation packet of units; its header has the
// lowest layer id and temporal id of theirs (RFC 7798 4.4.2).
func h265Aggregate(units [][]byte, size int) []byte {
	layer, tid := byte(0x3f), byte(7)
	forbidden := byte(0)
	for _, u := range units {
		forbidden |= u[0] & 0x80
		layer = min(layer, (u[0]&1)<<5|u[1]>>3)
		tid = min(tid, u[1]&7)
	}
	ap := make([]byte, 0, size)
	ap = append(ap, forbidden|h265AP<<1|layer>>5, layer<<3|tid)
	for _, u := range units {
		ap = append(ap, byte(len(u)>>8), byte(len(u)))
		ap = append(ap, u...)
	}
	return ap
}

// appendH265FU splits one NAL unit into fragmentation units of at most
// maxPayload bytes.
func appendH265FU(dst [][]byte, nalu []byte, maxPayload int) [][]byte {
	h0, h1, typ := nalu[0]&0x81|h265FU<<1, nalu[1], h265Type(nalu)
	body := nalu[2:]
	step := maxPayload - 3
	for off := 0; off < len(body); off += step {
		end := min(off+step, len(body))
		fu := typ
		if off == 0 {
			fu |= 0x80
		}
		if end == len(body) {
			fu |= 0x40
		}
		frag := make([]byte, 0, 3+end-off)
		frag = append(frag, h0, h1, fu)
		dst = append(dst, append(frag, body[off:end]...))
	}
	return dst
}

// hevcConfig builds an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15
// 8.3.3.1) for one VPS, SPS and PPS, with 4-byte NAL unit lengths. Its
// profile, tier and level bytes are the SPS's general profile_tier_level,
// which starts byte-aligned right after the SPS's first byte.
func hevcConfig(vps, sps, pps []byte) ([]byte, error) {
	for i, n := range [][]byte{vps, sps, pps} {
		if len(n) < 3 || len(n) > 0xffff || av.H265NALUType(n) != uint8(av.H265NALVPS+i) {
			return nil, fmt.Errorf("rtc: cannot build an HEVC config from a %d-byte NAL unit of type %d as parameter set %d",
				len(n), av.H265NALUType(n), i)
		}
	}
	s, err := av.ParseH265SPS(sps)
	if err != nil {
		return nil, err
	}
	rbsp := av.UnescapeRBSP(sps[2:])
	if len(rbsp) < 13 {
		return nil, fmt.Errorf("rtc: H.265 SPS of %d bytes has no profile_tier_level", len(sps))
	}
	nested := rbsp[0] & 1 // sps_temporal_id_nesting_flag
	rec := make([]byte, 0, 23+3*5+len(vps)+len(sps)+len(pps))
	rec = append(rec, 1)
	rec = append(rec, rbsp[1:13]...)
	rec = append(rec,
		0xf0, 0x00, // min_spatial_segmentation_idc 0
		0xfc,                            // parallelismType 0 (unknown)
		0xfc|byte(s.ChromaFormatIDC),    //
		0xf8|byte(s.BitDepthLuma-8)&7,   //
		0xf8|byte(s.BitDepthChroma-8)&7, //
		0, 0,                            // avgFrameRate unspecified
		byte(s.MaxSubLayers&7)<<3|nested<<2|3, // constantFrameRate 0, lengthSizeMinusOne 3
		3) // numOfArrays
	for _, n := range [][]byte{vps, sps, pps} {
		rec = append(rec, 0x80|av.H265NALUType(n), 0, 1, byte(len(n)>>8), byte(len(n)))
		rec = append(rec, n...)
	}
	return rec, nil
}

// h265Ingest makes hvc1 tags: a sequence start from the VPS, SPS and PPS
// a keyframe carries, then frames without parameter sets and AUDs.
type h265Ingest struct {
	vps, sps, pps []byte
	ready         bool
}

func (h *h265Ingest) tags(f *videoFrame) (header, frame []byte, ready bool, err error) {
	var vps, sps, pps []byte
	nalus := make([][]byte, 0, len(f.units))
	for _, n := range f.units {
		switch av.H265NALUType(n) {
		case av.H265NALVPS:
			vps = n
		case av.H265NALSPS:
			sps = n
		case av.H265NALPPS:
			pps = n
		case av.H265NALAUD:
		default:
			nalus = append(nalus, n)
		}
	}
	if vps != nil && sps != nil && pps != nil &&
		(!bytes.Equal(vps, h.vps) || !bytes.Equal(sps, h.sps) || !bytes.Equal(pps, h.pps)) {
		var rec []byte
		if rec, err = hevcConfig(vps, sps, pps); err == nil {
			h.vps, h.sps, h.pps, h.ready = vps, sps, pps, true
			header = exSequenceStart(fourCCHEVC, rec)
		}
	}
	if !h.ready {
		return nil, nil, false, err
	}
	if len(nalus) > 0 {
		size := 5
		for _, n := range nalus {
			size += 4 + len(n)
		}
		frame = make([]byte, 0, size)
		frame = appendExVideoHeader(frame, f.keyframe, av.VideoPacketCodedFramesX, fourCCHEVC)
		frame = av.AppendAVCC(frame, nalus...)
	}
	return header, frame, true, err
}

// h265Packetizer packetizes hvc1 (and legacy codec id 12) tags: AUDs
// dropped, parameter sets put before keyframes that lack them. B-frames
// are sent as they are, in decoding order.
type h265Packetizer struct {
	merge         bool
	vps, sps, pps []byte
	lengthSize    int
}

func (h *h265Packetizer) sequenceHeader(body []byte) {
	c, err := av.ParseHEVCConfig(body)
	if err == nil && len(c.VPS) > 0 && len(c.SPS) > 0 && len(c.PPS) > 0 {
		h.vps, h.sps, h.pps, h.lengthSize = c.VPS[0], c.SPS[0], c.PPS[0], c.NALULengthSize
	}
}

func (h *h265Packetizer) frame(dst [][]byte, body []byte, keyframe bool) ([][]byte, bool, bool) {
	all, err := av.SplitAVCC(body, h.lengthSize)
	if err != nil {
		return dst, false, false
	}
	nalus := make([][]byte, 0, len(all)+3)
	hasParams := false
	for _, n := range all {
		switch av.H265NALUType(n) {
		case av.H265NALAUD:
			continue
		case av.H265NALVPS, av.H265NALSPS, av.H265NALPPS:
			hasParams = true
		}
		nalus = append(nalus, n)
	}
	if len(nalus) == 0 {
		return dst, false, false
	}
	keyframe = keyframe || av.IsKeyframeNALUs(av.CodecH265, nalus)
	if keyframe && !hasParams && h.sps != nil {
		nalus = append([][]byte{h.vps, h.sps, h.pps}, nalus...)
	}
	return packetizeH265(dst, nalus, rtpMaxPayload, h.merge), keyframe, true
}
