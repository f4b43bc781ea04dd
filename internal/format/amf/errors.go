package amf

import (
	"errors"
	"fmt"
)

// Sentinel causes carried by decode and encode errors; test with errors.Is.
var (
	ErrTruncated    = errors.New("truncated")
	ErrBadMarker    = errors.New("unknown or unexpected type marker")
	ErrBadReference = errors.New("invalid reference")
	ErrTooDeep      = errors.New("nesting too deep")
	ErrTooLarge     = errors.New("too large")
	ErrUnsupported  = errors.New("unsupported")
)

// Limits that keep hostile input cheap. They apply per top-level value.
const (
	// MaxDepth is the deepest nesting of containers (objects, arrays, ...)
	// that decoders accept and encoders write.
	MaxDepth = 64
	// MaxExpandedSize bounds the bytes that references add to a decoded
	// value when it is written back out with every reference inline.
	MaxExpandedSize = 4 << 20
	// maxTableEntries bounds the AMF3 reference tables a long-lived Decoder
	// keeps across calls.
	maxTableEntries = 1 << 20
)

// DecodeError says what was being decoded, where, and why it failed.
type DecodeError struct {
	Format string // "amf0" or "amf3"
	What   string // the element being decoded, e.g. "object key"
	Offset int    // byte offset in the input given to the decode call
	Err    error  // the cause, usually one of the Err* sentinels
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s: %s at offset %d: %v", e.Format, e.What, e.Offset, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }
