package remux

import (
	"fmt"

	"github.com/castd/castd/internal/av"
)

// Access unit delimiters put before every access unit, with 4-byte start
// codes. H.264: nal_unit_type 9, primary_pic_type 7 (any slice type). H.265:
// nal_unit_type 35, nuh_temporal_id_plus1 1, pic_type 2 (I, P or B).
var (
	audH264 = []byte{0, 0, 0, 1, 0x09, 0xf0}
	audH265 = []byte{0, 0, 0, 1, 0x46, 0x01, 0x50}
)

var startCode = []byte{0, 0, 0, 1}

// videoTrack remembers the video sequence header and converts frames from
// AVCC (length-prefixed NAL units) to Annex-B access units.
type videoTrack struct {
	codec      av.Codec // CodecUnknown until a sequence header is seen
	lengthSize int
	params     []byte // VPS/SPS/PPS in Annex-B form, put before keyframes
	config     []byte // the last sequence header body, to spot repeats
	buf        []byte // the converted access unit, reused
}

// setConfig parses an AVC or HEVC decoder configuration record. It reports
// whether the codec changed.
func (v *videoTrack) setConfig(codec av.Codec, record []byte) (bool, error) {
	if codec == v.codec && string(record) == string(v.config) {
		return false, nil
	}
	var lengthSize int
	var sets [][]byte
	switch codec {
	case av.CodecH264:
		c, err := av.ParseAVCConfig(record)
		if err != nil {
			return false, err
		}
		lengthSize = c.NALULengthSize
		sets = append(append(sets, c.SPS...), c.PPS...)
	case av.CodecH265:
		c, err := av.ParseHEVCConfig(record)
		if err != nil {
			return false, err
		}
		lengthSize = c.NALULengthSize
		sets = append(append(append(sets, c.VPS...), c.SPS...), c.PPS...)
	default:
		return false, fmt.Errorf("remux: no configuration record for %s", codec)
	}
	changed := codec != v.codec
	v.codec, v.lengthSize = codec, lengthSize
	v.config = append(v.config[:0], record...)
	v.params = v.params[:0]
	for _, s := range sets {
		v.params = append(append(v.params, startCode...), s...)
	}
	return changed, nil
}

// nalUnitFlags summarises which NAL units a frame carries.
type nalUnitFlags struct {
	vps, sps, pps bool
	units         int
}

// scan checks the AVCC framing of a frame and notes its parameter sets.
func (v *videoTrack) scan(frame []byte) (nalUnitFlags, error) {
	var f nalUnitFlags
	err := walkAVCC(frame, v.lengthSize, func(nalu []byte) {
		f.units++
		if v.codec == av.CodecH264 {
			switch av.H264NALUType(nalu) {
			case av.H264NALSPS:
				f.sps = true
			case av.H264NALPPS:
				f.pps = true
			}
			return
		}
		switch av.H265NALUType(nalu) {
		case av.H265NALVPS:
			f.vps = true
		case av.H265NALSPS:
			f.sps = true
		case av.H265NALPPS:
			f.pps = true
		}
	})
	return f, err
}

func (v *videoTrack) isAUD(nalu []byte) bool {
	if v.codec == av.CodecH264 {
		return av.H264NALUType(nalu) == av.H264NALAUD
	}
	return av.H265NALUType(nalu) == av.H265NALAUD
}

// annexB converts one AVCC frame to an Annex-B access unit: our AUD first
// (the frame's own AUDs are dropped, an AUD must lead), then the parameter
// sets on keyframes that lack them, then the frame's NAL units. The result
// aliases a buffer reused by the next call.
func (v *videoTrack) annexB(frame []byte, keyframe bool) ([]byte, error) {
	f, err := v.scan(frame)
	if err != nil {
		return nil, err
	}
	if f.units == 0 {
		return nil, fmt.Errorf("remux: %s frame of %d bytes holds no NAL unit", v.codec, len(frame))
	}
	out := v.buf[:0]
	if v.codec == av.CodecH264 {
		out = append(out, audH264...)
	} else {
		out = append(out, audH265...)
	}
	if keyframe && !(f.sps && f.pps && (f.vps || v.codec != av.CodecH265)) {
		out = append(out, v.params...)
	}
	// scan validated the framing, so this walk cannot fail.
	_ = walkAVCC(frame, v.lengthSize, func(nalu []byte) {
		if !v.isAUD(nalu) {
			out = append(append(out, startCode...), nalu...)
		}
	})
	v.buf = out
	return out, nil
}

// walkAVCC calls fn for each non-empty NAL unit of an AVCC frame. Unlike
// av.SplitAVCC it allocates nothing, which keeps the per-frame path free
// of garbage.
func walkAVCC(b []byte, lengthSize int, fn func([]byte)) error {
	if lengthSize < 1 || lengthSize > 4 {
		return fmt.Errorf("remux: NAL unit length size %d", lengthSize)
	}
	for p := 0; p < len(b); {
		if len(b)-p < lengthSize {
			return fmt.Errorf("remux: AVCC frame truncated in a NAL unit length at offset %d", p)
		}
		n := 0
		for _, c := range b[p : p+lengthSize] {
			n = n<<8 | int(c)
		}
		p += lengthSize
		if n > len(b)-p {
			return fmt.Errorf("remux: AVCC NAL unit at offset %d has length %d, %d bytes left", p, n, len(b)-p)
		}
		if n > 0 {
			fn(b[p : p+n])
		}
		p += n
	}
	return nil
}
