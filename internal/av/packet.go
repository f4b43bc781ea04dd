// Package av is castd's media vocabulary: the Packet that flows through the hub
// and the codec facts parsed from it. It knows nothing of networking or config.
package av

import "fmt"

// Kind is what a packet carries. The values are the RTMP message type ids, so
// RTMP and FLV egress can use them on the wire unchanged.
type Kind uint8

const (
	KindAudio Kind = 8
	KindVideo Kind = 9
	KindData  Kind = 18 // AMF0 script data, e.g. onMetaData
)

func (k Kind) String() string {
	switch k {
	case KindAudio:
		return "audio"
	case KindVideo:
		return "video"
	case KindData:
		return "data"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Codec names a video or audio codec. Video codecs keep their FLV codec ids
// (7 AVC, 12 HEVC, 13 AV1), as SRS does; the others are castd's own.
type Codec uint8

const (
	CodecUnknown Codec = 0
	// Video.
	CodecH264 Codec = 7
	CodecH265 Codec = 12
	CodecAV1  Codec = 13
	CodecVP9  Codec = 14
	CodecVP8  Codec = 15
	// Audio.
	CodecAAC   Codec = 100
	CodecMP3   Codec = 101
	CodecOpus  Codec = 102
	CodecOther Codec = 255 // a codec we carry but do not interpret (Speex, PCM, VP6...)
)

// String returns the codec name as SRS's API reports it.
func (c Codec) String() string {
	switch c {
	case CodecH264:
		return "H264"
	case CodecH265:
		return "H265"
	case CodecAV1:
		return "AV1"
	case CodecVP9:
		return "VP9"
	case CodecVP8:
		return "VP8"
	case CodecAAC:
		return "AAC"
	case CodecMP3:
		return "MP3"
	case CodecOpus:
		return "Opus"
	case CodecUnknown:
		return "Unknown"
	}
	return "Other"
}

// IsVideo reports whether c is a video codec castd can cache GOPs for.
func (c Codec) IsVideo() bool {
	return c == CodecH264 || c == CodecH265 || c == CodecAV1 || c == CodecVP9 || c == CodecVP8
}

// Packet is one media message. Its payload is the RTMP message body, which is
// also the FLV tag body: the two largest fan-outs (RTMP and HTTP-FLV viewers)
// write it unchanged. A Packet is immutable once it is handed to the hub, so
// every viewer can share it without copying or locking.
type Packet struct {
	Kind      Kind
	Timestamp uint32 // DTS in milliseconds, masked to 31 bits as SRS does
	Codec     Codec  // parsed from the payload's tag header; CodecUnknown for data

	// Keyframe is set on video frames that start a GOP (and on their sequence headers).
	Keyframe bool
	// SequenceHeader is set on AVC/HEVC/AV1 decoder configuration records and
	// AAC AudioSpecificConfig packets, which players need before any frame.
	SequenceHeader bool

	Payload []byte
}

// TimestampMask keeps RTMP timestamps in 31 bits (SRS: `& 0x7fffffff`), so a
// long stream never shows a negative time to players that read it as signed.
const TimestampMask = 0x7fffffff

// NewPacket classifies an RTMP/FLV message body and returns the packet. Video
// and audio bodies that are too short to carry a tag header are rejected; the
// payload is kept by reference, so the caller must not modify it afterwards.
func NewPacket(kind Kind, timestamp uint32, payload []byte) (*Packet, error) {
	p := &Packet{Kind: kind, Timestamp: timestamp & TimestampMask, Payload: payload}
	var err error
	switch kind {
	case KindVideo:
		err = p.classifyVideo()
	case KindAudio:
		err = p.classifyAudio()
	case KindData:
	default:
		err = fmt.Errorf("av: unsupported message kind %d", kind)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// IsAudio, IsVideo and IsData make call sites read naturally.
func (p *Packet) IsAudio() bool { return p.Kind == KindAudio }
func (p *Packet) IsVideo() bool { return p.Kind == KindVideo }
func (p *Packet) IsData() bool  { return p.Kind == KindData }
