// Package transcode turns AAC into Opus and Opus into AAC inside the castd
// process, as SRS does between RTMP and WebRTC (rtmp_to_rtc, rtc_to_rtmp).
//
// The codecs are FFmpeg's libavcodec and libswresample (5.1 or newer),
// reached through cgo.
// A build without cgo, or with the castd_nolibav tag, still compiles: then
// Available and the constructors return an error wrapping ErrUnavailable
// that says why, and callers decide what to do without transcoding.
//
// Both directions resample to 48 kHz stereo. Output timestamps come from the
// input's: the first input frame anchors the clock, which then advances by
// the samples produced; short gaps are filled with silence and jumps of more
// than 100 ms re-anchor it (see timeline).
package transcode

import (
	"errors"
	"fmt"
	"time"
)

// Frame is one encoded output frame.
type Frame struct {
	Data     []byte        // raw codec frame: one Opus packet, or one raw AAC access unit (no ADTS)
	PTS      time.Duration // presentation time, continuous from the input's timestamps
	Duration time.Duration // 20ms for Opus; 1024 samples for AAC
}

// Transcoder turns encoded frames of one codec into another's. Not safe for concurrent use.
type Transcoder interface {
	// Write decodes one input frame with its timestamp and returns the output frames now complete
	// (zero or more). The returned slice and its Data stay valid until the next Write.
	// A corrupt frame returns an error and the transcoder goes on with the next one.
	Write(frame []byte, pts time.Duration) ([]Frame, error)
	// Close frees the codecs. Samples still buffered (less than a frame plus
	// the encoder's delay) are dropped. Write after Close returns an error.
	Close() error
}

// OpusToAAC is the WebRTC→RTMP direction, which must also describe its output.
type OpusToAAC interface {
	Transcoder
	// AudioSpecificConfig returns the ASC of the output, for the FLV sequence header.
	AudioSpecificConfig() []byte
}

// Bitrates, in bits per second, as SRS accepts them for opus_bitrate and
// aac_bitrate (SRS resets values outside the range to the default).
const (
	DefaultBitrate = 48000
	MinBitrate     = 8000
	MaxBitrate     = 320000
)

// Output format of both directions: what WebRTC's Opus always is, and what
// SRS makes for RTMP.
const (
	outputRate     = 48000
	outputChannels = 2
)

// Limits on input, so a hostile frame cannot make the codecs allocate much.
const (
	// maxInputFrame bounds one encoded input frame. An AAC frame holds at
	// most 6144 bits per channel and an Opus packet at most 120 ms (RFC 6716
	// 3.2.5 allows ~7.7 KB at the highest rates); 64 KiB leaves room for both.
	maxInputFrame = 64 << 10
	// maxASC bounds the AudioSpecificConfig (a program config element with
	// comments is the longest real one, well under this).
	maxASC = 1 << 10
)

// ErrUnavailable is wrapped by what Available and the constructors return in
// a build without libavcodec, e.g. "castd was built without cgo; AAC/Opus
// transcoding is unavailable".
var ErrUnavailable = errors.New("AAC/Opus transcoding is unavailable")

// errClosed is returned by Write after Close.
var errClosed = errors.New("transcode: transcoder is closed")

func checkBitrate(bitrate int) error {
	if bitrate < MinBitrate || bitrate > MaxBitrate {
		return fmt.Errorf("transcode: bitrate %d bps is outside %d..%d", bitrate, MinBitrate, MaxBitrate)
	}
	return nil
}

func checkInputFrame(frame []byte) error {
	switch {
	case len(frame) == 0:
		return errors.New("empty input frame")
	case len(frame) > maxInputFrame:
		return fmt.Errorf("input frame of %d bytes exceeds %d", len(frame), maxInputFrame)
	}
	return nil
}

// opusHead builds the OpusHead (RFC 7845 5.1) the decoder is opened with:
// version 1, the channel count, no pre-skip (WebRTC has none to signal),
// 48 kHz, no gain, mapping family 0.
func opusHead(channels int) []byte {
	h := []byte("OpusHead\x01\x00\x00\x00\x80\xbb\x00\x00\x00\x00\x00")
	h[9] = byte(channels)
	return h
}
