package streamurl

import (
	"fmt"
	"strings"
)

// DiscoverRTMP builds the request of an RTMP client from the tcUrl of its
// connect command and the stream name of its play or publish command
// (query included), following spec §4.1 steps 1-8:
//
//   - "...vhost..." in the tcUrl is the legacy FMLE spelling of "?vhost=";
//   - a query before the last '/' (FMLE's "app?k=v/stream", or "#k=v") moves
//     behind the stream;
//   - every "/_definst_" is removed;
//   - the last path element is the stream and the rest the app, which may
//     have several levels; an empty app is DefaultApp;
//   - the vhost is ?vhost=, else ?domain=, else the host; a query vhost of
//     DefaultVhost is ignored, and dropped from Param when it is all there is;
//   - an empty stream name is guessed from the app ("live/stream") or the
//     param ("?k=v/stream");
//   - whitespace and control characters are removed everywhere, '/' from host
//     and vhost, and leading and trailing '/' from app and stream.
//
// An empty stream name after guessing is ErrEmptyStream. Unlike SRS, the
// vhost is taken from the param after guessing, so "?vhost=v/stream" with an
// empty stream name gives vhost "v", not "vstream".
func DiscoverRTMP(tcURL, stream string) (*Request, error) {
	tcURL, stream = removeUnsafe(tcURL, ""), removeUnsafe(stream, "")
	full := strings.ReplaceAll(tcURL, "...vhost...", "?vhost=")
	switch {
	case stream == "":
		full += "/"
	case stream[0] == '/':
		full += stream
	default:
		full += "/" + stream
	}
	full = moveFMLEQuery(full)
	full = strings.ReplaceAll(full, "/_definst_", "")

	u, err := parseURL(full)
	if err != nil {
		return nil, fmt.Errorf("streamurl: tcUrl %q stream %q: %w", tcURL, stream, err)
	}
	r := &Request{Schema: u.schema, Host: u.host, Port: u.port, TcURL: tcURL}
	r.App, r.Stream = splitAppStream(u.path)
	if u.query != "" {
		r.Param = "?" + u.query
	}
	if u.fragment != "" {
		r.Param += "#" + u.fragment
	}
	if r.Stream == "" {
		r.guessStream()
	}
	r.resolveVhost()
	return r, r.finish(fmt.Sprintf("tcUrl %q stream %q", tcURL, stream))
}

// moveFMLEQuery turns "rtmp://ip/app?k=v/stream" (or "#k=v") into
// "rtmp://ip/app/stream?k=v".
func moveFMLEQuery(full string) string {
	q := strings.IndexAny(full, "?#")
	slash := strings.LastIndexByte(full, '/')
	if q < 0 || slash < q {
		return full
	}
	return full[:q] + full[slash:] + full[q:slash]
}

// splitAppStream splits a URL path at its last '/': the app is what comes
// before (without the leading '/') and the stream what comes after.
func splitAppStream(path string) (app, stream string) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "", path
	}
	return strings.TrimPrefix(path[:i], "/"), path[i+1:]
}

// guessStream is SRS's srs_guess_stream_by_app, for clients that put the
// stream in the tcUrl and send an empty name: "live/stream" in the app, or
// "?k=v/stream" in the param.
func (r *Request) guessStream() {
	if app, stream, ok := strings.Cut(r.App, "/"); ok {
		r.App, r.Stream = app, stream
		if i := strings.IndexByte(r.Stream, '?'); i >= 0 {
			r.Param, r.Stream = r.Stream[i:], r.Stream[:i]
		}
		return
	}
	if param, stream, ok := strings.Cut(r.Param, "/"); ok {
		r.Param, r.Stream = param, stream
	}
}

// finish strips the parts and applies the rules every request must meet.
func (r *Request) finish(what string) error {
	r.strip()
	if r.App == "" {
		r.App = DefaultApp
	}
	if r.Vhost == "" {
		return fmt.Errorf("streamurl: %s: no vhost and no host: %w", what, ErrBadURL)
	}
	if r.Stream == "" {
		return fmt.Errorf("streamurl: %s: %w", what, ErrEmptyStream)
	}
	return nil
}
