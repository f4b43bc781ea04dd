package mp4

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"
)

// FragmentedWriter writes a fragmented MP4 file: an init segment, then a
// movie fragment (moof + mdat, all tracks) about every FragmentDuration,
// cut before a video keyframe. Each fragment is handed to the writer in one
// Write as soon as it is complete, so when the process dies the file on disk
// is playable up to its last complete fragment, once Recover has cut off
// the torn tail. Browsers and ffmpeg play such files as they are.
//
// The trade-off against FileWriter: a crash loses at most the fragment in
// progress (≈ FragmentDuration plus a GOP) instead of the whole file, the
// fragment's sample data is held in memory until it is written, and some
// desktop editors and old players handle fragmented files less well than
// progressive ones (seeking scans the moofs; there is no sidx or mfra).
//
// Sample data is kept by reference until its fragment is written: the
// caller must not modify it (castd packets are immutable).
type FragmentedWriter struct {
	w       io.Writer
	tracks  []Track
	queues  []fragQueue
	target  time.Duration
	mehdPos int64 // offset of mehd's fragment_duration, from base; 0 if none
	base    int64
	pos     int64
	seq     uint32
	primary int // the track whose keyframes start fragments (first video track), -1 if none
	origin  fragOrigin
	buf     []byte
	runs    []TrackRun
	err     error
	closed  bool
}

// DefaultFragmentDuration is the fragment length FragmentedWriter aims for.
const DefaultFragmentDuration = 2 * time.Second

// fragQueue holds one track's samples of the fragment in progress. DTS
// values in it are adjusted (see timeline) and rebased to the file's origin.
type fragQueue struct {
	tl      timeline
	samples []Sample
	end     uint64 // decode time after the last written sample, for mehd
	started bool
}

// fragOrigin is the decode time that becomes time 0 of every track, fixed
// when the first fragment is written: the earliest first DTS of the tracks
// that have samples by then.
type fragOrigin struct {
	set       bool
	dts       int64
	timescale uint32
}

// NewFragmentedWriter writes the init segment to w. fragmentDuration 0 means
// DefaultFragmentDuration. When w is also an io.Seeker, Close records the
// total duration in the init segment's mehd.
func NewFragmentedWriter(w io.Writer, fragmentDuration time.Duration, tracks ...Track) (*FragmentedWriter, error) {
	if fragmentDuration <= 0 {
		fragmentDuration = DefaultFragmentDuration
	}
	f := &FragmentedWriter{
		w: w, tracks: append([]Track(nil), tracks...), queues: make([]fragQueue, len(tracks)),
		target: fragmentDuration, seq: 1, primary: -1,
	}
	if s, ok := w.(io.Seeker); ok {
		base, err := s.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("mp4: fragmented writer: %w", err)
		}
		f.base = base
	}
	for i := range tracks {
		if tracks[i].Kind == KindVideo {
			f.primary = i
			break
		}
	}
	bw := NewBoxWriter(make([]byte, 0, 1024))
	_, seekable := w.(io.Seeker)
	pos, err := writeInit(bw, f.tracks, seekable)
	if err != nil {
		return nil, err
	}
	f.mehdPos = int64(pos)
	if err := f.write(bw.Bytes()); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *FragmentedWriter) write(b []byte) error {
	n, err := f.w.Write(b)
	f.pos += int64(n)
	if err != nil {
		f.err = fmt.Errorf("mp4: write fragment: %w", err)
	}
	return f.err
}

// Written is the number of bytes written so far.
func (f *FragmentedWriter) Written() int64 { return f.pos }

// WriteSample queues a sample of the track with the given id, writing the
// fragment in progress first when this sample should start a new one.
func (f *FragmentedWriter) WriteSample(trackID uint32, s Sample) error {
	if f.closed {
		return ErrClosed
	}
	if f.err != nil {
		return f.err
	}
	i := -1
	for j := range f.tracks {
		if f.tracks[j].ID == trackID {
			i = j
		}
	}
	if i < 0 {
		return fmt.Errorf("mp4: no track with id %d", trackID)
	}
	if uint64(len(s.Data)) > math.MaxUint32 {
		return fmt.Errorf("mp4: sample of %d bytes", len(s.Data))
	}
	q := &f.queues[i]
	// Queue the adjusted DTS; PTS stays, so composition offsets are taken
	// against the adjusted decode times as in every other writer here.
	s.DTS, _, _ = q.tl.next(s.DTS)
	if f.shouldCut(i, &s) {
		if err := f.flush(i, s.DTS, false); err != nil {
			return err
		}
	}
	q.samples = append(q.samples, s)
	return nil
}

// shouldCut decides whether sample s of track i starts a new fragment: at
// a keyframe of the primary (video) track once the fragment is long
// enough, or at any sample once it is four times too long (a long GOP or a
// stalled video track must not hold data in memory forever).
func (f *FragmentedWriter) shouldCut(i int, s *Sample) bool {
	var longest time.Duration
	for j := range f.queues {
		q := &f.queues[j]
		if len(q.samples) == 0 {
			continue
		}
		d := s.DTS - q.samples[0].DTS
		if j != i {
			d = q.samples[len(q.samples)-1].DTS - q.samples[0].DTS
		}
		longest = max(longest, ticksToDuration(d, f.tracks[j].Timescale))
	}
	if longest >= 4*f.target {
		return true
	}
	if longest < f.target {
		return false
	}
	return f.primary < 0 || (i == f.primary && s.Keyframe)
}

func ticksToDuration(ticks int64, timescale uint32) time.Duration {
	return time.Duration(rescale(ticks, timescale, uint32(time.Second/time.Microsecond))) * time.Microsecond
}

// flush writes one fragment. Track cut (the one whose sample triggered it)
// knows its next DTS, so all its samples go out; other tracks keep their
// last sample back, as its duration is not known yet. At the end every
// sample goes out and the last-sample rule applies.
func (f *FragmentedWriter) flush(cut int, nextDTS int64, final bool) error {
	f.setOrigin()
	f.runs = f.runs[:0]
	kept := make([]int, len(f.queues)) // samples each queue keeps back
	for j := range f.queues {
		q := &f.queues[j]
		n := len(q.samples)
		switch {
		case n == 0:
			continue
		case final:
			q.samples[n-1].Duration = q.tl.lastDuration(q.samples[n-1].Duration, f.tracks[j].DefaultDuration)
		case j == cut:
			q.samples[n-1].Duration = uint32(nextDTS - q.samples[n-1].DTS)
		default:
			if n == 1 {
				kept[j] = 1
				continue
			}
			q.samples[n-2].Duration = uint32(q.samples[n-1].DTS - q.samples[n-2].DTS)
			kept[j] = 1
			n--
		}
		run := TrackRun{Track: f.tracks[j], Samples: q.samples[:n], BaseDecodeTime: f.decodeTime(j, q.samples[0].DTS)}
		f.runs = append(f.runs, run)
		var dur uint64
		walkRun(run.Samples, f.tracks[j].DefaultDuration, f.tracks[j].Kind, func(_ int, t runTiming) { dur += uint64(t.duration) })
		q.end = run.BaseDecodeTime + dur
	}
	if len(f.runs) == 0 {
		return nil
	}
	var err error
	f.buf, err = AppendFragment(f.buf[:0], f.seq, f.runs...)
	if err != nil {
		f.err = err
		return err
	}
	f.seq++
	if err := f.write(f.buf); err != nil {
		return err
	}
	for j := range f.queues {
		q := &f.queues[j]
		n := len(q.samples)
		if n == 0 {
			continue
		}
		keep := q.samples[n-kept[j]:]
		clear(q.samples[:n-kept[j]]) // drop references to written data
		q.samples = append(q.samples[:0], keep...)
	}
	return nil
}

// setOrigin fixes time 0 at the first flush.
func (f *FragmentedWriter) setOrigin() {
	if f.origin.set {
		return
	}
	for j := range f.queues {
		q := &f.queues[j]
		if len(q.samples) == 0 {
			continue
		}
		ts := f.tracks[j].Timescale
		if !f.origin.set || rescale(q.samples[0].DTS, ts, movieTimescale*1000) < rescale(f.origin.dts, f.origin.timescale, movieTimescale*1000) {
			f.origin = fragOrigin{set: true, dts: q.samples[0].DTS, timescale: ts}
		}
	}
}

// decodeTime maps an adjusted DTS of track j to its tfdt. A track whose
// first sample comes before the origin (it started after the first
// fragment was written with an earlier timestamp) is clamped to keep
// decode times non-negative and increasing.
func (f *FragmentedWriter) decodeTime(j int, dts int64) uint64 {
	q := &f.queues[j]
	d := dts - rescale(f.origin.dts, f.origin.timescale, f.tracks[j].Timescale)
	if d < 0 {
		d = 0
	}
	if q.started && uint64(d) < q.end {
		d = int64(q.end)
	}
	q.started = true
	return uint64(d)
}

// Close writes the last fragment and, when the writer can seek, the total
// duration into mehd. It does not close the underlying writer.
func (f *FragmentedWriter) Close() error {
	if f.closed {
		return ErrClosed
	}
	f.closed = true
	if f.err != nil {
		return f.err
	}
	if err := f.flush(-1, 0, true); err != nil {
		return err
	}
	s, ok := f.w.(io.WriteSeeker)
	if !ok || f.mehdPos == 0 {
		return nil
	}
	var longest uint64
	for j := range f.queues {
		longest = max(longest, uint64(rescale(int64(f.queues[j].end), f.tracks[j].Timescale, movieTimescale)))
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], longest)
	if _, err := s.Seek(f.base+f.mehdPos, io.SeekStart); err != nil {
		return fmt.Errorf("mp4: seek to mehd: %w", err)
	}
	if _, err := s.Write(b[:]); err != nil {
		return fmt.Errorf("mp4: write mehd: %w", err)
	}
	if _, err := s.Seek(f.base+f.pos, io.SeekStart); err != nil {
		return fmt.Errorf("mp4: seek to file end: %w", err)
	}
	return nil
}
