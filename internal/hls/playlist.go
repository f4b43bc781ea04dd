package hls

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Entry is one media segment of a playlist.
type Entry struct {
	Seq      int64
	URI      string
	Duration time.Duration // whole milliseconds, as the playlist prints them
	// Discontinuity puts #EXT-X-DISCONTINUITY before the segment: the
	// stream was republished or its codec configuration changed.
	Discontinuity bool
	Key           *KeyRef // nil when the segment is not encrypted
}

// KeyRef is an AES-128 key as the playlist announces it.
type KeyRef struct {
	URI string
	IV  [16]byte
}

// MediaPlaylist is a live media playlist.
type MediaPlaylist struct {
	Version        int
	TargetDuration int // seconds
	MediaSequence  int64
	// DiscontinuitySequence counts the discontinuities that slid out of
	// the window (EXT-X-DISCONTINUITY-SEQUENCE), written only when not 0.
	DiscontinuitySequence int64
	Segments              []Entry
	EndList               bool
}

// playlistVersion is what castd writes: EXT-X-KEY with an IV needs 2,
// decimal EXTINF needs 3.
const playlistVersion = 3

// targetDuration is SRS's EXT-X-TARGETDURATION: the longest segment or
// fragment×td_ratio, whichever is larger, rounded up to whole seconds.
func targetDuration(segments []Entry, floor time.Duration) int {
	longest := floor
	for _, s := range segments {
		longest = max(longest, s.Duration)
	}
	return int(math.Ceil(longest.Seconds()))
}

// Append writes the playlist in SRS's form: each segment as
// "#EXTINF:<seconds with 3 decimals>, no desc" and its URI, a
// discontinuity before segments that start one, and the key whenever it
// changes (and before the first segment, so a window that slid past a key
// rotation still says how its first segments are encrypted).
func (p *MediaPlaylist) Append(dst []byte) []byte {
	dst = append(dst, "#EXTM3U\n#EXT-X-VERSION:"...)
	dst = strconv.AppendInt(dst, int64(max(p.Version, playlistVersion)), 10)
	dst = append(dst, "\n#EXT-X-MEDIA-SEQUENCE:"...)
	dst = strconv.AppendInt(dst, p.MediaSequence, 10)
	dst = append(dst, '\n')
	if p.DiscontinuitySequence > 0 {
		dst = append(dst, "#EXT-X-DISCONTINUITY-SEQUENCE:"...)
		dst = strconv.AppendInt(dst, p.DiscontinuitySequence, 10)
		dst = append(dst, '\n')
	}
	dst = append(dst, "#EXT-X-TARGETDURATION:"...)
	dst = strconv.AppendInt(dst, int64(p.TargetDuration), 10)
	dst = append(dst, '\n')
	var last *KeyRef
	for i, s := range p.Segments {
		if s.Discontinuity {
			dst = append(dst, "#EXT-X-DISCONTINUITY\n"...)
		}
		if i == 0 || !sameKey(last, s.Key) {
			dst = appendKey(dst, s.Key, i == 0)
		}
		last = s.Key
		dst = append(dst, "#EXTINF:"...)
		dst = strconv.AppendFloat(dst, float64(s.Duration.Milliseconds())/1000, 'f', 3, 64)
		dst = append(dst, ", no desc\n"...)
		dst = append(dst, s.URI...)
		dst = append(dst, '\n')
	}
	if p.EndList {
		dst = append(dst, "#EXT-X-ENDLIST\n"...)
	}
	return dst
}

func sameKey(a, b *KeyRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.URI == b.URI && a.IV == b.IV
}

func appendKey(dst []byte, k *KeyRef, first bool) []byte {
	if k == nil {
		if first {
			return dst // unencrypted is the default
		}
		return append(dst, "#EXT-X-KEY:METHOD=NONE\n"...)
	}
	dst = append(dst, `#EXT-X-KEY:METHOD=AES-128,URI="`...)
	dst = append(dst, k.URI...)
	dst = append(dst, `",IV=0x`...)
	dst = hex.AppendEncode(dst, k.IV[:])
	return append(dst, '\n')
}

// MasterPlaylist is SRS's one-entry playlist that sends a new hls_ctx
// session to its media playlist.
func MasterPlaylist(uri string) []byte {
	return []byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\n" + uri + "\n")
}

// Limits on what ParseMediaPlaylist accepts.
const (
	MaxPlaylistSize     = 4 << 20
	maxPlaylistSegments = 100000
)

// ErrBadPlaylist is wrapped by every ParseMediaPlaylist error.
var ErrBadPlaylist = errors.New("hls: bad playlist")

// ParseMediaPlaylist reads a media playlist: the tags castd writes and
// players rely on (version, sequences, target duration, segments with
// their durations, discontinuities and AES-128 keys). Other tags are
// skipped. It is for tests and tools; castd itself never parses playlists.
func ParseMediaPlaylist(b []byte) (*MediaPlaylist, error) {
	if len(b) > MaxPlaylistSize {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrBadPlaylist, len(b), MaxPlaylistSize)
	}
	p := &MediaPlaylist{}
	var (
		next    Entry
		pending bool // an EXTINF waits for its URI
		key     *KeyRef
		seq     int64
	)
	for n, line := range strings.Split(string(bytes.TrimRight(b, "\r\n")), "\n") {
		line = strings.TrimRight(line, "\r")
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%w: line %d %q: %s", ErrBadPlaylist, n+1, line, fmt.Sprintf(format, args...))
		}
		if n == 0 {
			if line != "#EXTM3U" {
				return nil, fail("the first line must be #EXTM3U")
			}
			continue
		}
		tag, value, _ := strings.Cut(line, ":")
		var err error
		switch {
		case line == "":
		case tag == "#EXT-X-VERSION":
			p.Version, err = strconv.Atoi(value)
		case tag == "#EXT-X-TARGETDURATION":
			p.TargetDuration, err = strconv.Atoi(value)
		case tag == "#EXT-X-MEDIA-SEQUENCE":
			p.MediaSequence, err = strconv.ParseInt(value, 10, 64)
			seq = p.MediaSequence
		case tag == "#EXT-X-DISCONTINUITY-SEQUENCE":
			p.DiscontinuitySequence, err = strconv.ParseInt(value, 10, 64)
		case line == "#EXT-X-DISCONTINUITY":
			next.Discontinuity = true
		case line == "#EXT-X-ENDLIST":
			p.EndList = true
		case tag == "#EXT-X-KEY":
			key, err = parseKey(value)
		case tag == "#EXTINF":
			next.Duration, err = parseExtinf(value)
			pending = true
		case strings.HasPrefix(line, "#"):
		default:
			if !pending {
				return nil, fail("a URI without #EXTINF")
			}
			if len(p.Segments) >= maxPlaylistSegments {
				return nil, fail("more than %d segments", maxPlaylistSegments)
			}
			next.URI, next.Seq, next.Key = line, seq, key
			p.Segments = append(p.Segments, next)
			next, pending = Entry{}, false
			seq++
		}
		if err != nil {
			return nil, fail("%v", err)
		}
	}
	if pending {
		return nil, fmt.Errorf("%w: #EXTINF without a URI at the end", ErrBadPlaylist)
	}
	return p, nil
}

func parseExtinf(v string) (time.Duration, error) {
	secs, _, _ := strings.Cut(v, ",")
	f, err := strconv.ParseFloat(strings.TrimSpace(secs), 64)
	if err != nil || f < 0 || f > 1e6 || math.IsNaN(f) {
		return 0, fmt.Errorf("bad duration %q", secs)
	}
	return time.Duration(math.Round(f*1000)) * time.Millisecond, nil
}

// parseKey reads EXT-X-KEY's attributes; METHOD=NONE is no key.
func parseKey(v string) (*KeyRef, error) {
	attrs, err := parseAttributes(v)
	if err != nil {
		return nil, err
	}
	switch attrs["METHOD"] {
	case "NONE":
		return nil, nil
	case "AES-128":
	default:
		return nil, fmt.Errorf("unsupported key method %q", attrs["METHOD"])
	}
	k := &KeyRef{URI: attrs["URI"]}
	if k.URI == "" {
		return nil, errors.New("AES-128 key without URI")
	}
	if iv, ok := attrs["IV"]; ok {
		h, found := strings.CutPrefix(strings.ToLower(iv), "0x")
		if !found || len(h) != 32 {
			return nil, fmt.Errorf("bad IV %q", iv)
		}
		if _, err := hex.Decode(k.IV[:], []byte(h)); err != nil {
			return nil, fmt.Errorf("bad IV %q: %w", iv, err)
		}
	}
	return k, nil
}

// parseAttributes reads an attribute list: NAME=value pairs separated by
// commas, where quoted values may hold commas. Quotes are removed.
func parseAttributes(s string) (map[string]string, error) {
	out := map[string]string{}
	for s != "" {
		name, rest, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("bad attribute list at %q", s)
		}
		var value string
		if quoted, isQuoted := strings.CutPrefix(rest, `"`); isQuoted {
			end := strings.IndexByte(quoted, '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted value of %s", name)
			}
			value, rest = quoted[:end], quoted[end+1:]
			if rest != "" && rest[0] != ',' {
				return nil, fmt.Errorf("junk after the quoted value of %s", name)
			}
			rest = strings.TrimPrefix(rest, ",")
		} else {
			value, rest, _ = strings.Cut(rest, ",")
		}
		out[strings.TrimSpace(name)] = value
		s = rest
	}
	return out, nil
}
