package hls

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/remux"
)

// Segment describes a closed segment for on_hls and on_hls_notify.
type Segment struct {
	Seq      int64
	URI      string // as written in the playlist
	File     string // the segment's path as configured: ./objs/nginx/html/live/livestream-0.ts
	Duration time.Duration
	M3U8     string // the playlist's path as configured
	M3U8URL  string // the playlist's path under hls_path: live/livestream.m3u8
}

// MuxerOptions configure a Muxer.
type MuxerOptions struct {
	Key    hub.Key
	Config conf.HLS
	// Location is the time zone of the date variables in file names
	// (utc_time); nil is local time.
	Location *time.Location
	Log      *slog.Logger
	// OnSegment is called after each segment is renamed into place and
	// listed in the playlist.
	OnSegment func(Segment)
	Now       func() time.Time // nil is time.Now
	Rand      io.Reader        // keys and IVs; nil is crypto/rand
}

// Timing rules, SRS's unless noted.
const (
	// minSegment: a shorter segment is dropped and its number reused.
	minSegment = 100 * time.Millisecond
	// minReap: no segment is cut before it is this long.
	minReap = 2 * minSegment
	// A timestamp that goes back more than maxBackJump or forward more than
	// maxForwardJump from the previous one breaks the timeline: castd cuts
	// there and marks a discontinuity (SRS lets the segment's duration go
	// wrong).
	maxBackJump    = time.Second
	maxForwardJump = 10 * time.Second
	// With hls_ts_floor, the reap point moves by this share of a fragment
	// per segment of deviation, and a deviation beyond floorMaxDeviation
	// segments restarts the numbering.
	floorReapPercent  = 0.3
	floorMaxDeviation = 20
)

// clockRate is the transport stream's 90 kHz clock.
const clockRate = 90000

// ticks converts a duration to 90 kHz ticks, and fromTicks back, exactly
// and without overflow for any timestamp difference.
func ticks(d time.Duration) int64 {
	return int64(d/time.Second)*clockRate + int64(d%time.Second)*clockRate/int64(time.Second)
}

func fromTicks(t int64) time.Duration {
	return time.Duration(t/clockRate)*time.Second + time.Duration(t%clockRate)*time.Second/clockRate
}

// Muxer writes one stream's HLS: it cuts the packets into TS segments and
// keeps the live playlist. Its sequence numbers and window outlive a
// publish (Begin, Write..., End, then Begin again on republish) until
// Dispose. A Muxer is not safe for concurrent use.
type Muxer struct {
	opt MuxerOptions
	cfg conf.HLS
	log *slog.Logger

	// The playlist: its path as configured, its path under hls_path, and
	// its directory there (segment URIs are relative to it).
	m3u8File, m3u8Rel, m3u8Dir string

	// State that survives a republish.
	seq           int64
	win           window
	key           *segmentKey
	keys          []*segmentKey // every key file written and not yet deleted
	floor         floorClock
	discontinuity bool // the next segment starts one

	// State of one publish.
	tw       *remux.TSWriter
	meta     *av.Packet
	replay   struct{ meta, video, audio *av.Packet } // the latest ones, for Reconfigure
	cur      *openSegment
	lastDTS  int64
	videoSH  []byte
	audioSH  []byte
	forceCut bool // a new sequence header: cut at the next chance
	needKey  bool // after an abandoned segment: start the next at a keyframe
}

// openSegment is the segment being written.
type openSegment struct {
	seq           int64
	rel           string // the file under hls_path, [duration] still unfilled
	f             *segmentFile
	startDTS      int64
	endDTS        int64 // the largest DTS written
	discontinuity bool
	key           *segmentKey
}

// NewMuxer checks the stream's file names and returns a Muxer.
func NewMuxer(opt MuxerOptions) (*Muxer, error) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	m := &Muxer{opt: opt, log: opt.Log}
	if err := m.configure(opt.Config); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Muxer) configure(cfg conf.HLS) error {
	if cfg.Fragment <= 0 {
		return fmt.Errorf("hls: hls_fragment %v must be above 0", cfg.Fragment)
	}
	rel, err := cleanRel(expand(cfg.M3U8File, m.vars(0, m.opt.Now())))
	if err != nil {
		return fmt.Errorf("hls: hls_m3u8_file for %s: %w", m.opt.Key, err)
	}
	m.cfg = cfg
	m.cfg.FragmentsPerKey = max(cfg.FragmentsPerKey, 1)
	m.m3u8Rel, m.m3u8Dir, m.m3u8File = rel, urlDir(rel), joinPath(cfg.Path, rel)
	return nil
}

func (m *Muxer) vars(seq int64, now time.Time) pathVars {
	k := m.opt.Key
	return pathVars{Vhost: k.Vhost, App: k.App, Stream: k.Name, Seq: seq, Time: now.In(m.opt.Location), Timestamp: now.UnixMilli()}
}

// Playlist is the playlist's path as configured.
func (m *Muxer) Playlist() string { return m.m3u8File }

// NextSeq is the sequence number the next segment gets.
func (m *Muxer) NextSeq() int64 { return m.seq }

// Begin starts a publish with the vhost's hls settings of now. Segments
// continue the numbering; the first one after an earlier publish starts
// a discontinuity. When the files' places changed, the old files go first.
func (m *Muxer) Begin(cfg conf.HLS) error {
	if cfg.Path != m.cfg.Path || cfg.M3U8File != m.cfg.M3U8File {
		if err := m.removeFiles(); err != nil {
			m.log.Warn("hls: remove the files of the old settings", "stream", m.opt.Key.String(), "err", err)
		}
		m.win = window{}
		m.key = nil
	}
	if err := m.configure(cfg); err != nil {
		return err
	}
	m.tw, m.meta, m.cur = nil, nil, nil
	m.videoSH, m.audioSH = nil, nil
	m.replay.meta, m.replay.video, m.replay.audio = nil, nil, nil
	m.forceCut, m.needKey = false, false
	m.discontinuity = m.discontinuity || m.seq > 0
	return nil
}

// Reconfigure applies new settings in the middle of a publish (a reload):
// it ends the current segment, begins again with cfg, and gives the new
// writer the publish's metadata and sequence headers, which the stream
// does not send again. The next segment starts at a keyframe, with a
// discontinuity, as after a republish.
func (m *Muxer) Reconfigure(cfg conf.HLS) error {
	replay := m.replay
	err := m.End()
	if berr := m.Begin(cfg); berr != nil {
		return errors.Join(err, berr)
	}
	m.needKey = true
	for _, p := range []*av.Packet{replay.meta, replay.video, replay.audio} {
		if p != nil {
			err = errors.Join(err, m.Write(p))
		}
	}
	return err
}

// Write muxes one packet of the publish.
func (m *Muxer) Write(p *av.Packet) error {
	if p.Kind == av.KindData {
		m.replay.meta = p
		if m.tw == nil {
			m.meta = p // onMetaData tells which tracks come (codecHints)
		}
		return nil
	}
	if m.tw == nil {
		if err := m.newTSWriter(); err != nil {
			return err
		}
	}
	if p.SequenceHeader {
		if p.Kind == av.KindVideo {
			m.replay.video = p
		} else {
			m.replay.audio = p
		}
		m.sequenceHeader(p)
		return m.tw.WritePacket(p) // remembered; writes only aggregated audio, if any
	}
	key, media := m.frameKind(p)
	if !media {
		if m.cur == nil {
			return nil
		}
		return m.tw.WritePacket(p)
	}
	dts := int64(p.Timestamp) * 90
	if m.cur == nil {
		if m.needKey && m.hasVideo() && !key {
			return nil // a segment must be decodable from its start
		}
		if err := m.open(dts); err != nil {
			return err
		}
	} else if end, cut, gap := m.reap(p.Kind, key, dts); cut {
		m.discontinuity = m.discontinuity || gap
		if err := m.close(end); err != nil {
			return err
		}
		if err := m.open(dts); err != nil {
			return err
		}
	}
	if err := m.tw.WritePacket(p); err != nil {
		return err
	}
	m.cur.endDTS = max(m.cur.endDTS, dts)
	m.lastDTS = dts
	return nil
}

func (m *Muxer) newTSWriter() error {
	video, audio := codecHints(m.cfg, m.meta)
	tw, err := remux.NewTSWriter(nil, remux.TSOptions{
		AudioDTSFromSamples: !m.cfg.DTSDirectly,
		AggregatePureAudio:  true,
		VideoHint:           video,
		AudioHint:           audio,
		Logger:              m.log.With("stream", m.opt.Key.String()),
	})
	if err != nil {
		return fmt.Errorf("hls: %w", err)
	}
	m.tw = tw
	return nil
}

// frameKind says whether p is a coded frame the TSWriter will take
// (media), and whether it is a video keyframe. Frames it would drop (an
// unsupported codec, a frame before its codec's configuration) must not
// start or end segments.
func (m *Muxer) frameKind(p *av.Packet) (keyframe, media bool) {
	video, audio := m.tw.Codecs()
	switch p.Kind {
	case av.KindVideo:
		tag, err := av.ParseFLVVideoTag(p.Payload)
		if err != nil || tag.IsCommand() || tag.Codec != video ||
			(tag.PacketType != av.VideoPacketCodedFrames && tag.PacketType != av.VideoPacketCodedFramesX) {
			return false, false
		}
		return remux.IsKeyframe(p), true
	case av.KindAudio:
		tag, err := av.ParseFLVAudioTag(p.Payload)
		if err != nil || tag.PacketType != av.AudioPacketCodedFrames || len(p.Payload) <= tag.PayloadOffset {
			return false, false
		}
		return false, tag.Codec == av.CodecMP3 || (tag.Codec == av.CodecAAC && audio == av.CodecAAC)
	}
	return false, false
}

func (m *Muxer) hasVideo() bool {
	v, _ := m.tw.Codecs()
	return v != av.CodecUnknown
}

// sequenceHeader notes a changed sequence header: the segment it starts is
// a discontinuity. SRS marks one at every sequence header, so encoders that
// repeat theirs get a discontinuity per segment; castd only at a change.
func (m *Muxer) sequenceHeader(p *av.Packet) {
	last := &m.audioSH
	if p.Kind == av.KindVideo {
		last = &m.videoSH
	}
	changed := *last != nil && string(*last) != string(p.Payload)
	*last = p.Payload
	if !changed {
		return
	}
	switch {
	case m.cur == nil:
		m.discontinuity = true
	case fromTicks(m.cur.endDTS-m.cur.startDTS) < minSegment:
		m.cur.discontinuity = true // the segment barely started: it is the new one
	default:
		m.forceCut = true
	}
}

// reap decides whether the segment ends before a frame at dts: end is the
// closing segment's end, gap whether the next one starts a discontinuity.
func (m *Muxer) reap(kind av.Kind, keyframe bool, dts int64) (end int64, cut, gap bool) {
	c := m.cur
	if dts < m.lastDTS-ticks(maxBackJump) || dts > m.lastDTS+ticks(maxForwardJump) {
		return c.endDTS, true, true
	}
	dur := fromTicks(dts - c.startDTS)
	if dur < minReap {
		return 0, false, false
	}
	video := m.hasVideo()
	if m.forceCut && ((video && keyframe) || (!video && kind == av.KindAudio)) {
		m.forceCut = false
		return dts, true, true
	}
	deviation := m.floorDeviation()
	if kind == av.KindVideo && (keyframe || !m.cfg.WaitKeyframe) &&
		dur >= scale(m.cfg.Fragment, m.cfg.TDRatio)+deviation {
		return dts, true, false
	}
	// Audio cuts a segment that grew past aof_ratio fragments whatever the
	// video: the only cut of audio-only streams, and a bound for video
	// without keyframes.
	if kind == av.KindAudio && dur >= scale(m.cfg.Fragment, m.cfg.AOFRatio)+deviation {
		return dts, true, false
	}
	return 0, false, false
}

func scale(d time.Duration, f float64) time.Duration { return time.Duration(float64(d) * f) }

// floorDeviation moves the reap point with hls_ts_floor so segment numbers
// follow the wall clock (SRS's deviation).
func (m *Muxer) floorDeviation() time.Duration {
	if !m.cfg.TSFloor {
		return 0
	}
	return scale(m.cfg.Fragment, floorReapPercent*float64(m.floor.deviation))
}

// open starts a segment at dts.
func (m *Muxer) open(dts int64) error {
	now := m.opt.Now()
	seq := m.seq
	v := m.vars(seq, now)
	if m.cfg.TSFloor {
		v.Timestamp = m.floor.next(now, m.cfg.Fragment)
	}
	rel, err := cleanRel(expand(m.cfg.TSFile, v))
	if err != nil {
		return fmt.Errorf("hls: hls_ts_file for %s: %w", m.opt.Key, err)
	}
	var key *segmentKey
	if m.cfg.Keys {
		if key, err = m.segmentKey(seq, now); err != nil {
			return err
		}
	}
	f, err := createSegment(filepath.FromSlash(joinPath(m.cfg.Path, rel)+segmentTmpSuffix), key)
	if err != nil {
		return err
	}
	if err := m.tw.Reset(f); err != nil {
		_ = f.abort()
		return fmt.Errorf("hls: start segment: %w", err)
	}
	m.cur = &openSegment{seq: seq, rel: rel, f: f, startDTS: dts, endDTS: dts, discontinuity: m.discontinuity, key: key}
	m.discontinuity = false
	m.seq++
	return nil
}

// segmentKey returns the key of segment seq: a new one every
// hls_fragments_per_key segments, as SRS numbers them.
func (m *Muxer) segmentKey(seq int64, now time.Time) (*segmentKey, error) {
	if m.key != nil && seq%int64(m.cfg.FragmentsPerKey) != 0 {
		return m.key, nil
	}
	rel, err := cleanRel(expand(m.cfg.KeyFile, m.vars(seq, now)))
	if err != nil {
		return nil, fmt.Errorf("hls: hls_key_file for %s: %w", m.opt.Key, err)
	}
	k, err := newSegmentKey(m.opt.Rand, joinPath(m.cfg.KeyFilePath, rel), m.keyURI(rel))
	if err != nil {
		return nil, err
	}
	m.key = k
	m.keys = append(m.keys, k)
	return k, nil
}

// keyURI is the key's URI in the playlist: hls_key_url and the key file,
// as SRS joins them. SRS's default hls_key_url is hls_path, a directory,
// which makes a URI no player can fetch; castd then writes the key file's
// URL relative to the playlist, which the HTTP server serves when the keys
// are under hls_path (the default).
func (m *Muxer) keyURI(rel string) string {
	if m.cfg.KeyURL != "" && m.cfg.KeyURL != m.cfg.Path {
		return m.cfg.KeyURL + rel
	}
	return relURL(m.m3u8Dir, rel)
}

// close ends the current segment at end: renames it into place, adds it
// to the playlist and reports it. A segment shorter than minSegment is
// dropped and its number reused.
func (m *Muxer) close(end int64) error {
	c := m.cur
	m.cur = nil
	if err := m.tw.Flush(); err != nil {
		_ = c.f.abort()
		m.seq = c.seq
		return err
	}
	d := fromTicks(end - c.startDTS).Round(time.Millisecond)
	if d < minSegment || c.f.n == 0 { // too short, or every frame was dropped
		m.seq = c.seq
		m.discontinuity = m.discontinuity || c.discontinuity
		return c.f.abort()
	}
	rel := fillDuration(c.rel, d)
	file := joinPath(m.cfg.Path, rel)
	if err := c.f.finish(filepath.FromSlash(file)); err != nil {
		m.seq = c.seq
		m.discontinuity = m.discontinuity || c.discontinuity
		return err
	}
	r := record{Entry: Entry{Seq: c.seq, URI: m.segmentURI(rel), Duration: d, Discontinuity: c.discontinuity}, file: file, key: c.key}
	if c.key != nil {
		r.Key = c.key.ref
	}
	m.win.add(r)
	m.win.shrink(m.cfg.Window, m.cfg.Cleanup)
	if err := m.writePlaylist(); err != nil {
		return err
	}
	if err := m.deleteDue(false); err != nil {
		m.log.Warn("hls: clean up old segments", "stream", m.opt.Key.String(), "err", err)
	}
	if m.opt.OnSegment != nil {
		m.opt.OnSegment(Segment{Seq: r.Seq, URI: r.URI, File: file, Duration: d, M3U8: m.m3u8File, M3U8URL: m.m3u8Rel})
	}
	return nil
}

// segmentURI is a segment's URI: relative to the playlist, or with
// hls_entry_prefix as SRS writes it. A prefix ending in "/" stands for the
// playlist's directory ("http://cdn/live/" + "cam-0.ts"); another one for
// hls_path ("http://cdn" + "/" + "live/cam-0.ts").
func (m *Muxer) segmentURI(rel string) string {
	prefix := m.cfg.EntryPrefix
	switch {
	case prefix == "":
		return relURL(m.m3u8Dir, rel)
	case strings.HasSuffix(prefix, "/"):
		if under, ok := strings.CutPrefix(rel, m.m3u8Dir+"/"); ok && m.m3u8Dir != "" {
			return prefix + under
		}
		return prefix + rel
	default:
		return prefix + "/" + rel
	}
}

func (m *Muxer) writePlaylist() error {
	p := m.win.playlist(scale(m.cfg.Fragment, m.cfg.TDRatio))
	return writeAtomic(filepath.FromSlash(m.m3u8File), playlistTmpSuffix, p.Append(nil))
}

// deleteDue deletes the retired segments whose time has come (all with
// all set) and the key files no segment needs any more.
func (m *Muxer) deleteDue(all bool) error {
	var errs []error
	for _, r := range m.win.due(all) {
		errs = append(errs, removeFile(filepath.FromSlash(r.file)))
	}
	kept := m.keys[:0]
	for _, k := range m.keys {
		if k == m.key || m.win.usesKey(k) {
			kept = append(kept, k)
			continue
		}
		errs = append(errs, removeFile(filepath.FromSlash(k.file)))
	}
	clear(m.keys[len(kept):])
	m.keys = kept
	return errors.Join(errs...)
}

// End closes the publish's last segment. Segments that already left the
// playlist are deleted now: no new playlist will come for a while.
func (m *Muxer) End() error {
	var err error
	if m.cur != nil {
		err = m.close(m.cur.endDTS)
	}
	if m.cfg.Cleanup {
		err = errors.Join(err, m.deleteDue(true))
	}
	m.tw = nil
	return err
}

// Abandon drops the segment being written after an error; the next one
// starts at a keyframe and with a discontinuity.
func (m *Muxer) Abandon() {
	if c := m.cur; c != nil {
		m.cur = nil
		_ = c.f.abort()
		m.seq = c.seq
	}
	if m.tw != nil {
		_ = m.tw.Reset(io.Discard) // drop aggregated audio; the next open resets again
	}
	m.discontinuity, m.needKey = true, true
}

// Gap marks lost packets (the reader fell behind): the next segment
// starts a discontinuity, at the next place one may start.
func (m *Muxer) Gap() {
	if m.cur == nil {
		m.discontinuity = true
		return
	}
	m.forceCut = true
}

// Dispose deletes every file of the stream: the playlist, the segments,
// the keys and a segment being written.
func (m *Muxer) Dispose() error {
	err := m.removeFiles()
	m.win = window{}
	m.key, m.keys = nil, nil
	return err
}

func (m *Muxer) removeFiles() error {
	var errs []error
	if c := m.cur; c != nil {
		m.cur = nil
		errs = append(errs, c.f.abort())
	}
	errs = append(errs, removeFile(filepath.FromSlash(m.m3u8File)))
	for _, r := range m.win.entries {
		errs = append(errs, removeFile(filepath.FromSlash(r.file)))
	}
	m.win.entries = nil
	for _, r := range m.win.due(true) {
		errs = append(errs, removeFile(filepath.FromSlash(r.file)))
	}
	for _, k := range m.keys {
		errs = append(errs, removeFile(filepath.FromSlash(k.file)))
	}
	m.keys = nil
	return errors.Join(errs...)
}

// floorClock numbers segments by the wall clock for hls_ts_floor:
// [timestamp] is floor(now / fragment), kept increasing by one per segment.
type floorClock struct {
	accept    int64
	deviation int64 // accept - floor(now/fragment); negative when behind
}

func (f *floorClock) next(now time.Time, fragment time.Duration) int64 {
	current := now.UnixMilli() / max(fragment.Milliseconds(), 1)
	if f.accept == 0 {
		f.accept = current - 1
	} else {
		f.accept++
	}
	if f.accept-current > floorMaxDeviation {
		f.accept = current - 1
	}
	f.deviation = f.accept - current
	return f.accept
}
