package caster

import (
	"fmt"
	"strconv"
	"strings"
)

// maxSDPMedia bounds the media sections an ANNOUNCE may describe.
const maxSDPMedia = 8

// sdpMedia is what the caster needs of one media section of an SDP (RFC
// 4566 5.14) describing an RTP stream: its first payload format's rtpmap
// and fmtp, and its control URL (RFC 2326 C.1.1).
type sdpMedia struct {
	kind        string // "video", "audio", ...
	payloadType int
	encoding    string // upper case: H264, H265, MPEG4-GENERIC
	clockRate   int
	channels    int
	fmtp        map[string]string // parameter names in lower case
	control     string
}

// sdpSession is a parsed SDP: the session's control URL and its media.
type sdpSession struct {
	control string
	media   []sdpMedia
}

// parseSDP reads an SDP. Lines are "x=value"; unknown ones are skipped, as
// RFC 4566 5 lets a receiver ignore what it does not understand.
func parseSDP(b []byte) (sdpSession, error) {
	var s sdpSession
	var cur *sdpMedia
	sawVersion := false
	for raw := range strings.SplitSeq(string(b), "\n") {
		line := strings.TrimRight(raw, "\r")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			return s, fmt.Errorf("sdp: bad line %q", clip(line))
		}
		key, value := line[0], line[2:]
		switch key {
		case 'v':
			if value != "0" {
				return s, fmt.Errorf("sdp: version %q, want 0", clip(value))
			}
			sawVersion = true
		case 'm':
			if len(s.media) == maxSDPMedia {
				return s, fmt.Errorf("sdp: more than %d media sections", maxSDPMedia)
			}
			m, err := parseSDPMediaLine(value)
			if err != nil {
				return s, err
			}
			s.media = append(s.media, m)
			cur = &s.media[len(s.media)-1]
		case 'a':
			name, arg, _ := strings.Cut(value, ":")
			if name == "control" {
				if cur == nil {
					s.control = strings.TrimSpace(arg)
				} else {
					cur.control = strings.TrimSpace(arg)
				}
				continue
			}
			if cur == nil {
				continue
			}
			if err := cur.attribute(name, arg); err != nil {
				return s, err
			}
		}
	}
	if !sawVersion {
		return s, fmt.Errorf("sdp: no v=0 line")
	}
	return s, nil
}

// parseSDPMediaLine reads "m=<media> <port> <proto> <fmt> ...".
func parseSDPMediaLine(v string) (sdpMedia, error) {
	f := strings.Fields(v)
	if len(f) < 4 {
		return sdpMedia{}, fmt.Errorf("sdp: bad media line %q", clip(v))
	}
	pt, err := strconv.Atoi(f[3])
	if err != nil || pt < 0 || pt > 127 {
		return sdpMedia{}, fmt.Errorf("sdp: media line %q: payload type %q", clip(v), clip(f[3]))
	}
	m := sdpMedia{kind: f[0], payloadType: pt}
	// Static payload types (RFC 3551 6) need no rtpmap; none of them is a
	// codec the caster takes, but the name makes a clearer log.
	switch pt {
	case 0:
		m.encoding, m.clockRate = "PCMU", 8000
	case 8:
		m.encoding, m.clockRate = "PCMA", 8000
	case 14:
		m.encoding, m.clockRate = "MPA", 90000
	case 26:
		m.encoding, m.clockRate = "JPEG", 90000
	case 33:
		m.encoding, m.clockRate = "MP2T", 90000
	}
	return m, nil
}

// attribute applies an rtpmap or fmtp of the media's payload type.
func (m *sdpMedia) attribute(name, arg string) error {
	ptText, rest, _ := strings.Cut(arg, " ")
	pt, err := strconv.Atoi(ptText)
	if err != nil || pt != m.payloadType || (name != "rtpmap" && name != "fmtp") {
		return nil // another payload type, or another attribute
	}
	switch name {
	case "rtpmap":
		// <encoding name>/<clock rate>[/<channels>]
		parts := strings.Split(strings.TrimSpace(rest), "/")
		if len(parts) < 2 || len(parts) > 3 {
			return fmt.Errorf("sdp: bad rtpmap %q", clip(arg))
		}
		rate, err := strconv.Atoi(parts[1])
		if err != nil || rate <= 0 || rate > 1_000_000 {
			return fmt.Errorf("sdp: rtpmap %q: bad clock rate", clip(arg))
		}
		m.encoding, m.clockRate, m.channels = strings.ToUpper(parts[0]), rate, 0
		if len(parts) == 3 {
			if m.channels, err = strconv.Atoi(parts[2]); err != nil || m.channels <= 0 || m.channels > 255 {
				return fmt.Errorf("sdp: rtpmap %q: bad channel count", clip(arg))
			}
		}
	case "fmtp":
		m.fmtp = map[string]string{}
		for p := range strings.SplitSeq(rest, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if k != "" {
				m.fmtp[strings.ToLower(k)] = strings.TrimSpace(v)
			}
		}
	}
	return nil
}

// clip shortens what an error quotes from hostile input.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
