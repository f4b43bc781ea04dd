package mpegts

// crc32MPEG2 is the CRC of PSI sections (ISO/IEC 13818-1 Annex A): polynomial
// 0x04c11db7, initial value 0xffffffff, no bit reflection, no final XOR; the
// CRC over a whole section including its CRC_32 field is 0. Sections are a
// few dozen bytes, so the bitwise loop costs less than building a table.
func crc32MPEG2(b []byte) uint32 {
	crc := uint32(0xffffffff)
	for _, c := range b {
		crc ^= uint32(c) << 24
		for i := 0; i < 8; i++ {
			if crc&0x80000000 != 0 {
				crc = crc<<1 ^ 0x04c11db7
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
