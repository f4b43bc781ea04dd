package player

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// defaultAPIPort is the port of SRS's and castd's HTTP API, where WHEP is
// served, when a webrtc:// URL names none.
const defaultAPIPort = "1985"

// whepEndpoint returns the URL a WebRTC player POSTs its offer to:
//
//	webrtc://host[:port]/app/stream[?query]  http://host:port/rtc/v1/whep/?app=app&stream=stream[&query]
//	whep+http(s)://any/url                   http(s)://any/url, as it is
//
// In the webrtc:// form, port is the HTTP API's (default 1985), as for
// SRS's players and srs-bench; ?schema=https asks for HTTPS, and the other
// query parameters (vhost, token, eip...) are passed on.
func whepEndpoint(u *url.URL) (string, error) {
	switch strings.ToLower(u.Scheme) {
	case "whep+http", "whep+https":
		if u.Host == "" {
			return "", fmt.Errorf("%s: no host", u.Redacted())
		}
		w := *u
		w.Scheme = strings.TrimPrefix(strings.ToLower(u.Scheme), "whep+")
		return w.String(), nil
	case "webrtc":
	default:
		return "", fmt.Errorf("%s: not a WebRTC URL", u.Redacted())
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("%s: no host", u.Redacted())
	}
	p := strings.Trim(u.Path, "/")
	slash := strings.LastIndexByte(p, '/')
	if slash <= 0 || slash == len(p)-1 {
		return "", fmt.Errorf("%s: want webrtc://host[:port]/app/stream", u.Redacted())
	}
	q := u.Query()
	scheme := "http"
	if s := q.Get("schema"); s != "" {
		if s != "http" && s != "https" {
			return "", fmt.Errorf("%s: schema %q is neither http nor https", u.Redacted(), s)
		}
		scheme = s
	}
	q.Del("schema")
	q.Set("app", p[:slash])
	q.Set("stream", p[slash+1:])
	port := u.Port()
	if port == "" {
		port = defaultAPIPort
	}
	w := url.URL{Scheme: scheme, Host: net.JoinHostPort(u.Hostname(), port), Path: "/rtc/v1/whep/", RawQuery: q.Encode()}
	return w.String(), nil
}
