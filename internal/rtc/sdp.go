package rtc

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/castd/castd/internal/av"
)

// maxSDPBytes bounds an offer: real ones are a few KB, even with many
// codecs and candidates.
const maxSDPBytes = 64 << 10

// offer is what castd needs from a client's SDP offer.
type offer struct {
	remoteUfrag string
	hasAudio    bool
	hasVideo    bool
	// videoCodecs are the video codecs castd speaks that every video
	// section offers, in castd's order of preference.
	videoCodecs []av.Codec
	video       av.Codec // the one signalling chose for the answer
}

// checkOffer applies SRS's checks to an offer (spec §2.5): BUNDLE, audio and
// video sections only, each with rtcp-mux, and a direction that lets the
// client send (publish) or receive (play). Audio sections must offer Opus
// and video ones at least one of H.264, H.265, AV1, VP9 and VP8; which one
// the answer keeps is signalling's choice (?codec=, castd's preference).
func checkOffer(text string, play bool) (offer, error) {
	var o offer
	if len(text) > maxSDPBytes {
		return o, fmt.Errorf("rtc: SDP offer of %d bytes is larger than %d", len(text), maxSDPBytes)
	}
	var s sdp.SessionDescription
	if err := s.UnmarshalString(text); err != nil {
		return o, fmt.Errorf("rtc: parse SDP offer: %w", err)
	}
	if g, _ := s.Attribute("group"); !strings.HasPrefix(g, "BUNDLE") {
		return o, errors.New("rtc: SDP offer without a BUNDLE group; castd needs every track on one transport")
	}
	if len(s.MediaDescriptions) == 0 {
		return o, errors.New("rtc: SDP offer has no media")
	}
	o.remoteUfrag, _ = s.Attribute("ice-ufrag")
	for i, m := range s.MediaDescriptions {
		kind := m.MediaName.Media
		if kind != "audio" && kind != "video" {
			return o, fmt.Errorf("rtc: SDP offer media %d is %q; castd supports audio and video", i, kind)
		}
		if _, ok := m.Attribute("rtcp-mux"); !ok {
			return o, fmt.Errorf("rtc: SDP offer %s media without rtcp-mux", kind)
		}
		if err := checkDirection(m, play); err != nil {
			return o, err
		}
		if u, ok := m.Attribute("ice-ufrag"); ok && o.remoteUfrag == "" {
			o.remoteUfrag = u
		}
		if kind == "audio" {
			if !offersCodec(m, "opus") {
				return o, errors.New("rtc: SDP offer audio media does not offer opus, the only audio codec castd speaks")
			}
			o.hasAudio = true
			continue
		}
		var codecs []av.Codec
		for _, vc := range videoCodecs {
			if offersCodec(m, vc.sdpName) && (!o.hasVideo || slices.Contains(o.videoCodecs, vc.codec)) {
				codecs = append(codecs, vc.codec)
			}
		}
		if len(codecs) == 0 {
			return o, fmt.Errorf("rtc: SDP offer video media offers none of the video codecs castd speaks (%s)", videoCodecNames(allVideoCodecs()))
		}
		o.videoCodecs, o.hasVideo = codecs, true
	}
	if o.remoteUfrag == "" {
		return o, errors.New("rtc: SDP offer has no ice-ufrag")
	}
	return o, nil
}

func checkDirection(m *sdp.MediaDescription, play bool) error {
	for _, a := range m.Attributes {
		switch {
		case a.Key == "inactive":
			return fmt.Errorf("rtc: SDP offer %s media is inactive", m.MediaName.Media)
		case play && a.Key == "sendonly":
			return fmt.Errorf("rtc: a player's SDP offer has sendonly %s media; it must receive", m.MediaName.Media)
		case !play && a.Key == "recvonly":
			return fmt.Errorf("rtc: a publisher's SDP offer has recvonly %s media; it must send", m.MediaName.Media)
		}
	}
	return nil
}

// offersCodec reports whether a media section has an rtpmap for codec.
func offersCodec(m *sdp.MediaDescription, codec string) bool {
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		_, enc, ok := strings.Cut(a.Value, " ")
		name, _, _ := strings.Cut(enc, "/")
		if ok && strings.EqualFold(name, codec) {
			return true
		}
	}
	return false
}

// candidate is one address castd advertises for a session's media.
type candidate struct {
	host string // an IP, or a name when keep_api_domain asks for it
	port int
	tcp  bool
}

func (c candidate) line(index int) string {
	// Host candidates: type preference 126, local preference falling with
	// the index so the first is preferred, component 1 (RFC 8445 5.1.2.1).
	prio := 126<<24 | (65535-index)<<8 | 255
	if c.tcp {
		prio = 90<<24 | (65535-index)<<8 | 255 // TCP after every UDP candidate
		return fmt.Sprintf("a=candidate:%d 1 tcp %d %s %d typ host tcptype passive", index, prio, c.host, c.port)
	}
	return fmt.Sprintf("a=candidate:%d 1 udp %d %s %d typ host generation 0", index, prio, c.host, c.port)
}

// withCandidates replaces the candidates of an SDP answer with castd's
// own: the agent's gathered ones name the interfaces it listens on, not
// the addresses clients can reach (rtc_server.candidate, eip, the API host).
// Every media section gets them, followed by end-of-candidates.
func withCandidates(answer string, cands []candidate) string {
	lines := strings.Split(strings.TrimRight(answer, "\r\n"), "\r\n")
	var mine []string
	for i, c := range cands {
		mine = append(mine, c.line(i))
	}
	mine = append(mine, "a=end-of-candidates")
	out := make([]string, 0, len(lines)+4*len(mine))
	inMedia := false
	for _, l := range lines {
		if strings.HasPrefix(l, "a=candidate:") || l == "a=end-of-candidates" {
			continue
		}
		if strings.HasPrefix(l, "m=") {
			if inMedia {
				out = append(out, mine...)
			}
			inMedia = true
		}
		out = append(out, l)
	}
	if inMedia {
		out = append(out, mine...)
	}
	return strings.Join(out, "\r\n") + "\r\n"
}

// parseEIP reads an eip or candidate query value: an IP or host, with an
// optional port ("1.2.3.4", "1.2.3.4:8000", "[::1]:8000", "example.com").
func parseEIP(s string) (host string, port int, err error) {
	if s == "" {
		return "", 0, errors.New("rtc: empty eip")
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Addr().Zone() != "" || ap.Port() == 0 {
			return "", 0, fmt.Errorf("rtc: eip %q: want an address a client can reach", s)
		}
		return ap.Addr().Unmap().String(), int(ap.Port()), nil
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		if a.Zone() != "" {
			return "", 0, fmt.Errorf("rtc: eip %q: a scoped address cannot be a candidate", s)
		}
		return a.Unmap().String(), 0, nil
	}
	h, p, found := strings.Cut(s, ":")
	if !found {
		return s, 0, validHostname(s)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 {
		return "", 0, fmt.Errorf("rtc: eip %q has a bad port", s)
	}
	return h, n, validHostname(h)
}

// validHostname accepts what may stand in an SDP candidate's address.
func validHostname(s string) error {
	if s == "" || len(s) > 253 {
		return fmt.Errorf("rtc: bad candidate host %q", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return fmt.Errorf("rtc: bad candidate host %q", s)
		}
	}
	return nil
}
