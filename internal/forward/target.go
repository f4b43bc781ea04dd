// Package forward pushes published streams to other RTMP servers, as SRS's
// vhost forward{} does: one forwarder per destination reads the stream
// through its own hub viewer and publishes it with castd's RTMP client,
// reconnecting every 3 s while the stream is published. A forward backend
// (an HTTP URL) may add destinations per publish.
package forward

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/streamurl"
)

// Source is the published stream a forwarder pushes, as its publisher
// named it: vhost is the resolved vhost, tcURL and param the publisher's.
type Source struct {
	Vhost, App, Stream string
	Param              string // "?k=v" with its leading '?', "" when none
	TcURL              string
}

// requestHost is the host the publisher connected to; SRS names the vhost
// after it upstream when the vhost is the default one and the host is a
// domain, not an IP.
func (s Source) requestHost() string {
	u, err := url.Parse(s.TcURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// DestinationURL is the URL a forward destination ("host", "host:port" or
// "[v6]:port") gets for src: rtmp://host:port/app/stream?param[&vhost=V],
// built as SRS builds every outbound URL (§4.1).
//
// A destination may also be a whole RTMP URL with the variables [vhost],
// [app], [stream] and [param] (the publisher's query without its '?'),
// e.g. rtmp://cdn.example/push/[stream]_backup?[param]: SRS's wished-for
// "forward with vhost and variables" (#1342).
func DestinationURL(dest string, src Source) (string, error) {
	if strings.HasPrefix(dest, "rtmp://") {
		u := strings.NewReplacer("[vhost]", src.Vhost, "[app]", src.App, "[stream]", src.Stream,
			"[param]", strings.TrimPrefix(src.Param, "?")).Replace(dest)
		u = strings.TrimRight(u, "?&") // an empty [param] at the end
		if _, _, err := rtmp.SplitStreamURL(u); err != nil {
			return "", fmt.Errorf("forward: destination %q: %w", dest, err)
		}
		return u, nil
	}
	host, port, err := splitDestination(dest)
	if err != nil {
		return "", err
	}
	r := streamurl.Request{Host: src.requestHost(), Vhost: src.Vhost, App: src.App, Stream: src.Stream, Param: src.Param}
	return r.RTMPURL(host, port), nil
}

// splitDestination parses a forward destination; the port defaults to 1935.
func splitDestination(dest string) (host string, port int, err error) {
	dest = strings.TrimSpace(dest)
	if dest == "" {
		return "", 0, fmt.Errorf("forward: empty destination")
	}
	h, p, serr := net.SplitHostPort(dest)
	if serr != nil {
		// No port: a bare host, or an IPv6 address (bracketed or not).
		h, p = strings.TrimSuffix(strings.TrimPrefix(dest, "["), "]"), rtmp.DefaultPort
		if strings.Contains(h, ":") && net.ParseIP(h) == nil {
			return "", 0, fmt.Errorf("forward: destination %q: want host[:port]", dest)
		}
	}
	if h == "" || strings.ContainsAny(h, "/?#@ ") {
		return "", 0, fmt.Errorf("forward: destination %q: want host[:port]", dest)
	}
	n, perr := strconv.Atoi(p)
	if perr != nil || n <= 0 || n > 65535 {
		return "", 0, fmt.Errorf("forward: destination %q: bad port %q", dest, p)
	}
	return h, n, nil
}

// checkBackendURL accepts a URL the forward backend returned when it is a
// full RTMP stream URL this client can publish to.
func checkBackendURL(raw string) error {
	if _, _, err := rtmp.SplitStreamURL(raw); err != nil {
		return fmt.Errorf("forward: backend url %q: %w", raw, err)
	}
	return nil
}
