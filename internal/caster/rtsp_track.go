package caster

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// rtspTrack is one media section of an ANNOUNCE: how to depacketize it,
// and its transport once SETUP.
type rtspTrack struct {
	media sdpMedia
	codec av.Codec // CodecUnknown: a track the caster accepts and drops
	why   string   // why it is dropped

	// H.264 and H.265: the parameter sets of the SDP (sprop-*), put before
	// the first keyframe when the stream carries none in band.
	paramSets [][]byte
	// AAC
	aac       aacFormat
	aacConfig av.AACConfig

	setup     bool
	transport rtspTransport
	udp       *rtpPortPair // the UDP transport's sockets
}

// newRTSPTrack reads one media section. An error is a section of a codec
// the caster takes whose parameters it cannot use (the ANNOUNCE fails);
// other codecs give a track that is set up and dropped, as encoders set up
// every track they announced.
func newRTSPTrack(m sdpMedia) (*rtspTrack, error) {
	t := &rtspTrack{media: m}
	switch {
	case m.kind == "video" && m.encoding == "H264":
		if mode := m.fmtp["packetization-mode"]; mode != "" && mode != "0" && mode != "1" {
			return nil, fmt.Errorf("H264 packetization-mode %s (interleaved) is not supported", clip(mode))
		}
		sets, err := decodeParameterSets(m.fmtp["sprop-parameter-sets"])
		if err != nil {
			return nil, fmt.Errorf("H264 sprop-parameter-sets: %w", err)
		}
		t.codec, t.paramSets = av.CodecH264, sets
	case m.kind == "video" && m.encoding == "H265":
		if d := m.fmtp["sprop-max-don-diff"]; d != "" && d != "0" {
			return nil, fmt.Errorf("H265 sprop-max-don-diff %s (decoding order numbers) is not supported", clip(d))
		}
		for _, name := range []string{"sprop-vps", "sprop-sps", "sprop-pps"} {
			sets, err := decodeParameterSets(m.fmtp[name])
			if err != nil {
				return nil, fmt.Errorf("H265 %s: %w", name, err)
			}
			t.paramSets = append(t.paramSets, sets...)
		}
		t.codec = av.CodecH265
	case m.kind == "audio" && m.encoding == "MPEG4-GENERIC":
		if err := t.setAAC(m); err != nil {
			return nil, err
		}
	default:
		t.why = fmt.Sprintf("%s %s is not a codec the rtsp caster takes (H264, H265, MPEG4-GENERIC AAC)", m.kind, m.encoding)
		return t, nil
	}
	if m.clockRate < 1000 {
		return nil, fmt.Errorf("%s clock rate %d", m.encoding, m.clockRate)
	}
	return t, nil
}

func (t *rtspTrack) setAAC(m sdpMedia) error {
	if mode := strings.ToLower(m.fmtp["mode"]); mode != "aac-hbr" && mode != "aac-lbr" {
		return fmt.Errorf("MPEG4-GENERIC mode %q: want AAC-hbr or AAC-lbr", clip(m.fmtp["mode"]))
	}
	f, err := parseAACFormat(m.fmtp)
	if err != nil {
		return err
	}
	asc, err := hex.DecodeString(m.fmtp["config"])
	if err != nil || len(asc) == 0 {
		return fmt.Errorf("MPEG4-GENERIC config=%q: want an AudioSpecificConfig in hex", clip(m.fmtp["config"]))
	}
	c, err := av.ParseAudioSpecificConfig(asc)
	if err != nil {
		return fmt.Errorf("MPEG4-GENERIC config: %w", err)
	}
	if c.FrameLength == 0 {
		c.FrameLength = 1024
	}
	t.codec, t.aac, t.aacConfig = av.CodecAAC, f, c
	return nil
}

// decodeParameterSets decodes a comma-separated list of base64 NAL units
// (RFC 6184 8.1, RFC 7798 7.1).
func decodeParameterSets(v string) ([][]byte, error) {
	var out [][]byte
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			// Some encoders leave out the padding.
			if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
				return nil, fmt.Errorf("%q is not base64", clip(s))
			}
		}
		if len(b) > 0 {
			out = append(out, b)
		}
	}
	return out, nil
}

// streamType is the MPEG-TS stream type the track's frames are handed to
// remux.TSToFLV as.
func (t *rtspTrack) streamType() mpegts.StreamType {
	switch t.codec {
	case av.CodecH264:
		return mpegts.StreamTypeH264
	case av.CodecH265:
		return mpegts.StreamTypeH265
	}
	return mpegts.StreamTypeAAC
}

func (t *rtspTrack) String() string {
	s := t.media.kind + " " + t.media.encoding + "/" + strconv.Itoa(t.media.clockRate)
	if t.codec == av.CodecUnknown {
		s += " (dropped)"
	}
	return s
}
