// Package m3u8 parses HLS playlists (RFC 8216) for castbench's HLS
// players: just what a player needs to follow a live stream (target
// duration, media sequence, segments with their durations, the end list,
// and a master playlist's variants). Unknown tags are skipped.
//
// A player reloads its playlist every few seconds, so Parse reuses the
// Playlist it fills and allocates nothing once that has grown: segment and
// variant URIs alias the parsed bytes.
package m3u8

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// Limits on what Parse accepts.
const (
	// MaxSegments bounds the segments of a media playlist (about a day of
	// 2 s segments, or an hour-long DVR window of 0.2 s parts).
	MaxSegments = 50000
	// MaxVariants bounds the variant streams of a master playlist.
	MaxVariants = 1000
	// MaxDuration bounds EXTINF and EXT-X-TARGETDURATION values.
	MaxDuration = 24 * time.Hour
	// MaxMediaSequence bounds EXT-X-MEDIA-SEQUENCE, so the sequence number
	// of every segment fits in an int64.
	MaxMediaSequence = 1 << 62
)

// ErrBadPlaylist is wrapped by every Parse error.
var ErrBadPlaylist = errors.New("m3u8: bad playlist")

// Playlist is a media or a master playlist.
type Playlist struct {
	// TargetDuration is EXT-X-TARGETDURATION (required in a media
	// playlist). A decimal value is accepted, although RFC 8216 asks for
	// whole seconds.
	TargetDuration time.Duration
	// MediaSequence is the sequence number of the first segment
	// (EXT-X-MEDIA-SEQUENCE, 0 when absent).
	MediaSequence int64
	Segments      []Segment
	// EndList is set by EXT-X-ENDLIST: no segment will be added.
	EndList bool
	// Variants are the URIs of a master playlist's EXT-X-STREAM-INF
	// entries, in order; they alias the parsed bytes.
	Variants [][]byte
}

// Segment is one media segment.
type Segment struct {
	Duration time.Duration // EXTINF
	// URI aliases the parsed bytes: copy it to keep it past the next Parse
	// or a reuse of the buffer.
	URI []byte
	// Discontinuity is set by EXT-X-DISCONTINUITY before the segment.
	Discontinuity bool
	// Encrypted is set when an EXT-X-KEY with a method other than NONE
	// applies to the segment.
	Encrypted bool
}

// IsMaster reports whether the playlist lists variant streams.
func (p *Playlist) IsMaster() bool { return len(p.Variants) > 0 }

// LastSequence is the sequence number of the last segment, or
// MediaSequence-1 when there is none.
func (p *Playlist) LastSequence() int64 { return p.MediaSequence + int64(len(p.Segments)) - 1 }

// Parse reads the playlist in b into p, reusing p's slices. On error p
// holds what was read up to the bad line.
func Parse(p *Playlist, b []byte) error {
	*p = Playlist{Segments: p.Segments[:0], Variants: p.Variants[:0]}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a byte order mark
	var (
		lineNo              int
		first               = true
		haveTarget          bool
		inf                 time.Duration
		haveInf, streamInf  bool
		discontinuity, encr bool
	)
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		lineNo++
		if len(line) == 0 {
			continue
		}
		if first {
			if !bytes.Equal(line, []byte("#EXTM3U")) {
				return fmt.Errorf("%w: line %d: starts with %.20q, not #EXTM3U", ErrBadPlaylist, lineNo, line)
			}
			first = false
			continue
		}
		if line[0] != '#' {
			if err := p.addURI(line, &inf, &haveInf, &streamInf, &discontinuity, encr); err != nil {
				return fmt.Errorf("%w: line %d: %w", ErrBadPlaylist, lineNo, err)
			}
			continue
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		var err error
		switch string(name) { // no allocation: the compiler compares in place
		case "#EXT-X-TARGETDURATION":
			p.TargetDuration, err = parseSeconds(value)
			if err == nil && p.TargetDuration <= 0 {
				err = errors.New("zero")
			}
			haveTarget = true
		case "#EXT-X-MEDIA-SEQUENCE":
			p.MediaSequence, err = parseInt(value, MaxMediaSequence)
		case "#EXTINF":
			d, _, _ := bytes.Cut(value, []byte(","))
			inf, err = parseSeconds(bytes.TrimSpace(d))
			haveInf = true
		case "#EXT-X-DISCONTINUITY":
			discontinuity = true
		case "#EXT-X-KEY":
			method, ok := attribute(value, "METHOD")
			if !ok {
				err = errors.New("no METHOD")
			}
			encr = !bytes.Equal(method, []byte("NONE"))
		case "#EXT-X-ENDLIST":
			p.EndList = true
		case "#EXT-X-STREAM-INF":
			streamInf = true
		}
		if err != nil {
			return fmt.Errorf("%w: line %d: %s: %.40q: %w", ErrBadPlaylist, lineNo, name, value, err)
		}
	}
	switch {
	case first:
		return fmt.Errorf("%w: empty", ErrBadPlaylist)
	case haveInf || streamInf:
		return fmt.Errorf("%w: ends with a tag that wants a URI after it", ErrBadPlaylist)
	case len(p.Variants) > 0 && len(p.Segments) > 0:
		return fmt.Errorf("%w: both variant streams and media segments", ErrBadPlaylist)
	case len(p.Variants) == 0 && !haveTarget:
		return fmt.Errorf("%w: media playlist without EXT-X-TARGETDURATION", ErrBadPlaylist)
	}
	return nil
}

// addURI adds a URI line as the variant or segment the tags before it
// announced.
func (p *Playlist) addURI(uri []byte, inf *time.Duration, haveInf, streamInf, discontinuity *bool, encrypted bool) error {
	switch {
	case *streamInf && *haveInf:
		return errors.New("EXTINF and EXT-X-STREAM-INF before one URI")
	case *streamInf:
		if len(p.Variants) >= MaxVariants {
			return fmt.Errorf("more than %d variant streams", MaxVariants)
		}
		p.Variants = append(p.Variants, uri)
		*streamInf = false
	case *haveInf:
		if len(p.Segments) >= MaxSegments {
			return fmt.Errorf("more than %d segments", MaxSegments)
		}
		p.Segments = append(p.Segments, Segment{Duration: *inf, URI: uri, Discontinuity: *discontinuity, Encrypted: encrypted})
		*inf, *haveInf, *discontinuity = 0, false, false
	default:
		return fmt.Errorf("URI %.40q without EXTINF or EXT-X-STREAM-INF", uri)
	}
	return nil
}

// nextLine splits the first line off b, without its line ending (LF or
// CRLF) and surrounding white space.
func nextLine(b []byte) (line, rest []byte) {
	line, rest, _ = bytes.Cut(b, []byte("\n"))
	return bytes.TrimSpace(line), rest
}

// parseSeconds reads a non-negative decimal number of seconds ("10",
// "9.984") up to MaxDuration, to the nanosecond.
func parseSeconds(b []byte) (time.Duration, error) {
	whole, frac, dot := bytes.Cut(b, []byte("."))
	if len(whole) == 0 && (!dot || len(frac) == 0) {
		return 0, errors.New("not a number")
	}
	secs, err := parseInt(whole, int64(MaxDuration/time.Second))
	if err != nil && len(whole) > 0 {
		return 0, err
	}
	d := time.Duration(secs) * time.Second
	scale := time.Second
	for _, c := range frac {
		if c < '0' || c > '9' {
			return 0, errors.New("not a number")
		}
		if scale > 1 { // digits past nanoseconds are dropped
			scale /= 10
			d += time.Duration(c-'0') * scale
		}
	}
	if d > MaxDuration {
		return 0, fmt.Errorf("over %v", MaxDuration)
	}
	return d, nil
}

// parseInt reads a decimal-integer up to limit.
func parseInt(b []byte, limit int64) (int64, error) {
	if len(b) == 0 {
		return 0, errors.New("not a number")
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errors.New("not a number")
		}
		v = v*10 + int64(c-'0')
		if v > limit {
			return 0, fmt.Errorf("over %d", limit)
		}
	}
	return v, nil
}

// attribute returns the value of name in an attribute list
// (NAME=VALUE,NAME="quoted, value",...), without quotes.
func attribute(list []byte, name string) ([]byte, bool) {
	for len(list) > 0 {
		key, rest, ok := bytes.Cut(list, []byte("="))
		if !ok {
			return nil, false
		}
		var value []byte
		if len(rest) > 0 && rest[0] == '"' {
			end := bytes.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, false
			}
			value, rest = rest[1:1+end], rest[2+end:]
			_, rest, _ = bytes.Cut(rest, []byte(","))
		} else {
			value, rest, _ = bytes.Cut(rest, []byte(","))
		}
		if string(bytes.TrimSpace(key)) == name {
			return bytes.TrimSpace(value), true
		}
		list = rest
	}
	return nil, false
}
