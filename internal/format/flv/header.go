package flv

import (
	"encoding/binary"
	"errors"
)

// Sizes of the fixed parts of an FLV file.
const (
	HeaderSize          = 9  // "FLV", version, flags, data offset
	TagHeaderSize       = 11 // type, data size, timestamp, extended timestamp, stream id
	PreviousTagSizeSize = 4
	// MaxDataSize is the largest body the 24-bit DataSize field can describe.
	MaxDataSize = 1<<24 - 1
)

// Tag types (TagType, the low 5 bits of the tag's first byte). They equal the
// RTMP message type ids of the same payloads.
const (
	TagAudio  uint8 = 8
	TagVideo  uint8 = 9
	TagScript uint8 = 18
)

// Header flag bits (TypeFlags).
const (
	flagVideo = 0x01
	flagAudio = 0x04
)

// Errors reported while reading; test with errors.Is.
var (
	ErrBadHeader       = errors.New("not an FLV header")
	ErrTagTooLarge     = errors.New("tag too large")
	ErrPreviousTagSize = errors.New("PreviousTagSize mismatch")
	ErrEncryptedTag    = errors.New("encrypted tag (filter bit) not supported")
)

// Header is what the FLV file header says about the streams that follow.
type Header struct {
	HasAudio, HasVideo bool
}

// AppendHeader appends the 9-byte FLV header for h and PreviousTagSize0 (four
// zero bytes), which is everything that precedes the first tag.
func AppendHeader(dst []byte, h Header) []byte {
	var flags byte
	if h.HasAudio {
		flags |= flagAudio
	}
	if h.HasVideo {
		flags |= flagVideo
	}
	return append(dst, 'F', 'L', 'V', 1, flags, 0, 0, 0, HeaderSize, 0, 0, 0, 0)
}

// PutTagHeader fills dst[:11] with a tag header: type, 24-bit data size,
// timestamp (low 24 bits, then the extended byte holding bits 24-31) and a
// zero stream id. dataSize must be at most MaxDataSize.
func PutTagHeader(dst []byte, typ uint8, dataSize int, timestamp uint32) {
	_ = dst[TagHeaderSize-1]
	dst[0] = typ
	put24(dst[1:], uint32(dataSize))
	put24(dst[4:], timestamp)
	dst[7] = byte(timestamp >> 24)
	put24(dst[8:], 0)
}

// PutPreviousTagSize fills dst[:4] with the size of the tag before it
// (TagHeaderSize plus its data size).
func PutPreviousTagSize(dst []byte, size uint32) {
	binary.BigEndian.PutUint32(dst, size)
}

func put24(b []byte, v uint32) {
	b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v)
}

func get24(b []byte) uint32 {
	return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
}
