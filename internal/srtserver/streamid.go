package srtserver

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Mode is what an SRT caller asks to do with a stream.
type Mode uint8

const (
	ModePlay    Mode = iota // m=request, and every short-form stream id
	ModePublish             // m=publish
)

func (m Mode) String() string {
	if m == ModePublish {
		return "publish"
	}
	return "play"
}

// DefaultStreamID is what SRS assumes for a caller that sends no stream id.
const DefaultStreamID = "#!::r=live/livestream,m=publish"

// streamIDPrefix starts the full, key=value form of a stream id (the SRT
// Access Control convention).
const streamIDPrefix = "#!::"

// StreamID is a caller's stream id resolved to SRS's request (spec §4.5).
type StreamID struct {
	Mode   Mode
	Vhost  string // the vhost the caller named (h=); "" when none
	App    string
	Stream string
	Param  string // "?k=v&..." with its leading '?'; "" when none
}

var (
	errNoResource = errors.New("srt: stream id names no stream (r= or h=app/stream)")
	errEmptyName  = errors.New("srt: stream id has an empty app or stream name")
)

// ParseStreamID reads a stream id as SRS does:
//
//   - "" is DefaultStreamID: publish live/livestream.
//   - "#!::k=v,k=v..." is the full form: r= the app/stream, m= publish or
//     request (the default; anything else is an error), h= the vhost, or in
//     the older style h=app/stream or h=vhost/app/stream. A '?' counts as a
//     ',' (h=live/livestream?secret=xxx,m=publish), and '&' and ';' separate
//     keys too. Other keys become the param, joined with '&' in key order,
//     after vhost=<h> when h names a vhost, as SRS builds it.
//   - Anything else is the short form, always played: app/stream[?query],
//     or <defaultApp>/<stream> when it has no '/'.
//
// The app is what comes before the first '/', the stream the rest up to a
// '?', the param what follows it.
func ParseStreamID(sid, defaultApp string) (StreamID, error) {
	if sid == "" {
		sid = DefaultStreamID
	}
	var id StreamID
	path := sid
	if body, full := strings.CutPrefix(sid, streamIDPrefix); full {
		var err error
		if path, err = id.parseFull(body); err != nil {
			return StreamID{}, fmt.Errorf("%w (stream id %q)", err, sid)
		}
	} else if !strings.Contains(sid, "/") {
		path = defaultApp + "/" + sid
	}
	app, stream, found := strings.Cut(path, "/")
	if !found {
		app, stream = defaultApp, path
	}
	id.App = app
	if name, query, hasQuery := strings.Cut(stream, "?"); hasQuery {
		id.Stream, id.Param = name, "?"+query
	} else {
		id.Stream = stream
	}
	if id.App == "" || id.Stream == "" {
		return StreamID{}, fmt.Errorf("%w (stream id %q)", errEmptyName, sid)
	}
	return id, nil
}

// parseFull reads the key=value list after "#!::" into the mode and vhost
// and returns the path: app/stream, with the param as a query.
func (id *StreamID) parseFull(body string) (string, error) {
	keys := map[string]string{}
	for _, item := range strings.FieldsFunc(strings.ReplaceAll(body, "?", ","), isStreamIDSeparator) {
		k, v, _ := strings.Cut(item, "=")
		if k != "" {
			keys[k] = v // the last one wins, as in SRS's map
		}
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	slices.Sort(names) // SRS walks a std::map: params come out in key order
	var path string
	var params []string
	for _, k := range names {
		v := keys[k]
		switch k {
		case "h":
			first, last := strings.IndexByte(v, '/'), strings.LastIndexByte(v, '/')
			switch {
			case first < 0: // h=vhost
				id.Vhost = v
				params = append(params, "vhost="+v)
			case first != last: // h=vhost/app/stream
				id.Vhost, path = v[:first], v[first+1:]
				params = append(params, "vhost="+id.Vhost)
			default: // h=app/stream
				path = v
			}
		case "r":
			path = v
		case "m":
			switch strings.ToLower(v) {
			case "publish":
				id.Mode = ModePublish
			case "request":
				id.Mode = ModePlay
			default:
				return "", fmt.Errorf("srt: unknown stream id mode m=%q, want publish or request", v)
			}
		default:
			params = append(params, k+"="+v)
		}
	}
	if path == "" {
		return "", errNoResource
	}
	if len(params) > 0 {
		path += "?" + strings.Join(params, "&")
	}
	return path, nil
}

func isStreamIDSeparator(r rune) bool { return r == ',' || r == '&' || r == ';' }
