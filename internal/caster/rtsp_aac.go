package caster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/castd/castd/internal/av"
)

// maxAACFrame bounds one AAC access unit: frames go on in ADTS headers,
// which describe up to this much (a raw data block holds at most 6144 bits
// per channel, ISO/IEC 14496-3 4.5.3, so 8 channels fit).
const maxAACFrame = av.MaxADTSPayload

// maxAUsPerPacket bounds the AU headers of one packet: 64 KB of 1024-sample
// frames at the lowest bit rates stays well under it.
const maxAUsPerPacket = 256

// aacFormat is an MPEG4-GENERIC payload format for AAC (RFC 3640 3.3.5
// AAC-lbr, 3.3.6 AAC-hbr): the lengths, in bits, of the AU header fields.
type aacFormat struct {
	sizeLength, indexLength, indexDeltaLength int
}

// parseAACFormat reads the fmtp parameters of an MPEG4-GENERIC audio stream.
// Fields the AAC modes do not use (CTS and DTS deltas, random access and
// stream state flags, auxiliary data) are refused, so a stream that uses
// them is rejected at ANNOUNCE rather than misread.
func parseAACFormat(fmtp map[string]string) (aacFormat, error) {
	var f aacFormat
	for _, p := range []struct {
		name string
		dst  *int
	}{{"sizelength", &f.sizeLength}, {"indexlength", &f.indexLength}, {"indexdeltalength", &f.indexDeltaLength}} {
		v, ok := fmtp[p.name]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 32 {
			return f, fmt.Errorf("MPEG4-GENERIC %s=%q", p.name, clip(v))
		}
		*p.dst = n
	}
	for _, name := range []string{"ctsdeltalength", "dtsdeltalength", "randomaccessindication",
		"streamstateindication", "auxiliarydatasizelength", "constantsize", "constantduration"} {
		if v, ok := fmtp[name]; ok && v != "0" {
			return f, fmt.Errorf("MPEG4-GENERIC %s=%s is not supported", name, clip(v))
		}
	}
	if f.sizeLength == 0 {
		return f, errors.New("MPEG4-GENERIC without sizelength: AU sizes are needed")
	}
	return f, nil
}

// aacUnits is the result of splitting one payload: whole access units, or
// one fragment of a unit larger than the packet (RFC 3640 3.2.3.2).
type aacUnits struct {
	units    [][]byte // slices of the payload
	fragment bool     // units[0] is a fragment of an AU of fragSize bytes
	fragSize int
}

// split parses the AU header section of payload (RFC 3640 3.2.1) and cuts
// the access units that follow it. Interleaved units (a non-zero index or
// index delta) are refused: encoders that push do not interleave.
func (f aacFormat) split(payload []byte) (aacUnits, error) {
	var u aacUnits
	if len(payload) < 2 {
		return u, fmt.Errorf("aac: payload of %d bytes has no AU header section", len(payload))
	}
	headerBits := int(binary.BigEndian.Uint16(payload))
	headerBytes := (headerBits + 7) / 8
	if 2+headerBytes > len(payload) {
		return u, fmt.Errorf("aac: AU headers of %d bits in a %d-byte payload", headerBits, len(payload))
	}
	r := av.NewBitReader(payload[2 : 2+headerBytes])
	data := payload[2+headerBytes:]
	var sizes []int
	for used, first := 0, true; ; first = false {
		indexBits := f.indexDeltaLength
		if first {
			indexBits = f.indexLength
		}
		if used+f.sizeLength+indexBits > headerBits {
			break
		}
		size, index := int(r.ReadBits(f.sizeLength)), r.ReadBits(indexBits)
		used += f.sizeLength + indexBits
		switch {
		case index != 0:
			return u, fmt.Errorf("aac: AU index %d: interleaved AUs are not supported", index)
		case size == 0:
			return u, errors.New("aac: AU of 0 bytes")
		case len(sizes) == maxAUsPerPacket:
			return u, fmt.Errorf("aac: more than %d AUs in one packet", maxAUsPerPacket)
		}
		sizes = append(sizes, size)
	}
	if len(sizes) == 0 {
		return u, fmt.Errorf("aac: AU header section of %d bits holds no AU header", headerBits)
	}
	for _, n := range sizes {
		if n > maxAACFrame {
			return u, fmt.Errorf("aac: AU of %d bytes, at most %d", n, maxAACFrame)
		}
	}
	if len(sizes) == 1 && sizes[0] > len(data) {
		u.units, u.fragment, u.fragSize = [][]byte{data}, true, sizes[0]
		return u, nil
	}
	u.units = make([][]byte, 0, len(sizes))
	for _, n := range sizes {
		if n > len(data) {
			return u, fmt.Errorf("aac: AU of %d bytes, %d left in the payload", n, len(data))
		}
		u.units = append(u.units, data[:n])
		data = data[n:]
	}
	return u, nil
}

// aacDepacketizer turns RTP payloads into AAC frames, rebuilding the ones
// fragmented across packets.
type aacDepacketizer struct {
	format aacFormat
	frag   []byte // the fragmented AU so far; nil when none
	size   int    // its announced size
	ts     uint32 // its RTP timestamp
}

// aacFrame is one access unit with its RTP timestamp.
type aacFrame struct {
	timestamp uint32
	data      []byte
}

// push adds one packet's payload, lost telling that packets are missing
// before it, and appends the frames it completes to out. frameLength is
// the samples per frame (1024, or 960). Frames are copies: payload may be
// reused.
func (d *aacDepacketizer) push(out []aacFrame, payload []byte, ts uint32, marker, lost bool, frameLength int) ([]aacFrame, error) {
	if lost {
		d.frag = nil
	}
	u, err := d.format.split(payload)
	if err != nil {
		d.frag = nil
		return out, err
	}
	if !u.fragment {
		if d.frag != nil {
			d.frag = nil
			err = errors.New("aac: a fragmented AU did not end")
		}
		for i, au := range u.units {
			out = append(out, aacFrame{timestamp: ts + uint32(i*frameLength), data: append([]byte(nil), au...)})
		}
		return out, err
	}
	if d.frag != nil && (d.ts != ts || d.size != u.fragSize) {
		d.frag = nil // the rest of the previous unit was lost
	}
	if d.frag == nil {
		d.frag, d.size, d.ts = make([]byte, 0, u.fragSize), u.fragSize, ts
	}
	if len(d.frag)+len(u.units[0]) > d.size {
		d.frag = nil
		return out, fmt.Errorf("aac: fragments longer than their AU of %d bytes", d.size)
	}
	d.frag = append(d.frag, u.units[0]...)
	if len(d.frag) < d.size {
		if marker {
			got := len(d.frag)
			d.frag = nil
			return out, fmt.Errorf("aac: fragmented AU of %d bytes ended after %d", d.size, got)
		}
		return out, nil
	}
	out = append(out, aacFrame{timestamp: ts, data: d.frag})
	d.frag = nil
	return out, nil
}
