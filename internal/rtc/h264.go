package rtc

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/castd/castd/internal/av"
)

// RTP payload formats of H.264 (RFC 6184 5.4): single NAL unit packets use
// the NAL unit types 1..23 themselves.
const (
	nalSTAPA = 24
	nalSTAPB = 25
	nalMTAP1 = 26
	nalMTAP2 = 27
	nalFUA   = 28
	nalFUB   = 29
)

// newH264Depacketizer depacketizes H.264 (RFC 6184, packetization modes 0
// and 1) into access units.
func newH264Depacketizer(needsKey func()) *depacketizer {
	return newDepacketizer(&h264Format{}, needsKey)
}

// h264Format is RFC 6184's payload format.
type h264Format struct {
	fu fragmentedUnit // the NAL unit an FU-A is rebuilding
}

func (h *h264Format) pending() bool                { return h.fu.pending() }
func (h *h264Format) reset()                       { h.fu.reset() }
func (h *h264Format) endFrame(*depacketizer) error { return nil }
func (h *h264Format) keyframe(units [][]byte) bool { return av.IsKeyframeNALUs(av.CodecH264, units) }

// parse adds one RTP payload's NAL units to the current frame.
func (h *h264Format) parse(b []byte, d *depacketizer) error {
	if len(b) == 0 {
		return errors.New("rtc: empty H.264 RTP payload")
	}
	if b[0]&0x80 != 0 {
		return errors.New("rtc: H.264 RTP payload has the forbidden bit set")
	}
	switch t := b[0] & 0x1f; {
	case t >= 1 && t <= 23:
		if h.fu.pending() {
			return errors.New("rtc: H.264 NAL unit inside an unfinished FU-A")
		}
		return d.add(b)
	case t == nalSTAPA:
		if h.fu.pending() {
			return errors.New("rtc: H.264 STAP-A inside an unfinished FU-A")
		}
		return stapA(b[1:], d)
	case t == nalFUA:
		return h.fuA(b, d)
	case t == nalSTAPB || t == nalMTAP1 || t == nalMTAP2 || t == nalFUB:
		return fmt.Errorf("rtc: H.264 RTP payload type %d needs interleaved mode, which WebRTC does not use", t)
	default:
		return fmt.Errorf("rtc: H.264 RTP payload type %d is reserved", t)
	}
}

// stapA adds the NAL units of a single-time aggregation packet (H.264
// STAP-A, H.265 AP): each is a 16-bit size and the unit.
func stapA(b []byte, d *depacketizer) error {
	if len(b) == 0 {
		return errors.New("rtc: aggregation packet has no NAL unit")
	}
	for len(b) > 0 {
		if len(b) < 2 {
			return errors.New("rtc: aggregation packet truncated in a NAL unit size")
		}
		n := int(b[0])<<8 | int(b[1])
		b = b[2:]
		if n == 0 || n > len(b) {
			return fmt.Errorf("rtc: aggregation packet NAL unit of %d bytes, %d left", n, len(b))
		}
		if err := d.add(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// fuA rebuilds a fragmented NAL unit: the first fragment has the start bit,
// the last the end bit; the NAL header is the indicator's F and NRI bits
// with the fragment header's type.
func (h *h264Format) fuA(b []byte, d *depacketizer) error {
	if len(b) < 3 {
		return fmt.Errorf("rtc: H.264 FU-A of %d bytes is too short", len(b))
	}
	start, end := b[1]&0x80 != 0, b[1]&0x40 != 0
	return h.fu.add(d, "H.264", "FU-A", start, end, b[2:], len(b), b[0]&0xe0|b[1]&0x1f)
}

// rtpMaxPayload keeps RTP packets under common path MTUs once SRTP, the
// RTP header and its extensions are added (browsers use about 1200 too).
const rtpMaxPayload = 1200

// packetizeH264 appends the RTP payloads of one access unit to dst (RFC
// 6184 packetization mode 1). Parameter sets go together in a STAP-A, as
// browsers send them; with merge set, every run of small NAL units does.
// Units over maxPayload bytes are split into FU-A fragments.
func packetizeH264(dst [][]byte, nalus [][]byte, maxPayload int, merge bool) [][]byte {
	for i := 0; i < len(nalus); {
		n := nalus[i]
		if len(n) == 0 {
			i++
			continue
		}
		if len(n) > maxPayload {
			dst = appendFUA(dst, n, maxPayload)
			i++
			continue
		}
		// Gather following units that fit in one STAP-A with this one.
		j, size := i+1, 1+2+len(n)
		for j < len(nalus) && len(nalus[j]) > 0 && size+2+len(nalus[j]) <= maxPayload &&
			(merge || isParameterSet(n) && isParameterSet(nalus[j])) {
			size += 2 + len(nalus[j])
			j++
		}
		if j == i+1 {
			dst = append(dst, n)
			i++
			continue
		}
		stap := make([]byte, 1, size)
		nri := byte(0)
		for _, m := range nalus[i:j] {
			nri = max(nri, m[0]&0x60)
		}
		stap[0] = nri | nalSTAPA
		for _, m := range nalus[i:j] {
			stap = append(stap, byte(len(m)>>8), byte(len(m)))
			stap = append(stap, m...)
		}
		dst = append(dst, stap)
		i = j
	}
	return dst
}

func isParameterSet(nalu []byte) bool { return av.IsParameterSetNALU(av.CodecH264, nalu) }

// appendFUA splits one NAL unit into FU-A fragments of at most maxPayload bytes.
func appendFUA(dst [][]byte, nalu []byte, maxPayload int) [][]byte {
	indicator := nalu[0]&0xe0 | nalFUA
	typ := nalu[0] & 0x1f
	body := nalu[1:]
	step := maxPayload - 2
	for off := 0; off < len(body); off += step {
		end := min(off+step, len(body))
		header := typ
		if off == 0 {
			header |= 0x80
		}
		if end == len(body) {
			header |= 0x40
		}
		frag := make([]byte, 0, 2+end-off)
		frag = append(frag, indicator, header)
		frag = append(frag, body[off:end]...)
		dst = append(dst, frag)
	}
	return dst
}

// isBFrame reports whether a frame's first slice is a B slice (slice_type
// 1 or 6, ISO/IEC 14496-10 7.4.3). WebRTC players decode without
// reordering, so B-frames are dropped unless keep_bframe is on.
func isBFrame(nalus [][]byte) bool {
	for _, n := range nalus {
		t := av.H264NALUType(n)
		if t != av.H264NALSlice && t != av.H264NALIDR {
			continue
		}
		r := av.NewBitReader(av.UnescapeRBSP(n[1:min(len(n), 16)]))
		r.ReadUE() // first_mb_in_slice
		st := r.ReadUE()
		return r.Err() == nil && (st == 1 || st == 6)
	}
	return false
}

// appendAVCConfig appends an AVCDecoderConfigurationRecord (ISO/IEC
// 14496-15 5.3.3.1) for one SPS and one PPS, with 4-byte NALU lengths.
func appendAVCConfig(dst, sps, pps []byte) ([]byte, error) {
	if len(sps) < 4 || len(sps) > 0xffff || len(pps) == 0 || len(pps) > 0xffff {
		return dst, fmt.Errorf("rtc: cannot build an AVC config from a %d-byte SPS and a %d-byte PPS", len(sps), len(pps))
	}
	dst = append(dst, 1, sps[1], sps[2], sps[3], 0xff, 0xe1, byte(len(sps)>>8), byte(len(sps)))
	dst = append(dst, sps...)
	dst = append(dst, 1, byte(len(pps)>>8), byte(len(pps)))
	return append(dst, pps...), nil
}

// FLV video tag bytes for AVC: frame type and codec id, then the
// AVCPacketType and a 24-bit composition time.
const (
	flvAVCKey   = 0x17
	flvAVCInter = 0x27
)

// flvAVCSequenceHeader is the FLV body of an AVC sequence header.
func flvAVCSequenceHeader(sps, pps []byte) ([]byte, error) {
	return appendAVCConfig([]byte{flvAVCKey, 0, 0, 0, 0}, sps, pps)
}

// flvAVCFrame is the FLV body of one frame in AVCC form; the composition
// time is 0 because WebRTC carries no B-frames.
func flvAVCFrame(keyframe bool, nalus [][]byte) []byte {
	size := 5
	for _, n := range nalus {
		size += 4 + len(n)
	}
	b := make([]byte, 5, size)
	b[0] = flvAVCInter
	if keyframe {
		b[0] = flvAVCKey
	}
	b[1] = 1
	return av.AppendAVCC(b, nalus...)
}

// h264Ingest makes AVC tags: a sequence header from the SPS and PPS a
// keyframe carries, then the frames without parameter sets and AUDs.
type h264Ingest struct {
	sps, pps []byte
}

func (h *h264Ingest) tags(f *videoFrame) (header, frame []byte, ready bool, err error) {
	var sps, pps []byte
	nalus := make([][]byte, 0, len(f.units))
	for _, n := range f.units {
		switch av.H264NALUType(n) {
		case av.H264NALSPS:
			sps = n
		case av.H264NALPPS:
			pps = n
		case av.H264NALAUD:
		default:
			nalus = append(nalus, n)
		}
	}
	if sps != nil && pps != nil && (!bytes.Equal(sps, h.sps) || !bytes.Equal(pps, h.pps)) {
		if header, err = flvAVCSequenceHeader(sps, pps); err == nil {
			h.sps, h.pps = sps, pps
		}
	}
	if h.sps == nil {
		return nil, nil, false, err
	}
	if len(nalus) > 0 {
		frame = flvAVCFrame(f.keyframe, nalus)
	}
	return header, frame, true, err
}

// h264Packetizer packetizes AVC tags: AUDs dropped, SEI and B-frames as
// the vhost says, parameter sets put before keyframes that lack them.
type h264Packetizer struct {
	o          packetizerOptions
	sps, pps   []byte
	lengthSize int
}

func newH264Packetizer(o packetizerOptions) *h264Packetizer {
	return &h264Packetizer{o: o, lengthSize: 4}
}

func (h *h264Packetizer) sequenceHeader(body []byte) {
	c, err := av.ParseAVCConfig(body)
	if err == nil && len(c.SPS) > 0 && len(c.PPS) > 0 {
		h.sps, h.pps, h.lengthSize = c.SPS[0], c.PPS[0], c.NALULengthSize
	}
}

func (h *h264Packetizer) frame(dst [][]byte, body []byte, keyframe bool) ([][]byte, bool, bool) {
	all, err := av.SplitAVCC(body, h.lengthSize)
	if err != nil {
		return dst, false, false // one bad frame; the next keyframe recovers
	}
	nalus := make([][]byte, 0, len(all)+2)
	hasParams := false
	for _, n := range all {
		switch av.H264NALUType(n) {
		case av.H264NALAUD:
			continue
		case av.H264NALSEI:
			if !h.o.keepSEI {
				continue
			}
		case av.H264NALSPS, av.H264NALPPS:
			hasParams = true
		}
		nalus = append(nalus, n)
	}
	if len(nalus) == 0 {
		return dst, false, false
	}
	if !h.o.keepBFrames && isBFrame(nalus) {
		if h.o.bframes != nil {
			*h.o.bframes++
		}
		return dst, false, false
	}
	keyframe = keyframe || av.IsKeyframeNALUs(av.CodecH264, nalus)
	if keyframe && !hasParams && h.sps != nil {
		nalus = append([][]byte{h.sps, h.pps}, nalus...)
	}
	return packetizeH264(dst, nalus, rtpMaxPayload, h.o.merge), keyframe, true
}
