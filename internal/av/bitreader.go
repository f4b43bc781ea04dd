package av

import (
	"errors"
	"fmt"
)

// ErrShortBitstream is returned when a parser needs more bits than the input has.
var ErrShortBitstream = errors.New("av: bitstream too short")

// BitReader reads MSB-first bit fields, as every codec header in this package
// is written. Errors are sticky: after the first failure every read returns
// zero and Err reports the cause, so a parser can read a whole structure and
// check once, and a loop driven by garbage values still ends at the input's end.
type BitReader struct {
	buf []byte
	pos int // in bits
	err error
}

// NewBitReader reads b from its first bit. It does not copy b.
func NewBitReader(b []byte) *BitReader { return &BitReader{buf: b} }

// Err returns the first error met, or nil.
func (r *BitReader) Err() error { return r.err }

// BitsLeft is the number of unread bits (0 after an error).
func (r *BitReader) BitsLeft() int {
	if r.err != nil {
		return 0
	}
	return len(r.buf)*8 - r.pos
}

// BitPos is the number of bits read so far.
func (r *BitReader) BitPos() int { return r.pos }

func (r *BitReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// ReadBits reads n bits (0 ≤ n ≤ 64) as an unsigned big-endian number.
func (r *BitReader) ReadBits(n int) uint64 {
	if r.err != nil {
		return 0
	}
	if n < 0 || n > 64 {
		r.fail(fmt.Errorf("av: cannot read %d bits at once", n))
		return 0
	}
	if n > r.BitsLeft() {
		r.fail(ErrShortBitstream)
		return 0
	}
	var v uint64
	for n > 0 {
		bytePos, bitOff := r.pos>>3, r.pos&7
		avail := 8 - bitOff
		take := min(avail, n)
		chunk := uint64(r.buf[bytePos]>>(avail-take)) & (1<<take - 1)
		v = v<<take | chunk
		r.pos += take
		n -= take
	}
	return v
}

// ReadBit reads one bit.
func (r *BitReader) ReadBit() uint8 { return uint8(r.ReadBits(1)) }

// ReadFlag reads one bit as a boolean.
func (r *BitReader) ReadFlag() bool { return r.ReadBits(1) == 1 }

// ReadU8, ReadU16 and ReadU32 read fixed-width fields.
func (r *BitReader) ReadU8() uint8   { return uint8(r.ReadBits(8)) }
func (r *BitReader) ReadU16() uint16 { return uint16(r.ReadBits(16)) }
func (r *BitReader) ReadU32() uint32 { return uint32(r.ReadBits(32)) }

// Skip discards n bits.
func (r *BitReader) Skip(n int) {
	if r.err != nil {
		return
	}
	if n < 0 || n > r.BitsLeft() {
		r.fail(ErrShortBitstream)
		return
	}
	r.pos += n
}

// ByteAlign skips to the next byte boundary.
func (r *BitReader) ByteAlign() {
	if rem := r.pos & 7; rem != 0 {
		r.Skip(8 - rem)
	}
}

// ReadUE reads an unsigned Exp-Golomb code, ue(v) in H.264/H.265. Codes longer
// than 32 bits cannot be valid there and are rejected rather than overflowing.
func (r *BitReader) ReadUE() uint32 {
	zeros := 0
	for r.err == nil && r.ReadBits(1) == 0 {
		zeros++
		if zeros > 31 {
			r.fail(errors.New("av: exp-golomb code longer than 32 bits"))
			return 0
		}
	}
	suffix := r.ReadBits(zeros)
	if r.err != nil {
		return 0
	}
	return uint32(uint64(1)<<zeros - 1 + suffix)
}

// ReadSE reads a signed Exp-Golomb code, se(v): 0, 1, -1, 2, -2, ...
func (r *BitReader) ReadSE() int32 {
	k := int64(r.ReadUE())
	if k&1 == 1 {
		return int32((k + 1) / 2)
	}
	return int32(-k / 2)
}
