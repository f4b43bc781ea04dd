//go:build !cgo || castd_nolibav

package transcode

import "fmt"

// Available returns nil when this build can transcode, or an error saying why not
// (built without cgo, or without libavcodec). This build cannot.
func Available() error {
	return fmt.Errorf("castd was built %s; %w", nolibavReason, ErrUnavailable)
}

// NewAACToOpus takes the stream's AudioSpecificConfig and makes 48 kHz stereo Opus at bitrate bps, 20 ms frames.
// This build cannot: it returns Available's error.
func NewAACToOpus(asc []byte, bitrate int) (Transcoder, error) {
	return nil, Available()
}

// NewOpusToAAC decodes Opus (48 kHz, channels 1 or 2) and makes AAC-LC 48 kHz stereo at bitrate bps.
// This build cannot: it returns Available's error.
func NewOpusToAAC(channels, bitrate int) (OpusToAAC, error) {
	return nil, Available()
}
