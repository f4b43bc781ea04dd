package flv

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// DefaultMaxTagSize is the body size limit a new Reader starts with.
const DefaultMaxTagSize = 16 << 20

// maxHeaderSkip bounds the extra header bytes a DataOffset above 9 makes us
// skip, so a corrupt offset cannot make NewReader consume a whole stream.
const maxHeaderSkip = 1 << 16

// firstReadSize is how much of a tag body is allocated before its bytes have
// arrived; larger bodies grow as they are read, so a corrupt size on a short
// stream does not allocate the full declared size.
const firstReadSize = 64 << 10

// Tag is one FLV tag. Type is TagAudio, TagVideo, TagScript or any other value
// found in the file; Timestamp is in milliseconds with the extended byte
// applied; StreamID is always 0 in valid files.
type Tag struct {
	Type      uint8
	Timestamp uint32
	StreamID  uint32
	Data      []byte
}

// Reader demuxes an FLV stream tag by tag. It reads each tag's trailing
// PreviousTagSize lazily, at the start of the next ReadTag, so a live stream
// yields a tag as soon as its body has arrived.
type Reader struct {
	// MaxTagSize is the largest tag body accepted; DefaultMaxTagSize unless
	// changed after NewReader.
	MaxTagSize int
	// IgnorePreviousTagSize accepts files whose PreviousTagSize fields are
	// wrong (some old muxers write the body size alone). Without it a mismatch
	// is an error, since it usually means the stream lost sync.
	IgnorePreviousTagSize bool

	r        io.Reader
	header   Header
	offset   int64  // bytes consumed so far, for error messages
	wantPrev uint32 // the PreviousTagSize that must come next
	buf      [PreviousTagSizeSize + TagHeaderSize]byte
	err      error // sticky: once reading failed, it keeps failing
}

// NewReader reads and checks the FLV header from r. It does not buffer: wrap
// r in a bufio.Reader when it is a file or a socket.
func NewReader(r io.Reader) (*Reader, error) {
	var h [HeaderSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("flv: read header: %w", noEOF(err))
	}
	if h[0] != 'F' || h[1] != 'L' || h[2] != 'V' {
		return nil, fmt.Errorf("flv: signature %q: %w", h[:3], ErrBadHeader)
	}
	dataOffset := binary.BigEndian.Uint32(h[5:])
	if dataOffset < HeaderSize || dataOffset-HeaderSize > maxHeaderSkip {
		return nil, fmt.Errorf("flv: header DataOffset %d: %w", dataOffset, ErrBadHeader)
	}
	if skip := int64(dataOffset - HeaderSize); skip > 0 {
		if _, err := io.CopyN(io.Discard, r, skip); err != nil {
			return nil, fmt.Errorf("flv: skip %d header bytes: %w", skip, noEOF(err))
		}
	}
	return &Reader{
		MaxTagSize: DefaultMaxTagSize,
		r:          r,
		header:     Header{HasAudio: h[4]&flagAudio != 0, HasVideo: h[4]&flagVideo != 0},
		offset:     int64(dataOffset),
	}, nil
}

// Header returns what the FLV header said. Live encoders often set both flags
// whatever they send, so trust the tags over the flags.
func (r *Reader) Header() Header { return r.header }

// Offset returns how many bytes of the stream have been consumed.
func (r *Reader) Offset() int64 { return r.offset }

// ReadTag returns the next tag. Its Data is a fresh slice the caller owns.
// At a clean end of the stream (after a tag, with or without its trailing
// PreviousTagSize) it returns io.EOF; a stream cut inside a tag gives an error
// wrapping io.ErrUnexpectedEOF. After an error every call returns it again.
func (r *Reader) ReadTag() (Tag, error) {
	if r.err != nil {
		return Tag{}, r.err
	}
	t, err := r.readTag()
	if err != nil {
		r.err = err
		return Tag{}, err
	}
	return t, nil
}

func (r *Reader) readTag() (Tag, error) {
	start := r.offset
	n, err := io.ReadFull(r.r, r.buf[:])
	r.offset += int64(n)
	switch {
	case n == 0 && errors.Is(err, io.EOF):
		return Tag{}, io.EOF // the last PreviousTagSize is missing: tolerated
	case n == PreviousTagSizeSize && errors.Is(err, io.ErrUnexpectedEOF):
		if err := r.checkPrev(start); err != nil {
			return Tag{}, err
		}
		return Tag{}, io.EOF
	case err != nil:
		return Tag{}, fmt.Errorf("flv: tag header at offset %d: %w", start, noEOF(err))
	}
	if err := r.checkPrev(start); err != nil {
		return Tag{}, err
	}
	h := r.buf[PreviousTagSizeSize:]
	tagStart := start + PreviousTagSizeSize
	if h[0]&0x20 != 0 {
		return Tag{}, fmt.Errorf("flv: tag at offset %d: %w", tagStart, ErrEncryptedTag)
	}
	size := int(get24(h[1:]))
	if size > r.MaxTagSize {
		return Tag{}, fmt.Errorf("flv: tag at offset %d: data size %d over the %d limit: %w", tagStart, size, r.MaxTagSize, ErrTagTooLarge)
	}
	t := Tag{
		Type:      h[0] & 0x1f, // the top two bits are reserved
		Timestamp: get24(h[4:]) | uint32(h[7])<<24,
		StreamID:  get24(h[8:]),
	}
	if t.Data, err = r.readData(size); err != nil {
		return Tag{}, fmt.Errorf("flv: tag at offset %d: data of %d bytes: %w", tagStart, size, noEOF(err))
	}
	r.wantPrev = uint32(TagHeaderSize + size)
	return t, nil
}

func (r *Reader) checkPrev(at int64) error {
	got := binary.BigEndian.Uint32(r.buf[:PreviousTagSizeSize])
	if got != r.wantPrev && !r.IgnorePreviousTagSize {
		return fmt.Errorf("flv: PreviousTagSize at offset %d is %d, want %d: %w", at, got, r.wantPrev, ErrPreviousTagSize)
	}
	return nil
}

// readData reads exactly n bytes into a new slice that grows as data arrives.
func (r *Reader) readData(n int) ([]byte, error) {
	b := make([]byte, min(n, firstReadSize))
	filled := 0
	for {
		got, err := io.ReadFull(r.r, b[filled:])
		r.offset += int64(got)
		if err != nil {
			return nil, err
		}
		filled = len(b)
		if filled == n {
			return b, nil
		}
		next := min(n, 2*filled)
		b = slices.Grow(b, next-filled)[:next]
	}
}

// noEOF turns io.EOF into io.ErrUnexpectedEOF: the callers only see it when
// the stream ended inside a structure that had started.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadAll reads every tag of an FLV stream, e.g. to loop a file in a load
// test. It stops at the first error; tags read before it are returned too.
func ReadAll(r io.Reader) (Header, []Tag, error) {
	fr, err := NewReader(r)
	if err != nil {
		return Header{}, nil, err
	}
	var tags []Tag
	for {
		t, err := fr.ReadTag()
		if err == io.EOF {
			return fr.Header(), tags, nil
		}
		if err != nil {
			return fr.Header(), tags, err
		}
		tags = append(tags, t)
	}
}

// ReadFile reads every tag of the FLV file name.
func ReadFile(name string) (Header, []Tag, error) {
	f, err := os.Open(name)
	if err != nil {
		return Header{}, nil, fmt.Errorf("flv: %w", err)
	}
	defer f.Close()
	h, tags, err := ReadAll(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return h, tags, fmt.Errorf("%s: %w", name, err)
	}
	return h, tags, nil
}
