package dash

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mp4"
)

// Options configure a Packager.
type Options struct {
	Config Config
	Layout Layout
	Store  Store // DirStore when nil
	Log    *slog.Logger
	Now    func() time.Time // time.Now when nil
}

// Packager writes one stream's DASH files. It is fed from one goroutine.
//
// Lifecycle: Publish at the start of every publish, Write for each packet,
// Flush when the publisher leaves (the partial segments are written), and
// Dispose to delete every file.
type Packager struct {
	cfg    Config
	layout Layout
	store  Store
	log    *slog.Logger
	now    func() time.Time

	clock mediaClock
	// shift is subtracted from every presentation time: the composition
	// offset of the first keyframe, so that a video segment's first
	// presentation time equals its decode time, which the timeline gives.
	shift int64

	seen  [2]*trackConfig // the tracks of the current publish, as their headers say
	fixed bool            // seen has been committed to period
	// rebased: the timeline was re-anchored (a publish, a timestamp jump)
	// since the current Period began, so the next segments start a new
	// one. A Period's timeline never has a gap: dash.js stalls at one.
	rebased bool

	period     *period   // the Period new segments go to
	periods    []*period // every Period with files, oldest first
	nextPeriod int

	open     [2]*openSegment
	next     [2]uint64     // the next segment number per track
	segs     [2][]*segment // segments on disk, oldest first
	lastCut  time.Duration // duration of the leader's last segment
	countCfg *trackConfig  // the audio track audioNext counts for
	// audioNext is where the next audio frame goes when it follows on:
	// audio times count samples, so the millisecond rounding of RTMP
	// timestamps does not make every frame a little longer or shorter.
	audioNext   int64
	audioNextOK bool

	warned map[string]bool
	err    error // the first I/O error since Write was entered
}

// NewPackager returns a packager; nothing is written until segments are cut.
func NewPackager(o Options) *Packager {
	p := &Packager{
		cfg: o.Config.normalized(), layout: o.Layout, store: o.Store, log: o.Log, now: o.Now,
		next: [2]uint64{1, 1}, warned: map[string]bool{},
	}
	if p.store == nil {
		p.store = DirStore{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

// SetConfig applies new settings (a reload, at the next publish). The
// layout stays: a stream whose files move gets a new Packager.
func (p *Packager) SetConfig(c Config) { p.cfg = c.normalized() }

// Publish starts a new publish: the timeline is re-anchored to the wall
// clock at its first frame, its tracks are learnt again from its sequence
// headers, and its segments go to a new Period.
func (p *Packager) Publish() {
	p.flushOpen()
	p.clock.restart()
	p.seen = [2]*trackConfig{}
	p.rebase()
}

// rebase makes the segments that follow start a new Period.
func (p *Packager) rebase() {
	p.fixed, p.rebased = false, true
}

// Write takes one packet of the stream with its timestamp (the publisher's,
// uncorrected). Packets castd cannot put in DASH are skipped and logged
// once. The error is a file that could not be written; the stream goes on.
func (p *Packager) Write(pkt *av.Packet, ts uint32) error {
	p.err = nil
	switch {
	case pkt.Kind == av.KindVideo && pkt.SequenceHeader:
		p.videoHeader(pkt)
	case pkt.Kind == av.KindVideo:
		p.videoFrame(pkt, ts)
	case pkt.Kind == av.KindAudio && pkt.SequenceHeader:
		p.audioHeader(pkt)
	case pkt.Kind == av.KindAudio:
		p.audioFrame(pkt, ts)
	}
	return p.err
}

// Flush writes the segments being gathered and the MPD (the publisher left).
func (p *Packager) Flush() error {
	p.err = nil
	p.flushOpen()
	return p.err
}

// Dispose deletes the MPD, the init and media segments castd still tracks
// (with dash_cleanup off, segments that left the window are not tracked and
// stay), and the segment directory when it is empty.
func (p *Packager) Dispose() error {
	var errs []error
	for k := range p.segs {
		for _, s := range p.segs[k] {
			errs = append(errs, p.store.Remove(filepath.Join(p.layout.Dir, s.name)))
		}
		p.segs[k] = nil
	}
	for _, per := range p.periods {
		for k := range per.tracks {
			if per.initWritten[k] {
				errs = append(errs, p.store.Remove(filepath.Join(p.layout.Dir, per.initName(k))))
			}
		}
	}
	p.periods, p.period, p.open = nil, nil, [2]*openSegment{}
	errs = append(errs, p.store.Remove(p.layout.MPD))
	_ = p.store.Remove(p.layout.Dir) // only when empty: other files there are not ours
	return errors.Join(errs...)
}

// Numbers returns the numbers the next video and audio segments will get.
func (p *Packager) Numbers() (videoNext, audioNext uint64) { return p.next[video], p.next[audio] }

func (p *Packager) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *Packager) warnOnce(key, msg string, args ...any) {
	if p.warned[key] {
		return
	}
	p.warned[key] = true
	p.log.Warn(msg, append([]any{"mpd", p.layout.MPD}, args...)...)
}

func (p *Packager) videoHeader(pkt *av.Packet) {
	t, err := mp4.TrackFromSequenceHeader(pkt)
	if err != nil {
		p.warnOnce("video header "+pkt.Codec.String(), "DASH: video is not written", "codec", pkt.Codec.String(), "err", err)
		p.setTrack(video, nil)
		return
	}
	cfg, err := newTrackConfig(t)
	if err != nil {
		p.warnOnce("video config", "DASH: video is not written", "codec", t.Codec.String(), "err", err)
		p.setTrack(video, nil)
		return
	}
	if t.Codec == av.CodecH265 && !p.warned["hevc"] {
		p.warned["hevc"] = true
		p.log.Info("DASH: H.265 video is written as hvc1: Safari, ffmpeg and browsers with an HEVC decoder play it, Firefox and Chromium without one do not", "mpd", p.layout.MPD)
	}
	p.setTrack(video, cfg)
}

func (p *Packager) audioHeader(pkt *av.Packet) {
	if pkt.Codec != av.CodecAAC {
		p.unsupportedAudio(pkt)
		p.setTrack(audio, nil)
		return
	}
	t, err := mp4.TrackFromSequenceHeader(pkt)
	if err != nil {
		p.warnOnce("audio header", "DASH: audio is not written", "err", err)
		p.setTrack(audio, nil)
		return
	}
	cfg, err := newTrackConfig(t)
	if err != nil {
		p.warnOnce("audio config", "DASH: audio is not written", "err", err)
		p.setTrack(audio, nil)
		return
	}
	p.setTrack(audio, cfg)
}

// unsupportedAudio logs once why a stream's audio is left out. MP3 fits in
// MP4, but Chromium's MSE refuses it there (it takes MP3 only as
// audio/mpeg), so a DASH player in Chrome would fail on the whole stream;
// castd writes video-only DASH instead, as SRS writes DASH only for AAC.
func (p *Packager) unsupportedAudio(pkt *av.Packet) {
	p.warnOnce("audio "+pkt.Codec.String(), "DASH: only AAC audio is written; this stream's DASH has no audio",
		"codec", pkt.Codec.String())
}

// setTrack records a track's configuration from a sequence header. A
// change once the tracks are committed to a Period (a new codec
// configuration, a track that appears or goes) ends the segments being
// gathered and makes the next ones start a new Period.
func (p *Packager) setTrack(kind int, cfg *trackConfig) {
	if sameConfig(p.seen[kind], cfg) {
		return
	}
	if p.seen[kind] != nil || p.fixed {
		p.flushOpen()
		p.fixed = false
	}
	p.seen[kind] = cfg
}

// leader is the track whose segments set the cuts: video when there is video.
func (p *Packager) leader() int {
	if p.seen[video] != nil {
		return video
	}
	return audio
}

func (p *Packager) videoFrame(pkt *av.Packet, ts uint32) {
	cfg := p.seen[video]
	if cfg == nil {
		return
	}
	s, err := cfg.track.SampleFromPacket(pkt)
	if err != nil {
		if !errors.Is(err, mp4.ErrNoSample) {
			p.warnOnce("video frame", "DASH: video frames skipped", "err", err)
		}
		return
	}
	ms, jumped := p.clock.toMedia(video, ts, p.now())
	if jumped {
		p.flushOpen()
		p.rebase()
	}
	ps := pendingSample{ms: ms, cto: int32((s.PTS - s.DTS) * 1000 / int64(cfg.track.Timescale)), key: s.Keyframe, data: s.Data}
	o := p.open[video]
	switch {
	case o == nil:
		if !ps.key {
			return // a segment starts at a keyframe
		}
	case ps.key && time.Duration(ms-o.startMs())*time.Millisecond >= p.cfg.Fragment:
		p.cut(video, ms)
	case o.full(len(ps.data)):
		p.warnOnce("video full", "DASH: no keyframe for too long; a segment was cut before a non-keyframe",
			"samples", len(o.samples), "bytes", o.bytes)
		p.cut(video, ms)
	default:
		o.add(ps)
		return
	}
	p.open[video] = &openSegment{}
	p.open[video].add(ps)
}

func (p *Packager) audioFrame(pkt *av.Packet, ts uint32) {
	cfg := p.seen[audio]
	if cfg == nil {
		if pkt.Codec != av.CodecAAC && pkt.Codec != av.CodecUnknown {
			p.unsupportedAudio(pkt)
		}
		return
	}
	s, err := cfg.track.SampleFromPacket(pkt)
	if err != nil {
		if !errors.Is(err, mp4.ErrNoSample) {
			p.warnOnce("audio frame", "DASH: audio frames skipped", "err", err)
		}
		return
	}
	ms, jumped := p.clock.toMedia(audio, ts, p.now())
	if jumped {
		p.flushOpen()
		p.rebase()
	}
	ps := pendingSample{ms: ms, key: true, data: s.Data}
	o := p.open[audio]
	switch {
	case o == nil:
	case p.leader() == audio && time.Duration(ms-o.startMs())*time.Millisecond >= p.cfg.Fragment:
		p.cut(audio, ms)
	case o.hasCut && ms >= o.cutAt:
		p.closeSegment(audio, ms, true)
		p.writeMPD()
	case time.Duration(ms-o.startMs())*time.Millisecond >= p.followerLimit() || o.full(len(ps.data)):
		// The leader has not cut for long (video stopped): cut on our own.
		p.closeSegment(audio, ms, true)
		p.writeMPD()
	default:
		o.add(ps)
		return
	}
	p.open[audio] = &openSegment{}
	p.open[audio].add(ps)
}

// followerLimit is how long a follower's segment may grow without a cut
// from the leader.
func (p *Packager) followerLimit() time.Duration {
	return 2 * max(p.cfg.Fragment, p.lastCut)
}

// cut ends the leader's segment at endMs and makes the other track end its
// segment there too.
func (p *Packager) cut(leader int, endMs int64) {
	if o := p.open[leader]; o != nil {
		p.lastCut = time.Duration(endMs-o.startMs()) * time.Millisecond
	}
	p.closeSegment(leader, endMs, true)
	other := 1 - leader
	if o := p.open[other]; o != nil {
		if o.hasCut {
			// No sample reached the previous cut: all it has is before it.
			p.closeSegment(other, o.cutAt, true)
		} else {
			o.hasCut, o.cutAt = true, endMs
		}
	}
	p.writeMPD()
}

// flushOpen writes every segment being gathered, then the MPD.
func (p *Packager) flushOpen() {
	if p.open[video] == nil && p.open[audio] == nil {
		return
	}
	p.closeSegment(video, 0, false)
	p.closeSegment(audio, 0, false)
	p.writeMPD()
}

// commit fixes the tracks of the current publish: they continue the
// current Period when they are the same, or start a new one.
func (p *Packager) commit() {
	if p.fixed {
		return
	}
	p.fixed = true
	if p.period != nil && !p.rebased && p.period.sameTracks(p.seen) {
		return
	}
	p.rebased = false
	// Each Period takes the shift of its own first keyframe: a new
	// publish may have B-frames where the last had none.
	p.shift = 0
	if o := p.open[video]; o != nil && o.samples[0].key {
		p.shift = int64(min(max(o.samples[0].cto, 0), 1000))
	}
	start := int64(-1)
	for k, o := range p.open {
		if o == nil {
			continue
		}
		t := o.startMs()
		if k == audio {
			t -= p.shift
		}
		if start < 0 || t < start {
			start = t
		}
	}
	p.period = &period{index: p.nextPeriod, tracks: p.seen, startMs: max(start, 0)}
	p.nextPeriod++
	p.periods = append(p.periods, p.period)
}

// closeSegment writes the segment being gathered for kind. With hasEnd,
// endMs is where the next segment starts, which gives the last sample's
// duration.
func (p *Packager) closeSegment(kind int, endMs int64, hasEnd bool) {
	o := p.open[kind]
	if o == nil {
		return
	}
	defer func() { p.open[kind] = nil }()
	if len(o.samples) == 0 {
		return
	}
	p.commit()
	per := p.period
	cfg := per.tracks[kind]
	if cfg == nil {
		return // cannot happen: samples are only gathered for committed tracks
	}
	var samples []mp4.Sample
	if kind == video {
		samples = p.videoSamples(cfg, o, endMs, hasEnd)
	} else {
		samples = p.audioSamples(cfg, o)
	}
	last := samples[len(samples)-1]
	start := uint64(samples[0].DTS)
	dur := uint64(last.DTS+int64(last.Duration)) - start
	if !per.initWritten[kind] {
		if err := p.store.WriteFile(filepath.Join(p.layout.Dir, per.initName(kind)), cfg.init); err != nil {
			p.fail(err)
			return
		}
		per.initWritten[kind] = true
	}
	num := p.next[kind]
	data, err := mp4.MediaSegment(uint32(num), cfg.track, samples, start)
	if err != nil {
		p.fail(fmt.Errorf("dash: %s segment %d: %w", kindName(kind), num, err))
		return
	}
	name := segmentName(kind, num)
	if err := p.store.WriteFile(filepath.Join(p.layout.Dir, name), data); err != nil {
		p.fail(err)
		return // the number is not used: the timeline gets a gap instead
	}
	p.next[kind]++
	p.segs[kind] = append(p.segs[kind], &segment{
		period: per, number: num, start: start, dur: dur, bytes: len(data), samples: len(samples), name: name,
	})
	p.trim(kind)
}

// videoSamples converts gathered frames: decode times strictly increase,
// and the last frame lasts until endMs (the next segment's first frame).
func (p *Packager) videoSamples(cfg *trackConfig, o *openSegment, endMs int64, hasEnd bool) []mp4.Sample {
	scale := int64(cfg.track.Timescale)
	out := make([]mp4.Sample, len(o.samples))
	var prev int64
	for i, s := range o.samples {
		dts := s.ms * scale / 1000
		if i > 0 && dts <= prev {
			dts = prev + 1
		}
		pts := dts + (int64(s.cto)-p.shift)*scale/1000
		out[i] = mp4.Sample{DTS: dts, PTS: pts, Keyframe: s.key, Data: s.data}
		prev = dts
	}
	n := len(out)
	var d int64
	switch end := endMs * scale / 1000; {
	case hasEnd && end > prev:
		d = end - prev
	case n > 1:
		d = out[n-1].DTS - out[n-2].DTS
	default:
		d = int64(defaultVideoFrame) * scale / int64(time.Second)
	}
	out[n-1].Duration = uint32(min(d, 1<<31))
	return out
}

// audioSamples converts gathered frames, counting samples: a frame that
// arrives where the previous one ends (within half a frame) goes exactly
// there; one further ahead (frames were lost) starts where its timestamp
// says.
func (p *Packager) audioSamples(cfg *trackConfig, o *openSegment) []mp4.Sample {
	scale := int64(cfg.track.Timescale)
	frame := int64(cfg.track.DefaultDuration)
	if frame <= 0 {
		frame = 1024
	}
	if p.countCfg != cfg {
		p.countCfg, p.audioNextOK = cfg, false
	}
	out := make([]mp4.Sample, len(o.samples))
	for i, s := range o.samples {
		exact := (s.ms - p.shift) * scale / 1000
		dts := exact
		if p.audioNextOK && exact <= p.audioNext+frame/2 {
			dts = p.audioNext
		}
		out[i] = mp4.Sample{DTS: dts, PTS: dts, Keyframe: true, Data: s.data}
		p.audioNext, p.audioNextOK = dts+frame, true
	}
	out[len(out)-1].Duration = uint32(frame)
	return out
}

// trim keeps the window: the MPD lists the newest WindowSize segments, and
// as many older ones stay on disk for players that read an older MPD (SRS
// also keeps twice the window). With dash_cleanup off they are forgotten
// rather than deleted. Init segments go with their Period's last segment.
func (p *Packager) trim(kind int) {
	keep := 2 * p.cfg.WindowSize
	if len(p.segs[kind]) <= keep {
		return
	}
	drop := p.segs[kind][:len(p.segs[kind])-keep]
	for _, s := range drop {
		if p.cfg.Cleanup {
			if err := p.store.Remove(filepath.Join(p.layout.Dir, s.name)); err != nil {
				p.fail(err)
			}
		}
	}
	p.segs[kind] = append([]*segment(nil), p.segs[kind][len(drop):]...)
	p.dropEmptyPeriods()
}

// dropEmptyPeriods forgets Periods (but the current one) whose segments are
// all gone, deleting their init segments.
func (p *Packager) dropEmptyPeriods() {
	used := map[*period]bool{p.period: true}
	for k := range p.segs {
		for _, s := range p.segs[k] {
			used[s.period] = true
		}
	}
	kept := p.periods[:0]
	for _, per := range p.periods {
		if used[per] {
			kept = append(kept, per)
			continue
		}
		for k := range per.tracks {
			if per.initWritten[k] && p.cfg.Cleanup {
				if err := p.store.Remove(filepath.Join(p.layout.Dir, per.initName(k))); err != nil {
					p.fail(err)
				}
			}
		}
	}
	clear(p.periods[len(kept):])
	p.periods = kept
}
