package mpegps

import "fmt"

// StreamType is the PSM stream_type, numbered as in transport stream PMTs
// (ISO/IEC 13818-1 Table 2-34) plus the GB28181 audio types.
type StreamType uint8

const (
	StreamTypeUnknown     StreamType = 0x00
	StreamTypeMPEG1Video  StreamType = 0x01
	StreamTypeMPEG2Video  StreamType = 0x02
	StreamTypeMPEG1Audio  StreamType = 0x03
	StreamTypeMPEG2Audio  StreamType = 0x04
	StreamTypePrivateData StreamType = 0x06
	StreamTypeAAC         StreamType = 0x0f // ADTS
	StreamTypeMPEG4Video  StreamType = 0x10
	StreamTypeH264        StreamType = 0x1b
	StreamTypeH265        StreamType = 0x24
	StreamTypeSVACVideo   StreamType = 0x80 // GB/T 25724
	StreamTypeG711A       StreamType = 0x90 // GB28181: G.711 A-law
	StreamTypeG711U       StreamType = 0x91 // G.711 mu-law
	StreamTypeG7221       StreamType = 0x92
	StreamTypeG7231       StreamType = 0x93
	StreamTypeG729        StreamType = 0x99
	StreamTypeSVACAudio   StreamType = 0x9b
)

func (t StreamType) String() string {
	switch t {
	case StreamTypeUnknown:
		return "unknown"
	case StreamTypeMPEG1Video:
		return "MPEG-1 video"
	case StreamTypeMPEG2Video:
		return "MPEG-2 video"
	case StreamTypeMPEG1Audio, StreamTypeMPEG2Audio:
		return "MPEG audio"
	case StreamTypePrivateData:
		return "private data"
	case StreamTypeAAC:
		return "AAC"
	case StreamTypeMPEG4Video:
		return "MPEG-4 video"
	case StreamTypeH264:
		return "H.264"
	case StreamTypeH265:
		return "H.265"
	case StreamTypeSVACVideo:
		return "SVAC video"
	case StreamTypeG711A:
		return "G.711 A-law"
	case StreamTypeG711U:
		return "G.711 mu-law"
	case StreamTypeG7221:
		return "G.722.1"
	case StreamTypeG7231:
		return "G.723.1"
	case StreamTypeG729:
		return "G.729"
	case StreamTypeSVACAudio:
		return "SVAC audio"
	}
	return fmt.Sprintf("stream type 0x%02x", uint8(t))
}

// Stream ids (ISO/IEC 13818-1 Table 2-22) and the other start codes of a
// program stream (§2.5.3).
const (
	codeEnd          = 0xb9 // MPEG_program_end_code
	codePack         = 0xba
	codeSystemHeader = 0xbb
	codePSM          = 0xbc // program_stream_map
	idPrivate1       = 0xbd
	idPadding        = 0xbe
	idPrivate2       = 0xbf
	idAudioFirst     = 0xc0
	idAudioLast      = 0xdf
	idVideoFirst     = 0xe0
	idVideoLast      = 0xef
)

// StreamIDVideo and StreamIDAudio are the stream ids GB28181 devices use
// for their one video and one audio stream.
const (
	StreamIDVideo uint8 = idVideoFirst
	StreamIDAudio uint8 = idAudioFirst
)

// IsVideoID and IsAudioID tell the kind of an MPEG stream id.
func IsVideoID(id uint8) bool { return id >= idVideoFirst && id <= idVideoLast }
func IsAudioID(id uint8) bool { return id >= idAudioFirst && id <= idAudioLast }

// ClockRate is the PTS/DTS clock, 90 kHz.
const ClockRate = 90000

// timestampMask keeps the 33 bits of a PTS or DTS.
const timestampMask = 1<<33 - 1

// Frame is one access unit of one stream.
type Frame struct {
	StreamID   uint8
	StreamType StreamType // from the PSM, or guessed when none came
	// PTS and DTS are in 90 kHz ticks, as read (0 to 2^33-1). Without
	// HasDTS, DTS equals PTS.
	PTS    int64
	DTS    int64
	HasDTS bool
	// Data is the access unit (Annex-B NAL units, ADTS frames...); the
	// caller owns it.
	Data []byte
}

// Stats counts what a Demuxer has seen and dropped.
type Stats struct {
	Packs         uint64 // pack headers
	SystemHeaders uint64
	PSMs          uint64 // program stream maps parsed
	PES           uint64 // PES packets of audio and video streams
	Frames        uint64 // frames returned
	// Resyncs counts the times damage made the demuxer skip to the next
	// pack header; SkippedBytes what it skipped then.
	Resyncs      uint64
	SkippedBytes uint64
	// DroppedPES counts PES packets dropped: malformed, or with no frame
	// to join and no timestamp to start one.
	DroppedPES uint64
	// DroppedFrames counts frames dropped for being over MaxFrameSize.
	DroppedFrames uint64
}
