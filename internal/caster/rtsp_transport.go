package caster

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// rtspTransport is one transport spec of a SETUP's Transport header (RFC
// 2326 12.39) that the caster can receive on: RTP over the RTSP connection
// (RTP/AVP/TCP, interleaved channels) or over UDP (RTP/AVP or
// RTP/AVP/UDP, the client's ports).
type rtspTransport struct {
	tcp         bool
	channels    [2]int // RTP and RTCP interleaved channels; -1 when not given
	clientPorts [2]int // RTP and RTCP ports the client sends from; 0 when not given
}

// parseRTSPTransport picks the first spec of a Transport header the caster
// can take. A header whose specs are all multicast, for playing, or of
// another profile is a 461, as RFC 2326 12.39 says.
func parseRTSPTransport(h string) (rtspTransport, error) {
	if strings.TrimSpace(h) == "" {
		return rtspTransport{}, rtspErrorf(461, "SETUP without a Transport header")
	}
	var why error
	for spec := range strings.SplitSeq(h, ",") {
		t, err := parseTransportSpec(spec)
		if err == nil {
			return t, nil
		}
		if why == nil {
			why = err
		}
	}
	return rtspTransport{}, why
}

func parseTransportSpec(spec string) (rtspTransport, error) {
	t := rtspTransport{channels: [2]int{-1, -1}}
	params := strings.Split(strings.TrimSpace(spec), ";")
	switch strings.ToUpper(strings.TrimSpace(params[0])) {
	case "RTP/AVP", "RTP/AVP/UDP":
	case "RTP/AVP/TCP":
		t.tcp = true
	default:
		return t, rtspErrorf(461, "transport %q: want RTP/AVP/TCP or RTP/AVP", params[0])
	}
	for _, p := range params[1:] {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		var err error
		switch strings.ToLower(name) {
		case "multicast":
			return t, rtspErrorf(461, "multicast: the caster receives unicast only")
		case "mode":
			// RFC 2326 says mode may be quoted and is case-insensitive.
			if m := strings.ToUpper(strings.Trim(value, `"`)); m != "RECORD" && m != "RECEIVE" {
				return t, rtspErrorf(461, "mode %q: the caster takes pushed streams (mode=record)", value)
			}
		case "interleaved":
			t.channels, err = parseRange(value, 255)
		case "client_port":
			t.clientPorts, err = parseRange(value, 65535)
		}
		if err != nil {
			return t, rtspErrorf(400, "transport %s: %v", name, err)
		}
	}
	return t, nil
}

// parseRange reads "a" or "a-b" with values up to limit; "a" means a and a+1.
func parseRange(s string, limit int) ([2]int, error) {
	lo, hi, dash := strings.Cut(s, "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a < 0 || a > limit {
		return [2]int{}, fmt.Errorf("bad value %q", s)
	}
	b := a + 1
	if dash {
		if b, err = strconv.Atoi(hi); err != nil || b < 0 || b > limit {
			return [2]int{}, fmt.Errorf("bad value %q", s)
		}
	}
	return [2]int{a, b}, nil
}

// reply is the Transport header of the SETUP response; serverPorts are
// the UDP transport's.
func (t rtspTransport) reply(serverPorts [2]int) string {
	if t.tcp {
		return fmt.Sprintf("RTP/AVP/TCP;unicast;interleaved=%d-%d;mode=record", t.channels[0], t.channels[1])
	}
	s := "RTP/AVP;unicast"
	if t.clientPorts[0] != 0 {
		s += fmt.Sprintf(";client_port=%d-%d", t.clientPorts[0], t.clientPorts[1])
	}
	return s + fmt.Sprintf(";server_port=%d-%d;mode=record", serverPorts[0], serverPorts[1])
}

// interleavedHeader is the size of the header of an RTP or RTCP packet sent
// on the RTSP connection (RFC 2326 10.12): '$', the channel, a 16-bit length.
const interleavedHeader = 4

// readInterleaved reads one interleaved frame into buf (which must hold
// 65535 bytes) and returns its channel and payload. The caller has seen
// the '$'.
func readInterleaved(r *bufio.Reader, buf []byte) (channel int, payload []byte, err error) {
	var h [interleavedHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, fmt.Errorf("rtsp: read interleaved frame header: %w", err)
	}
	if h[0] != '$' {
		return 0, nil, fmt.Errorf("rtsp: interleaved frame starts with 0x%02x, not '$'", h[0])
	}
	n := int(binary.BigEndian.Uint16(h[2:]))
	if _, err := io.ReadFull(r, buf[:n]); err != nil {
		return 0, nil, fmt.Errorf("rtsp: read interleaved frame of %d bytes: %w", n, err)
	}
	return int(h[1]), buf[:n], nil
}
