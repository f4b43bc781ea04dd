package mp4

import (
	"errors"
	"fmt"

	"github.com/castd/castd/internal/av"
)

// ErrNoSample is returned by SampleFromPacket for packets that carry no
// media sample: sequence headers, end of sequence, video commands and
// metadata, empty frames. Callers skip them.
var ErrNoSample = errors.New("mp4: packet carries no sample")

// SampleFromPacket turns a castd audio or video packet of the track's codec
// into a sample. The data aliases the packet payload: AVC/HEVC frames are
// already length-prefixed NAL units and AV1 frames OBUs, as MP4 wants them.
// DTS is the packet timestamp (milliseconds) in the track's timescale and
// PTS adds the FLV composition time. Callers that run past the 31-bit
// RTMP timestamp range rebase DTS and PTS themselves.
func (t *Track) SampleFromPacket(p *av.Packet) (Sample, error) {
	if p.Codec != t.Codec {
		return Sample{}, fmt.Errorf("mp4: %s packet for a %s track", p.Codec, t.Codec)
	}
	dts := rescale(int64(p.Timestamp), 1000, t.Timescale)
	switch p.Kind {
	case av.KindVideo:
		tag, err := p.VideoTag()
		if err != nil {
			return Sample{}, fmt.Errorf("mp4: sample: %w", err)
		}
		if tag.IsCommand() || (tag.PacketType != av.VideoPacketCodedFrames && tag.PacketType != av.VideoPacketCodedFramesX) {
			return Sample{}, ErrNoSample
		}
		data := p.Payload[tag.PayloadOffset:]
		if t.Codec == av.CodecAV1 {
			data = trimAV1TemporalDelimiter(data)
		}
		if len(data) == 0 {
			return Sample{}, ErrNoSample
		}
		pts := dts + rescale(int64(tag.CompositionTime), 1000, t.Timescale)
		return Sample{DTS: dts, PTS: pts, Keyframe: tag.IsKeyframe(), Data: data}, nil
	case av.KindAudio:
		tag, err := p.AudioTag()
		if err != nil {
			return Sample{}, fmt.Errorf("mp4: sample: %w", err)
		}
		if tag.PacketType != av.AudioPacketCodedFrames || len(p.Payload) <= tag.PayloadOffset {
			return Sample{}, ErrNoSample
		}
		return Sample{DTS: dts, PTS: dts, Keyframe: true, Data: p.Payload[tag.PayloadOffset:]}, nil
	}
	return Sample{}, ErrNoSample
}

// trimAV1TemporalDelimiter drops a leading temporal delimiter OBU: the AV1
// ISOBMFF binding (2.4) says samples should not carry them, since the
// sample boundary already delimits the temporal unit.
func trimAV1TemporalDelimiter(b []byte) []byte {
	const obuTemporalDelimiter = 2
	if len(b) < 2 || (b[0]>>3)&0x0f != obuTemporalDelimiter || b[0]&0x02 == 0 {
		return b
	}
	p := 1
	if b[0]&0x04 != 0 { // extension header
		p++
	}
	// A temporal delimiter has an empty payload, so its size is one
	// LEB128 byte of 0 (encoders may pad it to more bytes).
	for ; p < len(b) && p < 10; p++ {
		if b[p]&0x7f != 0 {
			return b // a payload: not the empty delimiter
		}
		if b[p]&0x80 == 0 {
			return b[p+1:]
		}
	}
	return b
}
