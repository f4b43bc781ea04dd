package rtmp

import "fmt"

// Message type ids (RTMP specification 1.0 §5.4, §6.2, §7.1).
const (
	TypeSetChunkSize     uint8 = 1
	TypeAbort            uint8 = 2
	TypeAck              uint8 = 3
	TypeUserControl      uint8 = 4
	TypeWindowAckSize    uint8 = 5
	TypeSetPeerBandwidth uint8 = 6
	TypeAudio            uint8 = 8
	TypeVideo            uint8 = 9
	TypeDataAMF3         uint8 = 15
	TypeSharedObjectAMF3 uint8 = 16
	TypeCommandAMF3      uint8 = 17
	TypeDataAMF0         uint8 = 18
	TypeSharedObjectAMF0 uint8 = 19
	TypeCommandAMF0      uint8 = 20
	TypeAggregate        uint8 = 22
)

// Chunk stream ids castd writes on; see the package documentation.
const (
	CSIDControl       uint32 = 2
	CSIDConnection    uint32 = 3
	CSIDData          uint32 = 4
	CSIDStreamCommand uint32 = 5
	CSIDVideo         uint32 = 6
	CSIDAudio         uint32 = 7
)

// User control event types (§7.1.7).
const (
	EventStreamBegin      uint16 = 0
	EventStreamEOF        uint16 = 1
	EventStreamDry        uint16 = 2
	EventSetBufferLength  uint16 = 3
	EventStreamIsRecorded uint16 = 4
	EventPingRequest      uint16 = 6
	EventPingResponse     uint16 = 7
)

// Peer bandwidth limit types (§5.4.5).
const (
	BandwidthHard    uint8 = 0
	BandwidthSoft    uint8 = 1
	BandwidthDynamic uint8 = 2
)

// Protocol limits.
const (
	// DefaultChunkSize is the chunk size both directions start with.
	DefaultChunkSize = 128
	// MaxChunkSizeSpec is the largest chunk size Set Chunk Size can carry:
	// 31 bits, the top bit must be zero.
	MaxChunkSizeSpec = 0x7FFFFFFF
	// MaxMessageSize is the largest message length the 3-byte length field
	// can describe.
	MaxMessageSize = 0xFFFFFF
	// extendedTimestamp is the 24-bit marker that means "4 more bytes follow".
	extendedTimestamp = 0xFFFFFF
	// timestampMask keeps timestamps to 31 bits, as SRS and the FLV format do.
	timestampMask = 0x7FFFFFFF
)

// Message is one reassembled RTMP message.
type Message struct {
	Type      uint8
	Timestamp uint32 // milliseconds, masked to 31 bits on read
	StreamID  uint32 // message stream id
	// CSID is the chunk stream the message arrived on. When writing, 0 picks
	// the chunk stream from the message type (see the package documentation).
	CSID    uint32
	Payload []byte
}

func (m *Message) String() string {
	return fmt.Sprintf("rtmp message type=%d ts=%d sid=%d csid=%d len=%d",
		m.Type, m.Timestamp, m.StreamID, m.CSID, len(m.Payload))
}

// IsMedia reports whether m is audio, video or AMF0/AMF3 script data.
func (m *Message) IsMedia() bool {
	switch m.Type {
	case TypeAudio, TypeVideo, TypeDataAMF0, TypeDataAMF3:
		return true
	}
	return false
}

// IsControl reports whether m is a protocol control or user control message,
// which the chunk layer handles by itself.
func (m *Message) IsControl() bool {
	return m.Type >= TypeSetChunkSize && m.Type <= TypeSetPeerBandwidth
}

// IsCommand reports whether m is an AMF0 or AMF3 command message.
func (m *Message) IsCommand() bool {
	return m.Type == TypeCommandAMF0 || m.Type == TypeCommandAMF3
}

// MediaMessage is one audio, video or data message for the fan-out path.
// Payload is shared between viewers and is never modified.
type MediaMessage struct {
	Type      uint8 // TypeAudio, TypeVideo or TypeDataAMF0
	Timestamp uint32
	Payload   []byte
}

// defaultCSID returns the chunk stream id castd writes a message type on.
func defaultCSID(typ uint8) uint32 {
	switch typ {
	case TypeAudio:
		return CSIDAudio
	case TypeVideo:
		return CSIDVideo
	case TypeDataAMF0, TypeDataAMF3:
		return CSIDData
	case TypeCommandAMF0, TypeCommandAMF3:
		return CSIDConnection
	}
	return CSIDControl
}
