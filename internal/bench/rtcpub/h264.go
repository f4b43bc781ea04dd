package rtcpub

import (
	"errors"
	"fmt"

	"github.com/castd/castd/internal/av"
)

// ParamSets are a stream's SPS and PPS, from its latest sequence header.
// They alias the header's bytes (the source, which never changes).
type ParamSets struct {
	SPS, PPS [][]byte
}

// Update reads the parameter sets of an AVC sequence header tag body.
func (ps *ParamSets) Update(body []byte, tag av.VideoTag) error {
	if tag.PayloadOffset > len(body) {
		return errors.New("rtcpub: video tag shorter than its header")
	}
	cfg, err := av.ParseAVCConfig(body[tag.PayloadOffset:])
	if err != nil {
		return fmt.Errorf("rtcpub: sequence header: %w", err)
	}
	ps.SPS, ps.PPS = cfg.SPS, cfg.PPS
	return nil
}

// AppendAnnexB appends to dst the access unit of an H.264 frame tag body
// (AVCC NAL units with lengthSize-byte lengths) in Annex-B form, as RTP
// payloaders take it. A keyframe that carries no SPS gets the stream's
// parameter sets first: WebRTC has no out-of-band decoder configuration,
// so receivers need them in band, before every keyframe.
func AppendAnnexB(dst, body []byte, tag av.VideoTag, lengthSize int, ps ParamSets) ([]byte, error) {
	if tag.PayloadOffset > len(body) {
		return dst, errors.New("rtcpub: video tag shorter than its header")
	}
	avcc := body[tag.PayloadOffset:]
	if tag.IsKeyframe() {
		hasSPS, err := carriesSPS(avcc, lengthSize)
		if err != nil {
			return dst, err
		}
		if !hasSPS {
			for _, sets := range [][][]byte{ps.SPS, ps.PPS} {
				for _, nalu := range sets {
					dst = append(dst, 0, 0, 0, 1)
					dst = append(dst, nalu...)
				}
			}
		}
	}
	dst, err := av.AVCCToAnnexB(dst, avcc, lengthSize)
	if err != nil {
		return dst, fmt.Errorf("rtcpub: %w", err)
	}
	return dst, nil
}

// carriesSPS tells whether an AVCC frame holds an SPS NAL unit.
func carriesSPS(avcc []byte, lengthSize int) (bool, error) {
	if lengthSize != 1 && lengthSize != 2 && lengthSize != 4 {
		return false, fmt.Errorf("rtcpub: NALU length size %d, want 1, 2 or 4", lengthSize)
	}
	for p := 0; p+lengthSize <= len(avcc); {
		n := 0
		for _, c := range avcc[p : p+lengthSize] {
			n = n<<8 | int(c)
		}
		p += lengthSize
		if n > len(avcc)-p {
			return false, fmt.Errorf("rtcpub: AVCC NALU at offset %d has length %d, %d bytes left", p, n, len(avcc)-p)
		}
		if n > 0 && av.H264NALUType(avcc[p:p+n]) == av.H264NALSPS {
			return true, nil
		}
		p += n
	}
	return false, nil
}
