package dvr

import (
	"bytes"
	"os"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/format/mp4"
	"github.com/castd/castd/internal/hub"
)

// recording is one open file, FLV or MP4.
type recording struct {
	path    string
	format  Format
	wait    bool // dvr_wait_keyframe: FLV drops video until the first keyframe
	keyed   bool // a video keyframe was written
	video   bool // the file records video (for the segment cut)
	clock   fileClock
	out     *os.File
	flv     *flvFile
	mp4     *mp4File
	lastASH []byte // FLV: the last sequence headers written, to skip repeats
	lastVSH []byte
}

// openRecording creates path's .tmp file and writes the container header.
func openRecording(path string, s *Settings, k kinds, vtrack, atrack *mp4.Track) (*recording, error) {
	f := &recording{path: path, format: FormatOf(path), wait: s.WaitKeyframe, video: k.video}
	f.clock.rebase = s.Jitter != hub.JitterOff
	if f.format == FormatMP4 {
		if vtrack == nil && atrack == nil {
			return nil, errNoTracks // before anything is created on disk
		}
		f.video = vtrack != nil
	}
	out, final, err := createTmp(path)
	if err != nil {
		return nil, err
	}
	f.path, f.out = final, out
	if f.format == FormatMP4 {
		f.mp4, err = newMP4File(out, s.FragmentedMP4, vtrack, atrack)
	} else {
		f.flv, err = newFLVFile(out, flv.Header{HasAudio: k.audio, HasVideo: k.video})
	}
	if err != nil {
		out.Close()
		os.Remove(out.Name())
		return nil, err
	}
	return f, nil
}

// hasVideo reports whether the file records video.
func (f *recording) hasVideo() bool { return f.video }

// tracksMatch reports whether an MP4 file's tracks still describe the
// stream; FLV files carry codec changes inline and always match.
func (f *recording) tracksMatch(video, audio *mp4.Track) bool {
	if f.mp4 == nil {
		return true
	}
	return sameTrack(f.mp4.video, video) && sameTrack(f.mp4.audio, audio)
}

// prefix starts an FLV file with the stream's metadata (or, when it has
// none, castd's own, for the duration and size) and sequence headers, as a
// player joining the stream gets them; t is the timeline time of the first
// frame. MP4 holds them in its sample entries.
func (f *recording) prefix(meta, ash, vsh *av.Packet, t int64) error {
	if f.flv == nil {
		return nil
	}
	ts := f.clock.rel(t)
	var err error
	if meta != nil {
		err = f.flv.writeMeta(meta, ts)
	} else {
		err = f.flv.writeOwnMeta(ts)
	}
	if err != nil {
		return err
	}
	for _, sh := range []*av.Packet{ash, vsh} {
		if sh != nil {
			if err := f.sequenceHeader(sh, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// sequenceHeader writes a sequence header into an FLV file unless it
// repeats the last one. (MP4 files are cut when the codec setup changes:
// see tracksMatch.)
func (f *recording) sequenceHeader(p *av.Packet, t int64) error {
	if f.flv == nil {
		return nil
	}
	last := &f.lastASH
	if p.Kind == av.KindVideo {
		last = &f.lastVSH
	}
	if bytes.Equal(*last, p.Payload) {
		return nil
	}
	*last = p.Payload
	return f.flv.write(p, f.clock.rel(t))
}

// media writes an audio or video frame at timeline time t.
func (f *recording) media(p *av.Packet, t int64) error {
	if p.Kind == av.KindVideo && !f.keyed {
		if isKeyframe(p) {
			f.keyed = true
		} else if f.wait || f.mp4 != nil {
			return nil // a file starts at a keyframe
		}
	}
	ts := f.clock.media(t)
	if f.mp4 != nil {
		return f.mp4.write(p, ts)
	}
	return f.flv.write(p, ts)
}

// finish completes the container, commits the file and describes it.
func (f *recording) finish() (File, error) {
	var size int64
	var err error
	ms := f.clock.durationMs()
	if f.mp4 != nil {
		size, err = f.mp4.finish()
	} else {
		size, err = f.flv.finish(ms)
	}
	if err != nil {
		f.out.Close()
		return File{}, err
	}
	if err := commit(f.out, f.path); err != nil {
		return File{}, err
	}
	return File{Path: f.path, Format: f.format, Duration: time.Duration(ms) * time.Millisecond, Size: size}, nil
}
