package streamurl

import (
	"fmt"
	"strings"
)

// DiscoverHTTP builds the request of an HTTP-FLV/TS/AAC/MP3 player (spec
// §4.2) from the Host header, the URL path as sent (escaped, e.g.
// URL.EscapedPath()) and the raw query. The vhost is ?vhost=, else ?domain=,
// else the Host header's host; the app is the path's directory and the
// stream its base name without extension: "/live/livestream.flv" is app
// "live", stream "livestream". Like SRS, the request carries the tcUrl
// "rtmp://<vhost>/<app>", which hooks report for HTTP players too. Port is
// the Host header's, else 80: set it for HTTPS listeners.
func DiscoverHTTP(host, path, rawQuery string) (*Request, error) {
	host, path, rawQuery = removeUnsafe(host, ""), removeUnsafe(path, ""), removeUnsafe(rawQuery, "")
	what := fmt.Sprintf("http host %q path %q", host, path)
	h, port, err := splitHostPort(host)
	if err != nil {
		return nil, fmt.Errorf("streamurl: %s: %w", what, err)
	}
	if port == 0 {
		port = DefaultHTTPPort
	}
	r := &Request{Schema: "http", Host: h, Port: port}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i] // callers should pass the path alone; be forgiving
	}
	var stream string
	r.App, stream = splitAppStream(path)
	r.Stream = trimExtension(stream)
	if rawQuery != "" {
		r.Param = "?" + rawQuery
	}
	r.resolveVhost()
	if err := r.finish(what); err != nil {
		return nil, err
	}
	r.TcURL = BuildTcURL("rtmp", "", r.Vhost, r.App, 0)
	return r, nil
}
