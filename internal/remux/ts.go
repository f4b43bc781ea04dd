package remux

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegts"
)

// PureAudioAggregate is how much audio, in 90 kHz ticks, one PES collects
// when a stream has no video and TSOptions.AggregatePureAudio is set:
// 0.72 s, SRS's SRS_CONSTS_HLS_PURE_AUDIO_AGGREGATE.
const PureAudioAggregate = 720 * 90

// maxAggregateBytes keeps an aggregated audio PES within PES_packet_length,
// which audio may not leave unbounded.
const maxAggregateBytes = 60000

// pureAudioTableInterval is how often the tables are repeated in a stream
// without video (which has no keyframes to put them before): once a second.
const pureAudioTableInterval = mpegts.ClockRate

// TSOptions configures a TSWriter; the zero value is SRS's HLS muxing with
// hls_dts_directly on.
type TSOptions struct {
	// VideoPID, AudioPID and PMTPID default to 0x100, 0x101 and 0x1001.
	VideoPID, AudioPID, PMTPID uint16
	// AudioDTSFromSamples rebuilds audio DTS by counting samples instead of
	// using timestamp × 90 (SRS's "hls_dts_directly off", #547).
	AudioDTSFromSamples bool
	// AggregatePureAudio collects PureAudioAggregate of audio per PES while
	// the stream has no video, as SRS's HLS does.
	AggregatePureAudio bool
	// VideoHint and AudioHint are codecs the PMT lists for a track whose own
	// codec is not known yet (SRS's hls_vcodec and hls_acodec), so a track
	// that starts late, such as MP3 without a sequence header, is announced
	// from the first PMT. CodecUnknown lists nothing; the stream's own codec
	// replaces a hint as soon as it is seen.
	VideoHint, AudioHint av.Codec
	// Logger, when set, gets one warning per kind of dropped packet.
	Logger *slog.Logger
}

// FrameInfo describes the last frame a TSWriter took.
type FrameInfo struct {
	Kind  av.Kind // KindVideo or KindAudio; 0 before the first frame
	Codec av.Codec
	// DTS and PTS are in 90 kHz ticks, not wrapped at 33 bits (the
	// transport stream carries them modulo 2^33), so differences are
	// durations.
	DTS, PTS int64
	Keyframe bool
}

// TSStats counts what a TSWriter did.
type TSStats struct {
	VideoFrames uint64 // video frames muxed
	AudioFrames uint64 // audio frames muxed or waiting in the aggregate
	Dropped     uint64
	// DropReasons counts the dropped packets by reason.
	DropReasons map[string]uint64
}

// TSWriter remuxes hub packets into an MPEG transport stream:
//
//   - Sequence headers (AVC/HEVC configuration records, AAC
//     AudioSpecificConfig) are remembered, never written as media.
//   - H.264 and H.265 frames (legacy FLV or enhanced RTMP) become Annex-B
//     access units behind an AUD, with the parameter sets before keyframes
//     that lack them; DTS = timestamp × 90, PTS = DTS + composition time.
//   - AAC frames get ADTS headers; MP3 frames pass as they are. Other
//     codecs are dropped, counted and logged once.
//   - The PAT and PMT are written before the first frame, after Reset,
//     when a codec changes (a new PMT version), before every video keyframe
//     and, without video, once a second, so a viewer can join anywhere.
//
// WritePacket makes at most one Write per packet; AppendPacket appends the
// same bytes to a caller's slice, e.g. to share them with every HTTP-TS
// viewer. The bytes for a video keyframe always start with the PAT, so a
// viewer can join at any keyframe. A TSWriter is not safe for concurrent use.
type TSWriter struct {
	opts TSOptions
	w    io.Writer
	mux  *mpegts.Muxer
	out  []byte // WritePacket's bytes, reused

	video videoTrack
	audio audioTrack
	clock sampleClock

	pending    []byte // aggregated pure audio
	pendingDTS int64

	streamsChanged bool
	tablesDue      bool
	lastTablesDTS  int64

	last   FrameInfo
	frames [2]uint64 // video, audio
	drops  drops
}

// NewTSWriter returns a TSWriter writing to w; w may be nil when only the
// Append methods are used.
func NewTSWriter(w io.Writer, opts TSOptions) (*TSWriter, error) {
	if opts.VideoPID == 0 {
		opts.VideoPID = mpegts.DefaultVideoPID
	}
	if opts.AudioPID == 0 {
		opts.AudioPID = mpegts.DefaultAudioPID
	}
	pmtPID := opts.PMTPID
	if pmtPID == 0 {
		pmtPID = mpegts.DefaultPMTPID
	}
	for _, pid := range []uint16{opts.VideoPID, opts.AudioPID, pmtPID} {
		if pid < mpegts.MinPID || pid > mpegts.MaxPID {
			return nil, fmt.Errorf("remux: PID 0x%x is outside 0x%x..0x%x", pid, mpegts.MinPID, mpegts.MaxPID)
		}
	}
	if opts.VideoPID == opts.AudioPID || opts.VideoPID == pmtPID || opts.AudioPID == pmtPID {
		return nil, fmt.Errorf("remux: video, audio and PMT PIDs must differ (0x%x, 0x%x, 0x%x)", opts.VideoPID, opts.AudioPID, pmtPID)
	}
	mux, err := mpegts.NewMuxer(nil, mpegts.MuxerConfig{PMTPID: pmtPID})
	if err != nil {
		return nil, fmt.Errorf("remux: %w", err)
	}
	switch opts.VideoHint {
	case av.CodecUnknown, av.CodecH264, av.CodecH265:
	default:
		return nil, fmt.Errorf("remux: video hint %s is not a codec the transport stream carries", opts.VideoHint)
	}
	switch opts.AudioHint {
	case av.CodecUnknown, av.CodecAAC, av.CodecMP3:
	default:
		return nil, fmt.Errorf("remux: audio hint %s is not a codec the transport stream carries", opts.AudioHint)
	}
	t := &TSWriter{opts: opts, w: w, mux: mux, tablesDue: true, drops: drops{log: opts.Logger, what: "ts"}}
	t.streamsChanged = opts.VideoHint != av.CodecUnknown || opts.AudioHint != av.CodecUnknown
	return t, nil
}

// ErrNoWriter is returned by the Write methods of a writer made without one.
var ErrNoWriter = errors.New("remux: no writer")

// WritePacket remuxes p and writes the result in one Write (none when p
// produced nothing: a sequence header, aggregated audio, a dropped packet).
// Only write errors are returned; bad packets are dropped and counted.
func (t *TSWriter) WritePacket(p *av.Packet) error {
	var err error
	if t.out, err = t.AppendPacket(t.out[:0], p); err != nil {
		return err
	}
	return t.write(t.out)
}

func (t *TSWriter) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if t.w == nil {
		return ErrNoWriter
	}
	if _, err := t.w.Write(b); err != nil {
		return fmt.Errorf("remux: write ts: %w", err)
	}
	return nil
}

// AppendPacket remuxes p and appends the transport packets to dst.
func (t *TSWriter) AppendPacket(dst []byte, p *av.Packet) ([]byte, error) {
	switch p.Kind {
	case av.KindVideo:
		return t.appendVideo(dst, p)
	case av.KindAudio:
		return t.appendAudio(dst, p)
	}
	return dst, nil // script data has no place in the transport stream
}

// Flush writes the aggregated audio waiting for its PES, if any.
func (t *TSWriter) Flush() error {
	var err error
	if t.out, err = t.AppendFlush(t.out[:0]); err != nil {
		return err
	}
	return t.write(t.out)
}

// AppendFlush appends the aggregated audio waiting for its PES, if any.
func (t *TSWriter) AppendFlush(dst []byte) ([]byte, error) {
	return t.flushAudio(dst)
}

// Reset flushes the aggregated audio to the current writer, then makes w
// the writer: the next frame starts with the PAT and PMT, so each HLS
// segment stands alone. Continuity counters carry on (see ResetContinuity).
func (t *TSWriter) Reset(w io.Writer) error {
	if t.w != nil {
		if err := t.Flush(); err != nil {
			return err
		}
	}
	t.w = w
	t.tablesDue = true
	return nil
}

// ResetContinuity starts every continuity counter over at 0.
func (t *TSWriter) ResetContinuity() { t.mux.ResetContinuity() }

// LastFrame describes the last frame taken (written, or aggregated and
// waiting), for the caller to decide where to cut segments.
func (t *TSWriter) LastFrame() FrameInfo { return t.last }

// Codecs returns the video and audio codecs in the PMT (CodecUnknown for none).
func (t *TSWriter) Codecs() (video, audio av.Codec) { return t.video.codec, t.audio.codec }

// Stats returns the counters so far.
func (t *TSWriter) Stats() TSStats {
	return TSStats{VideoFrames: t.frames[0], AudioFrames: t.frames[1], Dropped: t.drops.total(), DropReasons: t.drops.byReason()}
}

func (t *TSWriter) hasVideo() bool { return t.video.codec != av.CodecUnknown }

// streams lists the PMT's streams for the codecs seen so far, or hinted.
func (t *TSWriter) streams() []mpegts.Stream {
	var s []mpegts.Stream
	video := t.video.codec
	if video == av.CodecUnknown {
		video = t.opts.VideoHint
	}
	switch video {
	case av.CodecH264:
		s = append(s, mpegts.Stream{PID: t.opts.VideoPID, Type: mpegts.StreamTypeH264})
	case av.CodecH265:
		s = append(s, mpegts.Stream{PID: t.opts.VideoPID, Type: mpegts.StreamTypeH265})
	}
	switch {
	case t.audio.codec != av.CodecUnknown:
		s = append(s, mpegts.Stream{PID: t.opts.AudioPID, Type: t.audio.streamType})
	case t.opts.AudioHint == av.CodecAAC:
		s = append(s, mpegts.Stream{PID: t.opts.AudioPID, Type: mpegts.StreamTypeAAC})
	case t.opts.AudioHint == av.CodecMP3:
		s = append(s, mpegts.Stream{PID: t.opts.AudioPID, Type: mpegts.StreamTypeMPEG1Audio})
	}
	return s
}

// appendTablesIfDue writes the PAT and PMT before a frame when they are due.
func (t *TSWriter) appendTablesIfDue(dst []byte, videoKeyframe bool, dts int64) ([]byte, error) {
	if t.streamsChanged {
		// A codec that only confirms its hint keeps the PMT as it is.
		if streams := t.streams(); !slices.EqualFunc(streams, t.mux.Streams(), sameStream) {
			if err := t.mux.SetStreams(streams...); err != nil {
				return dst, fmt.Errorf("remux: update PMT: %w", err)
			}
			t.tablesDue = true
		}
		t.streamsChanged = false
	}
	due := t.tablesDue || videoKeyframe
	if !t.hasVideo() && (dts-t.lastTablesDTS >= pureAudioTableInterval || dts < t.lastTablesDTS) {
		due = true
	}
	if due {
		dst = t.mux.AppendTables(dst)
		t.tablesDue, t.lastTablesDTS = false, dts
	}
	return dst, nil
}

func (t *TSWriter) appendVideo(dst []byte, p *av.Packet) ([]byte, error) {
	tag, err := av.ParseFLVVideoTag(p.Payload)
	if err != nil {
		t.drops.drop(dropMalformedVideo, err)
		return dst, nil
	}
	if tag.IsCommand() {
		return dst, nil
	}
	if tag.Codec != av.CodecH264 && tag.Codec != av.CodecH265 {
		t.drops.drop(dropVideoCodec, tag.Codec.String())
		return dst, nil
	}
	body := p.Payload[tag.PayloadOffset:]
	if tag.IsSequenceHeader() {
		changed, err := t.video.setConfig(tag.Codec, body)
		if err != nil {
			t.drops.drop(dropBadVideoConfig, err)
			return dst, nil
		}
		t.streamsChanged = t.streamsChanged || changed
		// The stream has video now: audio waiting for an aggregate goes out.
		return t.flushAudio(dst)
	}
	if tag.PacketType != av.VideoPacketCodedFrames && tag.PacketType != av.VideoPacketCodedFramesX {
		return dst, nil // end of sequence, metadata: nothing to show
	}
	if t.video.codec != tag.Codec {
		t.drops.drop(dropVideoBeforeConfig, tag.Codec.String())
		return dst, nil
	}
	keyframe := tag.IsKeyframe()
	au, err := t.video.annexB(body, keyframe)
	if err != nil {
		t.drops.drop(dropMalformedVideo, err)
		return dst, nil
	}
	if dst, err = t.flushAudio(dst); err != nil {
		return dst, err
	}
	dts := int64(p.Timestamp) * 90
	pts := dts + int64(max(tag.CompositionTime, 0))*90 // a negative offset would put PTS before DTS
	if dst, err = t.appendTablesIfDue(dst, keyframe, dts); err != nil {
		return dst, err
	}
	f := mpegts.Frame{PID: t.opts.VideoPID, PTS: pts, DTS: dts, HasDTS: true, RandomAccess: keyframe, Data: au}
	if dst, err = t.mux.AppendFrame(dst, &f); err != nil {
		return dst, fmt.Errorf("remux: mux video: %w", err)
	}
	t.frames[0]++
	t.last = FrameInfo{Kind: av.KindVideo, Codec: tag.Codec, DTS: dts, PTS: pts, Keyframe: keyframe}
	return dst, nil
}

func (t *TSWriter) appendAudio(dst []byte, p *av.Packet) ([]byte, error) {
	tag, err := av.ParseFLVAudioTag(p.Payload)
	if err != nil {
		t.drops.drop(dropMalformedAudio, err)
		return dst, nil
	}
	body := p.Payload[tag.PayloadOffset:]
	var f audioFrame
	var changed bool
	switch tag.Codec {
	case av.CodecAAC:
		if tag.IsSequenceHeader() {
			// Audio aggregated under the old configuration goes out first.
			if dst, err = t.flushAudio(dst); err != nil {
				return dst, err
			}
			changed, err := t.audio.setAACConfig(body)
			if err != nil {
				t.drops.drop(dropBadAudioConfig, err)
				return dst, nil
			}
			t.streamsChanged = t.streamsChanged || changed
			return dst, nil
		}
		if tag.PacketType != av.AudioPacketCodedFrames || len(body) == 0 {
			return dst, nil
		}
		if !t.audio.hasAAC {
			t.drops.drop(dropAudioBeforeConfig, "AAC")
			return dst, nil
		}
		if len(body) > av.MaxADTSPayload {
			t.drops.drop(dropAACTooLarge, len(body))
			return dst, nil
		}
		f = t.audio.adts(body)
	case av.CodecMP3:
		if tag.PacketType != av.AudioPacketCodedFrames || len(body) == 0 {
			return dst, nil
		}
		f, changed = t.audio.mp3(body)
	default:
		t.drops.drop(dropAudioCodec, tag.Codec.String())
		return dst, nil
	}
	if changed {
		// A codec change ends the aggregate of the old codec first.
		if dst, err = t.flushAudio(dst); err != nil {
			return dst, err
		}
		t.streamsChanged = true
	}
	dts := int64(p.Timestamp) * 90
	if t.opts.AudioDTSFromSamples {
		dts = t.clock.dts(p.Timestamp, f)
	}
	t.frames[1]++
	t.last = FrameInfo{Kind: av.KindAudio, Codec: tag.Codec, DTS: dts, PTS: dts}
	if !t.opts.AggregatePureAudio || t.hasVideo() {
		return t.appendAudioPES(dst, f.data, dts)
	}
	if len(t.pending) > 0 && len(t.pending)+len(f.data) > maxAggregateBytes {
		if dst, err = t.flushAudio(dst); err != nil {
			return dst, err
		}
	}
	if len(t.pending) == 0 {
		t.pendingDTS = dts
	}
	t.pending = append(t.pending, f.data...)
	if dts-t.pendingDTS >= PureAudioAggregate || dts < t.pendingDTS {
		return t.flushAudio(dst)
	}
	return dst, nil
}

// flushAudio writes the aggregated audio, if any, as one PES.
func (t *TSWriter) flushAudio(dst []byte) ([]byte, error) {
	if len(t.pending) == 0 {
		return dst, nil
	}
	dst, err := t.appendAudioPES(dst, t.pending, t.pendingDTS)
	t.pending = t.pending[:0]
	return dst, err
}

func (t *TSWriter) appendAudioPES(dst, data []byte, dts int64) ([]byte, error) {
	dst, err := t.appendTablesIfDue(dst, false, dts)
	if err != nil {
		return dst, err
	}
	// Every audio frame is a point where decoding can start.
	f := mpegts.Frame{PID: t.opts.AudioPID, PTS: dts, DTS: dts, RandomAccess: true, Data: data}
	if dst, err = t.mux.AppendFrame(dst, &f); err != nil {
		return dst, fmt.Errorf("remux: mux audio: %w", err)
	}
	return dst, nil
}

// sameStream compares the PMT fields TSWriter sets.
func sameStream(a, b mpegts.Stream) bool { return a.PID == b.PID && a.Type == b.Type }
