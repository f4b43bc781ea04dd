package mp4

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"

	"github.com/castd/castd/internal/av"
)

// CodecString returns the RFC 6381 codecs parameter for the track, as DASH
// manifests (@codecs), HLS playlists (CODECS) and MSE's addSourceBuffer want
// it: avc1.64001F, hvc1.1.6.L93.B0, av01.0.04M.08, mp4a.40.2 or mp4a.6B.
func (t *Track) CodecString() (string, error) {
	c := t.Config
	switch t.Codec {
	case av.CodecH264:
		// ISO/IEC 14496-15 Annex E: profile, constraint flags and level bytes.
		if len(c) < 4 {
			return "", fmt.Errorf("mp4: avcC of %d bytes has no profile", len(c))
		}
		return fmt.Sprintf("avc1.%02X%02X%02X", c[1], c[2], c[3]), nil
	case av.CodecH265:
		return hevcCodecString(c)
	case av.CodecAV1:
		cfg, err := av.ParseAV1Config(c)
		if err != nil {
			return "", fmt.Errorf("mp4: codec string: %w", err)
		}
		tier := "M"
		if cfg.Tier == 1 {
			tier = "H"
		}
		return fmt.Sprintf("av01.%d.%02d%s.%02d", cfg.Profile, cfg.Level, tier, cfg.BitDepth), nil
	case av.CodecAAC:
		asc, err := av.ParseAudioSpecificConfig(c)
		if err != nil {
			return "", fmt.Errorf("mp4: codec string: %w", err)
		}
		return fmt.Sprintf("mp4a.40.%d", asc.ObjectType), nil
	case av.CodecMP3:
		return fmt.Sprintf("mp4a.%02X", mp3ObjectType(t.SampleRate)), nil
	}
	return "", fmt.Errorf("%w: %s", ErrUnsupportedCodec, t.Codec)
}

// hevcCodecString follows ISO/IEC 14496-15 E.3: profile space and profile,
// the compatibility flags bit-reversed in hex, tier and level, then the
// constraint bytes with trailing zero bytes left out.
func hevcCodecString(c []byte) (string, error) {
	if len(c) < 13 {
		return "", fmt.Errorf("mp4: hvcC of %d bytes has no profile", len(c))
	}
	var sb strings.Builder
	sb.WriteString("hvc1.")
	if space := c[1] >> 6; space > 0 {
		sb.WriteByte('A' + space - 1)
	}
	fmt.Fprintf(&sb, "%d.%X.", c[1]&0x1f, bits.Reverse32(binary.BigEndian.Uint32(c[2:6])))
	if c[1]&0x20 != 0 {
		sb.WriteByte('H')
	} else {
		sb.WriteByte('L')
	}
	fmt.Fprintf(&sb, "%d", c[12])
	constraints := c[6:12]
	for len(constraints) > 0 && constraints[len(constraints)-1] == 0 {
		constraints = constraints[:len(constraints)-1]
	}
	for _, b := range constraints {
		fmt.Fprintf(&sb, ".%X", b)
	}
	return sb.String(), nil
}

// mp3ObjectType is the MPEG-4 objectTypeIndication for MPEG audio: 0x6B for
// the MPEG-1 rates (ISO/IEC 11172-3), 0x69 for the lower MPEG-2 rates
// (ISO/IEC 13818-3), as ffmpeg and Shaka Packager write them.
func mp3ObjectType(sampleRate int) uint8 {
	if sampleRate < 32000 {
		return 0x69
	}
	return 0x6B
}
