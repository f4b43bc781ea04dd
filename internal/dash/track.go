package dash

import (
	"bytes"
	"fmt"
	"time"

	"github.com/castd/castd/internal/format/mp4"
)

// trackConfig is one track's decoder setup: what its init segment holds.
type trackConfig struct {
	track  mp4.Track
	codecs string // RFC 6381, for the MPD
	init   []byte
}

func newTrackConfig(t mp4.Track) (*trackConfig, error) {
	codecs, err := t.CodecString()
	if err != nil {
		return nil, err
	}
	init, err := mp4.InitSegment(t)
	if err != nil {
		return nil, err
	}
	return &trackConfig{track: t, codecs: codecs, init: init}, nil
}

func sameConfig(a, b *trackConfig) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.init, b.init)
}

// period is one MPD Period: a fixed set of tracks with fixed decoder
// configurations. Its segments are in Packager.segs.
type period struct {
	index       int // names the Period and, after the first, its init files
	tracks      [2]*trackConfig
	initWritten [2]bool
	startMs     int64 // Period@start on the media timeline
}

// initName is the init segment's file name; initTemplate is the same for
// the MPD. The first Period keeps SRS's names.
func (p *period) initName(kind int) string {
	if p.index == 0 {
		return kindName(kind) + "-init.mp4"
	}
	return fmt.Sprintf("%s-init-%d.mp4", kindName(kind), p.index)
}

func (p *period) initTemplate() string {
	if p.index == 0 {
		return "$RepresentationID$-init.mp4"
	}
	return fmt.Sprintf("$RepresentationID$-init-%d.mp4", p.index)
}

func (p *period) sameTracks(t [2]*trackConfig) bool {
	return sameConfig(p.tracks[video], t[video]) && sameConfig(p.tracks[audio], t[audio])
}

// segment is a written media segment.
type segment struct {
	period  *period
	number  uint64
	start   uint64 // decode time of the first sample, in the track's timescale
	dur     uint64 // in the same timescale
	bytes   int
	samples int
	name    string
}

func segmentName(kind int, number uint64) string {
	return fmt.Sprintf("%s-%d.m4s", kindName(kind), number)
}

// pendingSample is a frame of the segment being gathered. Times stay in
// media milliseconds until the segment is written, when the composition
// shift is known.
type pendingSample struct {
	ms   int64 // decode time
	cto  int32 // composition offset, ms
	key  bool
	data []byte
}

// openSegment is the segment being gathered for one track.
type openSegment struct {
	samples []pendingSample
	bytes   int
	// A follower track (audio next to video) ends its segment at the first
	// sample at or after cutAt, the instant the leader cut.
	hasCut bool
	cutAt  int64
}

func (o *openSegment) startMs() int64 { return o.samples[0].ms }

func (o *openSegment) add(s pendingSample) {
	o.samples = append(o.samples, s)
	o.bytes += len(s.data)
}

// Bounds of one segment in memory, whatever the stream does (a keyframe
// that never comes, a huge bitrate): past them the segment is cut anyway.
const (
	maxSegmentBytes   = 64 << 20
	maxSegmentSamples = 1 << 16
)

func (o *openSegment) full(next int) bool {
	return o.bytes+next > maxSegmentBytes || len(o.samples) >= maxSegmentSamples
}

// defaultVideoFrame is a lone video sample's duration when nothing tells it.
const defaultVideoFrame = 40 * time.Millisecond
