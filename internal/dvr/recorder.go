package dvr

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mp4"
	"github.com/castd/castd/internal/hub"
)

// Source is where a recorder reads the stream: a *hub.Viewer.
type Source interface {
	Read(ctx context.Context, out []hub.Delivery) (int, error)
}

// File is a finished recording, closed and renamed into place.
type File struct {
	Stream   Stream
	Path     string // as dvr_path expanded it: relative when dvr_path is
	Format   Format
	Duration time.Duration // span of the media in the file
	Size     int64
}

// Recorder records one publish of a stream. Build it with NewRecorder and
// call Run on one goroutine; SetSettings may be called from any.
type Recorder struct {
	stream Stream
	log    *slog.Logger
	onFile func(File)
	now    func() time.Time

	next    atomic.Pointer[Settings] // set by SetSettings, taken by Run
	set     Settings
	probe   prober
	probing bool
	kinds   kinds // what the stream carries, for FLV header flags
	tl      unwrapper

	// The stream's current metadata and codec setup, for every new file.
	meta, vsh, ash *av.Packet
	vtrack, atrack *mp4.Track // MP4 tracks of vsh and ash (or the first MP3 frame)

	file   *recording
	failed bool // a file could not be written: stop until the settings change
}

// Options are a Recorder's collaborators.
type Options struct {
	Log *slog.Logger
	// OnFile is called on Run's goroutine after each file is closed and
	// renamed into place (for on_dvr); it must not block.
	OnFile func(File)
	Now    func() time.Time // for tests; time.Now when nil
}

// NewRecorder returns a recorder of s with settings set.
func NewRecorder(s Stream, set Settings, opt Options) *Recorder {
	r := &Recorder{stream: s, set: set, log: opt.Log, onFile: opt.OnFile, now: opt.Now, probe: newProber(), probing: true}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// SetSettings applies new settings (a reload): the current file is closed
// and the next one follows them, as SRS restarts its DVR on reload.
func (r *Recorder) SetSettings(s Settings) { r.next.Store(&s) }

// Run records until src ends (io.EOF: the publisher left) or ctx is done,
// then finishes the file it has open, so a stopping server leaves complete
// files. The error is src's, when it is neither of those.
func (r *Recorder) Run(ctx context.Context, src Source) error {
	buf := make([]hub.Delivery, 64)
	for {
		n, err := src.Read(ctx, buf)
		if s := r.next.Swap(nil); s != nil {
			r.closeFile()
			r.set, r.failed = *s, false
		}
		for i := range buf[:n] {
			r.feed(buf[i])
		}
		clear(buf[:n])
		if err != nil {
			r.endProbe()
			r.closeFile()
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// feed holds packets while probing, then records them in order.
func (r *Recorder) feed(d hub.Delivery) {
	if !r.probing {
		r.handle(d)
		return
	}
	if r.probe.add(d) {
		r.endProbe()
	}
}

// endProbe records what the prober held. The codec setup is taken from the
// whole probe window first, so a file opened at the first frame already
// has an audio track whose sequence header (or first MP3 frame) came a few
// packets later.
func (r *Recorder) endProbe() {
	if !r.probing {
		return
	}
	r.probing = false
	r.kinds = r.probe.seen()
	pending := r.probe.pending
	r.probe = prober{}
	for _, d := range pending {
		p := d.Packet
		switch {
		case p.Kind == av.KindData && r.meta == nil:
			r.meta = p
		case p.SequenceHeader && p.Kind == av.KindVideo && r.vsh == nil:
			r.setVideoHeader(p)
		case p.SequenceHeader && p.Kind == av.KindAudio && r.ash == nil:
			r.setAudioHeader(p)
		case p.Kind == av.KindAudio && p.Codec == av.CodecMP3 && r.atrack == nil:
			r.setAudioHeader(p)
		}
	}
	for _, d := range pending {
		r.handle(d)
	}
}

// handle records one packet.
func (r *Recorder) handle(d hub.Delivery) {
	p := d.Packet
	switch p.Kind {
	case av.KindAudio:
		r.kinds.audio = true
	case av.KindVideo:
		r.kinds.video = true
	}
	switch {
	case p.Kind == av.KindData:
		// For the next file: the open one has its onMetaData, and SRS too
		// keeps only a file's first.
		r.meta = p
	case p.SequenceHeader:
		if p.Kind == av.KindVideo {
			r.setVideoHeader(p)
		} else {
			r.setAudioHeader(p)
		}
		if r.file != nil {
			r.check(r.file.sequenceHeader(p, r.tl.next(d.Timestamp)))
		}
	case isMedia(p):
		if p.Codec == av.CodecMP3 && r.atrack == nil {
			r.setAudioHeader(p)
		}
		r.media(p, r.tl.next(d.Timestamp))
	}
}

// media writes a frame at timeline time t, opening and cutting files.
func (r *Recorder) media(p *av.Packet, t int64) {
	if f := r.file; f != nil {
		cut := shouldCut(&r.set, t-f.clock.first, f.hasVideo(), p)
		if cut || !f.tracksMatch(r.vtrack, r.atrack) {
			r.closeFile()
		}
	}
	if r.file == nil {
		if r.failed {
			return
		}
		r.openFile(t)
		if r.file == nil {
			return
		}
	}
	r.check(r.file.media(p, t))
}

func (r *Recorder) setVideoHeader(p *av.Packet) {
	r.vsh = p
	if t, err := videoTrack(p); err == nil {
		r.vtrack = t
	} else if r.vtrack == nil || !errors.Is(err, mp4.ErrUnsupportedCodec) {
		r.log.Debug("dvr: video codec setup not usable in MP4", "stream", r.stream.String(), "err", err)
	}
}

func (r *Recorder) setAudioHeader(p *av.Packet) {
	if p.SequenceHeader {
		r.ash = p
	}
	if t, err := audioTrack(p); err == nil {
		r.atrack = t
	} else {
		r.log.Debug("dvr: audio codec setup not usable in MP4", "stream", r.stream.String(), "err", err)
	}
}

// check ends the file after a write error: the disk is full or gone, and
// every later write would fail the same way.
func (r *Recorder) check(err error) {
	if err == nil {
		return
	}
	r.log.Error("dvr: write failed, recording stopped", "stream", r.stream.String(), "file", r.file.path, "err", err)
	r.closeFile()
	r.failed = true
}

// openFile starts a file whose first frame is at timeline time t.
func (r *Recorder) openFile(t int64) {
	now := r.now()
	if r.set.UTC {
		now = now.UTC()
	} else {
		now = now.Local()
	}
	path, err := FilePath(r.set.Path, r.stream, now)
	if err != nil {
		r.fail(path, err)
		return
	}
	f, err := openRecording(path, &r.set, r.kinds, r.vtrack, r.atrack)
	if err != nil {
		r.fail(path, err)
		return
	}
	f.clock.start(t)
	if err := f.prefix(r.meta, r.ash, r.vsh, t); err != nil {
		r.file = f
		r.check(err)
		return
	}
	r.file = f
	r.log.Info("dvr: recording", "stream", r.stream.String(), "file", path, "format", f.format.String(), "plan", r.set.Plan.String())
}

func (r *Recorder) fail(path string, err error) {
	r.log.Error("dvr: cannot record", "stream", r.stream.String(), "file", path, "err", err)
	r.failed = true
}

// closeFile finishes the open file, renames it into place and reports it.
func (r *Recorder) closeFile() {
	f := r.file
	if f == nil {
		return
	}
	r.file = nil
	done, err := f.finish()
	if err != nil {
		r.log.Error("dvr: cannot finish file; its .tmp is kept", "stream", r.stream.String(), "file", f.path, "err", err)
		return
	}
	r.log.Info("dvr: file done", "stream", r.stream.String(), "file", done.Path, "duration", done.Duration, "size", done.Size)
	if r.onFile != nil {
		done.Stream = r.stream
		r.onFile(done)
	}
}
