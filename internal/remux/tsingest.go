package remux

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// The way back from a transport stream to hub packets, for SRT publishers
// and MPEG-TS over UDP: TSToFLV takes the frames an mpegts.Demuxer returns
// and makes the packets an RTMP publisher of the same media would send.

const (
	tsTimestampMask = 1<<33 - 1
	// tsJumpLimit: a step beyond ±10 s between consecutive frames is a
	// discontinuity (an encoder restart, a looped file), not time passing.
	// Audio and video interleave within a second or two.
	tsJumpLimit = 10 * mpegts.ClockRate
	// tsJumpStep is how far the output timeline moves across a
	// discontinuity: just enough to keep it increasing.
	tsJumpStep = mpegts.ClockRate / 1000
	// maxCompositionTime is the largest SI24 composition time, in ms.
	maxCompositionTime = 1<<23 - 1
)

// errTruncatedFrame is an audio frame longer than what its PES holds.
var errTruncatedFrame = errors.New("remux: audio frame cut short by the end of its PES")

// TSToFLVOptions configures a TSToFLV.
type TSToFLVOptions struct {
	// LegacyHEVC writes H.265 with FLV codec id 12 (the convention of
	// Chinese CDNs and SRS's own bridge) instead of enhanced RTMP's hvc1.
	LegacyHEVC bool
	// DropSEI drops SEI NAL units (H.264 type 6, H.265 prefix and suffix
	// SEI), as SRS's srt_server.sei_filter does.
	DropSEI bool
	// Logger, when set, gets one warning per kind of dropped frame.
	Logger *slog.Logger
}

// TSToFLVStats counts what a TSToFLV did.
type TSToFLVStats struct {
	VideoFrames     uint64 // video packets made, sequence headers excluded
	AudioFrames     uint64 // audio packets made, sequence headers excluded
	SequenceHeaders uint64 // video and audio sequence headers made
	// Discontinuities counts timestamp jumps (beyond ±10 s) that were
	// smoothed over to keep the output continuous.
	Discontinuities uint64
	Dropped         uint64
	DropReasons     map[string]uint64
}

// TSToFLV converts demuxed transport stream frames (mpegts.Frame, one PES
// packet each) into hub packets in FLV form, as an RTMP publisher sends
// them:
//
//   - H.264: Annex-B access units become AVCC NAL units (4-byte lengths)
//     without AUDs, filler and parameter sets; the SPS and PPS go into an
//     AVC sequence header, sent before the first frame and again whenever
//     they change. The keyframe flag comes from IDR slices.
//   - H.265 likewise, with an HEVC configuration record built from the
//     VPS, SPS and PPS, as enhanced RTMP (hvc1) or FLV codec id 12.
//   - AAC in ADTS: each ADTS frame (a PES often holds several) becomes a
//     raw AAC frame, after an AudioSpecificConfig sequence header made from
//     the ADTS header (and sent again when it changes).
//   - MP3 (MPEG-1/2 audio): each frame is passed through.
//   - Timestamps: 90 kHz ticks become milliseconds, the 33-bit wrap is
//     undone, the first frame's DTS is time 0, jumps are smoothed over;
//     composition time is PTS - DTS.
//
// Frames of other stream types, frames of a second video or audio track,
// video before its parameter sets or its first keyframe and malformed
// frames are dropped and counted, never fatal. A TSToFLV is not safe for
// concurrent use: run one per input stream.
type TSToFLV struct {
	opts  TSToFLVOptions
	clock tsClock
	video tsVideo
	audio tsAudio
	// The track each kind is locked to: the first PID seen.
	videoPID, audioPID       uint16
	videoLocked, audioLocked bool

	frames  [2]uint64 // video, audio
	headers uint64
	drops   drops
}

// NewTSToFLV returns a converter for one input stream.
func NewTSToFLV(opts TSToFLVOptions) *TSToFLV {
	return &TSToFLV{opts: opts, drops: drops{log: opts.Logger, what: "ts ingest"}}
}

// AppendPackets converts one frame and appends the packets it makes (none,
// a frame, or sequence headers and frames) to dst. The packets own their
// payloads; f.Data is not kept.
func (c *TSToFLV) AppendPackets(dst []*av.Packet, f *mpegts.Frame) []*av.Packet {
	switch f.StreamType {
	case mpegts.StreamTypeH264, mpegts.StreamTypeH265:
		if !c.lockTrack(&c.videoPID, &c.videoLocked, f) {
			return dst
		}
		return c.appendVideo(dst, f)
	case mpegts.StreamTypeAAC, mpegts.StreamTypeMPEG1Audio, mpegts.StreamTypeMPEG2Audio:
		if !c.lockTrack(&c.audioPID, &c.audioLocked, f) {
			return dst
		}
		return c.appendAudio(dst, f)
	}
	c.drops.drop(dropStreamType, f.StreamType.String())
	return dst
}

// lockTrack keeps one track per kind: a second one is dropped.
func (c *TSToFLV) lockTrack(pid *uint16, locked *bool, f *mpegts.Frame) bool {
	if !*locked {
		*pid, *locked = f.PID, true
	}
	if f.PID != *pid {
		c.drops.drop(dropStreamType, fmt.Sprintf("a second %s track (PID 0x%x)", f.StreamType, f.PID))
		return false
	}
	return true
}

// Stats returns the counters so far.
func (c *TSToFLV) Stats() TSToFLVStats {
	return TSToFLVStats{
		VideoFrames: c.frames[0], AudioFrames: c.frames[1], SequenceHeaders: c.headers,
		Discontinuities: c.clock.jumps, Dropped: c.drops.total(), DropReasons: c.drops.byReason(),
	}
}

// timestamps returns a frame's DTS on the output timeline, in 90 kHz ticks
// since the first frame, and its composition offset in ticks.
func (c *TSToFLV) timestamps(f *mpegts.Frame) (dts, cts int64, ok bool) {
	if f.PTS < 0 {
		return 0, 0, false
	}
	raw := f.DTS
	if !f.HasDTS || raw < 0 {
		raw = f.PTS
	}
	dts = c.clock.at(raw)
	if f.HasDTS {
		cts = max(wrapDelta(f.PTS-raw), 0) // a PTS before the DTS is broken: show it at once
	}
	return dts, cts, true
}

// packet classifies a payload made here; only a bug could make it fail.
func (c *TSToFLV) packet(dst []*av.Packet, kind av.Kind, ticks int64, payload []byte) []*av.Packet {
	p, err := av.NewPacket(kind, ticksToMillis(ticks), payload)
	if err != nil {
		if kind == av.KindVideo {
			c.drops.drop(dropMalformedVideo, err)
		} else {
			c.drops.drop(dropMalformedAudio, err)
		}
		return dst
	}
	if p.SequenceHeader {
		c.headers++
	} else if kind == av.KindVideo {
		c.frames[0]++
	} else {
		c.frames[1]++
	}
	return append(dst, p)
}

// ticksToMillis converts output ticks to an RTMP timestamp; audio that
// starts before the first frame is clamped to 0.
func ticksToMillis(ticks int64) uint32 {
	return uint32(max(ticks, 0) / (mpegts.ClockRate / 1000))
}

// tsClock undoes the 33-bit wrap of transport stream timestamps and puts
// them on one continuous timeline that starts at the first frame. Audio
// and video share it, so their offsets are kept.
type tsClock struct {
	started bool
	last    int64 // the last raw timestamp
	pos     int64 // where last is on the output timeline, in ticks
	jumps   uint64
}

// at maps a raw timestamp (0..2^33-1) to ticks on the output timeline.
func (c *tsClock) at(raw int64) int64 {
	raw &= tsTimestampMask
	if !c.started {
		c.started, c.last = true, raw
		return 0
	}
	d := wrapDelta(raw - c.last)
	if d > tsJumpLimit || d < -tsJumpLimit {
		d = tsJumpStep
		c.jumps++
	}
	c.last = raw
	c.pos += d
	return c.pos
}

// wrapDelta is the difference of two 33-bit timestamps, taken as the
// shorter way round the wrap: -2^32 ≤ d < 2^32.
func wrapDelta(d int64) int64 {
	d &= tsTimestampMask
	if d >= 1<<32 {
		d -= 1 << 33
	}
	return d
}
