package rtc

import (
	"fmt"
	"strings"

	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/av"
)

// videoCodec is what castd knows of one video codec over WebRTC: its
// names in SDP and in pion, the formats it registers, and how its frames
// go from RTP to the hub (a payload format and an ingest) and back (a
// packetizer).
type videoCodec struct {
	codec   av.Codec
	sdpName string // the rtpmap encoding name
	mime    string // pion's MIME type
	// fmtps are the formats castd registers, one payload type each (the
	// answer uses the offer's numbers).
	fmtps []string
	pt    webrtc.PayloadType // the first registered payload type
	// track is the codec of a player's track for this codec.
	track         webrtc.RTPCodecCapability
	newFormat     func() payloadFormat
	newIngest     func() videoIngest
	newPacketizer func(o packetizerOptions) videoPacketizer
}

// packetizerOptions are the settings that shape a stream's RTP packets:
// SEI and B-frames (H.264), small NAL units aggregated (H.264, H.265).
type packetizerOptions struct {
	keepSEI, keepBFrames, merge bool
	bframes                     *int64 // counts B-frames dropped
}

// videoIngest turns a publisher's frames of one codec into FLV video tag
// bodies for the hub. It is owned by the track's reader.
type videoIngest interface {
	// tags returns the bodies for one frame: a sequence header when the
	// frame brings new parameters (nil otherwise), and the frame itself
	// (nil when nothing is left of it, e.g. parameter sets alone). ready is
	// false while no sequence header could be made: players could decode
	// nothing. err reports parameters that cannot be used.
	tags(f *videoFrame) (header, frame []byte, ready bool, err error)
}

// videoPacketizer makes the RTP payloads of one codec's FLV video tags,
// once per stream for every player. The relay owns it, under its lock.
type videoPacketizer interface {
	// sequenceHeader keeps what later frames need from a sequence
	// header's body (parameter sets, a sequence header OBU).
	sequenceHeader(body []byte)
	// frame appends the RTP payloads of one frame's tag body (after the
	// tag header). keyframe is the tag's frame type; the packetizer may
	// also find one in the bitstream. send is false for a frame players
	// must not get.
	frame(dst [][]byte, body []byte, keyframe bool) (out [][]byte, key, send bool)
}

// videoCodecs are the video codecs castd speaks over WebRTC, in the order
// it prefers them when a client does not choose (?codec=): H.264 plays
// everywhere, then the more efficient ones, VP8 last.
var videoCodecs = []videoCodec{
	{
		codec: av.CodecH264, sdpName: "H264", mime: webrtc.MimeTypeH264, pt: ptH264,
		fmtps: h264Fmtps(), track: h264Codec,
		newFormat:     func() payloadFormat { return &h264Format{} },
		newIngest:     func() videoIngest { return &h264Ingest{} },
		newPacketizer: func(o packetizerOptions) videoPacketizer { return newH264Packetizer(o) },
	},
	{
		codec: av.CodecH265, sdpName: "H265", mime: webrtc.MimeTypeH265, pt: ptH265,
		// profile-id 1 is Main, 2 Main 10 (RFC 7798 7.1).
		fmtps:         []string{"level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST", "level-id=93;profile-id=2;tier-flag=0;tx-mode=SRST"},
		track:         webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH265, ClockRate: 90000, SDPFmtpLine: "profile-id=1"},
		newFormat:     func() payloadFormat { return &h265Format{} },
		newIngest:     func() videoIngest { return &h265Ingest{} },
		newPacketizer: func(o packetizerOptions) videoPacketizer { return &h265Packetizer{merge: o.merge, lengthSize: 4} },
	},
	{
		codec: av.CodecAV1, sdpName: "AV1", mime: webrtc.MimeTypeAV1, pt: ptAV1,
		fmtps:         []string{""}, // profile 0 (Main), what browsers encode
		track:         webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1, ClockRate: 90000},
		newFormat:     func() payloadFormat { return &av1Format{} },
		newIngest:     func() videoIngest { return &av1Ingest{} },
		newPacketizer: func(packetizerOptions) videoPacketizer { return &av1Packetizer{} },
	},
	{
		codec: av.CodecVP9, sdpName: "VP9", mime: webrtc.MimeTypeVP9, pt: ptVP9,
		fmtps:         []string{"profile-id=0", "profile-id=2"}, // 8-bit 4:2:0, and 10 or 12 bits
		track:         webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000, SDPFmtpLine: "profile-id=0"},
		newFormat:     func() payloadFormat { return &vp9Format{} },
		newIngest:     func() videoIngest { return &vpxIngest{codec: av.CodecVP9} },
		newPacketizer: func(packetizerOptions) videoPacketizer { return &vp9Packetizer{} },
	},
	{
		codec: av.CodecVP8, sdpName: "VP8", mime: webrtc.MimeTypeVP8, pt: ptVP8,
		fmtps:         []string{""},
		track:         webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		newFormat:     func() payloadFormat { return &vp8Format{} },
		newIngest:     func() videoIngest { return &vpxIngest{codec: av.CodecVP8} },
		newPacketizer: func(packetizerOptions) videoPacketizer { return &vp8Packetizer{} },
	},
}

// videoCodecOf returns castd's entry for a codec.
func videoCodecOf(c av.Codec) (*videoCodec, bool) {
	for i := range videoCodecs {
		if videoCodecs[i].codec == c {
			return &videoCodecs[i], true
		}
	}
	return nil, false
}

// videoCodecOfMime returns castd's entry for a pion MIME type.
func videoCodecOfMime(mime string) (*videoCodec, bool) {
	for i := range videoCodecs {
		if strings.EqualFold(videoCodecs[i].mime, mime) {
			return &videoCodecs[i], true
		}
	}
	return nil, false
}

// videoCodecNames lists the codecs for messages: "H.264, H.265, AV1, VP9, VP8".
func videoCodecNames(cs []av.Codec) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = codecName(c)
	}
	return strings.Join(names, ", ")
}

// codecName is a codec as people write it.
func codecName(c av.Codec) string {
	switch c {
	case av.CodecH264:
		return "H.264"
	case av.CodecH265:
		return "H.265"
	}
	return c.String()
}

// allVideoCodecs is every codec castd speaks, in its order of preference.
func allVideoCodecs() []av.Codec {
	out := make([]av.Codec, len(videoCodecs))
	for i, vc := range videoCodecs {
		out[i] = vc.codec
	}
	return out
}

// parseCodecParam reads SRS's codec query parameter. It names the video
// codec the client wants: h264 or avc, h265 or hevc, av1, vp9, vp8. opus,
// the only audio codec, and "" leave the choice to castd.
func parseCodecParam(s string) (av.Codec, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "opus":
		return av.CodecUnknown, nil
	case "h264", "avc":
		return av.CodecH264, nil
	case "h265", "hevc":
		return av.CodecH265, nil
	case "av1":
		return av.CodecAV1, nil
	case "vp9":
		return av.CodecVP9, nil
	case "vp8":
		return av.CodecVP8, nil
	}
	return av.CodecUnknown, fmt.Errorf("rtc: codec %q is not supported; castd speaks %s (h264, hevc, av1, vp9, vp8) and Opus",
		s, videoCodecNames(allVideoCodecs()))
}

// chooseVideoCodec picks the codec of an offer's video: the one asked for
// (which the offer must have), else the first of castd's order the offer
// has.
func chooseVideoCodec(offered []av.Codec, asked av.Codec) (av.Codec, error) {
	has := func(c av.Codec) bool {
		for _, o := range offered {
			if o == c {
				return true
			}
		}
		return false
	}
	if asked != av.CodecUnknown {
		if !has(asked) {
			return av.CodecUnknown, fmt.Errorf("rtc: codec=%s was asked but the SDP offer has no %s (it offers %s)",
				strings.ToLower(asked.String()), codecName(asked), videoCodecNames(offered))
		}
		return asked, nil
	}
	for _, vc := range videoCodecs {
		if has(vc.codec) {
			return vc.codec, nil
		}
	}
	return av.CodecUnknown, fmt.Errorf("rtc: the SDP offer has none of the video codecs castd speaks (%s)", videoCodecNames(allVideoCodecs()))
}

// preferVideoCodec keeps only codec's formats in the answer's video
// sections, so the client sends (or expects) exactly that codec. Call it
// after the offer is applied and before the answer is made; the payload
// types stay the offer's.
func preferVideoCodec(pc *webrtc.PeerConnection, codec av.Codec) error {
	vc, ok := videoCodecOf(codec)
	if !ok {
		return fmt.Errorf("rtc: %s is not a WebRTC video codec castd speaks", codecName(codec))
	}
	for _, tr := range pc.GetTransceivers() {
		if tr.Kind() != webrtc.RTPCodecTypeVideo || tr.Receiver() == nil {
			continue
		}
		var keep []webrtc.RTPCodecParameters
		for _, c := range tr.Receiver().GetParameters().Codecs {
			if strings.EqualFold(c.MimeType, vc.mime) {
				keep = append(keep, c)
			}
		}
		if len(keep) == 0 {
			return fmt.Errorf("rtc: the SDP offer's %s formats are not ones castd accepts", codecName(codec))
		}
		if err := tr.SetCodecPreferences(keep); err != nil {
			return fmt.Errorf("rtc: keep %s in the answer: %w", codecName(codec), err)
		}
	}
	return nil
}
