package mpegts

import "slices"

// Adaptation field flags (2.4.3.4).
const (
	afRandomAccess = 0x40
	afPCR          = 0x10
	pcrSize        = 6
)

// Adaptation field control values of the packet header.
const (
	afcPayload         = 0x1
	afcAdaptation      = 0x2
	afcBoth            = 0x3
	pusiBit       byte = 0x40
)

// nextPacket extends dst by one packet and returns the new slice and the packet.
func nextPacket(dst []byte) ([]byte, []byte) {
	n := len(dst)
	dst = slices.Grow(dst, PacketSize)[:n+PacketSize]
	return dst, dst[n:]
}

func putPacketHeader(pkt []byte, pid uint16, start bool, afc byte, cc *uint8) {
	pkt[0] = SyncByte
	pkt[1] = byte(pid>>8) & 0x1f
	if start {
		pkt[1] |= pusiBit
	}
	pkt[2] = byte(pid)
	pkt[3] = afc<<4 | *cc&0x0f
	*cc = (*cc + 1) & 0x0f
}

// appendSectionPackets appends a PSI section behind a zero pointer_field,
// split across as many packets as it needs; the last is padded with 0xff,
// which ends the sections of a packet.
func appendSectionPackets(dst []byte, pid uint16, cc *uint8, section []byte) []byte {
	first := true
	for len(section) > 0 || first {
		var pkt []byte
		dst, pkt = nextPacket(dst)
		putPacketHeader(pkt, pid, first, afcPayload, cc)
		p := headerSize
		if first {
			pkt[p] = 0 // pointer_field: the section starts right after it
			p++
			first = false
		}
		n := copy(pkt[p:], section)
		section = section[n:]
		for i := p + n; i < PacketSize; i++ {
			pkt[i] = 0xff
		}
	}
	return dst
}

// appendPESPackets appends the PES packet hdr+data. pcr < 0 means no PCR.
func appendPESPackets(dst []byte, pid uint16, cc *uint8, hdr, data []byte, pcr int64, randomAccess bool) []byte {
	total := len(hdr) + len(data)
	dst = slices.Grow(dst, (total+pcrSize+2+maxPayload-1)/maxPayload*PacketSize)
	written := 0
	for written < total {
		var pkt []byte
		dst, pkt = nextPacket(dst)
		first := written == 0

		var flags byte
		if first && randomAccess {
			flags |= afRandomAccess
		}
		if first && pcr >= 0 {
			flags |= afPCR
		}
		afLen := 0 // adaptation field bytes, its length byte included
		if flags != 0 {
			afLen = 2
			if flags&afPCR != 0 {
				afLen += pcrSize
			}
		}
		n := min(total-written, maxPayload-afLen)
		if stuff := maxPayload - afLen - n; stuff > 0 {
			// The last packet is short: stuff its adaptation field, which
			// may need to be created (a lone length byte when one is missing).
			if afLen == 0 {
				afLen = 1
				stuff--
				if stuff > 0 {
					afLen++
					stuff--
				}
			}
			afLen += stuff
		}

		afc := byte(afcPayload)
		if afLen > 0 {
			afc = afcBoth
		}
		putPacketHeader(pkt, pid, first, afc, cc)
		p := headerSize
		if afLen > 0 {
			pkt[p] = byte(afLen - 1)
			if afLen > 1 {
				pkt[p+1] = flags
				q := p + 2
				if flags&afPCR != 0 {
					putPCR(pkt[q:], pcr)
					q += pcrSize
				}
				for ; q < p+afLen; q++ {
					pkt[q] = 0xff
				}
			}
			p += afLen
		}
		copyAt(pkt[p:p+n], hdr, data, written)
		written += n
	}
	return dst
}

// copyAt fills dst from the concatenation a+b, starting at offset off.
func copyAt(dst, a, b []byte, off int) {
	if off < len(a) {
		n := copy(dst, a[off:])
		dst = dst[n:]
		off = 0
	} else {
		off -= len(a)
	}
	copy(dst, b[off:])
}

// putPCR writes a program_clock_reference: a 33-bit base at 90 kHz, six
// reserved bits, and a zero 9-bit extension.
func putPCR(b []byte, base int64) {
	v := uint64(base) & timestampMask
	b[0] = byte(v >> 25)
	b[1] = byte(v >> 17)
	b[2] = byte(v >> 9)
	b[3] = byte(v >> 1)
	b[4] = byte(v<<7) | 0x7e
	b[5] = 0
}

// readPCR returns the 90 kHz base of a program_clock_reference.
func readPCR(b []byte) int64 {
	return int64(b[0])<<25 | int64(b[1])<<17 | int64(b[2])<<9 | int64(b[3])<<1 | int64(b[4]>>7)
}
