package player

import (
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/stamp"
)

// videoInspector reads what a player needs from video tag bodies (RTMP
// video message bodies): frames, the NALU length size from sequence
// headers, and stamps. It decodes nothing else.
type videoInspector struct {
	lengthSize int
	codec      av.Codec
	stamps     stamp.Reader
}

// inspect looks at one video tag body with its timestamp, received at now.
func (v *videoInspector) inspect(now time.Time, timestamp uint32, body []byte, rec *Recorder) {
	tag, err := av.ParseFLVVideoTag(body)
	if err != nil {
		return // a player does not judge the stream's codec data
	}
	if tag.IsSequenceHeader() {
		v.codec, v.lengthSize = tag.Codec, nalLengthSize(tag.Codec, body[tag.PayloadOffset:])
		return
	}
	picture := tag.PacketType == av.VideoPacketCodedFrames || (tag.Enhanced && tag.PacketType == av.VideoPacketCodedFramesX)
	if !picture || tag.IsCommand() {
		return // end of sequence, metadata, commands
	}
	rec.VideoFrame(now, timestamp)
	if v.lengthSize > 0 && tag.Codec == v.codec && stamp.Stampable(tag) {
		if s, ok := v.stamps.Find(tag.Codec, body[tag.PayloadOffset:], v.lengthSize); ok {
			rec.Stamp(now, s)
		}
	}
}

// nalLengthSize reads the NALU length size of an H.264 or H.265 decoder
// configuration record; 0 for other codecs or a malformed record.
func nalLengthSize(codec av.Codec, record []byte) int {
	switch codec {
	case av.CodecH264:
		if c, err := av.ParseAVCConfig(record); err == nil {
			return c.NALULengthSize
		}
	case av.CodecH265:
		if c, err := av.ParseHEVCConfig(record); err == nil {
			return c.NALULengthSize
		}
	}
	return 0
}
