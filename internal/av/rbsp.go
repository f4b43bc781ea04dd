package av

// H.264 and H.265 forbid the byte patterns 00 00 00/01/02/03 inside a NAL
// unit, because they would look like start codes; encoders insert an
// emulation prevention byte 0x03 after every 00 00 that precedes such a byte.

// UnescapeRBSP removes emulation prevention bytes (the 03 in 00 00 03) and
// returns the raw byte sequence payload. When there is nothing to remove it
// returns b itself, so the common case does not allocate.
func UnescapeRBSP(b []byte) []byte {
	first := findEmulationPrevention(b)
	if first < 0 {
		return b
	}
	out := make([]byte, 0, len(b)-1)
	out = append(out, b[:first]...)
	zeros := 0 // counting restarts after the removed 03
	for _, c := range b[first+1:] {
		if zeros >= 2 && c == 0x03 {
			zeros = 0
			continue
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

// findEmulationPrevention returns the index of the first 03 that follows 00 00, or -1.
func findEmulationPrevention(b []byte) int {
	zeros := 0
	for i, c := range b {
		if zeros >= 2 && c == 0x03 {
			return i
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return -1
}

// AppendEscapedRBSP appends rbsp to dst with emulation prevention bytes
// inserted, so the result is safe inside a NAL unit.
func AppendEscapedRBSP(dst, rbsp []byte) []byte {
	zeros := 0
	for _, c := range rbsp {
		if zeros >= 2 && c <= 0x03 {
			dst = append(dst, 0x03)
			zeros = 0
		}
		dst = append(dst, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	// A NAL unit must not end in 00; the spec appends 03 in that case.
	if zeros > 0 {
		dst = append(dst, 0x03)
	}
	return dst
}
