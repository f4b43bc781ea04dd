package amf

import (
	"encoding/binary"
	"math"
)

// reader is the cursor and the budgets shared by the AMF0 and AMF3 decoders
// working on one input, so that AMF3 values embedded in AMF0 count against
// the same depth and size limits.
type reader struct {
	b   []byte
	pos int

	depth   int // containers currently open
	deepest int // high-water mark of depth, used to measure referenced values
	// expanded counts the bytes that references would add if written inline.
	expanded int
}

// ref is one entry of a reference table.
type ref struct {
	val     any
	pending bool // still being decoded: a reference to it would be a cycle
	height  int  // container levels the value spans
	cost    int  // bytes the value takes when written inline
}

// span measures a value while it is decoded, for its reference-table entry.
type span struct {
	pos, expanded, depth, savedDeepest int
}

// beginSpan starts measuring a value whose first byte (its marker) is at start.
func (r *reader) beginSpan(start int) span {
	s := span{pos: start, expanded: r.expanded, depth: r.depth, savedDeepest: r.deepest}
	r.deepest = r.depth
	return s
}

// endSpan returns the height and inline cost of the value decoded since s.
func (r *reader) endSpan(s span) (height, cost int) {
	height = r.deepest - s.depth
	cost = (r.pos - s.pos) + (r.expanded - s.expanded)
	r.deepest = max(r.deepest, s.savedDeepest)
	return height, cost
}

// enter opens a container level.
func (r *reader) enter() error {
	if r.depth >= MaxDepth {
		return ErrTooDeep
	}
	r.depth++
	r.deepest = max(r.deepest, r.depth)
	return nil
}

func (r *reader) leave() { r.depth-- }

// expand accounts for a reference to a value of the given height and cost.
func (r *reader) expand(height, cost int) error {
	if r.depth+height > MaxDepth {
		return ErrTooDeep
	}
	r.deepest = max(r.deepest, r.depth+height)
	r.expanded += cost
	if r.expanded > MaxExpandedSize {
		return ErrTooLarge
	}
	return nil
}

func (r *reader) remaining() int { return len(r.b) - r.pos }

func (r *reader) take(n int) ([]byte, bool) {
	if n < 0 || n > r.remaining() {
		return nil, false
	}
	p := r.b[r.pos : r.pos+n]
	r.pos += n
	return p, true
}

func (r *reader) u8() (byte, bool) {
	if r.remaining() < 1 {
		return 0, false
	}
	c := r.b[r.pos]
	r.pos++
	return c, true
}

func (r *reader) u16() (uint16, bool) {
	p, ok := r.take(2)
	if !ok {
		return 0, false
	}
	return binary.BigEndian.Uint16(p), true
}

func (r *reader) u32() (uint32, bool) {
	p, ok := r.take(4)
	if !ok {
		return 0, false
	}
	return binary.BigEndian.Uint32(p), true
}

func (r *reader) f64() (float64, bool) {
	p, ok := r.take(8)
	if !ok {
		return 0, false
	}
	return math.Float64frombits(binary.BigEndian.Uint64(p)), true
}
