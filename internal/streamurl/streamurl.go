// Package streamurl turns what clients send (an RTMP tcUrl and stream name,
// an HTTP host, path and query) into the vhost/app/stream triple that names a
// stream, following SRS's rules (spec §4.1, §4.2). It only parses: resolving
// the vhost against the configuration is the server's job.
package streamurl

import (
	"errors"
	"net/url"
	"strings"
)

// SRS's names for "no vhost given" and "no app given", inherited from FMS.
const (
	DefaultVhost = "__defaultVhost__"
	DefaultApp   = "__defaultApp__"
)

// Default ports by schema.
const (
	DefaultRTMPPort  = 1935
	DefaultHTTPPort  = 80
	DefaultHTTPSPort = 443
)

var (
	// ErrEmptyStream is returned when no stream name can be found, not even
	// by guessing; SRS rejects such clients because HLS and DVR need a name (#834).
	ErrEmptyStream = errors.New("streamurl: empty stream name")
	// ErrBadURL is wrapped by errors about URLs that cannot be parsed.
	ErrBadURL = errors.New("streamurl: malformed URL")
)

// Request is a client's stream request as discovered from its URL.
//
// Vhost is the vhost the client asked for (query vhost/domain, else the host):
// the server resolves it against the configuration and should store the
// resolved name (DefaultVhost when it fell back) before calling StreamURL.
type Request struct {
	Schema string
	Host   string // without brackets for IPv6
	Port   int

	Vhost  string
	App    string
	Stream string // as the client named it; StreamURL drops any extension
	Param  string // "?query[#fragment]" with its leading '?', "" when none

	TcURL   string
	PageURL string
	SwfURL  string
}

// StreamURL is the stream key SRS uses for stats, hooks and lookups:
// "/app/stream", or "vhost/app/stream" when the vhost is not the default
// one, with any extension dropped from the stream name.
func (r *Request) StreamURL() string {
	var b strings.Builder
	if r.Vhost != DefaultVhost {
		b.WriteString(r.Vhost)
	}
	b.WriteByte('/')
	b.WriteString(r.App)
	b.WriteByte('/')
	b.WriteString(trimExtension(r.Stream))
	return b.String()
}

// Query parses Param (any fragment ignored). Pairs may be separated by '&',
// ';' or ',' as SRS accepts; values are unescaped where they are valid
// escapes and kept as sent otherwise.
func (r *Request) Query() url.Values {
	values := url.Values{}
	forEachQueryPair(r.Param, func(k, v string) {
		values.Add(unescapeOrRaw(k), unescapeOrRaw(v))
	})
	return values
}

func unescapeOrRaw(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// forEachQueryPair calls fn for each key=value pair of a "?query#fragment"
// string, raw (not unescaped), skipping empty pairs.
func forEachQueryPair(param string, fn func(k, v string)) {
	q := strings.TrimPrefix(param, "?")
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	for _, pair := range strings.FieldsFunc(q, func(c rune) bool { return c == '&' || c == ';' || c == ',' }) {
		k, v, _ := strings.Cut(pair, "=")
		fn(k, v)
	}
}

// queryValue returns the raw value of the first pair named key.
func queryValue(param, key string) (value string, found bool) {
	forEachQueryPair(param, func(k, v string) {
		if !found && k == key {
			value, found = v, true
		}
	})
	return value, found
}

// vhostFromQuery is SRS's rule: ?vhost=, else ?domain=.
func vhostFromQuery(param string) string {
	if v, _ := queryValue(param, "vhost"); v != "" {
		return v
	}
	v, _ := queryValue(param, "domain")
	return v
}

// resolveVhost picks the requested vhost and drops a param that only names
// the default vhost, as SRS does.
func (r *Request) resolveVhost() {
	inQuery := vhostFromQuery(r.Param)
	r.Vhost = r.Host
	if inQuery != "" && inQuery != DefaultVhost {
		r.Vhost = inQuery
	}
	if inQuery == DefaultVhost && !strings.ContainsAny(strings.TrimPrefix(r.Param, "?"), "&;,") {
		r.Param = ""
	}
}

// strip applies SRS's SrsRequest::strip: no whitespace anywhere, no '/' in
// host and vhost, no leading or trailing '/' on app and stream. Control
// characters go too, so no part can forge a log line or header.
func (r *Request) strip() {
	r.Schema = removeUnsafe(r.Schema, "")
	r.Host = removeUnsafe(r.Host, "/")
	r.Vhost = removeUnsafe(r.Vhost, "/")
	r.App = strings.Trim(removeUnsafe(r.App, ""), "/")
	r.Stream = strings.Trim(removeUnsafe(r.Stream, ""), "/")
	r.Param = removeUnsafe(r.Param, "")
	r.TcURL = removeUnsafe(r.TcURL, "")
	r.PageURL = removeUnsafe(r.PageURL, "")
	r.SwfURL = removeUnsafe(r.SwfURL, "")
}

// removeUnsafe drops spaces, ASCII control characters and the extra bytes.
func removeUnsafe(s, extra string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if isUnsafe(s[i], extra) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if !isUnsafe(s[i], extra) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isUnsafe(c byte, extra string) bool {
	return c <= ' ' || c == 0x7f || strings.IndexByte(extra, c) >= 0
}

// trimExtension drops what follows the last '.', like SRS's srs_path_filename.
func trimExtension(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return name
}
