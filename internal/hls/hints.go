package hls

import (
	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/format/flv"
)

// codecHints chooses the codecs the first PMT announces for tracks whose
// codec is not known yet (remux.TSOptions.VideoHint and AudioHint).
//
// SRS announces hls_vcodec and hls_acodec (h264 and aac by default) until
// the stream's codecs replace them, so an audio-only stream gets a video
// track that never comes unless the operator sets hls_vcodec vn. castd
// first asks the publisher's onMetaData, which names its tracks: a track
// it announces gets its codec, a track it leaves out gets none. Only
// without such metadata do hls_vcodec and hls_acodec decide, as in SRS.
func codecHints(cfg conf.HLS, meta *av.Packet) (video, audio av.Codec) {
	if v, a, ok := metadataCodecs(meta); ok {
		return v, a
	}
	switch cfg.VCodec {
	case "h264":
		video = av.CodecH264
	case "h265":
		video = av.CodecH265
	}
	switch cfg.ACodec {
	case "aac":
		audio = av.CodecAAC
	case "mp3":
		audio = av.CodecMP3
	}
	return video, audio
}

// metadataCodecs reads videocodecid and audiocodecid from onMetaData; ok
// is false when the packet names neither. A codec the transport stream
// cannot carry is CodecUnknown.
func metadataCodecs(meta *av.Packet) (video, audio av.Codec, ok bool) {
	if meta == nil {
		return 0, 0, false
	}
	_, value, err := flv.ParseScriptData(meta.Payload)
	if err != nil {
		return 0, 0, false
	}
	var get func(string) (any, bool)
	switch m := value.(type) {
	case amf.ECMAArray:
		get = m.Get
	case amf.Object:
		get = m.Get
	default:
		return 0, 0, false
	}
	vid, hasVideo := get("videocodecid")
	aid, hasAudio := get("audiocodecid")
	if !hasVideo && !hasAudio {
		return 0, 0, false
	}
	if hasVideo {
		video = videoCodecFromID(vid)
	}
	if hasAudio {
		audio = audioCodecFromID(aid)
	}
	return video, audio, true
}

// videoCodecFromID and audioCodecFromID map onMetaData's codec ids: legacy
// FLV numbers, or enhanced RTMP's FourCC sent as a number or a string.
func videoCodecFromID(id any) av.Codec {
	switch id {
	case float64(av.FLVVideoAVC), fourCC("avc1"), "avc1":
		return av.CodecH264
	case float64(av.FLVVideoHEVC), fourCC("hvc1"), fourCC("hev1"), "hvc1", "hev1":
		return av.CodecH265
	}
	return av.CodecUnknown
}

func audioCodecFromID(id any) av.Codec {
	switch id {
	case float64(av.SoundAAC), fourCC("mp4a"), "mp4a":
		return av.CodecAAC
	case float64(av.SoundMP3), fourCC(".mp3"), ".mp3":
		return av.CodecMP3
	}
	return av.CodecUnknown
}

func fourCC(s string) float64 {
	return float64(uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3]))
}
