package streamurl

import (
	"fmt"
	"strconv"
	"strings"
)

// parsedURL holds the parts of schema://[user@]host[:port][/path][?query][#fragment].
// Nothing is unescaped: SRS compares and reports names as clients sent them.
type parsedURL struct {
	schema, host string
	port         int
	path         string
	query        string
	fragment     string
}

// parseURL splits an absolute URL. It is deliberately lax about characters
// (strip removes the unsafe ones later) and strict about structure.
func parseURL(s string) (parsedURL, error) {
	var u parsedURL
	schema, rest, ok := strings.Cut(s, "://")
	if !ok || !validSchema(schema) {
		return u, fmt.Errorf("%w: %q has no schema://", ErrBadURL, s)
	}
	u.schema = strings.ToLower(schema)
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, rest = rest[:i], rest[i:]
	} else {
		rest = ""
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest, u.fragment = rest[:i], rest[i+1:]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, u.query = rest[:i], rest[i+1:]
	}
	u.path = rest
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:] // user info is not ours to keep
	}
	host, port, err := splitHostPort(authority)
	if err != nil {
		return u, err
	}
	if host == "" {
		return u, fmt.Errorf("%w: %q has no host", ErrBadURL, s)
	}
	u.host, u.port = host, port
	if port == 0 {
		u.port = defaultPort(u.schema)
	}
	return u, nil
}

func validSchema(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // lower case for letters
		isLetter := c >= 'a' && c <= 'z'
		if !isLetter && (i == 0 || !(s[i] >= '0' && s[i] <= '9' || s[i] == '+' || s[i] == '-' || s[i] == '.')) {
			return false
		}
	}
	return true
}

func defaultPort(schema string) int {
	switch schema {
	case "rtmp", "rtmpe":
		return DefaultRTMPPort
	case "rtmps", "https":
		return DefaultHTTPSPort
	}
	return DefaultHTTPPort
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port"; port 0
// means none was given. A bare IPv6 address is ambiguous and rejected.
func splitHostPort(hostport string) (host string, port int, err error) {
	portText := ""
	switch {
	case strings.HasPrefix(hostport, "["):
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("%w: unterminated IPv6 host %q", ErrBadURL, hostport)
		}
		host = hostport[1:end]
		after := hostport[end+1:]
		if after != "" {
			if after[0] != ':' {
				return "", 0, fmt.Errorf("%w: junk after IPv6 host in %q", ErrBadURL, hostport)
			}
			portText = after[1:]
		}
	case strings.Count(hostport, ":") > 1:
		return "", 0, fmt.Errorf("%w: IPv6 host %q needs brackets", ErrBadURL, hostport)
	default:
		host, portText, _ = strings.Cut(hostport, ":")
	}
	if portText == "" {
		return host, 0, nil
	}
	port, err = strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("%w: bad port %q", ErrBadURL, portText)
	}
	return host, port, nil
}
