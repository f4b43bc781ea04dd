package mp4

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Box is one parsed box. Data and the boxes under it alias the parsed
// input, which must not change while they are in use.
type Box struct {
	Type       string
	Offset     int64 // of the box's first byte, from the start of the input
	HeaderSize int   // 8, 16 with a 64-bit size, 24 or 32 for uuid boxes
	Size       int64 // the whole box, header included
	Data       []byte
	Children   []*Box // for container boxes (moov, trak, moof, ...)
}

// ErrTruncated is wrapped by parse errors caused by input that ends early.
var ErrTruncated = errors.New("mp4: truncated")

// maxBoxDepth bounds container nesting; real files nest about 7 deep.
const maxBoxDepth = 16

// containerBoxes are the boxes whose payload is only boxes.
var containerBoxes = map[string]bool{
	"moov": true, "trak": true, "mdia": true, "minf": true, "stbl": true,
	"dinf": true, "edts": true, "mvex": true, "moof": true, "traf": true,
	"mfra": true,
}

// ParseBoxes walks the boxes in b and the containers inside them. On
// malformed input it returns the boxes read before the problem and an
// error saying what and where; it never reads outside b.
func ParseBoxes(b []byte) ([]*Box, error) {
	return parseBoxes(b, 0, 0)
}

func parseBoxes(b []byte, base int64, depth int) ([]*Box, error) {
	var boxes []*Box
	for off := 0; off < len(b); {
		box, err := readBox(b[off:], base+int64(off))
		if err != nil {
			return boxes, err
		}
		if containerBoxes[box.Type] {
			if depth >= maxBoxDepth {
				return boxes, fmt.Errorf("mp4: %s at %d: boxes nested more than %d deep", box.Type, box.Offset, maxBoxDepth)
			}
			box.Children, err = parseBoxes(box.Data, box.Offset+int64(box.HeaderSize), depth+1)
			if err != nil {
				boxes = append(boxes, box)
				return boxes, fmt.Errorf("in %s at %d: %w", box.Type, box.Offset, err)
			}
		}
		boxes = append(boxes, box)
		off += int(box.Size)
	}
	return boxes, nil
}

// readBox reads one box header at the start of b (at absolute offset at).
// A size of 0 means the box runs to the end of b.
func readBox(b []byte, at int64) (*Box, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: box header at %d needs 8 bytes, have %d", ErrTruncated, at, len(b))
	}
	box := &Box{Type: string(b[4:8]), Offset: at, HeaderSize: 8}
	size := uint64(binary.BigEndian.Uint32(b))
	switch size {
	case 0:
		size = uint64(len(b))
	case 1:
		if len(b) < 16 {
			return nil, fmt.Errorf("%w: %q at %d: 64-bit size needs 16 header bytes, have %d", ErrTruncated, box.Type, at, len(b))
		}
		size = binary.BigEndian.Uint64(b[8:])
		box.HeaderSize = 16
	}
	if box.Type == "uuid" {
		box.HeaderSize += 16
	}
	if size < uint64(box.HeaderSize) {
		return nil, fmt.Errorf("mp4: %q at %d: size %d is smaller than its %d-byte header", box.Type, at, size, box.HeaderSize)
	}
	if size > uint64(len(b)) {
		return nil, fmt.Errorf("%w: %q at %d: size %d, %d bytes left", ErrTruncated, box.Type, at, size, len(b))
	}
	box.Size = int64(size)
	box.Data = b[box.HeaderSize:size]
	return box, nil
}

// Child returns the first child box of the type, or nil.
func (b *Box) Child(typ string) *Box {
	for _, c := range b.Children {
		if c.Type == typ {
			return c
		}
	}
	return nil
}

// Find follows a path of box types ("moov/trak/mdia/mdhd") from the
// boxes and returns the first match, or nil.
func Find(boxes []*Box, path ...string) *Box {
	if len(path) == 0 {
		return nil
	}
	for _, b := range boxes {
		if b.Type != path[0] {
			continue
		}
		if len(path) == 1 {
			return b
		}
		if found := Find(b.Children, path[1:]...); found != nil {
			return found
		}
	}
	return nil
}

// fields reads big-endian fields from a box payload with a sticky error,
// so decoders read a whole structure and check once.
type fields struct {
	b   []byte
	off int
	err error
	box string
}

func newFields(box string, b []byte) *fields { return &fields{b: b, box: box} }

func (r *fields) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = fmt.Errorf("%w: %s needs %d more bytes at %d, has %d", ErrTruncated, r.box, n, r.off, len(r.b)-r.off)
		return false
	}
	return true
}

func (r *fields) u8() uint8 {
	if !r.need(1) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *fields) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	r.off += 2
	return binary.BigEndian.Uint16(r.b[r.off-2:])
}

func (r *fields) u24() uint32 {
	if !r.need(3) {
		return 0
	}
	r.off += 3
	return uint32(r.b[r.off-3])<<16 | uint32(r.b[r.off-2])<<8 | uint32(r.b[r.off-1])
}

func (r *fields) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	r.off += 4
	return binary.BigEndian.Uint32(r.b[r.off-4:])
}

func (r *fields) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	r.off += 8
	return binary.BigEndian.Uint64(r.b[r.off-8:])
}

// uv reads 64 bits for version 1 boxes and 32 bits otherwise.
func (r *fields) uv(version uint8) uint64 {
	if version == 1 {
		return r.u64()
	}
	return uint64(r.u32())
}

func (r *fields) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

func (r *fields) skip(n int) { r.bytes(n) }

func (r *fields) rest() []byte {
	if r.err != nil {
		return nil
	}
	out := r.b[r.off:]
	r.off = len(r.b)
	return out
}

// fullHeader reads a full box's version and flags.
func (r *fields) fullHeader() (uint8, uint32) {
	v := r.u32()
	return uint8(v >> 24), v & 0xffffff
}

// count reads a 32-bit entry count and checks that count entries of size
// bytes each fit in what is left, before anything is allocated for them.
func (r *fields) count(size int) int {
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if uint64(n)*uint64(size) > uint64(len(r.b)-r.off) {
		r.err = fmt.Errorf("%w: %s has %d entries of %d bytes, %d bytes left", ErrTruncated, r.box, n, size, len(r.b)-r.off)
		return 0
	}
	return int(n)
}
