package av

import (
	"bytes"
	"errors"
	"fmt"
)

// H.264 NAL unit types (ISO/IEC 14496-10 Table 7-1).
const (
	H264NALSlice = 1
	H264NALIDR   = 5
	H264NALSEI   = 6
	H264NALSPS   = 7
	H264NALPPS   = 8
	H264NALAUD   = 9
)

// H.265 NAL unit types (ITU-T H.265 Table 7-1). Types 16..23 are IRAP
// pictures (BLA, IDR, CRA and reserved IRAP types), where decoding can start.
const (
	H265NALTrailR    = 1
	H265NALBLAWLP    = 16
	H265NALIDRWRADL  = 19
	H265NALIDRNLP    = 20
	H265NALCRA       = 21
	H265NALIRAPLast  = 23
	H265NALVPS       = 32
	H265NALSPS       = 33
	H265NALPPS       = 34
	H265NALAUD       = 35
	H265NALPrefixSEI = 39
	H265NALSuffixSEI = 40
)

// H264NALUType returns the nal_unit_type of an H.264 NAL unit (0 when empty).
func H264NALUType(nalu []byte) uint8 {
	if len(nalu) == 0 {
		return 0
	}
	return nalu[0] & 0x1f
}

// H265NALUType returns the nal_unit_type of an H.265 NAL unit (0 when empty).
func H265NALUType(nalu []byte) uint8 {
	if len(nalu) == 0 {
		return 0
	}
	return (nalu[0] >> 1) & 0x3f
}

// IsKeyframeNALUs reports whether a frame's NAL units hold a picture decoding
// can start from: an IDR slice for H.264, an IRAP picture for H.265.
func IsKeyframeNALUs(codec Codec, nalus [][]byte) bool {
	for _, n := range nalus {
		switch codec {
		case CodecH264:
			if H264NALUType(n) == H264NALIDR {
				return true
			}
		case CodecH265:
			if t := H265NALUType(n); t >= H265NALBLAWLP && t <= H265NALIRAPLast {
				return true
			}
		}
	}
	return false
}

// IsParameterSetNALU reports whether nalu is an SPS or PPS (or VPS for H.265),
// the units a sequence header carries and that some encoders repeat in frames.
func IsParameterSetNALU(codec Codec, nalu []byte) bool {
	switch codec {
	case CodecH264:
		t := H264NALUType(nalu)
		return t == H264NALSPS || t == H264NALPPS
	case CodecH265:
		t := H265NALUType(nalu)
		return t == H265NALVPS || t == H265NALSPS || t == H265NALPPS
	}
	return false
}

// ErrNoStartCode is returned for Annex-B data that does not begin with a start code.
var ErrNoStartCode = errors.New("av: Annex-B data does not start with a start code")

// SplitAVCC splits a frame in AVCC form (each NAL unit preceded by its length
// in lengthSize big-endian bytes, as in RTMP/FLV and MP4) into NAL units that
// alias b. Zero-length units are skipped.
func SplitAVCC(b []byte, lengthSize int) ([][]byte, error) {
	var nalus [][]byte
	err := walkAVCC(b, lengthSize, func(n []byte) { nalus = append(nalus, n) })
	return nalus, err
}

func walkAVCC(b []byte, lengthSize int, fn func([]byte)) error {
	if lengthSize != 1 && lengthSize != 2 && lengthSize != 4 {
		return fmt.Errorf("av: NALU length size %d, want 1, 2 or 4", lengthSize)
	}
	for p := 0; p < len(b); {
		if p+lengthSize > len(b) {
			return fmt.Errorf("av: AVCC frame truncated in a NALU length at offset %d", p)
		}
		n := 0
		for _, c := range b[p : p+lengthSize] {
			n = n<<8 | int(c)
		}
		p += lengthSize
		if n > len(b)-p {
			return fmt.Errorf("av: AVCC NALU at offset %d has length %d, %d bytes left", p, n, len(b)-p)
		}
		if n > 0 {
			fn(b[p : p+n])
		}
		p += n
	}
	return nil
}

var annexBStartCode = []byte{0, 0, 0, 1}

// AVCCToAnnexB appends the NAL units of an AVCC frame to dst, each behind a
// 4-byte start code, as MPEG-TS and RTP depacketizers expect.
func AVCCToAnnexB(dst, avcc []byte, lengthSize int) ([]byte, error) {
	err := walkAVCC(avcc, lengthSize, func(n []byte) {
		dst = append(dst, annexBStartCode...)
		dst = append(dst, n...)
	})
	return dst, err
}

// AppendAVCC appends NAL units to dst in AVCC form with 4-byte lengths, the
// form RTMP/FLV carries; empty units are skipped.
func AppendAVCC(dst []byte, nalus ...[]byte) []byte {
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		l := len(n)
		dst = append(dst, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
		dst = append(dst, n...)
	}
	return dst
}

// SplitAnnexB splits an Annex-B byte stream (NAL units behind 00 00 01 or
// 00 00 00 01 start codes) into NAL units that alias b. Zero bytes that
// trail a unit belong to the next start code or to padding and are dropped,
// as are empty units.
func SplitAnnexB(b []byte) ([][]byte, error) {
	start := bytes.Index(b, annexBStartCode[1:])
	if start < 0 || !allZero(b[:start]) {
		return nil, ErrNoStartCode
	}
	var nalus [][]byte
	p := start + 3
	for p <= len(b) {
		next := bytes.Index(b[p:], annexBStartCode[1:])
		end := len(b)
		if next >= 0 {
			end = p + next
		}
		if n := trimTrailingZeros(b[p:end]); len(n) > 0 {
			nalus = append(nalus, n)
		}
		if next < 0 {
			break
		}
		p = end + 3
	}
	return nalus, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func trimTrailingZeros(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}
