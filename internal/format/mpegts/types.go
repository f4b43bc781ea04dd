package mpegts

import "fmt"

// Transport packet layout (ISO/IEC 13818-1 2.4.3.2).
const (
	PacketSize = 188
	SyncByte   = 0x47
	headerSize = 4
	maxPayload = PacketSize - headerSize
)

// Well-known PIDs and the defaults castd uses, which are SRS's.
const (
	PIDPAT  uint16 = 0x0000
	PIDNull uint16 = 0x1fff
	// MaxPID is the largest PID an elementary stream or PMT may use; 0x1fff is
	// the null packet.
	MaxPID uint16 = 0x1ffe
	// MinPID is the first PID not reserved by the standard (0x00..0x0f).
	MinPID uint16 = 0x0010

	DefaultPMTPID   uint16 = 0x1001
	DefaultVideoPID uint16 = 0x0100
	DefaultAudioPID uint16 = 0x0101

	DefaultProgramNumber     uint16 = 1
	DefaultTransportStreamID uint16 = 1
)

// ClockRate is the frequency of PTS, DTS and the PCR base: 90 kHz.
const ClockRate = 90000

// timestampMask keeps the 33 bits a PTS, DTS or PCR base holds.
const timestampMask = 1<<33 - 1

// NoPTS marks a Frame without a presentation time: the demuxer reports it
// for PES packets that carry none, and the muxer then writes none.
const NoPTS int64 = -1

// StreamType is the PMT stream_type (ISO/IEC 13818-1 Table 2-34, plus the
// values later amendments assigned).
type StreamType uint8

const (
	StreamTypeMPEG1Video  StreamType = 0x01
	StreamTypeMPEG2Video  StreamType = 0x02
	StreamTypeMPEG1Audio  StreamType = 0x03 // MP3 at 32, 44.1 or 48 kHz
	StreamTypeMPEG2Audio  StreamType = 0x04 // MP3 at the MPEG-2 half rates
	StreamTypePrivateData StreamType = 0x06 // PES private data (Opus, SMPTE 302M...)
	StreamTypeAAC         StreamType = 0x0f // AAC in ADTS
	StreamTypeMPEG4Video  StreamType = 0x10
	StreamTypeAACLATM     StreamType = 0x11
	StreamTypeMetadata    StreamType = 0x15 // timed ID3 and other PES metadata
	StreamTypeH264        StreamType = 0x1b
	StreamTypeH265        StreamType = 0x24
	StreamTypeAC3         StreamType = 0x81
)

// IsVideo reports whether t is a video stream type.
func (t StreamType) IsVideo() bool {
	switch t {
	case StreamTypeMPEG1Video, StreamTypeMPEG2Video, StreamTypeMPEG4Video, StreamTypeH264, StreamTypeH265:
		return true
	}
	return false
}

// IsAudio reports whether t is an audio stream type.
func (t StreamType) IsAudio() bool {
	switch t {
	case StreamTypeMPEG1Audio, StreamTypeMPEG2Audio, StreamTypeAAC, StreamTypeAACLATM, StreamTypeAC3:
		return true
	}
	return false
}

func (t StreamType) String() string {
	switch t {
	case StreamTypeMPEG1Video:
		return "MPEG-1 video"
	case StreamTypeMPEG2Video:
		return "MPEG-2 video"
	case StreamTypeMPEG1Audio:
		return "MPEG-1 audio"
	case StreamTypeMPEG2Audio:
		return "MPEG-2 audio"
	case StreamTypePrivateData:
		return "private data"
	case StreamTypeAAC:
		return "AAC"
	case StreamTypeMPEG4Video:
		return "MPEG-4 video"
	case StreamTypeAACLATM:
		return "AAC LATM"
	case StreamTypeMetadata:
		return "metadata"
	case StreamTypeH264:
		return "H.264"
	case StreamTypeH265:
		return "H.265"
	case StreamTypeAC3:
		return "AC-3"
	}
	return fmt.Sprintf("stream type 0x%02x", uint8(t))
}

// PES stream_id values (Table 2-22) the muxer uses.
const (
	streamIDPrivate1 = 0xbd
	streamIDAudio    = 0xc0
	streamIDVideo    = 0xe0
)

// defaultStreamID picks the PES stream_id a stream type is carried with.
func defaultStreamID(t StreamType) uint8 {
	switch {
	case t.IsVideo():
		return streamIDVideo
	case t.IsAudio():
		return streamIDAudio
	}
	return streamIDPrivate1
}

// Stream is one elementary stream of the program, as the PMT lists it.
type Stream struct {
	PID  uint16
	Type StreamType
	// StreamID is the PES stream_id; 0 picks 0xe0 for video, 0xc0 for audio
	// and 0xbd (private_stream_1) for the rest.
	StreamID uint8
	// Descriptors are the raw ES_info descriptors, e.g. a registration
	// descriptor for private data; usually empty.
	Descriptors []byte
}

// Program is a program as the demuxer found it in the PAT and its PMT.
type Program struct {
	Number  uint16
	PMTPID  uint16
	PCRPID  uint16
	Version uint8
	Streams []Stream
}

// Frame is one PES packet's payload: an access unit, or several audio frames.
type Frame struct {
	PID        uint16
	StreamType StreamType // filled in by the demuxer; ignored by the muxer
	// PTS and DTS are in 90 kHz ticks. The muxer writes them modulo 2^33;
	// the demuxer returns them as read (0 to 2^33-1). PTS is NoPTS when the
	// PES carried none. Without HasDTS, DTS equals PTS.
	PTS    int64
	DTS    int64
	HasDTS bool
	// RandomAccess marks a point where decoding can start (a keyframe): the
	// random_access_indicator of the PES's first packet.
	RandomAccess bool
	Data         []byte
}
