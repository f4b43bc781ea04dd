package av

// Helpers shared by the FLV video and audio tag parsers, mostly for the
// enhanced-RTMP v2 extensions (ModEx, multitrack).

import (
	"errors"
	"fmt"
)

const (
	exHeaderFourCCSize   = 4
	exModExTimestampNano = 0 // the ModEx type carrying a nanosecond timestamp offset
)

// AvMultitrackType values of enhanced RTMP v2.
const (
	MultitrackOneTrack             = 0
	MultitrackManyTracks           = 1
	MultitrackManyTracksManyCodecs = 2
)

// ErrMultitrackUnsupported is returned for enhanced-RTMP tags that carry more
// than one track; castd relays single-track streams only.
var ErrMultitrackUnsupported = errors.New("av: enhanced RTMP tags with several tracks are not supported")

// readModEx consumes the ModEx blocks that may precede the real packet type
// (E-RTMP v2). Each block is a 1- or 2-byte size, its data, and a byte whose
// low nibble is the next packet type. It returns the final packet type, the
// offset after the blocks and any nanosecond timestamp offset.
func readModEx(b []byte, packetType, modEx uint8, what string) (uint8, int, uint32, error) {
	p := 1
	var nano uint32
	for packetType == modEx {
		if p >= len(b) {
			return 0, p, 0, fmt.Errorf("av: enhanced %s ModEx truncated in its size", what)
		}
		size := int(b[p]) + 1
		p++
		if size == 256 {
			if p+2 > len(b) {
				return 0, p, 0, fmt.Errorf("av: enhanced %s ModEx truncated in its 16-bit size", what)
			}
			size = (int(b[p])<<8 | int(b[p+1])) + 1
			p += 2
		}
		if p+size+1 > len(b) {
			return 0, p, 0, fmt.Errorf("av: enhanced %s ModEx of %d bytes, %d left", what, size, len(b)-p)
		}
		data := b[p : p+size]
		p += size
		modExType := b[p] >> 4
		packetType = b[p] & 0x0f
		p++
		if modExType == exModExTimestampNano && len(data) >= 3 {
			nano = uint32(data[0])<<16 | uint32(data[1])<<8 | uint32(data[2])
		}
	}
	return packetType, p, nano, nil
}

// readMultitrackHeader reads the [multitrack type|packet type] byte that
// follows a Multitrack packet type. Only one-track tags are accepted.
func readMultitrackHeader[T ~uint8](b []byte, p int, multitrack uint8, what string) (T, int, error) {
	if p >= len(b) {
		return 0, p, fmt.Errorf("av: enhanced %s multitrack tag truncated", what)
	}
	trackType, packetType := b[p]>>4, b[p]&0x0f
	p++
	if packetType == multitrack {
		return 0, p, fmt.Errorf("av: enhanced %s multitrack tag nests another multitrack", what)
	}
	if trackType != MultitrackOneTrack {
		return 0, p, fmt.Errorf("%w (%s multitrack type %d)", ErrMultitrackUnsupported, what, trackType)
	}
	return T(packetType), p, nil
}

// readSI24 reads a big-endian signed 24-bit integer.
func readSI24(b []byte) int32 {
	v := int32(b[0])<<16 | int32(b[1])<<8 | int32(b[2])
	return v << 8 >> 8
}
