package gb28181

import (
	"encoding/binary"
	"errors"
)

// rtpHeaderSize is the fixed RTP header (RFC 3550 §5.1).
const rtpHeaderSize = 12

var errNotRTP = errors.New("gb28181: not an RTP version 2 packet")

// rtpPacket is what castd reads of an RTP packet.
type rtpPacket struct {
	marker  bool
	pt      uint8
	seq     uint16
	ts      uint32
	ssrc    uint32
	payload []byte // a slice of the packet
}

// parseRTP reads an RTP packet: CSRCs, a header extension and padding are
// skipped.
func parseRTP(b []byte) (rtpPacket, error) {
	var p rtpPacket
	if len(b) < rtpHeaderSize || b[0]>>6 != 2 {
		return p, errNotRTP
	}
	p.marker, p.pt = b[1]&0x80 != 0, b[1]&0x7f
	p.seq = binary.BigEndian.Uint16(b[2:])
	p.ts = binary.BigEndian.Uint32(b[4:])
	p.ssrc = binary.BigEndian.Uint32(b[8:])
	n := rtpHeaderSize + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 { // extension: 16-bit profile, 16-bit length in words
		if len(b) < n+4 {
			return p, errors.New("gb28181: RTP header extension cut short")
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(b[n+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > 0 { // padding: the last byte counts it
		end -= int(b[end-1])
	}
	if n > end {
		return p, errors.New("gb28181: RTP header longer than the packet")
	}
	p.payload = b[n:end]
	return p, nil
}

// isRTCP tells RTCP from RTP on a shared transport (RFC 5761 §4): payload
// types 192 to 223 are RTCP's.
func isRTCP(b []byte) bool {
	return len(b) >= 8 && b[0]>>6 == 2 && b[1] >= 192 && b[1] <= 223
}
