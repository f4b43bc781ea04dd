package rtc

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/castd/castd/internal/av"
)

// AV1 OBU types (AV1 specification 6.2.2).
const (
	obuSequenceHeader = 1
	obuTemporalDelim  = 2
	obuFrameHeader    = 3
	obuFrame          = 6
	obuTileList       = 8
	obuPadding        = 15
)

// obu is one open bitstream unit: its header bytes (with the extension
// byte, if any) and its payload.
type obu struct {
	typ     uint8
	header  []byte
	payload []byte
}

// parseOBU reads the OBU at the start of b (AV1 specification 5.3). With
// no size field the OBU runs to the end of b; n is the bytes it took.
func parseOBU(b []byte) (o obu, n int, err error) {
	if len(b) == 0 {
		return o, 0, errors.New("rtc: empty AV1 OBU")
	}
	if b[0]&0x80 != 0 {
		return o, 0, errors.New("rtc: AV1 OBU has the forbidden bit set")
	}
	o.typ = b[0] >> 3 & 0x0f
	hl := 1
	if b[0]&0x04 != 0 { // obu_extension_flag
		hl = 2
	}
	if len(b) < hl {
		return o, 0, errors.New("rtc: AV1 OBU header truncated")
	}
	o.header = b[:hl]
	if b[0]&0x02 == 0 { // no obu_has_size_field
		o.payload = b[hl:]
		return o, len(b), nil
	}
	size, ln, err := readLEB128(b[hl:])
	if err != nil {
		return o, 0, err
	}
	p := hl + ln
	if size > uint64(len(b)-p) {
		return o, 0, fmt.Errorf("rtc: AV1 OBU of %d bytes, %d left", size, len(b)-p)
	}
	o.payload = b[p : p+int(size)]
	return o, p + int(size), nil
}

// splitOBUs splits a temporal unit in the low overhead bitstream format
// (every OBU with its size, as in FLV and ISOBMFF).
func splitOBUs(tu []byte) ([]obu, error) {
	var out []obu
	for len(tu) > 0 {
		if tu[0]&0x02 == 0 && len(out) > 0 || len(out) >= maxFrameNALUs {
			return nil, errors.New("rtc: AV1 temporal unit has an OBU without a size field, or too many OBUs")
		}
		o, n, err := parseOBU(tu)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
		tu = tu[n:]
	}
	return out, nil
}

// appendSized appends o with its size field, as FLV and ISOBMFF want.
func (o obu) appendSized(dst []byte) []byte {
	dst = append(dst, o.header[0]|0x02)
	dst = append(dst, o.header[1:]...)
	dst = appendLEB128(dst, uint64(len(o.payload)))
	return append(dst, o.payload...)
}

// appendBare appends o without a size field, as RTP carries it.
func (o obu) appendBare(dst []byte) []byte {
	dst = append(dst, o.header[0]&^0x02)
	dst = append(dst, o.header[1:]...)
	return append(dst, o.payload...)
}

// readLEB128 reads an unsigned LEB128 number of at most 8 bytes (4.10.5).
func readLEB128(b []byte) (v uint64, n int, err error) {
	for i := 0; i < 8; i++ {
		if i >= len(b) {
			return 0, 0, errors.New("rtc: AV1 leb128 truncated")
		}
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("rtc: AV1 leb128 longer than 8 bytes")
}

func appendLEB128(dst []byte, v uint64) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// AV1 over RTP ("RTP Payload Format For AV1", 4.4): an aggregation header
//
//	Z Y W(2) N 0 0 0   Z: the first element continues an OBU of the last
//	                   packet; Y: the last one continues in the next; W: the
//	                   number of elements, the last without a length (0:
//	                   every element has one); N: a coded video sequence
//	                   starts here
//
// then OBU elements: a LEB128 length and an OBU (or a piece of one),
// without the OBU's own size field. A temporal unit ends at the marker.

// av1Format rebuilds OBUs, giving each its size field back. Temporal
// delimiters, tile lists and padding are dropped, as the RTP format asks.
type av1Format struct {
	fragment     []byte // an OBU continued in the next packet
	continues    bool
	reducedStill bool // from the last sequence header
}

func (a *av1Format) pending() bool                { return a.continues }
func (a *av1Format) reset()                       { a.fragment, a.continues = nil, false }
func (a *av1Format) endFrame(*depacketizer) error { return nil }

func (a *av1Format) parse(b []byte, d *depacketizer) error {
	if len(b) < 2 {
		return fmt.Errorf("rtc: AV1 RTP payload of %d bytes is too short", len(b))
	}
	z, y, w := b[0]&0x80 != 0, b[0]&0x40 != 0, int(b[0]>>4&3)
	if z != a.continues {
		if z {
			return errors.New("rtc: AV1 packet continues an OBU whose start was lost")
		}
		return errors.New("rtc: AV1 OBU did not continue in the next packet")
	}
	b = b[1:]
	for i := 0; len(b) > 0; i++ {
		var elem []byte
		if w != 0 && i == w-1 {
			elem, b = b, nil
		} else {
			n, ln, err := readLEB128(b)
			if err != nil {
				return err
			}
			if n > uint64(len(b)-ln) {
				return fmt.Errorf("rtc: AV1 OBU element of %d bytes, %d left", n, len(b)-ln)
			}
			elem, b = b[ln:ln+int(n)], b[ln+int(n):]
		}
		whole := elem
		if i == 0 && z {
			if len(a.fragment)+len(elem) > d.room() {
				return fmt.Errorf("rtc: AV1 frame larger than %d bytes", maxFrameBytes)
			}
			a.fragment = append(a.fragment, elem...)
			whole = a.fragment
		}
		if len(b) == 0 && y {
			if !(i == 0 && z) {
				a.fragment = append(make([]byte, 0, 2*len(elem)), elem...) // the payload is the reader's
			}
			a.continues = true
			return nil
		}
		a.continues, a.fragment = false, nil
		if err := a.add(whole, d); err != nil {
			return err
		}
	}
	if y {
		return errors.New("rtc: AV1 packet says its last OBU continues but has none")
	}
	return nil
}

// add gives a whole OBU its size field and adds it to the frame.
func (a *av1Format) add(elem []byte, d *depacketizer) error {
	if len(elem) == 0 {
		return nil // an empty element carries nothing
	}
	o, n, err := parseOBU(elem)
	if err != nil {
		return err
	}
	if n != len(elem) {
		return fmt.Errorf("rtc: AV1 OBU element of %d bytes holds a %d-byte OBU", len(elem), n)
	}
	switch o.typ {
	case obuTemporalDelim, obuTileList, obuPadding:
		return nil
	}
	return d.addOwned(o.appendSized(make([]byte, 0, len(elem)+8)))
}

func (a *av1Format) keyframe(units [][]byte) bool {
	obus := make([]obu, 0, len(units))
	for _, u := range units {
		if o, _, err := parseOBU(u); err == nil {
			obus = append(obus, o)
		}
	}
	key, reduced := av1KeyFrame(obus, a.reducedStill)
	a.reducedStill = reduced
	return key
}

// av1KeyFrame reports whether a temporal unit starts with a key frame:
// its first frame header says KEY_FRAME (5.9.2). reducedStill is the last
// sequence header's reduced_still_picture_header; the unit's own sequence
// header updates it.
func av1KeyFrame(obus []obu, reducedStill bool) (key, reduced bool) {
	reduced = reducedStill
	for _, o := range obus {
		if len(o.payload) == 0 {
			continue
		}
		switch o.typ {
		case obuSequenceHeader:
			reduced = o.payload[0]&0x08 != 0 // after seq_profile(3) and still_picture(1)
		case obuFrameHeader, obuFrame:
			if reduced {
				return true, reduced
			}
			// show_existing_frame(1) = 0, then frame_type(2) = KEY_FRAME (0).
			return o.payload[0]&0xe0 == 0, reduced
		}
	}
	return false, reduced
}

// av1Config builds an AV1CodecConfigurationRecord (AV1 ISOBMFF binding
// 2.3.3) around a sequence header OBU.
func av1Config(seq obu) ([]byte, error) {
	h, err := av.ParseAV1SequenceHeader(seq.payload)
	if err != nil {
		return nil, err
	}
	if !h.ColorKnown {
		return nil, errors.New("rtc: AV1 sequence header ends before its color_config")
	}
	c := h.Color
	flag := func(b bool, bit uint) byte {
		if b {
			return 1 << bit
		}
		return 0
	}
	rec := []byte{
		0x81, // marker, version 1
		h.Profile<<5 | h.Level&0x1f,
		h.Tier<<7 | flag(c.HighBitDepth, 6) | flag(c.TwelveBit, 5) | flag(c.Monochrome, 4) |
			flag(c.SubX, 3) | flag(c.SubY, 2) | c.ChromaSamplePosition&3,
		0, // no initial_presentation_delay
	}
	return seq.appendSized(rec), nil
}

// av1Ingest makes av01 tags: a sequence start when a new sequence header
// OBU comes, then the temporal units (OBUs with their sizes, the sequence
// header left in key frames).
type av1Ingest struct {
	seq []byte // the last sequence header OBU's payload
}

func (a *av1Ingest) tags(f *videoFrame) (header, frame []byte, ready bool, err error) {
	size := 0
	for _, u := range f.units {
		size += len(u)
		o, _, perr := parseOBU(u)
		if perr != nil || o.typ != obuSequenceHeader || bytes.Equal(o.payload, a.seq) {
			continue
		}
		var rec []byte
		if rec, err = av1Config(o); err == nil {
			a.seq, header = o.payload, exSequenceStart(fourCCAV1, rec)
		}
	}
	if a.seq == nil {
		return nil, nil, false, err
	}
	frame = make([]byte, 0, 5+size)
	frame = appendExVideoHeader(frame, f.keyframe, av.VideoPacketCodedFrames, fourCCAV1)
	for _, u := range f.units {
		frame = append(frame, u...)
	}
	return header, frame, true, err
}

// av1Packetizer packetizes av01 tags: every OBU element with a length (W
// 0), OBUs split over packets where they must be, the sequence header from
// the configuration record put before key frames that lack one.
type av1Packetizer struct {
	seq          []byte // a sequence header OBU, with its size
	reducedStill bool
}

func (a *av1Packetizer) sequenceHeader(body []byte) {
	c, err := av.ParseAV1Config(body)
	if err != nil {
		return
	}
	obus, err := splitOBUs(c.ConfigOBUs)
	if err != nil {
		return
	}
	for _, o := range obus {
		if o.typ == obuSequenceHeader {
			a.seq = o.appendSized(nil)
			return
		}
	}
}

func (a *av1Packetizer) frame(dst [][]byte, tu []byte, keyframe bool) ([][]byte, bool, bool) {
	obus, err := splitOBUs(tu)
	if err != nil {
		return dst, false, false
	}
	units := make([][]byte, 0, len(obus)+1)
	hasSeq := false
	for _, o := range obus {
		switch o.typ {
		case obuTemporalDelim, obuTileList, obuPadding:
			continue
		case obuSequenceHeader:
			hasSeq = true
		}
		units = append(units, o.appendBare(make([]byte, 0, len(o.header)+len(o.payload))))
	}
	if len(units) == 0 {
		return dst, false, false
	}
	key, reduced := av1KeyFrame(obus, a.reducedStill)
	a.reducedStill = reduced
	keyframe = keyframe || key
	if keyframe && !hasSeq && a.seq != nil {
		if o, _, err := parseOBU(a.seq); err == nil {
			units = append([][]byte{o.appendBare(nil)}, units...)
			hasSeq = true
		}
	}
	return packetizeAV1(dst, units, rtpMaxPayload, keyframe && hasSeq), keyframe, true
}

// packetizeAV1 appends the RTP payloads of one temporal unit's OBUs
// (without size fields). newSequence sets N on the first packet.
func packetizeAV1(dst [][]byte, units [][]byte, maxPayload int, newSequence bool) [][]byte {
	const lebMax = 2 // a length under 16384 takes at most 2 bytes
	p := make([]byte, 1, maxPayload)
	if newSequence {
		p[0] = 0x08 // N
	}
	for _, u := range units {
		for len(u) > 0 {
			room := maxPayload - len(p) - lebMax
			if room < 1 {
				dst = append(dst, p)
				p = make([]byte, 1, maxPayload)
				continue
			}
			take := min(len(u), room)
			p = appendLEB128(p, uint64(take))
			p = append(p, u[:take]...)
			u = u[take:]
			if len(u) > 0 { // the OBU continues in the next packet
				p[0] |= 0x40 // Y
				dst = append(dst, p)
				p = make([]byte, 1, maxPayload)
				p[0] = 0x80 // Z
			}
		}
	}
	if len(p) > 1 {
		dst = append(dst, p)
	}
	return dst
}
