package mpegps

import "bytes"

// guessStreamType names the codec of a stream no PSM announced, from its
// first frame, as ffmpeg's program stream demuxer does: a video stream is
// H.265 when its first NAL unit header reads as an H.265 parameter set,
// delimiter or slice, else H.264; an audio stream is AAC when it starts
// with an ADTS sync word, MPEG audio with an MPEG audio one.
func guessStreamType(id uint8, data []byte) StreamType {
	switch {
	case IsVideoID(id):
		i := bytes.Index(data, []byte{0, 0, 1})
		if i < 0 || i+5 > len(data) {
			return StreamTypeH264
		}
		h0, h1 := data[i+3], data[i+4]
		if h0&0x81 == 0 && h1 == 0x01 {
			switch h0 >> 1 {
			case 32, 33, 34, 35, 39, 19, 20, 21, 1: // VPS, SPS, PPS, AUD, SEI, IDR, CRA, TRAIL_R
				return StreamTypeH265
			}
		}
		return StreamTypeH264
	case IsAudioID(id) && len(data) >= 2 && data[0] == 0xff:
		switch {
		case data[1]&0xf6 == 0xf0: // 12-bit sync, layer 00
			return StreamTypeAAC
		case data[1]&0xe0 == 0xe0 && data[1]&0x06 != 0:
			return StreamTypeMPEG1Audio
		}
	}
	return StreamTypeUnknown
}
