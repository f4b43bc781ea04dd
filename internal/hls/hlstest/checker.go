// Package hlstest checks live HLS playlists as players read them: every
// HLS test reads its playlists through a Checker, which remembers what it
// saw before so it can tell whether the window slides correctly.
package hlstest

import (
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/castd/castd/internal/hls"
)

// Checker checks the successive versions of one live playlist. The zero
// value checks the playlist's own rules; set the fields for more.
type Checker struct {
	// Dir is the playlist's directory on disk: every listed segment must
	// exist when the playlist is read. "" skips the check.
	Dir string
	// MinDuration and MaxDuration bound every segment's duration, except
	// that the newest segment and one followed by a discontinuity (the end
	// of a publish) may be shorter. 0 skips a bound.
	MinDuration, MaxDuration time.Duration

	reads    int
	mediaSeq int64
	lastSeq  int64
	seen     map[int64]hls.Entry
	discont  map[int64]bool
}

// Check parses one version of the playlist and returns it with the rules
// it breaks, alone or against the versions checked before.
func (c *Checker) Check(body []byte) (*hls.MediaPlaylist, []string) {
	p, err := hls.ParseMediaPlaylist(body)
	if err != nil {
		return nil, []string{err.Error()}
	}
	if c.seen == nil {
		c.seen, c.discont = map[int64]hls.Entry{}, map[int64]bool{}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if p.Version < 3 {
		bad("EXT-X-VERSION %d: decimal durations need 3", p.Version)
	}
	if p.EndList {
		bad("a live playlist has #EXT-X-ENDLIST")
	}
	if len(p.Segments) == 0 {
		bad("no segment listed")
	}
	if c.reads > 0 && p.MediaSequence < c.mediaSeq {
		bad("EXT-X-MEDIA-SEQUENCE went back from %d to %d", c.mediaSeq, p.MediaSequence)
	}
	for i, s := range p.Segments {
		if want := int64(math.Ceil(s.Duration.Seconds())); int64(p.TargetDuration) < want {
			bad("segment %d lasts %v, over EXT-X-TARGETDURATION %d", s.Seq, s.Duration, p.TargetDuration)
		}
		last := i == len(p.Segments)-1
		ending := !last && p.Segments[i+1].Discontinuity
		if c.MinDuration > 0 && s.Duration < c.MinDuration && !last && !ending {
			bad("segment %d lasts %v, under %v", s.Seq, s.Duration, c.MinDuration)
		}
		if c.MaxDuration > 0 && s.Duration > c.MaxDuration {
			bad("segment %d lasts %v, over %v", s.Seq, s.Duration, c.MaxDuration)
		}
		if old, ok := c.seen[s.Seq]; ok {
			if old.URI != s.URI || old.Duration != s.Duration || old.Discontinuity != s.Discontinuity || !sameKey(old.Key, s.Key) {
				bad("segment %d changed: %+v, before %+v", s.Seq, s, old)
			}
		} else if c.reads > 0 && s.Seq <= c.lastSeq {
			bad("segment %d appeared after segment %d was listed", s.Seq, c.lastSeq)
		}
		if c.Dir != "" {
			if err := segmentExists(c.Dir, s.URI); err != nil {
				bad("segment %d listed before its file exists: %v", s.Seq, err)
			}
		}
		c.seen[s.Seq] = s
		if s.Discontinuity {
			c.discont[s.Seq] = true
		}
	}
	if n := len(p.Segments); n > 0 {
		c.lastSeq = max(c.lastSeq, p.Segments[n-1].Seq)
	}
	c.mediaSeq = p.MediaSequence
	c.reads++
	return p, problems
}

// Discontinuities lists, in order, the segments seen starting one.
func (c *Checker) Discontinuities() []int64 {
	var out []int64
	for seq := range c.discont {
		out = append(out, seq)
	}
	slices.Sort(out)
	return out
}

// Segments is how many different segments the checker saw.
func (c *Checker) Segments() int { return len(c.seen) }

// Seen returns the segments seen, by sequence number.
func (c *Checker) Seen() []hls.Entry {
	out := make([]hls.Entry, 0, len(c.seen))
	for _, e := range c.seen {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b hls.Entry) int { return int(a.Seq - b.Seq) })
	return out
}

func sameKey(a, b *hls.KeyRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// segmentExists resolves a segment URI (relative, maybe with a query)
// under dir and stats the file.
func segmentExists(dir, uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return err
	}
	if u.IsAbs() || strings.HasPrefix(u.Path, "/") {
		return nil // served from elsewhere (hls_entry_prefix)
	}
	st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(u.Path)))
	if err != nil {
		return err
	}
	if st.Size() == 0 {
		return fmt.Errorf("%s is empty", u.Path)
	}
	return nil
}
