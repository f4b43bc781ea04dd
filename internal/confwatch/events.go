package confwatch

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// eventHeaderSize is the size of struct inotify_event before its name:
// wd int32, mask, cookie and len uint32.
const eventHeaderSize = 16

// maxNameLen bounds an event's name field: NAME_MAX (255) plus the NUL
// padding the kernel aligns names with.
const maxNameLen = 4096

// event is one inotify event.
type event struct {
	wd   int32
	mask uint32
	name string // "" for events about the watched directory itself
}

// parseEvents decodes the records one read(2) of an inotify descriptor
// returned, in the host's byte order. A record that runs past the buffer or
// has an absurd name length is an error: the kernel never writes one.
func parseEvents(buf []byte) ([]event, error) {
	var out []event
	for off := 0; off < len(buf); {
		if len(buf)-off < eventHeaderSize {
			return out, fmt.Errorf("inotify: %d bytes left, want a %d-byte event header", len(buf)-off, eventHeaderSize)
		}
		h := buf[off:]
		wd := int32(binary.NativeEndian.Uint32(h[0:]))
		mask := binary.NativeEndian.Uint32(h[4:])
		n := binary.NativeEndian.Uint32(h[12:])
		if n > maxNameLen || uint64(len(h)-eventHeaderSize) < uint64(n) {
			return out, fmt.Errorf("inotify: event name of %d bytes with %d bytes left", n, len(h)-eventHeaderSize)
		}
		name := strings.TrimRight(string(h[eventHeaderSize:eventHeaderSize+int(n)]), "\x00")
		out = append(out, event{wd: wd, mask: mask, name: name})
		off += eventHeaderSize + int(n)
	}
	return out, nil
}
