// Package source loads the FLV file castbench publishes and paces it: tags
// are sent on wall-clock time, and the file loops with timestamps that keep
// increasing, so servers and players see one endless live stream.
package source

import (
	"errors"
	"fmt"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/stamp"
	"github.com/castd/castd/internal/format/flv"
)

// defaultFrameInterval is the loop gap when the file has too few frames to
// measure one.
const defaultFrameInterval = 40 * time.Millisecond

// Frame is one tag of the loop, parsed once at load time.
type Frame struct {
	Type uint8 // flv.TagAudio, flv.TagVideo or flv.TagScript
	// At is the tag's time from the start of the loop.
	At   time.Duration
	Data []byte
	// Stampable is set on H.264/H.265 coded video frames, which the
	// publisher stamps; Video is their parsed tag header.
	Stampable bool
	Video     av.VideoTag
}

// Source is an FLV file in memory, ready to be published in a loop. It is
// read-only once built and shared by every publisher.
type Source struct {
	Name   string
	Header flv.Header
	// Start holds the script data and sequence headers that precede the
	// first audio or video frame; they are sent once, at time 0.
	Start []Frame
	// Frames is the loop: every tag after Start, with At rebased so the
	// first is 0. Sequence headers found in the middle stay in place.
	Frames []Frame
	// Period is the length of one loop: the last frame's time plus one
	// frame interval, so the first frame of the next loop follows at the
	// file's own pace.
	Period time.Duration
	// VideoCodec is the codec of the video sequence header (CodecUnknown
	// without video) and NALULengthSize its NALU length size (H.264/H.265).
	VideoCodec     av.Codec
	NALULengthSize int
	// LoopBytes is the size of the frames' bodies in one loop.
	LoopBytes int64
}

// Load reads an FLV file into a Source.
func Load(path string) (*Source, error) {
	hdr, tags, err := flv.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	s, err := New(hdr, tags)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", path, err)
	}
	s.Name = path
	return s, nil
}

// New builds a Source from tags in file order. Tags other than audio, video
// and script data, and empty tags, are dropped.
func New(hdr flv.Header, tags []flv.Tag) (*Source, error) {
	s := &Source{Header: hdr}
	started := false
	var base uint32
	for _, t := range tags {
		if len(t.Data) == 0 || (t.Type != flv.TagAudio && t.Type != flv.TagVideo && t.Type != flv.TagScript) {
			continue
		}
		f := Frame{Type: t.Type, Data: t.Data}
		header, err := s.inspect(&f)
		if err != nil {
			return nil, err
		}
		if !started && header {
			s.Start = append(s.Start, f)
			continue
		}
		if !started {
			started, base = true, t.Timestamp
		}
		// A timestamp before the first frame's (audio and video interleave
		// loosely) is sent at once rather than wrapped.
		f.At = time.Duration(max(int64(t.Timestamp)-int64(base), 0)) * time.Millisecond
		s.Frames = append(s.Frames, f)
		s.LoopBytes += int64(len(f.Data))
	}
	if len(s.Frames) == 0 {
		return nil, errors.New("no audio or video frames")
	}
	var last time.Duration
	for _, f := range s.Frames {
		last = max(last, f.At)
	}
	s.Period = last + frameInterval(s.Frames)
	return s, nil
}

// inspect parses a tag once, reporting whether it is a header (script data
// or a sequence header) and recording the video codec facts.
func (s *Source) inspect(f *Frame) (header bool, err error) {
	switch f.Type {
	case flv.TagScript:
		return true, nil
	case flv.TagAudio:
		at, err := av.ParseFLVAudioTag(f.Data)
		if err != nil {
			return false, fmt.Errorf("audio tag: %w", err)
		}
		return at.IsSequenceHeader(), nil
	}
	vt, err := av.ParseFLVVideoTag(f.Data)
	if err != nil {
		return false, fmt.Errorf("video tag: %w", err)
	}
	f.Video = vt
	if vt.IsSequenceHeader() {
		s.VideoCodec = vt.Codec
		switch vt.Codec {
		case av.CodecH264:
			cfg, err := av.ParseAVCConfig(f.Data[vt.PayloadOffset:])
			if err != nil {
				return true, fmt.Errorf("video sequence header: %w", err)
			}
			s.NALULengthSize = cfg.NALULengthSize
		case av.CodecH265:
			cfg, err := av.ParseHEVCConfig(f.Data[vt.PayloadOffset:])
			if err != nil {
				return true, fmt.Errorf("video sequence header: %w", err)
			}
			s.NALULengthSize = cfg.NALULengthSize
		}
		return true, nil
	}
	if stamp.Stampable(vt) && (s.NALULengthSize == 0 || vt.Codec != s.VideoCodec) {
		// Players could not decode it either.
		return false, fmt.Errorf("%s frame before any %s sequence header", vt.Codec, vt.Codec)
	}
	f.Stampable = stamp.Stampable(vt)
	return false, nil
}

// frameInterval returns the mean gap between video frames, or between audio
// frames in a file without video.
func frameInterval(frames []Frame) time.Duration {
	for _, typ := range []uint8{flv.TagVideo, flv.TagAudio} {
		var first, last time.Duration
		n := 0
		for _, f := range frames {
			if f.Type != typ {
				continue
			}
			if n == 0 {
				first = f.At
			}
			last = f.At
			n++
		}
		if n > 1 && last > first {
			return (last - first) / time.Duration(n-1)
		}
	}
	return defaultFrameInterval
}

// Bitrate returns the bits per second of the loop's frame bodies: what a
// player receives, framing aside, once the headers are past.
func (s *Source) Bitrate() float64 {
	return float64(s.LoopBytes) * 8 / s.Period.Seconds()
}
