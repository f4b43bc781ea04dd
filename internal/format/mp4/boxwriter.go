package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// BoxWriter appends nested boxes to a byte slice. Begin writes a header with
// a placeholder size and End back-patches it, so a box's size never has to be
// computed in advance. Errors (a bad box type, unbalanced End, a box past
// 4 GiB) are sticky and reported by Err and Bytes' callers; the methods
// themselves never panic.
//
// The zero value is ready to use; Reset reuses the buffer.
type BoxWriter struct {
	buf   []byte
	open  [maxWriterDepth]int // start offsets of the boxes begun and not yet ended
	depth int
	err   error
}

// maxWriterDepth bounds nesting; MP4 nests about 8 deep. A fixed array
// keeps a BoxWriter on the stack and its use free of allocations.
const maxWriterDepth = 24

// NewBoxWriter returns a writer that appends to dst (which may be nil).
func NewBoxWriter(dst []byte) *BoxWriter { return &BoxWriter{buf: dst} }

// Bytes returns everything written so far, including dst's original bytes.
func (w *BoxWriter) Bytes() []byte { return w.buf }

// Len is the length of Bytes.
func (w *BoxWriter) Len() int { return len(w.buf) }

// Err reports the first error, or unbalanced boxes.
func (w *BoxWriter) Err() error {
	if w.err == nil && w.depth > 0 {
		return fmt.Errorf("mp4: %d boxes begun and not ended", w.depth)
	}
	return w.err
}

// Reset empties the writer, keeping its buffer.
func (w *BoxWriter) Reset() {
	w.buf, w.depth, w.err = w.buf[:0], 0, nil
}

func (w *BoxWriter) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// Begin opens a box: a 32-bit size placeholder and the type.
func (w *BoxWriter) Begin(typ string) {
	if len(typ) != 4 {
		w.fail(fmt.Errorf("mp4: box type %q is not four characters", typ))
		typ = "????"
	}
	if w.depth == maxWriterDepth {
		w.fail(fmt.Errorf("mp4: boxes nested more than %d deep", maxWriterDepth))
	} else {
		w.open[w.depth] = len(w.buf)
		w.depth++
	}
	w.buf = append(w.buf, 0, 0, 0, 0)
	w.buf = append(w.buf, typ...)
}

// BeginFull opens a full box: Begin, then the version byte and 24 bits of flags.
func (w *BoxWriter) BeginFull(typ string, version uint8, flags uint32) {
	w.Begin(typ)
	w.U32(uint32(version)<<24 | flags&0xffffff)
}

// End closes the innermost open box and writes its size.
func (w *BoxWriter) End() {
	if w.depth == 0 {
		w.fail(errors.New("mp4: End without Begin"))
		return
	}
	w.depth--
	start := w.open[w.depth]
	size := len(w.buf) - start
	if uint64(size) > math.MaxUint32 {
		w.fail(fmt.Errorf("mp4: box %q of %d bytes needs a 64-bit size; use BeginLarge", w.buf[start+4:start+8], size))
		return
	}
	binary.BigEndian.PutUint32(w.buf[start:], uint32(size))
}

// BeginLarge opens a box with a 16-byte header (size 1 and a 64-bit
// largesize), for boxes that may pass 4 GiB; close it with EndLarge.
func (w *BoxWriter) BeginLarge(typ string) {
	w.Begin(typ)
	binary.BigEndian.PutUint32(w.buf[len(w.buf)-8:], 1)
	w.U64(0)
}

// EndLarge closes a box begun with BeginLarge.
func (w *BoxWriter) EndLarge() {
	if w.depth == 0 {
		w.fail(errors.New("mp4: EndLarge without BeginLarge"))
		return
	}
	w.depth--
	start := w.open[w.depth]
	if len(w.buf)-start < 16 || binary.BigEndian.Uint32(w.buf[start:]) != 1 {
		w.fail(errors.New("mp4: EndLarge closes a box not begun with BeginLarge"))
		return
	}
	binary.BigEndian.PutUint64(w.buf[start+8:], uint64(len(w.buf)-start))
}

// U8, U16, U24, U32 and U64 append big-endian unsigned integers.
func (w *BoxWriter) U8(v uint8) { w.buf = append(w.buf, v) }

func (w *BoxWriter) U16(v uint16) { w.buf = binary.BigEndian.AppendUint16(w.buf, v) }

func (w *BoxWriter) U24(v uint32) { w.buf = append(w.buf, byte(v>>16), byte(v>>8), byte(v)) }

func (w *BoxWriter) U32(v uint32) { w.buf = binary.BigEndian.AppendUint32(w.buf, v) }

func (w *BoxWriter) U64(v uint64) { w.buf = binary.BigEndian.AppendUint64(w.buf, v) }

// I32 appends a big-endian two's complement 32-bit integer.
func (w *BoxWriter) I32(v int32) { w.U32(uint32(v)) }

// FourCC appends a four-character code.
func (w *BoxWriter) FourCC(c string) {
	if len(c) != 4 {
		w.fail(fmt.Errorf("mp4: four-character code %q has %d characters", c, len(c)))
		c = "????"
	}
	w.buf = append(w.buf, c...)
}

// Write appends raw bytes.
func (w *BoxWriter) Write(b []byte) { w.buf = append(w.buf, b...) }

// Zeros appends n zero bytes.
func (w *BoxWriter) Zeros(n int) {
	if n > 0 {
		w.buf = append(w.buf, make([]byte, n)...) // compiled to a clear, no allocation
	}
}

// Pos is the current offset in Bytes, for fields patched later (PatchU32).
func (w *BoxWriter) Pos() int { return len(w.buf) }

// PatchU32 overwrites four bytes at pos, a value returned by Pos earlier.
func (w *BoxWriter) PatchU32(pos int, v uint32) {
	if pos < 0 || pos+4 > len(w.buf) {
		w.fail(fmt.Errorf("mp4: patch at %d outside %d bytes", pos, len(w.buf)))
		return
	}
	binary.BigEndian.PutUint32(w.buf[pos:], v)
}

// PatchU64 overwrites eight bytes at pos.
func (w *BoxWriter) PatchU64(pos int, v uint64) {
	if pos < 0 || pos+8 > len(w.buf) {
		w.fail(fmt.Errorf("mp4: patch at %d outside %d bytes", pos, len(w.buf)))
		return
	}
	binary.BigEndian.PutUint64(w.buf[pos:], v)
}
