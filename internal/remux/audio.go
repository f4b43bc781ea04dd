package remux

import (
	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// audioFrame is one audio message converted for the transport stream.
type audioFrame struct {
	data       []byte // an ADTS frame or an MPEG audio frame, aliasing a reused buffer
	sampleRate int
	samples    int // per frame, per channel: the frame's duration in samples
}

// audioTrack remembers the audio configuration and converts frames.
type audioTrack struct {
	codec      av.Codec // CodecUnknown until the first AAC sequence header or MP3 frame
	streamType mpegts.StreamType
	aac        av.AACConfig
	hasAAC     bool
	config     []byte // the last AudioSpecificConfig, to spot repeats
	buf        []byte
}

// setAACConfig parses an AudioSpecificConfig. It reports whether the
// stream type changed.
func (a *audioTrack) setAACConfig(asc []byte) (bool, error) {
	if a.hasAAC && string(asc) == string(a.config) {
		return false, nil
	}
	c, err := av.ParseAudioSpecificConfig(asc)
	if err != nil {
		return false, err
	}
	changed := a.codec != av.CodecAAC
	a.codec, a.streamType = av.CodecAAC, mpegts.StreamTypeAAC
	a.aac, a.hasAAC = c, true
	a.config = append(a.config[:0], asc...)
	return changed, nil
}

// adts wraps a raw AAC frame in its ADTS header.
func (a *audioTrack) adts(raw []byte) audioFrame {
	h := a.aac.ADTSHeader(len(raw))
	a.buf = append(append(a.buf[:0], h[:]...), raw...)
	return audioFrame{data: a.buf, sampleRate: a.aac.SampleRate, samples: a.aac.FrameLength}
}

// mp3 takes an MPEG audio frame as it is. It reports whether the stream
// type changed: MPEG-1 rates are stream type 3, the MPEG-2 (and 2.5) half
// rates type 4. A frame whose header does not parse passes too (decoders
// resync on the next one) under the type already chosen.
func (a *audioTrack) mp3(frame []byte) (audioFrame, bool) {
	f := audioFrame{data: frame}
	typ := a.streamType
	if a.codec != av.CodecMP3 {
		typ = mpegts.StreamTypeMPEG1Audio
	}
	if h, err := av.ParseMP3Header(frame); err == nil {
		f.sampleRate, f.samples = h.SampleRate, h.Samples
		typ = mpegts.StreamTypeMPEG1Audio
		if h.Version != av.MPEGVersion1 {
			typ = mpegts.StreamTypeMPEG2Audio
		}
	}
	changed := a.codec != av.CodecMP3 || typ != a.streamType
	a.codec, a.streamType, a.hasAAC = av.CodecMP3, typ, false
	return f, changed
}

// maxAudioDrift is how far (in 90 kHz ticks) a DTS rebuilt from sample
// counts may stray from the FLV timestamp before it is re-anchored, so a
// gap in the stream or an encoder clock that disagrees with its audio
// never puts audio out of sync with video by more than this.
const maxAudioDrift = 100 * 90

// sampleClock rebuilds audio DTS by counting samples (SRS's
// hls_dts_directly off, #547). Whole-millisecond FLV timestamps make
// ±1 ms steps in a pure-audio stream, which some players (Safari) hear as
// clicks; counted samples advance exactly.
type sampleClock struct {
	started bool
	lastMS  uint32
	rate    int
	base    int64 // 90 kHz DTS of the anchor frame
	samples int64 // samples since the anchor
}

// dts returns the DTS of a frame with FLV timestamp ms. SRS guesses the
// samples between two frames from the timestamp gap with AAC-sized buckets;
// this counts the gap in the frame's own size (1024 or 960 for AAC, 1152 or
// 576 for MP3), which gives the same DTS for AAC and the right one for MP3.
// The clock re-anchors when the timestamp goes back, the rate changes or
// the count drifts over maxAudioDrift.
func (c *sampleClock) dts(ms uint32, f audioFrame) int64 {
	direct := int64(ms) * 90
	if f.sampleRate <= 0 || f.samples <= 0 {
		c.started = false
		return direct
	}
	if !c.started || ms < c.lastMS || f.sampleRate != c.rate {
		*c = sampleClock{started: true, lastMS: ms, rate: f.sampleRate, base: direct}
		return direct
	}
	gap := int64(ms-c.lastMS) * int64(f.sampleRate) / 1000
	c.lastMS = ms
	if gap > 0 {
		frames := max(1, (gap+int64(f.samples)/2)/int64(f.samples))
		c.samples += frames * int64(f.samples)
	}
	dts := c.base + c.samples*mpegts.ClockRate/int64(c.rate)
	if dts-direct > maxAudioDrift || direct-dts > maxAudioDrift {
		*c = sampleClock{started: true, lastMS: ms, rate: f.sampleRate, base: direct}
		return direct
	}
	return dts
}
