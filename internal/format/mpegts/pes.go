package mpegts

import (
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	pesStartCodeSize = 3 // 00 00 01
	// pesFixedHeaderSize runs from the start code to PES_header_data_length.
	pesFixedHeaderSize = 9
	// maxPESHeaderSize is the fixed header plus a PTS and a DTS, all the
	// muxer writes.
	maxPESHeaderSize = pesFixedHeaderSize + 10
	// maxPESPacketLength is the largest PES_packet_length; longer PES
	// packets say 0 (unbounded), which the standard allows for video only.
	maxPESPacketLength = 0xffff
)

// PTS_DTS_flags prefixes of the 5-byte timestamp fields (2.4.3.7).
const (
	prefixPTSOnly = 0x2
	prefixPTS     = 0x3
	prefixDTS     = 0x1
)

// putTimestamp writes a 33-bit PTS or DTS in its 5-byte form: 4 prefix bits,
// then 3, 15 and 15 bits of the value, each group ended by a marker bit.
func putTimestamp(b []byte, prefix uint8, ts int64) {
	v := uint64(ts) & timestampMask
	b[0] = prefix<<4 | byte(v>>29)&0x0e | 0x01
	b[1] = byte(v >> 22)
	b[2] = byte(v>>14) | 0x01
	b[3] = byte(v >> 7)
	b[4] = byte(v<<1) | 0x01
}

// readTimestamp decodes a 5-byte PTS or DTS field; marker bits are not
// checked, as decoders in the field do not either.
func readTimestamp(b []byte) int64 {
	return int64(b[0]>>1&0x07)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

// putPESHeader writes the PES header for a payload of dataLen bytes into hdr
// and returns its size. Video payloads too long for PES_packet_length get 0.
func putPESHeader(hdr *[maxPESHeaderSize]byte, streamID uint8, f *Frame, dataLen int) int {
	hasPTS := f.PTS >= 0
	hasDTS := hasPTS && f.HasDTS && f.DTS != f.PTS
	optLen := 0
	flags := byte(0)
	switch {
	case hasDTS:
		optLen, flags = 10, 0xc0
	case hasPTS:
		optLen, flags = 5, 0x80
	}
	hdr[0], hdr[1], hdr[2], hdr[3] = 0x00, 0x00, 0x01, streamID
	length := 3 + optLen + dataLen
	if length > maxPESPacketLength {
		length = 0
	}
	binary.BigEndian.PutUint16(hdr[4:], uint16(length))
	hdr[6] = 0x84 // '10', not scrambled, data_alignment_indicator: each PES starts an access unit
	hdr[7] = flags
	hdr[8] = byte(optLen)
	switch {
	case hasDTS:
		putTimestamp(hdr[9:], prefixPTS, f.PTS)
		putTimestamp(hdr[14:], prefixDTS, f.DTS)
	case hasPTS:
		putTimestamp(hdr[9:], prefixPTSOnly, f.PTS)
	}
	return pesFixedHeaderSize + optLen
}

// pesHeader is what the demuxer needs from a PES header.
type pesHeader struct {
	streamID uint8
	// length is PES_packet_length: the bytes after the length field, or 0
	// when unbounded.
	length     int
	pts, dts   int64
	hasDTS     bool
	headerSize int // bytes before the payload
}

var errPESStartCode = errors.New("mpegts: PES packet does not start with 00 00 01")

// hasOptionalHeader reports whether a stream_id carries the optional PES
// header (the flags, PTS/DTS...); padding, private_stream_2 and a few
// system streams do not (2.4.3.7).
func hasOptionalHeader(streamID uint8) bool {
	switch streamID {
	case 0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff:
		return false
	}
	return true
}

// parsePESHeader parses the header at the start of a PES packet; b holds at
// least its first TS packet's payload.
func parsePESHeader(b []byte) (pesHeader, error) {
	h := pesHeader{pts: NoPTS, dts: NoPTS}
	if len(b) < 6 {
		return h, fmt.Errorf("mpegts: PES header needs 6 bytes, have %d", len(b))
	}
	if b[0] != 0 || b[1] != 0 || b[2] != 1 {
		return h, errPESStartCode
	}
	h.streamID = b[3]
	h.length = int(binary.BigEndian.Uint16(b[4:]))
	if !hasOptionalHeader(h.streamID) {
		h.headerSize = 6
		return h, nil
	}
	if len(b) < pesFixedHeaderSize {
		return h, fmt.Errorf("mpegts: PES header needs %d bytes, have %d", pesFixedHeaderSize, len(b))
	}
	if b[6]&0xc0 != 0x80 {
		return h, fmt.Errorf("mpegts: PES header flags 0x%02x lack the '10' marker", b[6])
	}
	h.headerSize = pesFixedHeaderSize + int(b[8])
	if len(b) < h.headerSize {
		return h, fmt.Errorf("mpegts: PES header of %d bytes is cut at %d", h.headerSize, len(b))
	}
	if h.length != 0 && h.length < h.headerSize-6 {
		return h, fmt.Errorf("mpegts: PES_packet_length %d is shorter than its header (%d)", h.length, h.headerSize-6)
	}
	opt := b[pesFixedHeaderSize:h.headerSize]
	switch b[7] >> 6 {
	case prefixPTS:
		if len(opt) < 10 {
			return h, fmt.Errorf("mpegts: PES header of %d bytes cannot hold its PTS and DTS", len(opt))
		}
		h.pts, h.dts, h.hasDTS = readTimestamp(opt), readTimestamp(opt[5:]), true
	case prefixPTSOnly:
		if len(opt) < 5 {
			return h, fmt.Errorf("mpegts: PES header of %d bytes cannot hold its PTS", len(opt))
		}
		h.pts = readTimestamp(opt)
		h.dts = h.pts
	case 1:
		return h, errors.New("mpegts: PES PTS_DTS_flags value 1 is forbidden")
	}
	return h, nil
}
