// Package rtcpub has the parts of castbench's WebRTC publishers: the
// publish URL forms (WHIP and SRS's JSON API), the signalling, the pion
// setup, the media (the FLV file's H.264 frames in Annex B, AAC transcoded
// once to Opus) and the RTP sender. Package bench runs them with the same
// pacing and latency stamps as its RTMP publishers.
package rtcpub

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// defaultAPIPort is the HTTP API's port (SRS's and castd's) when a
// webrtc:// URL names none.
const defaultAPIPort = "1985"

// Signalling is how a publisher sends its offer.
type Signalling int

const (
	// WHIP POSTs the SDP offer and gets the answer in a 201, with a
	// Location to DELETE at the end.
	WHIP Signalling = iota
	// JSONAPI is SRS's POST /rtc/v1/publish/ with a JSON body holding the
	// offer and the stream URL; the answer is in a JSON body.
	JSONAPI
)

// Endpoint is where and how a WebRTC publisher negotiates.
type Endpoint struct {
	Signalling Signalling
	// URL is what the offer is POSTed to.
	URL string
	// StreamURL is the webrtc:// URL sent in the JSON body (JSONAPI only).
	StreamURL string
}

// IsURL tells whether raw is a URL castbench publishes to over WebRTC:
// webrtc://, http(s):// (WHIP) or whip+http(s)://.
func IsURL(raw string) bool {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "webrtc", "http", "https", "whip+http", "whip+https":
		return true
	}
	return false
}

// ParseURL reads a WebRTC publish URL:
//
//	webrtc://host[:port]/app/stream[?query]  SRS's JSON API: POST http://host:port/rtc/v1/publish/
//	                                         with streamurl the URL as given
//	http(s)://host[:port]/path[?query]       WHIP at that URL, e.g. castd's and SRS's
//	                                         http://host:1985/rtc/v1/whip/?app=live&stream=s
//	whip+http(s)://host[:port]/path[?query]  the same, for symmetry with castbench's whep+ players
//
// In the webrtc:// form, port is the HTTP API's (default 1985), as for SRS's
// players and srs-bench; ?schema=https asks for HTTPS.
func ParseURL(raw string) (Endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Endpoint{}, fmt.Errorf("rtcpub: %w", err)
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "http", "https", "whip+http", "whip+https":
		if u.Host == "" {
			return Endpoint{}, fmt.Errorf("rtcpub: %s: no host", u.Redacted())
		}
		w := *u
		w.Scheme = strings.TrimPrefix(scheme, "whip+")
		return Endpoint{Signalling: WHIP, URL: w.String()}, nil
	case "webrtc":
	default:
		return Endpoint{}, fmt.Errorf("rtcpub: %s: not a WebRTC publish URL (webrtc://, http(s):// for WHIP)", u.Redacted())
	}
	if u.Hostname() == "" {
		return Endpoint{}, fmt.Errorf("rtcpub: %s: no host", u.Redacted())
	}
	p := strings.Trim(u.Path, "/")
	slash := strings.LastIndexByte(p, '/')
	if slash <= 0 || slash == len(p)-1 {
		return Endpoint{}, fmt.Errorf("rtcpub: %s: want webrtc://host[:port]/app/stream", u.Redacted())
	}
	scheme := "http"
	if s := u.Query().Get("schema"); s != "" {
		if s != "http" && s != "https" {
			return Endpoint{}, fmt.Errorf("rtcpub: %s: schema %q is neither http nor https", u.Redacted(), s)
		}
		scheme = s
	}
	port := u.Port()
	if port == "" {
		port = defaultAPIPort
	}
	api := url.URL{Scheme: scheme, Host: net.JoinHostPort(u.Hostname(), port), Path: "/rtc/v1/publish/"}
	return Endpoint{Signalling: JSONAPI, URL: api.String(), StreamURL: raw}, nil
}
