package rtc

import (
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

// Limits that keep a hostile publisher from making the depacketizer hold
// unbounded memory: a frame larger than this, or with more NAL units, is
// dropped as if packets were lost.
const (
	maxFrameBytes = 8 << 20
	maxFrameNALUs = 1024
)

// rtpPacket is what the depacketizers need of an RTP packet.
type rtpPacket struct {
	seq       uint16
	timestamp uint32
	marker    bool
	payload   []byte
}

// h264Frame is one access unit: every NAL unit of one RTP timestamp.
type h264Frame struct {
	timestamp uint32 // RTP, 90 kHz
	nalus     [][]byte
	keyframe  bool // has an IDR slice
}

// h264Depacketizer turns in-order RTP packets (RFC 6184, packetization
// modes 0 and 1) into access units. A frame ends at the marker bit or when
// the timestamp changes. After a loss the partial frame is dropped and so
// is everything until the next keyframe, since a decoder cannot use frames
// that refer to a picture it never got.
type h264Depacketizer struct {
	cur      h264Frame
	curBytes int
	started  bool   // cur has a timestamp
	fu       []byte // the NAL unit an FU-A is rebuilding; nil when none
	broken   bool   // cur lost data: drop it when it ends
	waitKey  bool   // drop frames until a keyframe
	needsKey func() // asks the publisher for a keyframe; may be nil
}

func newH264Depacketizer(needsKey func()) *h264Depacketizer {
	return &h264Depacketizer{waitKey: true, needsKey: needsKey}
}

// lost tells the depacketizer that packets are missing before the next one.
func (d *h264Depacketizer) lost() {
	d.broken = true
	d.fu = nil
}

// push adds the next packet and appends to out the frames it completed
// (two when a frame without a marker is followed by a one-packet frame). An
// error describes a malformed payload; the depacketizer then treats the
// frame as lost and goes on.
func (d *h264Depacketizer) push(p rtpPacket, out []*h264Frame) ([]*h264Frame, error) {
	if len(p.payload) == 0 {
		// Padding only (browsers probe bandwidth with them): it fills its
		// place in the sequence, which the reorder buffer has seen, and
		// carries no media.
		return out, nil
	}
	if d.started && p.timestamp != d.cur.timestamp {
		// A new timestamp without a marker on the last frame: the end was lost
		// or the sender does not set the marker; emit what we have.
		if f := d.finish(); f != nil {
			out = append(out, f)
		}
	}
	if !d.started {
		d.cur.timestamp, d.started = p.timestamp, true
	}
	err := d.parse(p.payload)
	if err != nil {
		d.lost()
	}
	if p.marker {
		if f := d.finish(); f != nil {
			out = append(out, f)
		}
	}
	return out, err
}

// finish ends the current frame and returns it unless it must be dropped.
func (d *h264Depacketizer) finish() *h264Frame {
	f := d.cur
	broken := d.broken || d.fu != nil // an FU-A without its end is a lost tail
	d.cur, d.curBytes, d.started, d.fu, d.broken = h264Frame{}, 0, false, nil, false
	if len(f.nalus) == 0 {
		if broken {
			d.startWaiting()
		}
		return nil
	}
	f.keyframe = av.IsKeyframeNALUs(av.CodecH264, f.nalus)
	switch {
	case broken:
		d.startWaiting()
		return nil
	case d.waitKey && !f.keyframe:
		return nil
	}
	d.waitKey = false
	return &f
}

func (d *h264Depacketizer) startWaiting() {
	if !d.waitKey && d.needsKey != nil {
		d.needsKey()
	}
	d.waitKey = true
}

// parse adds one RTP payload's NAL units to the current frame.
func (d *h264Depacketizer) parse(b []byte) error {
	if len(b) == 0 {
		return errors.New("rtc: empty H.264 RTP payload")
	}
	if b[0]&0x80 != 0 {
		return errors.New("rtc: H.264 RTP payload has the forbidden bit set")
	}
	switch t := b[0] & 0x1f; {
	case t >= 1 && t <= 23:
		if d.fu != nil {
			return errors.New("rtc: H.264 NAL unit inside an unfinished FU-A")
		}
		return d.add(b)
	case t == nalSTAPA:
		if d.fu != nil {
			return errors.New("rtc: H.264 STAP-A inside an unfinished FU-A")
		}
		return d.stapA(b[1:])
	case t == nalFUA:
		return d.fuA(b)
	case t == nalSTAPB || t == nalMTAP1 || t == nalMTAP2 || t == nalFUB:
		return fmt.Errorf("rtc: H.264 RTP payload type %d needs interleaved mode, which WebRTC does not use", t)
	default:
		return fmt.Errorf("rtc: H.264 RTP payload type %d is reserved", t)
	}
}

// stapA adds the NAL units of a single-time aggregation packet: each is a
// 16-bit size and the unit.
func (d *h264Depacketizer) stapA(b []byte) error {
	if len(b) == 0 {
		return errors.New("rtc: H.264 STAP-A has no NAL unit")
	}
	for len(b) > 0 {
		if len(b) < 2 {
			return errors.New("rtc: H.264 STAP-A truncated in a NAL unit size")
		}
		n := int(b[0])<<8 | int(b[1])
		b = b[2:]
		if n == 0 || n > len(b) {
			return fmt.Errorf("rtc: H.264 STAP-A NAL unit of %d bytes, %d left", n, len(b))
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
func (d *h264Depacketizer) fuA(b []byte) error {
	if len(b) < 3 {
		return fmt.Errorf("rtc: H.264 FU-A of %d bytes is too short", len(b))
	}
	start, end := b[1]&0x80 != 0, b[1]&0x40 != 0
	if start {
		if d.fu != nil {
			return errors.New("rtc: H.264 FU-A starts before the previous one ended")
		}
		d.fu = append(make([]byte, 0, 2*len(b)), b[0]&0xe0|b[1]&0x1f)
	} else if d.fu == nil {
		return errors.New("rtc: H.264 FU-A continues a fragment whose start was lost")
	}
	if len(d.fu)+len(b)-2 > maxFrameBytes-d.curBytes {
		return fmt.Errorf("rtc: H.264 frame larger than %d bytes", maxFrameBytes)
	}
	d.fu = append(d.fu, b[2:]...)
	if !end {
		return nil
	}
	nalu := d.fu
	d.fu = nil
	return d.addOwned(nalu)
}

// add copies a NAL unit into the frame: RTP payloads are reused by the reader.
func (d *h264Depacketizer) add(nalu []byte) error {
	return d.addOwned(append([]byte(nil), nalu...))
}

func (d *h264Depacketizer) addOwned(nalu []byte) error {
	if len(d.cur.nalus) >= maxFrameNALUs {
		return fmt.Errorf("rtc: H.264 frame with more than %d NAL units", maxFrameNALUs)
	}
	if d.curBytes+len(nalu) > maxFrameBytes {
		return fmt.Errorf("rtc: H.264 frame larger than %d bytes", maxFrameBytes)
	}
	d.curBytes += len(nalu)
	d.cur.nalus = append(d.cur.nalus, nalu)
	return nil
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
