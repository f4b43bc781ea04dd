package mp4

import (
	"errors"
	"fmt"

	"github.com/castd/castd/internal/av"
)

// Kind says whether a track is video or audio.
type Kind uint8

const (
	KindVideo Kind = 1
	KindAudio Kind = 2
)

func (k Kind) String() string {
	switch k {
	case KindVideo:
		return "video"
	case KindAudio:
		return "audio"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Timescales castd uses. Video gets 90 kHz, the MPEG convention every
// DASH/HLS tool expects; RTMP milliseconds convert to it exactly (×90).
// Audio gets its sample rate, so one AAC frame is exactly 1024 ticks.
const (
	VideoTimescale = 90000
	movieTimescale = 1000 // mvhd, tkhd and edit lists
)

// Default track ids of the constructors; callers may renumber.
const (
	DefaultVideoTrackID = 1
	DefaultAudioTrackID = 2
)

// Track describes one track of a file or an init segment.
type Track struct {
	ID        uint32
	Kind      Kind
	Codec     av.Codec // H264, H265, AV1, AAC or MP3
	Timescale uint32   // ticks per second of sample times

	Width, Height        int // video, in pixels
	SampleRate, Channels int // audio

	// Config is the decoder configuration: the avcC, hvcC or av1C box body
	// (exactly the FLV sequence header's record) or the AAC
	// AudioSpecificConfig. MP3 needs none.
	Config []byte

	// DefaultDuration is a sample's nominal duration in Timescale ticks,
	// used for a last sample whose duration nothing else tells (see Sample).
	// The constructors set one audio frame; for video it is 0 unless the
	// caller knows the frame rate.
	DefaultDuration uint32
}

// ErrUnsupportedCodec is returned for codecs this package cannot put in MP4.
var ErrUnsupportedCodec = errors.New("mp4: codec not supported in MP4")

// sampleEntryType is the four-character code of the track's sample entry.
// avc1/hvc1 (not avc3/hev1) because the parameter sets are in the
// configuration record, which is what Safari requires for HEVC and what every
// player accepts; a stream that changes them needs a new init segment.
func (t *Track) sampleEntryType() (string, error) {
	switch t.Codec {
	case av.CodecH264:
		return "avc1", nil
	case av.CodecH265:
		return "hvc1", nil
	case av.CodecAV1:
		return "av01", nil
	case av.CodecAAC, av.CodecMP3:
		return "mp4a", nil
	}
	return "", fmt.Errorf("%w: %s", ErrUnsupportedCodec, t.Codec)
}

// validate checks what every writer needs before it can describe the track.
func (t *Track) validate() error {
	if t.ID == 0 {
		return errors.New("mp4: track id 0 is reserved")
	}
	if t.Timescale == 0 {
		return fmt.Errorf("mp4: track %d has timescale 0", t.ID)
	}
	if _, err := t.sampleEntryType(); err != nil {
		return fmt.Errorf("mp4: track %d: %w", t.ID, err)
	}
	switch t.Kind {
	case KindVideo:
		if !t.Codec.IsVideo() {
			return fmt.Errorf("mp4: track %d is video but codec %s is not", t.ID, t.Codec)
		}
		if t.Width <= 0 || t.Height <= 0 || t.Width > 0xffff || t.Height > 0xffff {
			return fmt.Errorf("mp4: track %d has video size %dx%d", t.ID, t.Width, t.Height)
		}
		if len(t.Config) == 0 {
			return fmt.Errorf("mp4: %s track %d has no decoder configuration record", t.Codec, t.ID)
		}
	case KindAudio:
		if t.Codec.IsVideo() {
			return fmt.Errorf("mp4: track %d is audio but codec %s is video", t.ID, t.Codec)
		}
		if t.SampleRate <= 0 || t.Channels <= 0 || t.Channels > 0xffff {
			return fmt.Errorf("mp4: track %d has %d Hz, %d channels", t.ID, t.SampleRate, t.Channels)
		}
		if t.Codec == av.CodecAAC && len(t.Config) == 0 {
			return fmt.Errorf("mp4: AAC track %d has no AudioSpecificConfig", t.ID)
		}
	default:
		return fmt.Errorf("mp4: track %d has %s", t.ID, t.Kind)
	}
	if len(t.Config) > maxConfigSize {
		return fmt.Errorf("mp4: track %d configuration of %d bytes is too large", t.ID, len(t.Config))
	}
	return nil
}

// maxConfigSize bounds decoder configurations; real ones are a few hundred
// bytes, and the esds descriptor lengths top out at 2^28.
const maxConfigSize = 1 << 20

// TrackFromSequenceHeader builds a track from a video sequence header (AVC,
// HEVC or AV1 configuration record, legacy or enhanced RTMP) or an AAC
// sequence header. The id is DefaultVideoTrackID or DefaultAudioTrackID.
// MP3 has no sequence header: use TrackFromMP3Frame.
func TrackFromSequenceHeader(p *av.Packet) (Track, error) {
	switch p.Kind {
	case av.KindVideo:
		return videoTrack(p)
	case av.KindAudio:
		return aacTrack(p)
	}
	return Track{}, fmt.Errorf("mp4: %s packet is not a sequence header", p.Kind)
}

func videoTrack(p *av.Packet) (Track, error) {
	tag, err := p.VideoTag()
	if err != nil {
		return Track{}, fmt.Errorf("mp4: video track: %w", err)
	}
	if !tag.IsSequenceHeader() {
		return Track{}, av.ErrNotSequenceHeader
	}
	switch tag.Codec {
	case av.CodecH264, av.CodecH265, av.CodecAV1:
	default:
		return Track{}, fmt.Errorf("%w: video %s", ErrUnsupportedCodec, tag.Codec)
	}
	info, err := av.VideoInfoFromSequenceHeader(p)
	if err != nil {
		return Track{}, fmt.Errorf("mp4: video track: %w", err)
	}
	t := Track{
		ID: DefaultVideoTrackID, Kind: KindVideo, Codec: tag.Codec, Timescale: VideoTimescale,
		Width: info.Width, Height: info.Height,
		Config: append([]byte(nil), p.Payload[tag.PayloadOffset:]...),
	}
	if err := t.validate(); err != nil {
		return Track{}, err
	}
	return t, nil
}

func aacTrack(p *av.Packet) (Track, error) {
	tag, err := p.AudioTag()
	if err != nil {
		return Track{}, fmt.Errorf("mp4: audio track: %w", err)
	}
	if tag.Codec == av.CodecMP3 {
		return Track{}, errors.New("mp4: MP3 has no sequence header; use TrackFromMP3Frame")
	}
	if tag.Codec != av.CodecAAC {
		return Track{}, fmt.Errorf("%w: audio %s", ErrUnsupportedCodec, tag.Codec)
	}
	if !tag.IsSequenceHeader() {
		return Track{}, av.ErrNotSequenceHeader
	}
	asc := p.Payload[tag.PayloadOffset:]
	c, err := av.ParseAudioSpecificConfig(asc)
	if err != nil {
		return Track{}, fmt.Errorf("mp4: audio track: %w", err)
	}
	channels := c.Channels
	if c.PS && channels == 1 {
		channels = 2 // parametric stereo decodes a mono core to stereo
	}
	t := Track{
		ID: DefaultAudioTrackID, Kind: KindAudio, Codec: av.CodecAAC,
		Timescale:  uint32(c.OutputSampleRate),
		SampleRate: c.OutputSampleRate, Channels: channels,
		Config: append([]byte(nil), asc...),
		// One frame is FrameLength core samples, more at the SBR output rate.
		DefaultDuration: uint32(int64(c.FrameLength) * int64(c.OutputSampleRate) / int64(c.SampleRate)),
	}
	if err := t.validate(); err != nil {
		return Track{}, err
	}
	return t, nil
}

// TrackFromMP3Frame builds an MP3 track from an FLV MP3 audio packet, reading
// the rate and channel count from its first frame header.
func TrackFromMP3Frame(p *av.Packet) (Track, error) {
	tag, err := p.AudioTag()
	if err != nil {
		return Track{}, fmt.Errorf("mp4: MP3 track: %w", err)
	}
	if tag.Codec != av.CodecMP3 {
		return Track{}, fmt.Errorf("mp4: MP3 track from a %s packet", tag.Codec)
	}
	h, err := av.ParseMP3Header(p.Payload[tag.PayloadOffset:])
	if err != nil {
		return Track{}, fmt.Errorf("mp4: MP3 track: %w", err)
	}
	t := Track{
		ID: DefaultAudioTrackID, Kind: KindAudio, Codec: av.CodecMP3,
		Timescale: uint32(h.SampleRate), SampleRate: h.SampleRate, Channels: h.Channels,
		DefaultDuration: uint32(h.Samples),
	}
	if err := t.validate(); err != nil {
		return Track{}, err
	}
	return t, nil
}
