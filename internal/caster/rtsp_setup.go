package caster

import (
	"net"
	"net/url"
	"strings"

	"github.com/castd/castd/internal/ids"
)

// setup sets up the track the URL names and returns the Transport reply.
func (rc *rtspConn) setup(req *rtspRequest) (string, error) {
	if rc.tracks == nil {
		return "", rtspErrorf(455, "SETUP before ANNOUNCE")
	}
	if rc.rec != nil {
		return "", rtspErrorf(455, "SETUP while recording")
	}
	t := rc.trackFor(req.url)
	if t == nil {
		return "", rtspErrorf(404, "no announced track at %q", clip(req.url))
	}
	if t.setup {
		return "", rtspErrorf(455, "track %q is set up already", clip(req.url))
	}
	tr, err := parseRTSPTransport(req.headers.Get("Transport"))
	if err != nil {
		return "", err
	}
	for _, o := range rc.tracks {
		if o.setup && o.transport.tcp != tr.tcp {
			return "", rtspErrorf(461, "tracks over both TCP and UDP")
		}
	}
	var ports [2]int
	if tr.tcp {
		if err := rc.assignChannels(&tr); err != nil {
			return "", err
		}
	} else {
		if rc.c.ports == nil {
			return "", rtspErrorf(461, "RTP over UDP is off (no rtp_port_min/rtp_port_max); use RTP/AVP/TCP")
		}
		ip := net.IPv4zero
		if a, ok := rc.nc.LocalAddr().(*net.TCPAddr); ok {
			ip = a.IP
		}
		pair, err := rc.c.ports.listen(ip)
		if err != nil {
			// 461 rather than 453: ffmpeg then tries TCP by itself.
			return "", rtspErrorf(461, "%v", err)
		}
		t.udp, ports = pair, [2]int{pair.port, pair.port + 1}
	}
	if rc.session == "" {
		rc.session = ids.NewCID()
	}
	t.setup, t.transport = true, tr
	return tr.reply(ports), nil
}

// assignChannels gives a TCP transport the next free pair of channels when
// the client named none, and refuses channels another track has.
func (rc *rtspConn) assignChannels(tr *rtspTransport) error {
	used := func(ch int) bool {
		for _, o := range rc.tracks {
			if o.setup && (o.transport.channels[0] == ch || o.transport.channels[1] == ch) {
				return true
			}
		}
		return false
	}
	if tr.channels[0] < 0 {
		for ch := 0; ch < 255; ch += 2 {
			if !used(ch) && !used(ch+1) {
				tr.channels = [2]int{ch, ch + 1}
				return nil
			}
		}
		return rtspErrorf(453, "no free interleaved channels")
	}
	if used(tr.channels[0]) || used(tr.channels[1]) || tr.channels[0] == tr.channels[1] {
		return rtspErrorf(400, "interleaved channels %d-%d are taken", tr.channels[0], tr.channels[1])
	}
	return nil
}

// trackFor finds the track a SETUP URL names: its control URL, absolute
// or relative to the SDP's or the ANNOUNCE's (RFC 2326 C.1.1). Hosts are
// not compared: a client may write the same server differently. Tracks
// without control attributes are set up in SDP order.
func (rc *rtspConn) trackFor(raw string) *rtspTrack {
	target, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	want := strings.TrimSuffix(target.Path, "/")
	base := rc.announceURL
	if c := rc.sdp.control; c != "" && c != "*" {
		if u, err := url.Parse(c); err == nil && u.IsAbs() {
			base = c
		}
	}
	baseURL, err := url.Parse(base)
	if err != nil {
		return nil
	}
	controls := false
	for _, t := range rc.tracks {
		c := t.media.control
		if c == "" {
			continue
		}
		controls = true
		if trackPath(baseURL, c) == want {
			return t
		}
	}
	if controls {
		return nil
	}
	for _, t := range rc.tracks {
		if !t.setup {
			return t
		}
	}
	return nil
}

// trackPath resolves a control URL against the base, as a path.
func trackPath(base *url.URL, control string) string {
	if control == "*" {
		return strings.TrimSuffix(base.Path, "/")
	}
	u, err := url.Parse(control)
	if err != nil {
		return ""
	}
	if u.IsAbs() {
		return strings.TrimSuffix(u.Path, "/")
	}
	// Relative to the base taken as a directory, as encoders mean it
	// (rtsp://host/live/cam and streamid=0 give /live/cam/streamid=0).
	b := *base
	if !strings.HasSuffix(b.Path, "/") {
		b.Path += "/"
		b.RawPath = ""
	}
	return strings.TrimSuffix(b.ResolveReference(u).Path, "/")
}
