// Package flvscan reads the tags of a live FLV stream (HTTP-FLV) into one
// reused buffer, for load-test players that look at each tag and drop it.
// It checks the framing (signature, sizes, PreviousTagSize) and leaves tag
// bodies undecoded; use package flv to demux files.
package flvscan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/castd/castd/internal/format/flv"
)

// DefaultMaxTagSize bounds a tag body unless Scanner.MaxTagSize says
// otherwise.
const DefaultMaxTagSize = 16 << 20

// firstRead is how much room a tag gets before its bytes arrive; bodies
// that declare more grow as they are read, so a corrupt size costs nothing.
const firstRead = 64 << 10

// Errors, to test with errors.Is.
var (
	ErrBadHeader       = errors.New("flvscan: not an FLV stream")
	ErrTagTooLarge     = errors.New("flvscan: tag too large")
	ErrPreviousTagSize = errors.New("flvscan: PreviousTagSize mismatch")
)

// Tag is one tag; Data is valid until the next call to Next.
type Tag struct {
	Type      uint8 // low 5 bits of the tag type byte
	Timestamp uint32
	Data      []byte
}

// Scanner reads FLV tags from a stream. It allocates only while its buffer
// grows to the largest tag seen.
type Scanner struct {
	// MaxTagSize is the largest tag body accepted; DefaultMaxTagSize when 0.
	MaxTagSize int

	r        io.Reader
	started  bool
	wantPrev uint32
	head     [flv.PreviousTagSizeSize + flv.TagHeaderSize]byte
	buf      []byte
	read     int64
	err      error
}

// New returns a Scanner reading r, which it does not buffer.
func New(r io.Reader) *Scanner { return &Scanner{r: r} }

// BytesRead returns the bytes consumed so far, FLV framing included.
func (s *Scanner) BytesRead() int64 { return s.read }

// Next returns the next tag. A stream that ends cleanly between tags gives
// io.EOF; one cut inside a tag gives an error wrapping
// io.ErrUnexpectedEOF. Errors are sticky.
func (s *Scanner) Next() (Tag, error) {
	if s.err != nil {
		return Tag{}, s.err
	}
	t, err := s.next()
	if err != nil {
		s.err = err
	}
	return t, err
}

func (s *Scanner) next() (Tag, error) {
	if !s.started {
		if err := s.readHeader(); err != nil {
			return Tag{}, err
		}
		s.started = true
	}
	n, err := s.fill(s.head[:])
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return Tag{}, io.EOF
		}
		if n == flv.PreviousTagSizeSize && errors.Is(err, io.ErrUnexpectedEOF) {
			// The stream ended after the last PreviousTagSize.
			if err := s.checkPrev(); err != nil {
				return Tag{}, err
			}
			return Tag{}, io.EOF
		}
		return Tag{}, fmt.Errorf("flvscan: tag header at byte %d: %w", s.read-int64(n), noEOF(err))
	}
	if err := s.checkPrev(); err != nil {
		return Tag{}, err
	}
	h := s.head[flv.PreviousTagSizeSize:]
	size := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
	if limit := s.maxTagSize(); size > limit {
		return Tag{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTagTooLarge, size, limit)
	}
	t := Tag{
		Type:      h[0] & 0x1f,
		Timestamp: uint32(h[4])<<16 | uint32(h[5])<<8 | uint32(h[6]) | uint32(h[7])<<24,
	}
	if t.Data, err = s.readBody(size); err != nil {
		return Tag{}, fmt.Errorf("flvscan: tag body of %d bytes: %w", size, noEOF(err))
	}
	s.wantPrev = uint32(flv.TagHeaderSize + size)
	return t, nil
}

func (s *Scanner) maxTagSize() int {
	if s.MaxTagSize > 0 {
		return min(s.MaxTagSize, flv.MaxDataSize)
	}
	return DefaultMaxTagSize
}

// readHeader reads the FLV header and skips what its DataOffset adds.
func (s *Scanner) readHeader() error {
	var h [flv.HeaderSize]byte
	if _, err := s.fill(h[:]); err != nil {
		return fmt.Errorf("flvscan: read header: %w", noEOF(err))
	}
	if h[0] != 'F' || h[1] != 'L' || h[2] != 'V' {
		return fmt.Errorf("%w: signature %q", ErrBadHeader, h[:3])
	}
	offset := binary.BigEndian.Uint32(h[5:])
	if offset < flv.HeaderSize || offset-flv.HeaderSize > 1<<16 {
		return fmt.Errorf("%w: DataOffset %d", ErrBadHeader, offset)
	}
	if skip := int(offset - flv.HeaderSize); skip > 0 {
		if _, err := s.readBody(skip); err != nil {
			return fmt.Errorf("flvscan: skip header: %w", noEOF(err))
		}
	}
	return nil
}

func (s *Scanner) checkPrev() error {
	if got := binary.BigEndian.Uint32(s.head[:flv.PreviousTagSizeSize]); got != s.wantPrev {
		return fmt.Errorf("%w: %d, want %d, at byte %d", ErrPreviousTagSize, got, s.wantPrev, s.read-int64(len(s.head)))
	}
	return nil
}

// readBody reads n bytes into the reused buffer. A buffer smaller than n
// grows by doubling as bytes arrive.
func (s *Scanner) readBody(n int) ([]byte, error) {
	if n <= cap(s.buf) {
		b := s.buf[:n]
		_, err := s.fill(b)
		return b, err
	}
	filled := 0
	b := s.buf[:cap(s.buf)]
	if len(b) == 0 {
		b = make([]byte, min(n, firstRead))
	}
	for {
		got, err := s.fill(b[filled:])
		filled += got
		if err != nil {
			s.buf = b[:0]
			return nil, err
		}
		if filled == n {
			s.buf = b[:0]
			return b, nil
		}
		grown := make([]byte, min(n, 2*len(b)))
		copy(grown, b)
		b = grown
	}
}

// fill is io.ReadFull with a byte count.
func (s *Scanner) fill(b []byte) (int, error) {
	n, err := io.ReadFull(s.r, b)
	s.read += int64(n)
	return n, err
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
