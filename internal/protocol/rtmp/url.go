package rtmp

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultPort is the RTMP port used when a URL has none.
const DefaultPort = "1935"

// parsedURL is what a client needs from an rtmp:// tcUrl.
type parsedURL struct {
	tcURL string // as given
	addr  string // host:port for dialing, IPv6 in brackets
	app   string // path without the leading slash, with ?query if any
}

// parseTcURL parses rtmp://host[:port]/app[?query]. IPv6 hosts are written in
// brackets: rtmp://[::1]:1935/live.
func parseTcURL(raw string) (*parsedURL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("rtmp: parse url %q: %w", raw, err)
	}
	if u.Scheme != "rtmp" {
		return nil, fmt.Errorf("rtmp: parse url %q: scheme %q, want rtmp", raw, u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("rtmp: parse url %q: no host", raw)
	}
	port := u.Port()
	if port == "" {
		port = DefaultPort
	}
	app := strings.TrimPrefix(u.Path, "/")
	if u.RawQuery != "" {
		app += "?" + u.RawQuery
	}
	return &parsedURL{tcURL: raw, addr: net.JoinHostPort(host, port), app: app}, nil
}

// SplitStreamURL splits a full stream URL into the tcUrl to Dial and the
// stream name to Publish or Play: the stream is the last path element and
// takes the query along, rtmp://h/live/cam?k=v gives rtmp://h/live and
// cam?k=v. Multi-level apps stay in the tcUrl.
func SplitStreamURL(raw string) (tcURL, stream string, err error) {
	base, query, _ := strings.Cut(raw, "?")
	rest, ok := strings.CutPrefix(base, "rtmp://")
	if !ok {
		return "", "", fmt.Errorf("rtmp: split stream url %q: not an rtmp:// url", raw)
	}
	hostEnd := strings.IndexByte(rest, '/')
	i := strings.LastIndexByte(base, '/')
	if hostEnd <= 0 || i <= len("rtmp://")+hostEnd || i == len(base)-1 {
		return "", "", fmt.Errorf("rtmp: split stream url %q: want rtmp://host/app/stream", raw)
	}
	tcURL, stream = base[:i], base[i+1:]
	if query != "" {
		stream += "?" + query
	}
	return tcURL, stream, nil
}
