package remux

import (
	"bytes"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// FLV audio header bytes: AAC is always written as 44 kHz, 16-bit stereo
// (the AudioSpecificConfig tells the truth); MP3's rate bits follow the
// frame's rate and its channel bit the frame's mode.
const (
	flvAACHeader = byte(av.SoundAAC)<<4 | 3<<2 | 1<<1 | 1
	flvMP3Format = byte(av.SoundMP3) << 4
)

// tsAudio remembers the AAC configuration last sent as a sequence header.
type tsAudio struct {
	asc []byte
}

func (c *TSToFLV) appendAudio(dst []*av.Packet, f *mpegts.Frame) []*av.Packet {
	dts, _, ok := c.timestamps(f)
	if !ok {
		c.drops.drop(dropNoTimestamp, f.StreamType.String())
		return dst
	}
	if f.StreamType == mpegts.StreamTypeAAC {
		return c.appendADTS(dst, f.Data, dts)
	}
	return c.appendMP3(dst, f.Data, dts)
}

// appendADTS splits a PES of ADTS frames into raw AAC frames, each 1024
// samples after the one before.
func (c *TSToFLV) appendADTS(dst []*av.Packet, data []byte, dts int64) []*av.Packet {
	samples := int64(0)
	for len(data) > 0 {
		h, err := av.ParseADTSHeader(data)
		if err == nil && h.FrameLength > len(data) {
			err = errTruncatedFrame
		}
		if err != nil {
			c.drops.drop(dropMalformedAudio, err)
			return dst
		}
		raw := data[h.HeaderLength:h.FrameLength]
		data = data[h.FrameLength:]
		at := dts + samples*mpegts.ClockRate/int64(h.Config.SampleRate)
		samples += int64(h.RawBlocks * h.Config.FrameLength)
		if h.RawBlocks != 1 {
			// Several raw data blocks need their positions, which only a
			// CRC-protected header gives; no RTMP encoder makes them.
			c.drops.drop(dropMalformedAudio, "ADTS frame with several raw data blocks")
			continue
		}
		asc, err := h.Config.AudioSpecificConfig()
		if err != nil {
			c.drops.drop(dropBadAudioConfig, err)
			continue
		}
		if !bytes.Equal(asc, c.audio.asc) {
			c.audio.asc = asc
			dst = c.packet(dst, av.KindAudio, at, append([]byte{flvAACHeader, byte(av.AudioPacketSequenceStart)}, asc...))
		}
		if len(raw) == 0 {
			continue
		}
		body := make([]byte, 0, 2+len(raw))
		body = append(append(body, flvAACHeader, byte(av.AudioPacketCodedFrames)), raw...)
		dst = c.packet(dst, av.KindAudio, at, body)
	}
	return dst
}

// appendMP3 passes each MPEG audio frame of a PES through as one tag.
func (c *TSToFLV) appendMP3(dst []*av.Packet, data []byte, dts int64) []*av.Packet {
	samples := int64(0)
	for len(data) > 0 {
		h, err := av.ParseMP3Header(data)
		if err != nil {
			c.drops.drop(dropMalformedAudio, err)
			return dst
		}
		n := h.FrameLength
		if n == 0 || n > len(data) {
			n = len(data) // free format, or a frame the PES cuts: the rest
		}
		at := dts + samples*mpegts.ClockRate/int64(h.SampleRate)
		samples += int64(h.Samples)
		body := make([]byte, 0, 1+n)
		body = append(append(body, mp3TagHeader(h)), data[:n]...)
		data = data[n:]
		dst = c.packet(dst, av.KindAudio, at, body)
	}
	return dst
}

// mp3TagHeader is the FLV audio header byte for an MP3 frame: 16-bit,
// stereo or mono, and the FLV rate nearest the frame's.
func mp3TagHeader(h av.MP3Header) byte {
	rate := byte(3) // 44 kHz, also for 48 and 32 kHz, which FLV cannot name
	switch {
	case h.SampleRate <= 11025:
		rate = 1
	case h.SampleRate <= 24000:
		rate = 2
	}
	stereo := byte(0)
	if h.Channels == 2 {
		stereo = 1
	}
	return flvMP3Format | rate<<2 | 1<<1 | stereo
}
