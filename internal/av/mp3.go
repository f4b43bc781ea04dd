package av

import (
	"errors"
	"fmt"
)

// MPEG audio versions as MP3Header.Version reports them.
const (
	MPEGVersion1  = 1
	MPEGVersion2  = 2
	MPEGVersion25 = 25 // the unofficial MPEG 2.5 low-rate extension
)

// MP3Header is a parsed MPEG-1/2/2.5 audio frame header (ISO/IEC 11172-3
// 2.4.1.3, ISO/IEC 13818-3), for Layers I, II and III.
type MP3Header struct {
	Version     int // MPEGVersion1, MPEGVersion2 or MPEGVersion25
	Layer       int // 1, 2 or 3
	CRC         bool
	Bitrate     int // bits per second; 0 for free format
	SampleRate  int
	Padding     bool
	ChannelMode int // 0 stereo, 1 joint stereo, 2 dual channel, 3 mono
	Channels    int
	// FrameLength is the whole frame in bytes, header included; 0 for free
	// format, whose length the header does not tell.
	FrameLength int
	Samples     int // samples per channel in the frame
}

// mp3Bitrates holds kbps by [MPEG-1?0:1][layer-1][index]; index 0 is free format.
var mp3Bitrates = [2][3][15]int{
	{ // MPEG-1
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
	},
	{ // MPEG-2 and 2.5
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
	},
}

var mp3SampleRates = [3]int{44100, 48000, 32000} // MPEG-1; halved for 2, quartered for 2.5

// ParseMP3Header parses the 4-byte MPEG audio frame header at the start of b.
func ParseMP3Header(b []byte) (MP3Header, error) {
	var h MP3Header
	if len(b) < 4 {
		return h, fmt.Errorf("av: MPEG audio header needs 4 bytes, have %d", len(b))
	}
	if b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return h, fmt.Errorf("av: MPEG audio sync word not found (%02x %02x)", b[0], b[1])
	}
	divisor := 1
	switch (b[1] >> 3) & 0x03 {
	case 0:
		h.Version, divisor = MPEGVersion25, 4
	case 2:
		h.Version, divisor = MPEGVersion2, 2
	case 3:
		h.Version = MPEGVersion1
	default:
		return h, errors.New("av: MPEG audio version bits are reserved")
	}
	layerBits := (b[1] >> 1) & 0x03
	if layerBits == 0 {
		return h, errors.New("av: MPEG audio layer bits are reserved")
	}
	h.Layer = int(4 - layerBits)
	h.CRC = b[1]&0x01 == 0
	bitrateIndex := int(b[2] >> 4)
	if bitrateIndex == 15 {
		return h, errors.New("av: MPEG audio bitrate index 15 is invalid")
	}
	rateIndex := int(b[2]>>2) & 0x03
	if rateIndex == 3 {
		return h, errors.New("av: MPEG audio sample rate index 3 is reserved")
	}
	table := 1
	if h.Version == MPEGVersion1 {
		table = 0
	}
	h.Bitrate = mp3Bitrates[table][h.Layer-1][bitrateIndex] * 1000
	h.SampleRate = mp3SampleRates[rateIndex] / divisor
	h.Padding = b[2]&0x02 != 0
	h.ChannelMode = int(b[3] >> 6)
	h.Channels = 2
	if h.ChannelMode == 3 {
		h.Channels = 1
	}
	h.Samples, h.FrameLength = mp3FrameSize(h)
	return h, nil
}

// mp3FrameSize returns samples per frame and the frame's byte length (2.4.3.1).
func mp3FrameSize(h MP3Header) (samples, length int) {
	pad := 0
	if h.Padding {
		pad = 1
	}
	switch {
	case h.Layer == 1:
		samples = 384
		if h.Bitrate > 0 {
			length = (12*h.Bitrate/h.SampleRate + pad) * 4
		}
		return samples, length
	case h.Layer == 3 && h.Version != MPEGVersion1:
		samples = 576
	default:
		samples = 1152
	}
	if h.Bitrate > 0 {
		length = samples/8*h.Bitrate/h.SampleRate + pad
	}
	return samples, length
}
