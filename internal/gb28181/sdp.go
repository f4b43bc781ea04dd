package gb28181

import (
	"fmt"
	"strconv"
	"strings"
)

// offerSDP is the session description of castd's INVITE (GB/T 28181-2016
// §C.2, RFC 4566): receive PS (payload type 96) over RTP over TCP on the
// media port, with castd listening (setup:passive) and the SSRC the device
// must use on the y= line, in ten decimal digits.
func offerSDP(owner, ip string, port int, ssrc uint32) []byte {
	return fmt.Appendf(nil, "v=0\r\n"+
		"o=%s 0 0 IN IP4 %s\r\n"+
		"s=Play\r\n"+
		"c=IN IP4 %s\r\n"+
		"t=0 0\r\n"+
		"m=video %d TCP/RTP/AVP 96\r\n"+
		"a=recvonly\r\n"+
		"a=rtpmap:96 PS/90000\r\n"+
		"a=setup:passive\r\n"+
		"a=connection:new\r\n"+
		"y=%s\r\n", owner, ip, ip, port, formatSSRC(ssrc))
}

// answer is what castd reads of a device's SDP answer.
type answer struct {
	ssrc    uint32 // from y=, when present
	hasSSRC bool
	proto   string // of the m=video line, e.g. "TCP/RTP/AVP"
}

// maxSDPLines bounds the lines parseAnswer looks at.
const maxSDPLines = 200

// parseAnswer reads a device's SDP answer: the y= SSRC, which some devices
// change, and the video transport, to warn when it is not TCP.
func parseAnswer(body []byte) (answer, error) {
	var a answer
	lines := strings.Split(string(body), "\n")
	if len(lines) > maxSDPLines {
		return a, fmt.Errorf("gb28181: SDP answer of %d lines", len(lines))
	}
	for _, l := range lines {
		l = strings.TrimSpace(l)
		typ, v, ok := strings.Cut(l, "=")
		if !ok || len(typ) != 1 {
			continue // an empty line, or not an SDP one: tolerated
		}
		switch typ {
		case "y":
			n, err := parseSSRC(v)
			if err != nil {
				return a, err
			}
			a.ssrc, a.hasSSRC = n, true
		case "m":
			f := strings.Fields(v)
			if len(f) >= 3 && f[0] == "video" {
				a.proto = f[2]
			}
		}
	}
	return a, nil
}

// formatSSRC writes an SSRC as GB28181's y= does: ten decimal digits.
func formatSSRC(ssrc uint32) string { return fmt.Sprintf("%010d", ssrc) }

// parseSSRC reads a y= value (decimal, as GB28181 says; up to ten digits).
func parseSSRC(v string) (uint32, error) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 10 {
		return 0, fmt.Errorf("gb28181: bad SSRC %q", v)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("gb28181: bad SSRC %q", v)
	}
	return uint32(n), nil
}
