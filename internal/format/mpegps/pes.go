package mpegps

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// pesHeader is what castd reads of a PES header.
type pesHeader struct {
	pts, dts       int64
	hasPTS, hasDTS bool
}

var errPESShort = errors.New("PES header longer than the packet")

// parsePES reads the header of the PES packet u (start code, stream id and
// length included) and returns it with the payload. Both the MPEG-2 header
// (§2.4.3.6) and the MPEG-1 one (ISO/IEC 11172-1 §2.4.3.3) are read.
func parsePES(u []byte) (pesHeader, []byte, error) {
	b := u[6:]
	var h pesHeader
	if len(b) >= 3 && b[0]&0xc0 == 0x80 {
		hl := 3 + int(b[2])
		if hl > len(b) {
			return h, nil, errPESShort
		}
		switch b[1] >> 6 {
		case 0x2:
			if hl < 3+5 {
				return h, nil, errPESShort
			}
			h.pts, h.hasPTS = readTimestamp(b[3:]), true
		case 0x3:
			if hl < 3+10 {
				return h, nil, errPESShort
			}
			h.pts, h.hasPTS = readTimestamp(b[3:]), true
			h.dts, h.hasDTS = readTimestamp(b[8:]), true
		case 0x1:
			return h, nil, errors.New("PTS_DTS_flags 01 is forbidden")
		}
		if !h.hasDTS {
			h.dts = h.pts
		}
		return h, b[hl:], nil
	}
	// MPEG-1: up to 16 stuffing bytes, an optional STD buffer size, then
	// the timestamps or 0x0f.
	i := 0
	for i < len(b) && i < 16 && b[i] == 0xff {
		i++
	}
	if i < len(b) && b[i]&0xc0 == 0x40 {
		i += 2
	}
	if i >= len(b) {
		return h, nil, errPESShort
	}
	switch b[i] >> 4 {
	case 0x2:
		if i+5 > len(b) {
			return h, nil, errPESShort
		}
		h.pts, h.hasPTS = readTimestamp(b[i:]), true
		i += 5
	case 0x3:
		if i+10 > len(b) {
			return h, nil, errPESShort
		}
		h.pts, h.hasPTS = readTimestamp(b[i:]), true
		h.dts, h.hasDTS = readTimestamp(b[i+5:]), true
		i += 10
	default:
		if b[i] != 0x0f {
			return h, nil, fmt.Errorf("bad PES header byte 0x%02x", b[i])
		}
		i++
	}
	if !h.hasDTS {
		h.dts = h.pts
	}
	return h, b[i:], nil
}

// readTimestamp decodes a 5-byte PTS or DTS: 3, 15 and 15 bits of the
// value after 4 prefix bits, each group ended by a marker bit, which is
// not checked (devices in the field do not all set it).
func readTimestamp(b []byte) int64 {
	return int64(b[0]>>1&0x07)<<30 | int64(binary.BigEndian.Uint16(b[1:])>>1)<<15 | int64(binary.BigEndian.Uint16(b[3:])>>1)
}

// putTimestamp writes ts in the 5-byte form with the given 4-bit prefix.
func putTimestamp(b []byte, prefix uint8, ts int64) {
	v := uint64(ts) & timestampMask
	b[0] = prefix<<4 | byte(v>>29)&0x0e | 0x01
	b[1] = byte(v >> 22)
	b[2] = byte(v>>14) | 0x01
	b[3] = byte(v >> 7)
	b[4] = byte(v<<1) | 0x01
}
