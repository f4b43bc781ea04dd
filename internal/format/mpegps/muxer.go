package mpegps

import "encoding/binary"

// MuxStream is one elementary stream a Muxer writes.
type MuxStream struct {
	ID   uint8 // StreamIDVideo, StreamIDAudio...
	Type StreamType
}

// maxPESPayload fills PES_packet_length with a PTS and a DTS in the header.
const maxPESPayload = 0xffff - 3 - 10

// muxRate is the program_mux_rate written, in units of 50 bytes/s: a
// device's figure, which demuxers do not use.
const muxRate = 0x3fff

// Muxer writes frames as a GB28181 device does: one pack per frame, the
// system header and PSM before keyframes, the frame split into PES packets
// of at most 64 KiB of which only the first carries the timestamps.
type Muxer struct {
	streams []MuxStream
}

// NewMuxer returns a muxer for the given streams.
func NewMuxer(streams ...MuxStream) *Muxer { return &Muxer{streams: streams} }

// AppendFrame appends a pack holding f to dst: pack header, then, when
// withHeaders is set, the system header and the PSM, then f's PES packets.
func (m *Muxer) AppendFrame(dst []byte, f Frame, withHeaders bool) []byte {
	scr := f.DTS
	if !f.HasDTS {
		scr = f.PTS
	}
	dst = appendPackHeader(dst, scr)
	if withHeaders {
		dst = m.appendSystemHeader(dst)
		dst = m.appendPSM(dst)
	}
	data := f.Data
	first := true
	for first || len(data) > 0 {
		n := min(len(data), maxPESPayload)
		dst = appendPES(dst, f, first, data[:n])
		data, first = data[n:], false
	}
	return dst
}

// AppendEnd appends the MPEG_program_end_code.
func (m *Muxer) AppendEnd(dst []byte) []byte { return append(dst, 0, 0, 1, codeEnd) }

func appendPackHeader(dst []byte, scr int64) []byte {
	v := uint64(scr) & timestampMask
	return append(dst, 0, 0, 1, codePack,
		0x40|byte(v>>27)&0x38|0x04|byte(v>>28)&0x03,
		byte(v>>20),
		byte(v>>12)&0xf8|0x04|byte(v>>13)&0x03,
		byte(v>>5),
		byte(v<<3)&0xf8|0x04, // SCR extension 0
		0x01,
		byte(muxRate>>14), byte(muxRate>>6), byte(muxRate<<2&0xfc)|0x03,
		0xf8) // no stuffing
}

func (m *Muxer) appendSystemHeader(dst []byte) []byte {
	var audio, video byte
	for _, s := range m.streams {
		if IsVideoID(s.ID) {
			video++
		} else {
			audio++
		}
	}
	body := []byte{
		0x80 | byte(muxRate>>15), byte(muxRate >> 7), byte(muxRate<<1&0xfe) | 0x01,
		audio << 2, 0xe0 | video, 0x7f,
	}
	for _, s := range m.streams {
		// P-STD buffer bound: 400 KiB for video (scale 1024), 4 KiB for audio.
		if IsVideoID(s.ID) {
			body = append(body, s.ID, 0xe0|400>>8, 400&0xff)
		} else {
			body = append(body, s.ID, 0xc0|32>>8, 32&0xff)
		}
	}
	dst = append(dst, 0, 0, 1, codeSystemHeader, byte(len(body)>>8), byte(len(body)))
	return append(dst, body...)
}

func (m *Muxer) appendPSM(dst []byte) []byte {
	start := len(dst)
	esLen := 4 * len(m.streams)
	length := 2 + 2 + 2 + esLen + 4
	dst = append(dst, 0, 0, 1, codePSM, byte(length>>8), byte(length),
		0xe0, 0xff, // current, version 0, marker
		0, 0, // program_stream_info_length
		byte(esLen>>8), byte(esLen))
	for _, s := range m.streams {
		dst = append(dst, byte(s.Type), s.ID, 0, 0)
	}
	return binary.BigEndian.AppendUint32(dst, crc32MPEG(dst[start:]))
}

// appendPES appends one PES packet; the first of a frame has its timestamps.
func appendPES(dst []byte, f Frame, first bool, payload []byte) []byte {
	var hdr [13]byte
	hdr[0] = 0x80 // '10', no scrambling
	n := 3
	if first {
		if f.HasDTS && f.DTS != f.PTS {
			hdr[1], hdr[2] = 0xc0, 10
			putTimestamp(hdr[3:], 0x3, f.PTS)
			putTimestamp(hdr[8:], 0x1, f.DTS)
			n += 10
		} else {
			hdr[1], hdr[2] = 0x80, 5
			putTimestamp(hdr[3:], 0x2, f.PTS)
			n += 5
		}
	}
	length := n + len(payload)
	dst = append(dst, 0, 0, 1, f.StreamID, byte(length>>8), byte(length))
	dst = append(dst, hdr[:n]...)
	return append(dst, payload...)
}

// crc32MPEG is the CRC of MPEG-2 sections (polynomial 0x04C11DB7, no
// reflection, initial value all ones).
func crc32MPEG(b []byte) uint32 {
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
