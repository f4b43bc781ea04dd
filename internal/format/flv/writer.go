package flv

import (
	"fmt"
	"io"
)

// smallTag is the largest tag written with one Write call through a scratch
// buffer; bigger tags are written as header, body and trailer to avoid
// copying the body.
const smallTag = 16 << 10

// Writer muxes tags into an FLV stream. It does not buffer: wrap w in a
// bufio.Writer for files.
type Writer struct {
	w       io.Writer
	written int64
	scratch []byte
	err     error // sticky: once a write failed the stream is broken
}

// NewWriter writes the FLV header for h and PreviousTagSize0 to w.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	fw := &Writer{w: w}
	if err := fw.write(AppendHeader(make([]byte, 0, HeaderSize+PreviousTagSizeSize), h)); err != nil {
		return nil, fmt.Errorf("flv: write header: %w", err)
	}
	return fw, nil
}

// WriteTag writes t, its tag header and the PreviousTagSize that follows it.
// t.StreamID is ignored: the field is always written as 0, as the spec asks.
func (w *Writer) WriteTag(t Tag) error {
	if w.err != nil {
		return w.err
	}
	if len(t.Data) > MaxDataSize {
		return fmt.Errorf("flv: tag of %d bytes over the %d limit: %w", len(t.Data), MaxDataSize, ErrTagTooLarge)
	}
	var hdr [TagHeaderSize]byte
	PutTagHeader(hdr[:], t.Type, len(t.Data), t.Timestamp)
	var trailer [PreviousTagSizeSize]byte
	PutPreviousTagSize(trailer[:], uint32(TagHeaderSize+len(t.Data)))

	if len(t.Data) <= smallTag {
		w.scratch = append(append(append(w.scratch[:0], hdr[:]...), t.Data...), trailer[:]...)
		return w.fail(w.write(w.scratch))
	}
	for _, p := range [][]byte{hdr[:], t.Data, trailer[:]} {
		if err := w.write(p); err != nil {
			return w.fail(err)
		}
	}
	return nil
}

// fail makes a write error sticky, since a partly written tag leaves the
// stream unreadable from that point on.
func (w *Writer) fail(err error) error {
	if err != nil {
		w.err = fmt.Errorf("flv: write tag at offset %d: %w", w.written, err)
	}
	return w.err
}

// Offset returns how many bytes have been written, header included. Called
// before WriteTag it is the offset of that tag; its body starts
// TagHeaderSize bytes later (DVR uses this to patch onMetaData in place).
func (w *Writer) Offset() int64 { return w.written }

func (w *Writer) write(p []byte) error {
	n, err := w.w.Write(p)
	w.written += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return err
}
