package mp4

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// InitSegment returns an initialization segment for the tracks: ftyp and a
// moov with one trak per track (sample entry, empty sample tables) and an
// mvex with a trex per track. The same bytes serve DASH, HLS fMP4 and MSE.
func InitSegment(tracks ...Track) ([]byte, error) {
	w := NewBoxWriter(make([]byte, 0, 1024))
	if _, err := writeInit(w, tracks, false); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

// writeInit writes ftyp and moov; with mehd it reserves a movie extends
// header and returns the position of its 64-bit fragment_duration.
func writeInit(w *BoxWriter, tracks []Track, mehd bool) (mehdPos int, err error) {
	if err := validateTracks(tracks); err != nil {
		return 0, err
	}
	writeFtyp(w, "ftyp", "iso6", 0, initBrands, codecBrands(tracks)...)
	w.Begin("moov")
	writeMvhd(w, 0, nextTrackID(tracks))
	for i := range tracks {
		writeTrak(w, &tracks[i], trackTiming{}, writeEmptyTables)
	}
	w.Begin("mvex")
	if mehd {
		w.BeginFull("mehd", 1, 0)
		mehdPos = w.Pos()
		w.U64(0)
		w.End()
	}
	for _, t := range tracks {
		w.BeginFull("trex", 0, 0)
		w.U32(t.ID)
		w.U32(1) // default_sample_description_index
		w.U32(0) // default_sample_duration
		w.U32(0) // default_sample_size
		w.U32(0) // default_sample_flags
		w.End()
	}
	w.End() // mvex
	w.End() // moov
	return mehdPos, w.Err()
}

func validateTracks(tracks []Track) error {
	if len(tracks) == 0 {
		return errors.New("mp4: no tracks")
	}
	for i := range tracks {
		if err := tracks[i].validate(); err != nil {
			return err
		}
		for j := range i {
			if tracks[j].ID == tracks[i].ID {
				return fmt.Errorf("mp4: two tracks with id %d", tracks[i].ID)
			}
		}
	}
	return nil
}

func nextTrackID(tracks []Track) uint32 {
	var max uint32
	for _, t := range tracks {
		max = maxOf(max, t.ID)
	}
	if max == math.MaxUint32 {
		return 0 // "unknown": a writer adding a track must search for a free id
	}
	return max + 1
}

func maxOf[T int | int64 | uint32 | uint64](a, b T) T {
	if a > b {
		return a
	}
	return b
}

// TrackRun is one track's samples in a movie fragment.
type TrackRun struct {
	Track   Track
	Samples []Sample
	// BaseDecodeTime goes into tfdt: the decode time of the first sample
	// on the track's continuous timeline, normally Samples[0].DTS. Sample
	// DTS values are only used relative to each other (for durations and
	// composition offsets), so a packager may rebase the timeline here.
	BaseDecodeTime uint64
}

// MediaSegment returns a DASH media segment for one track: styp, then a
// movie fragment (moof with mfhd and one traf) and its mdat. seq is the
// fragment sequence number, which must increase by segment. See Sample for
// how durations are derived.
func MediaSegment(seq uint32, track Track, samples []Sample, baseDecodeTime uint64) ([]byte, error) {
	run := TrackRun{Track: track, Samples: samples, BaseDecodeTime: baseDecodeTime}
	w := NewBoxWriter(make([]byte, 0, fragmentSizeHint(run)+24))
	writeFtyp(w, "styp", segmentBrands[0], 0, segmentBrands)
	if err := writeFragment(w, seq, []TrackRun{run}); err != nil {
		return nil, err
	}
	return w.Bytes(), nil
}

// AppendFragment appends one movie fragment (moof and mdat) with a traf per
// run to dst. The sample data of the runs follow each other in the mdat.
func AppendFragment(dst []byte, seq uint32, runs ...TrackRun) ([]byte, error) {
	size := 0
	for _, r := range runs {
		size += fragmentSizeHint(r)
	}
	w := NewBoxWriter(slices.Grow(dst, size))
	if err := writeFragment(w, seq, runs); err != nil {
		return dst, err
	}
	return w.Bytes(), nil
}

func fragmentSizeHint(r TrackRun) int {
	n := 128 + 16*len(r.Samples)
	for i := range r.Samples {
		n += len(r.Samples[i].Data)
	}
	return n
}

// trun and tfhd flags (ISO/IEC 14496-12 8.8.7, 8.8.8).
const (
	tfhdBaseDataOffset      = 0x000001
	tfhdSampleDescription   = 0x000002
	tfhdDefaultDuration     = 0x000008
	tfhdDefaultSize         = 0x000010
	tfhdDefaultFlags        = 0x000020
	tfhdDefaultBaseIsMoof   = 0x020000
	trunDataOffset          = 0x000001
	trunFirstSampleFlags    = 0x000004
	trunSampleDuration      = 0x000100
	trunSampleSize          = 0x000200
	trunSampleFlags         = 0x000400
	trunSampleCompositionTS = 0x000800
)

// runLayout is what a run's samples share, decided before writing its
// traf: uniform durations and flags go into tfhd instead of every entry.
type runLayout struct {
	sameDuration   bool
	duration       uint32 // when sameDuration
	flagsMode      int    // flagsSame, flagsFirstDiffers or flagsEach
	defaultFlags   uint32
	firstFlags     uint32
	hasComposition bool
	dataSize       uint64
	tfhdFlags      uint32
	trunFlags      uint32
	trunVersion    uint8
}

const (
	flagsSame = iota
	flagsFirstDiffers
	flagsEach
)

func layoutRun(r *TrackRun) (runLayout, error) {
	var l runLayout
	if r.Track.ID == 0 {
		return l, errors.New("mp4: fragment for track id 0")
	}
	if len(r.Samples) == 0 {
		return l, fmt.Errorf("mp4: fragment for track %d has no samples", r.Track.ID)
	}
	if len(r.Samples) > math.MaxInt32 {
		return l, fmt.Errorf("mp4: fragment for track %d has %d samples", r.Track.ID, len(r.Samples))
	}
	l.sameDuration = true
	walkRun(r.Samples, r.Track.DefaultDuration, r.Track.Kind, func(i int, t runTiming) {
		if i == 0 {
			l.duration = t.duration
		} else if t.duration != l.duration {
			l.sameDuration = false
		}
		if t.cto != 0 {
			l.hasComposition = true
		}
	})
	k := r.Track.Kind
	l.firstFlags = sampleFlags(k, &r.Samples[0])
	l.defaultFlags = l.firstFlags
	if len(r.Samples) > 1 {
		l.defaultFlags = sampleFlags(k, &r.Samples[1])
	}
	for i := range r.Samples {
		s := &r.Samples[i]
		if uint64(len(s.Data)) > math.MaxUint32 {
			return l, fmt.Errorf("mp4: track %d sample %d of %d bytes", r.Track.ID, i, len(s.Data))
		}
		l.dataSize += uint64(len(s.Data))
		if i > 0 && sampleFlags(k, s) != l.defaultFlags {
			l.flagsMode = flagsEach
		}
	}
	if l.flagsMode != flagsEach && l.firstFlags != l.defaultFlags {
		l.flagsMode = flagsFirstDiffers
	}

	l.tfhdFlags = tfhdDefaultBaseIsMoof
	l.trunFlags = trunDataOffset | trunSampleSize
	if l.sameDuration {
		l.tfhdFlags |= tfhdDefaultDuration
	} else {
		l.trunFlags |= trunSampleDuration
	}
	switch l.flagsMode {
	case flagsSame:
		l.tfhdFlags |= tfhdDefaultFlags
	case flagsFirstDiffers:
		l.tfhdFlags |= tfhdDefaultFlags
		l.trunFlags |= trunFirstSampleFlags
	default:
		l.trunFlags |= trunSampleFlags
	}
	if l.hasComposition {
		// Version 1: signed offsets, so a packager may also shift PTS so
		// that the first one equals the DTS.
		l.trunFlags |= trunSampleCompositionTS
		l.trunVersion = 1
	}
	return l, nil
}

// maxRuns bounds the trafs of one fragment (a fixed array avoids allocating).
const maxRuns = 16

func writeFragment(w *BoxWriter, seq uint32, runs []TrackRun) error {
	if len(runs) == 0 || len(runs) > maxRuns {
		return fmt.Errorf("mp4: fragment with %d track runs (1 to %d)", len(runs), maxRuns)
	}
	var layouts [maxRuns]runLayout
	var offsetPos [maxRuns]int
	var total uint64
	for i := range runs {
		l, err := layoutRun(&runs[i])
		if err != nil {
			return err
		}
		layouts[i] = l
		total += l.dataSize
	}
	if total+8 > math.MaxUint32 {
		return fmt.Errorf("mp4: fragment of %d bytes of samples is too large", total)
	}

	moofStart := w.Pos()
	w.Begin("moof")
	w.BeginFull("mfhd", 0, 0)
	w.U32(seq)
	w.End()
	for i := range runs {
		offsetPos[i] = writeTraf(w, &runs[i], &layouts[i])
	}
	w.End() // moof
	moofSize := w.Pos() - moofStart

	w.Begin("mdat")
	for i := range runs {
		for j := range runs[i].Samples {
			w.Write(runs[i].Samples[j].Data)
		}
	}
	w.End()

	// default-base-is-moof: data offsets count from the moof's first byte.
	offset := uint64(moofSize) + 8
	for i := range runs {
		w.PatchU32(offsetPos[i], uint32(offset))
		offset += layouts[i].dataSize
	}
	return w.Err()
}

// writeTraf writes one track fragment and returns the position of its
// trun data_offset, patched once the moof size is known.
func writeTraf(w *BoxWriter, r *TrackRun, l *runLayout) int {
	w.Begin("traf")
	w.BeginFull("tfhd", 0, l.tfhdFlags)
	w.U32(r.Track.ID)
	if l.tfhdFlags&tfhdDefaultDuration != 0 {
		w.U32(l.duration)
	}
	if l.tfhdFlags&tfhdDefaultFlags != 0 {
		w.U32(l.defaultFlags)
	}
	w.End()

	w.BeginFull("tfdt", 1, 0)
	w.U64(r.BaseDecodeTime)
	w.End()

	w.BeginFull("trun", l.trunVersion, l.trunFlags)
	w.U32(uint32(len(r.Samples)))
	offsetPos := w.Pos()
	w.U32(0) // data_offset, patched
	if l.trunFlags&trunFirstSampleFlags != 0 {
		w.U32(l.firstFlags)
	}
	k := r.Track.Kind
	walkRun(r.Samples, r.Track.DefaultDuration, r.Track.Kind, func(i int, t runTiming) {
		if l.trunFlags&trunSampleDuration != 0 {
			w.U32(t.duration)
		}
		w.U32(uint32(len(r.Samples[i].Data)))
		if l.trunFlags&trunSampleFlags != 0 {
			w.U32(sampleFlags(k, &r.Samples[i]))
		}
		if l.trunFlags&trunSampleCompositionTS != 0 {
			w.I32(t.cto)
		}
	})
	w.End() // trun
	w.End() // traf
	return offsetPos
}
