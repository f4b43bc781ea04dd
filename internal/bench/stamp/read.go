package stamp

import (
	"github.com/castd/castd/internal/av"
)

// maxSEIScan bounds the SEI bytes a Reader unescapes from one NAL unit; a
// stamp sits in the first message of its own small NAL unit, so larger SEI
// units (an encoder's banner) only need their first messages looked at.
const maxSEIScan = 4 << 10

// Reader finds stamps in frames. It keeps a scratch buffer, so it belongs
// to one goroutine; in steady state it allocates nothing.
type Reader struct {
	rbsp []byte
}

// Find looks for a stamp in the NAL units of a frame (AVCC form, each unit
// behind a lengthSize-byte big-endian length: the tag body from the tag's
// PayloadOffset). It stops at the first coded slice, since SEI must precede
// it, so the cost does not grow with the frame's size. Malformed data is
// not an error: the frame simply has no stamp.
func (r *Reader) Find(codec av.Codec, nalus []byte, lengthSize int) (Stamp, bool) {
	if lengthSize != 1 && lengthSize != 2 && lengthSize != 4 {
		return Stamp{}, false
	}
	for p := 0; p+lengthSize <= len(nalus); {
		n := 0
		for _, c := range nalus[p : p+lengthSize] {
			n = n<<8 | int(c)
		}
		p += lengthSize
		if n > len(nalus)-p {
			return Stamp{}, false
		}
		nalu := nalus[p : p+n]
		p += n
		if n == 0 {
			continue
		}
		if s, found, stop := r.inNALU(codec, nalu); found || stop {
			return s, found
		}
	}
	return Stamp{}, false
}

// inNALU looks at one NAL unit of a frame: found when it is an SEI unit
// holding a stamp, stop when the search is over (a coded slice, which SEI
// must precede, or a codec without stamps).
func (r *Reader) inNALU(codec av.Codec, nalu []byte) (s Stamp, found, stop bool) {
	switch codec {
	case av.CodecH264:
		t := av.H264NALUType(nalu)
		if t >= av.H264NALSlice && t <= av.H264NALIDR {
			return Stamp{}, false, true
		}
		if t == av.H264NALSEI {
			s, found = r.findInSEI(nalu[1:])
		}
	case av.CodecH265:
		t := av.H265NALUType(nalu)
		if t < 32 { // VCL NAL unit types are 0..31
			return Stamp{}, false, true
		}
		if t == av.H265NALPrefixSEI && len(nalu) >= 2 {
			s, found = r.findInSEI(nalu[2:])
		}
	default:
		return Stamp{}, false, true
	}
	return s, found, false
}

// findInSEI looks for a castbench message among the sei_messages of an SEI
// NAL unit's payload (after the NAL header, still escaped).
func (r *Reader) findInSEI(escaped []byte) (Stamp, bool) {
	r.rbsp = appendUnescaped(r.rbsp[:0], escaped[:min(len(escaped), maxSEIScan)])
	b := r.rbsp
	for len(b) > 2 {
		typ, n := seiNumber(b)
		if n == 0 {
			return Stamp{}, false
		}
		b = b[n:]
		size, n := seiNumber(b)
		if n == 0 || size > len(b)-n {
			return Stamp{}, false
		}
		payload := b[n : n+size]
		b = b[n+size:]
		if typ == av.SEIUserDataUnregistered && size >= 16 && string(payload[:16]) == UUID {
			return ParseData(payload[16:])
		}
	}
	return Stamp{}, false
}

// seiNumber reads an SEI payload type or size (a run of 0xFF bytes adding
// 255 each, then a last byte); n is 0 when b ends first.
func seiNumber(b []byte) (v, n int) {
	for n < len(b) {
		c := b[n]
		n++
		v += int(c)
		if c != 0xff {
			return v, n
		}
	}
	return 0, 0
}

// appendUnescaped appends b to dst without its emulation prevention bytes
// (the 03 of 00 00 03).
func appendUnescaped(dst, b []byte) []byte {
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 0x03 {
			zeros = 0
			continue
		}
		dst = append(dst, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return dst
}
