package tsscan

import (
	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// PSI table ids (ISO/IEC 13818-1 Table 2-31).
const (
	tablePAT = 0x00
	tablePMT = 0x02
)

// readPAT takes the PMT PID of the PAT's first program. A new PMT PID
// forgets the streams of the old one.
func (s *Scanner) readPAT(payload []byte) {
	sec, ok := section(payload, tablePAT)
	if !ok {
		return
	}
	for i := 8; i+4 <= len(sec)-4; i += 4 {
		program := uint16(sec[i])<<8 | uint16(sec[i+1])
		pid := uint16(sec[i+2]&0x1f)<<8 | uint16(sec[i+3])
		if program == 0 {
			continue // the network PID
		}
		if !s.hasPMT || pid != s.pmtPID {
			s.hasPMT, s.pmtPID, s.nstream = true, pid, 0
		}
		return
	}
}

// readPMT takes the audio and video streams of the PMT, the first
// MaxStreams of them. Streams that stay keep their state (and buffers).
func (s *Scanner) readPMT(payload []byte) {
	sec, ok := section(payload, tablePMT)
	if !ok || len(sec) < 16 {
		return
	}
	var found [MaxStreams]struct {
		pid uint16
		typ mpegts.StreamType
	}
	n := 0
	end := len(sec) - 4
	for i := 12 + (int(sec[10]&0x0f)<<8 | int(sec[11])); i+5 <= end && n < MaxStreams; {
		typ := mpegts.StreamType(sec[i])
		pid := uint16(sec[i+1]&0x1f)<<8 | uint16(sec[i+2])
		i += 5 + (int(sec[i+3]&0x0f)<<8 | int(sec[i+4]))
		if typ.IsVideo() || typ.IsAudio() {
			found[n].pid, found[n].typ = pid, typ
			n++
		}
	}
	same := n == s.nstream
	for i := range found[:n] {
		same = same && s.streams[i].pid == found[i].pid && s.streams[i].typ == found[i].typ
	}
	if same {
		return
	}
	for i, f := range found[:n] {
		st := &s.streams[i]
		st.pid, st.typ, st.kind, st.codec = f.pid, f.typ, KindAudio, codecOf(f.typ)
		if f.typ.IsVideo() {
			st.kind = KindVideo
		}
		st.reset()
		st.lastCC = -1
	}
	s.nstream = n
}

func codecOf(t mpegts.StreamType) av.Codec {
	switch t {
	case mpegts.StreamTypeH264:
		return av.CodecH264
	case mpegts.StreamTypeH265:
		return av.CodecH265
	case mpegts.StreamTypeAAC, mpegts.StreamTypeAACLATM:
		return av.CodecAAC
	case mpegts.StreamTypeMPEG1Audio, mpegts.StreamTypeMPEG2Audio:
		return av.CodecMP3
	}
	return av.CodecOther
}

// section returns the PSI section with tableID that starts in a payload
// (after its pointer_field), CRC checked. Sections that continue in the
// next packet are not read: a PAT, and the PMT of a few streams, always
// fit in one.
func section(payload []byte, tableID byte) ([]byte, bool) {
	if len(payload) == 0 {
		return nil, false
	}
	b := payload[1:]
	if int(payload[0]) > len(b) {
		return nil, false
	}
	b = b[payload[0]:]
	if len(b) < 3 || b[0] != tableID || b[1]&0x80 == 0 {
		return nil, false
	}
	length := int(b[1]&0x0f)<<8 | int(b[2])
	if length < 9 || 3+length > len(b) {
		return nil, false
	}
	sec := b[:3+length]
	if crc32MPEG2(sec) != 0 || sec[5]&1 == 0 { // bad CRC, or not current yet
		return nil, false
	}
	return sec, true
}

// crc32MPEG2 is the CRC of PSI sections (ISO/IEC 13818-1 Annex A):
// polynomial 0x04c11db7, initial value all ones, no reflection; it is 0
// over a whole section, CRC included. Sections are a few dozen bytes, so a
// bitwise loop costs less than a table.
func crc32MPEG2(b []byte) uint32 {
	crc := uint32(0xffffffff)
	for _, c := range b {
		crc ^= uint32(c) << 24
		for range 8 {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
