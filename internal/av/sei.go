package av

import (
	"errors"
	"fmt"
)

// SEIUserDataUnregistered is the SEI payload type of user_data_unregistered
// (H.264 D.1.7, H.265 D.2.7): a 16-byte UUID then free-form bytes.
const SEIUserDataUnregistered = 5

// rbspTrailingByte is rbsp_stop_one_bit plus alignment zeros.
const rbspTrailingByte = 0x80

// SEIMessage is one sei_message of an SEI NAL unit.
type SEIMessage struct {
	Type    int
	Payload []byte
}

// UserDataUnregistered splits a user_data_unregistered payload into its UUID
// and data; ok is false for other payload types or short payloads.
func (m SEIMessage) UserDataUnregistered() (uuid [16]byte, data []byte, ok bool) {
	if m.Type != SEIUserDataUnregistered || len(m.Payload) < len(uuid) {
		return uuid, nil, false
	}
	copy(uuid[:], m.Payload)
	return uuid, m.Payload[len(uuid):], true
}

// seiHeaderSize returns the NAL header size for an SEI of codec, or an error
// when nalu is not an SEI NAL unit of that codec.
func seiHeaderSize(codec Codec, nalu []byte) (int, error) {
	switch codec {
	case CodecH264:
		if t := H264NALUType(nalu); t != H264NALSEI {
			return 0, fmt.Errorf("av: H.264 NAL unit type %d is not SEI", t)
		}
		return 1, nil
	case CodecH265:
		if t := H265NALUType(nalu); len(nalu) < 2 || (t != H265NALPrefixSEI && t != H265NALSuffixSEI) {
			return 0, fmt.Errorf("av: H.265 NAL unit type %d is not SEI", t)
		}
		return 2, nil
	}
	return 0, fmt.Errorf("av: %s has no SEI NAL units", codec)
}

// ParseSEI parses the messages of an SEI NAL unit (header included, emulation
// prevention in place). Payloads alias an unescaped copy, or nalu itself when
// it had nothing to unescape.
func ParseSEI(codec Codec, nalu []byte) ([]SEIMessage, error) {
	hdr, err := seiHeaderSize(codec, nalu)
	if err != nil {
		return nil, err
	}
	b := UnescapeRBSP(nalu[hdr:])
	var msgs []SEIMessage
	for len(b) > 0 && !(len(b) == 1 && b[0] == rbspTrailingByte) {
		typ, n, err := readSEIVarint(b)
		if err != nil {
			return msgs, fmt.Errorf("av: SEI payload type: %w", err)
		}
		b = b[n:]
		size, n, err := readSEIVarint(b)
		if err != nil {
			return msgs, fmt.Errorf("av: SEI payload size: %w", err)
		}
		b = b[n:]
		if size > len(b) {
			return msgs, fmt.Errorf("av: SEI payload type %d has size %d, %d bytes left", typ, size, len(b))
		}
		msgs = append(msgs, SEIMessage{Type: typ, Payload: b[:size]})
		b = b[size:]
	}
	return msgs, nil
}

// readSEIVarint reads the 0xFF-extended numbers SEI uses for type and size.
func readSEIVarint(b []byte) (v, n int, err error) {
	for n < len(b) {
		c := b[n]
		n++
		v += int(c)
		if c != 0xff {
			return v, n, nil
		}
	}
	return 0, 0, errors.New("av: SEI number truncated")
}

// BuildSEIUserData returns an SEI NAL unit (header included, no start code
// or length) holding one user_data_unregistered message, with emulation
// prevention applied. For H.265 it is a prefix SEI of layer 0, temporal id 0.
func BuildSEIUserData(codec Codec, uuid [16]byte, data []byte) ([]byte, error) {
	var nalu []byte
	switch codec {
	case CodecH264:
		nalu = []byte{H264NALSEI}
	case CodecH265:
		nalu = []byte{H265NALPrefixSEI << 1, 0x01}
	default:
		return nil, fmt.Errorf("av: %s has no SEI NAL units", codec)
	}
	size := len(uuid) + len(data)
	rbsp := make([]byte, 0, 2+size/255+size+1)
	rbsp = append(rbsp, SEIUserDataUnregistered)
	for ; size >= 0xff; size -= 0xff {
		rbsp = append(rbsp, 0xff)
	}
	rbsp = append(rbsp, byte(size))
	rbsp = append(rbsp, uuid[:]...)
	rbsp = append(rbsp, data...)
	rbsp = append(rbsp, rbspTrailingByte)
	return AppendEscapedRBSP(nalu, rbsp), nil
}

// FindSEIUserData returns the data of the first user_data_unregistered SEI
// message with the given UUID among a frame's NAL units. Malformed SEI units
// are skipped: a frame stays playable whatever its SEI holds.
func FindSEIUserData(codec Codec, nalus [][]byte, uuid [16]byte) ([]byte, bool) {
	for _, n := range nalus {
		if _, err := seiHeaderSize(codec, n); err != nil {
			continue
		}
		msgs, _ := ParseSEI(codec, n) // keep the messages parsed before any error
		for _, m := range msgs {
			if id, data, ok := m.UserDataUnregistered(); ok && id == uuid {
				return data, true
			}
		}
	}
	return nil, false
}
