package srt

// Sequence numbers are 31 bits wide and wrap around; message numbers are
// 26 bits. All comparisons go through seqDiff so that wrap-around is handled
// in one place.

const (
	seqMask   = 1<<31 - 1
	msgNoMask = 1<<26 - 1
)

// seqAdd returns s advanced by n (which may be negative).
func seqAdd(s uint32, n int) uint32 { return uint32(int64(s)+int64(n)) & seqMask }

// seqNext returns the sequence number after s.
func seqNext(s uint32) uint32 { return (s + 1) & seqMask }

// seqDiff returns b - a as a signed distance on the 31-bit circle: positive
// when b is after a. Distances are meaningful up to ±2^30.
func seqDiff(a, b uint32) int32 { return int32((b-a)<<1) >> 1 }

// seqLess reports whether a comes before b.
func seqLess(a, b uint32) bool { return seqDiff(a, b) > 0 }

// msgNoNext returns the message number after m; 0 is never used.
func msgNoNext(m uint32) uint32 {
	m = (m + 1) & msgNoMask
	if m == 0 {
		m = 1
	}
	return m
}
