// Package stamp writes and reads castbench's latency stamps: an H.264 or
// H.265 SEI NAL unit of type user_data_unregistered (payload type 5) that
// the publisher puts in every video frame, carrying the wall-clock time the
// frame was sent. A player that finds it measures the end-to-end latency
// through any server that forwards SEI, without trusting the server's
// clock or timestamps.
//
// The SEI payload is 32 bytes:
//
//	offset size  field
//	0      16    UUID, the ASCII bytes "castbench-SEI-v1"
//	             (63617374-6265-6e63-682d-5345492d7631)
//	16     8     send time, Unix nanoseconds, signed big-endian
//	24     8     sequence number of the frame in its stream, big-endian,
//	             starting at 0
//
// The NAL unit is inserted before the frame's first NAL unit, or after it
// when that is an access unit delimiter (which must come first), with a
// length prefix of the size the stream's decoder configuration record
// declares. Emulation prevention applies, so the NAL unit is 36 to about
// 45 bytes long (H.264; one more for H.265's 2-byte header).
package stamp

import (
	"encoding/binary"
	"time"
)

// UUID is the user_data_unregistered UUID of castbench stamps, as its 16
// ASCII bytes.
const UUID = "castbench-SEI-v1"

// DataSize is the size of a stamp's data after the UUID.
const DataSize = 16

// Stamp is what a stamped frame carries.
type Stamp struct {
	SentAt int64  // wall-clock send time, Unix nanoseconds
	Seq    uint64 // frame sequence number in its stream
}

// Time returns the send time.
func (s Stamp) Time() time.Time { return time.Unix(0, s.SentAt) }

// AppendData appends the stamp's 16 data bytes (without the UUID).
func (s Stamp) AppendData(dst []byte) []byte {
	var b [DataSize]byte
	s.putData(b[:])
	return append(dst, b[:]...)
}

func (s Stamp) putData(b []byte) {
	binary.BigEndian.PutUint64(b, uint64(s.SentAt))
	binary.BigEndian.PutUint64(b[8:], s.Seq)
}

// ParseData reads a stamp from the data after the UUID; ok is false when it
// is shorter than DataSize. Extra bytes are ignored, so later versions may
// add fields.
func ParseData(data []byte) (s Stamp, ok bool) {
	if len(data) < DataSize {
		return s, false
	}
	s.SentAt = int64(binary.BigEndian.Uint64(data))
	s.Seq = binary.BigEndian.Uint64(data[8:])
	return s, true
}
