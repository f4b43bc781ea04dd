package mpegts

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// PSI table ids (Table 2-31).
const (
	tableIDPAT = 0x00
	tableIDPMT = 0x02
)

const (
	// sectionHeaderSize runs from table_id to last_section_number, the
	// fixed part of every long-form section.
	sectionHeaderSize = 8
	crcSize           = 4
	// maxSectionLength is the largest section_length of a PAT or PMT; the
	// whole section is at most 1024 bytes.
	maxSectionLength = 1021
	maxSectionSize   = 3 + maxSectionLength
)

// appendSectionHeader appends a long-form section header; the caller appends
// the body and then finishSection fixes the length and appends the CRC.
func appendSectionHeader(dst []byte, tableID uint8, idExtension uint16, version uint8) []byte {
	return append(dst,
		tableID,
		0xb0, 0x00, // section_syntax_indicator, '0', reserved '11', length patched later
		byte(idExtension>>8), byte(idExtension),
		0xc1|(version&0x1f)<<1, // reserved '11', version, current_next_indicator
		0x00,                   // section_number
		0x00)                   // last_section_number
}

// finishSection patches section_length of the section starting at start and
// appends its CRC_32.
func finishSection(dst []byte, start int) []byte {
	length := len(dst) - start - 3 + crcSize
	dst[start+1] = 0xb0 | byte(length>>8)&0x0f
	dst[start+2] = byte(length)
	return binary.BigEndian.AppendUint32(dst, crc32MPEG2(dst[start:]))
}

// appendPAT appends a PAT section listing one program.
func appendPAT(dst []byte, tsID, program, pmtPID uint16) []byte {
	start := len(dst)
	dst = appendSectionHeader(dst, tableIDPAT, tsID, 0)
	dst = append(dst, byte(program>>8), byte(program), 0xe0|byte(pmtPID>>8), byte(pmtPID))
	return finishSection(dst, start)
}

// appendPMT appends a PMT section for the program's streams.
func appendPMT(dst []byte, program uint16, version uint8, pcrPID uint16, streams []Stream) ([]byte, error) {
	start := len(dst)
	dst = appendSectionHeader(dst, tableIDPMT, program, version)
	dst = append(dst, 0xe0|byte(pcrPID>>8), byte(pcrPID), 0xf0, 0x00) // no program descriptors
	for _, s := range streams {
		if len(s.Descriptors) > 0x3ff {
			return dst[:start], fmt.Errorf("mpegts: PMT: %d bytes of descriptors for PID 0x%x, max 1023", len(s.Descriptors), s.PID)
		}
		n := len(s.Descriptors)
		dst = append(dst, byte(s.Type), 0xe0|byte(s.PID>>8), byte(s.PID), 0xf0|byte(n>>8), byte(n))
		dst = append(dst, s.Descriptors...)
	}
	if len(dst)-start-3+crcSize > maxSectionLength {
		return dst[:start], fmt.Errorf("mpegts: PMT of %d streams is longer than %d bytes", len(streams), maxSectionLength)
	}
	return finishSection(dst, start), nil
}

// section is a parsed long-form PSI section.
type section struct {
	tableID     uint8
	idExtension uint16 // transport_stream_id (PAT) or program_number (PMT)
	version     uint8
	current     bool
	body        []byte // between last_section_number and CRC_32
}

var errSectionCRC = errors.New("mpegts: PSI section CRC mismatch")

// parseSection checks a complete section (its length already known to fit)
// and returns its fields.
func parseSection(b []byte) (section, error) {
	var s section
	if len(b) < sectionHeaderSize+crcSize {
		return s, fmt.Errorf("mpegts: PSI section of %d bytes is too short", len(b))
	}
	if b[1]&0x80 == 0 {
		return s, fmt.Errorf("mpegts: PSI table 0x%02x is not a long-form section", b[0])
	}
	if crc32MPEG2(b) != 0 {
		return s, errSectionCRC
	}
	s.tableID = b[0]
	s.idExtension = binary.BigEndian.Uint16(b[3:])
	s.version = (b[5] >> 1) & 0x1f
	s.current = b[5]&0x01 != 0
	s.body = b[sectionHeaderSize : len(b)-crcSize]
	return s, nil
}

// patEntry is one program of a PAT.
type patEntry struct {
	program uint16
	pmtPID  uint16
}

// parsePAT returns the programs of a PAT body, skipping the network PID
// entry (program 0).
func parsePAT(body []byte) ([]patEntry, error) {
	if len(body)%4 != 0 {
		return nil, fmt.Errorf("mpegts: PAT body of %d bytes is not a multiple of 4", len(body))
	}
	entries := make([]patEntry, 0, len(body)/4)
	for p := 0; p < len(body); p += 4 {
		program := binary.BigEndian.Uint16(body[p:])
		pid := binary.BigEndian.Uint16(body[p+2:]) & 0x1fff
		if program == 0 {
			continue
		}
		entries = append(entries, patEntry{program, pid})
	}
	return entries, nil
}

// parsePMT returns the PCR PID and streams of a PMT body.
func parsePMT(body []byte) (pcrPID uint16, streams []Stream, err error) {
	if len(body) < 4 {
		return 0, nil, fmt.Errorf("mpegts: PMT body of %d bytes is too short", len(body))
	}
	pcrPID = binary.BigEndian.Uint16(body) & 0x1fff
	infoLen := int(binary.BigEndian.Uint16(body[2:]) & 0x0fff)
	p := 4 + infoLen
	if p > len(body) {
		return 0, nil, fmt.Errorf("mpegts: PMT program_info_length %d overruns the section", infoLen)
	}
	for p < len(body) {
		if p+5 > len(body) {
			return 0, nil, fmt.Errorf("mpegts: PMT truncated in a stream entry at %d", p)
		}
		s := Stream{
			Type: StreamType(body[p]),
			PID:  binary.BigEndian.Uint16(body[p+1:]) & 0x1fff,
		}
		n := int(binary.BigEndian.Uint16(body[p+3:]) & 0x0fff)
		p += 5
		if p+n > len(body) {
			return 0, nil, fmt.Errorf("mpegts: PMT ES_info_length %d of PID 0x%x overruns the section", n, s.PID)
		}
		if n > 0 {
			s.Descriptors = bytes.Clone(body[p : p+n])
		}
		p += n
		streams = append(streams, s)
	}
	return pcrPID, streams, nil
}
