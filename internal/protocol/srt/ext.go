package srt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Handshake extension types (Extension Type field of an extension block,
// and the subtype of a user-defined control packet for KMREQ/KMRSP).
const (
	extHSREQ      = 1
	extHSRSP      = 2
	extKMREQ      = 3
	extKMRSP      = 4
	extSID        = 5
	extCongestion = 6
	extFilter     = 7
	extGroup      = 8
)

// Handshake Extension Message flags (SRT Flags of HSREQ/HSRSP).
const (
	flagTSBPDSND     = 0x01
	flagTSBPDRCV     = 0x02
	flagCRYPT        = 0x04
	flagTLPKTDROP    = 0x08
	flagPERIODICNAK  = 0x10
	flagREXMITFLG    = 0x20
	flagSTREAM       = 0x40
	flagPacketFilter = 0x80
)

// maxStreamIDLen is the largest Stream ID the SID extension may carry.
const maxStreamIDLen = 512

// hsExtSize is the size of the HSREQ/HSRSP content.
const hsExtSize = 12

var errBadExtension = errors.New("srt: malformed handshake extension")

// hsExtension is the content of HSREQ and HSRSP. Delays are milliseconds.
type hsExtension struct {
	version   uint32
	flags     uint32
	recvDelay uint16 // TSBPD delay of the sender of this message's receiver
	sendDelay uint16 // TSBPD delay it proposes for the peer's receiver
}

func (h *hsExtension) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, h.version)
	b = binary.BigEndian.AppendUint32(b, h.flags)
	return binary.BigEndian.AppendUint32(b, uint32(h.recvDelay)<<16|uint32(h.sendDelay))
}

func parseHSExtension(b []byte) (hsExtension, error) {
	if len(b) < hsExtSize {
		return hsExtension{}, fmt.Errorf("%w: HSREQ/HSRSP of %d bytes", errBadExtension, len(b))
	}
	w := binary.BigEndian.Uint32(b[8:])
	return hsExtension{
		version:   binary.BigEndian.Uint32(b),
		flags:     binary.BigEndian.Uint32(b[4:]),
		recvDelay: uint16(w >> 16),
		sendDelay: uint16(w),
	}, nil
}

// extensions is what a conclusion handshake carries after its 48-byte CIF.
type extensions struct {
	hs         *hsExtension
	hsType     uint16 // extHSREQ or extHSRSP
	km         []byte // KMREQ/KMRSP content, aliasing the packet
	kmType     uint16
	streamID   string
	hasSID     bool
	congestion string
	hasFilter  bool
	hasGroup   bool
}

// parseExtensions walks the extension blocks. Unknown types are skipped;
// a block whose length runs past the packet is an error.
func parseExtensions(b []byte) (extensions, error) {
	var e extensions
	for len(b) > 0 {
		if len(b) < 4 {
			return e, fmt.Errorf("%w: %d trailing bytes", errBadExtension, len(b))
		}
		typ := binary.BigEndian.Uint16(b)
		n := int(binary.BigEndian.Uint16(b[2:])) * 4
		b = b[4:]
		if n > len(b) {
			return e, fmt.Errorf("%w: type %d declares %d bytes, %d left", errBadExtension, typ, n, len(b))
		}
		content := b[:n]
		b = b[n:]
		switch typ {
		case extHSREQ, extHSRSP:
			h, err := parseHSExtension(content)
			if err != nil {
				return e, err
			}
			e.hs, e.hsType = &h, typ
		case extKMREQ, extKMRSP:
			e.km, e.kmType = content, typ
		case extSID:
			s, err := decodeStringExt(content)
			if err != nil {
				return e, fmt.Errorf("stream id: %w", err)
			}
			e.streamID, e.hasSID = s, true
		case extCongestion:
			s, err := decodeStringExt(content)
			if err != nil {
				return e, fmt.Errorf("congestion: %w", err)
			}
			e.congestion = s
		case extFilter:
			e.hasFilter = true
		case extGroup:
			e.hasGroup = true
		}
	}
	return e, nil
}

// appendExtension appends one extension block; content must be a whole
// number of 32-bit words.
func appendExtension(b []byte, typ uint16, content []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(content)/4))
	return append(b, content...)
}

// appendStringExt appends a SID or congestion block. libsrt stores such
// strings as 32-bit little-endian words: each group of four bytes is
// reversed on the wire, and the last group is padded with zeros first.
func appendStringExt(b []byte, typ uint16, s string) []byte {
	words := (len(s) + 3) / 4
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(words))
	for i := 0; i < words; i++ {
		var w [4]byte
		copy(w[:], s[i*4:min(len(s), i*4+4)])
		b = append(b, w[3], w[2], w[1], w[0])
	}
	return b
}

// decodeStringExt undoes appendStringExt: it swaps each word back and drops
// the zero padding.
func decodeStringExt(content []byte) (string, error) {
	if len(content) > maxStreamIDLen {
		return "", fmt.Errorf("%w: string of %d bytes (max %d)", errBadExtension, len(content), maxStreamIDLen)
	}
	if len(content)%4 != 0 {
		return "", fmt.Errorf("%w: string of %d bytes is not whole words", errBadExtension, len(content))
	}
	buf := make([]byte, len(content))
	for i := 0; i < len(content); i += 4 {
		buf[i], buf[i+1], buf[i+2], buf[i+3] = content[i+3], content[i+2], content[i+1], content[i]
	}
	n := len(buf)
	for n > 0 && buf[n-1] == 0 {
		n--
	}
	return string(buf[:n]), nil
}
