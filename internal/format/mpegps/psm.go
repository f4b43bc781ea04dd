package mpegps

import (
	"encoding/binary"
	"errors"
)

// psmEntry is one elementary stream of a program stream map.
type psmEntry struct {
	typ StreamType
	id  uint8
}

// parsePSM reads the program stream map u (§2.5.4.1) and returns its
// streams; nil without error for a map that is not yet applicable
// (current_next_indicator 0). The CRC is not checked: devices get it
// wrong, and the lengths are checked anyway. A loop that overruns the map
// is cut at its end rather than refused, for the same reason.
func parsePSM(u []byte) ([]psmEntry, error) {
	b := u[6:]
	if len(b) < 10 {
		return nil, errors.New("mpegps: program stream map too short")
	}
	if b[0]&0x80 == 0 {
		return nil, nil
	}
	p := 4 + int(binary.BigEndian.Uint16(b[2:])) // after program_stream_info
	if p+2 > len(b)-4 {
		return nil, errors.New("mpegps: program stream map: program_stream_info_length overruns the map")
	}
	end := p + 2 + int(binary.BigEndian.Uint16(b[p:]))
	p += 2
	end = min(end, len(b)-4) // before the CRC
	entries := []psmEntry{}
	for p+4 <= end {
		e := psmEntry{typ: StreamType(b[p]), id: b[p+1]}
		p += 4 + int(binary.BigEndian.Uint16(b[p+2:]))
		entries = append(entries, e)
	}
	return entries, nil
}
