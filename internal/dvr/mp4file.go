package dvr

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mp4"
)

// sampleWriter is mp4.FileWriter (progressive) or mp4.FragmentedWriter.
type sampleWriter interface {
	WriteSample(trackID uint32, s mp4.Sample) error
	Close() error
	Written() int64
}

// mp4File writes one MP4 recording with a fixed set of tracks: a new
// sequence header means a new file (the sample entries hold the codec
// configuration).
type mp4File struct {
	f            *os.File
	w            sampleWriter
	video, audio *mp4.Track
	videoStarted bool  // a keyframe was written: the file starts decodable
	audioNext    int64 // expected DTS of the next audio frame, in ticks; -1 before the first
}

// errNoTracks reports a stream with nothing MP4 can hold.
var errNoTracks = errors.New("dvr: no audio or video track MP4 can hold")

func newMP4File(f *os.File, fragmented bool, video, audio *mp4.Track) (*mp4File, error) {
	var tracks []mp4.Track
	for _, t := range []*mp4.Track{video, audio} {
		if t != nil {
			tracks = append(tracks, *t)
		}
	}
	if len(tracks) == 0 {
		return nil, errNoTracks
	}
	var w sampleWriter
	var err error
	if fragmented {
		w, err = mp4.NewFragmentedWriter(f, 0, tracks...)
	} else {
		w, err = mp4.NewFileWriter(f, tracks...)
	}
	if err != nil {
		return nil, fmt.Errorf("dvr: start mp4: %w", err)
	}
	return &mp4File{f: f, w: w, video: video, audio: audio, audioNext: -1}, nil
}

// write adds a frame at file time ms. Frames of a kind without a track,
// video before the first keyframe and packets without a sample are
// dropped; only write errors are returned.
func (m *mp4File) write(p *av.Packet, ms int64) error {
	t := m.audio
	if p.Kind == av.KindVideo {
		t = m.video
		if t != nil && !m.videoStarted {
			if !isKeyframe(p) {
				return nil
			}
			m.videoStarted = true
		}
	}
	if t == nil || p.Codec != t.Codec {
		return nil
	}
	s, err := t.SampleFromPacket(p)
	if err != nil {
		return nil // sequence ends, commands, empty frames: nothing to store
	}
	cto := s.PTS - s.DTS
	s.DTS = ms * int64(t.Timescale) / 1000
	if p.Kind == av.KindAudio {
		s.DTS = m.smoothAudio(t, s.DTS)
	}
	s.PTS = s.DTS + cto
	if err := m.w.WriteSample(t.ID, s); err != nil {
		return fmt.Errorf("dvr: write mp4 sample: %w", err)
	}
	return nil
}

// smoothAudio snaps an audio DTS derived from millisecond timestamps to
// whole frames when it is within 2 ms of where the previous frame ends, so
// an AAC file gets exact 1024-sample durations rather than the jitter of
// RTMP's rounding. A real gap is kept.
func (m *mp4File) smoothAudio(t *mp4.Track, dts int64) int64 {
	slack := int64(t.Timescale) * 2 / 1000
	if m.audioNext >= 0 && t.DefaultDuration > 0 && dts >= m.audioNext-slack && dts <= m.audioNext+slack {
		dts = m.audioNext
	}
	m.audioNext = dts + int64(t.DefaultDuration)
	return dts
}

// finish writes the index (progressive) or the last fragment and returns
// the file size; the caller commits the file.
func (m *mp4File) finish() (int64, error) {
	if err := m.w.Close(); err != nil {
		return 0, fmt.Errorf("dvr: finish mp4: %w", err)
	}
	return m.w.Written(), nil
}

// videoTrack builds the video track of a sequence header.
func videoTrack(sh *av.Packet) (*mp4.Track, error) {
	t, err := mp4.TrackFromSequenceHeader(sh)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// audioTrack builds the audio track from an AAC sequence header or, for
// MP3, which has none, from a frame.
func audioTrack(p *av.Packet) (*mp4.Track, error) {
	var t mp4.Track
	var err error
	if p.Codec == av.CodecMP3 {
		t, err = mp4.TrackFromMP3Frame(p)
	} else {
		t, err = mp4.TrackFromSequenceHeader(p)
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// sameTrack reports whether two tracks describe the same codec setup, so a
// repeated sequence header does not start a new file.
func sameTrack(a, b *mp4.Track) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	return a.Codec == b.Codec && a.Timescale == b.Timescale && a.Width == b.Width && a.Height == b.Height &&
		a.SampleRate == b.SampleRate && a.Channels == b.Channels && bytes.Equal(a.Config, b.Config)
}
