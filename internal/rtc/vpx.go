package rtc

import (
	"bytes"
	"errors"

	"github.com/castd/castd/internal/av"
)

// vpxIngest makes vp08 and vp09 tags. VP8 and VP9 carry no parameter sets:
// each key frame's header gives the VPCodecConfigurationRecord, sent as a
// sequence start when it changes. A VP9 picture of several spatial layers
// becomes one superframe.
type vpxIngest struct {
	codec  av.Codec // VP8 or VP9
	record []byte   // the last sequence start's
}

func (v *vpxIngest) tags(f *videoFrame) (header, frame []byte, ready bool, err error) {
	fourCC, data := fourCCVP8, f.units[0]
	if v.codec == av.CodecVP9 {
		fourCC, data = fourCCVP9, joinVP9Superframe(f.units)
	}
	if f.keyframe {
		var rec []byte
		if rec, err = v.keyframeRecord(data); err == nil && !bytes.Equal(rec, v.record) {
			v.record, header = rec, exSequenceStart(fourCC, rec)
		}
	}
	if v.record == nil {
		return nil, nil, false, err
	}
	return header, exCodedFrame(fourCC, f.keyframe, data), true, err
}

// keyframeRecord is the configuration record a key frame announces.
func (v *vpxIngest) keyframeRecord(data []byte) ([]byte, error) {
	if v.codec == av.CodecVP9 {
		h, err := parseVP9FrameHeader(data)
		if err != nil {
			return nil, err
		}
		return h.config().record(), nil
	}
	k, ok := parseVP8KeyFrame(data)
	if !ok {
		return nil, errors.New("rtc: VP8 key frame header is malformed")
	}
	// VP8 is 8-bit 4:2:0; its version is the profile.
	return vpConfig{profile: k.version, level: vpLevel(k.width, k.height), bitDepth: 8, primaries: 2, transfer: 2, matrix: 2}.record(), nil
}
