package mp4

import (
	"fmt"
	"math"
)

// SampleInfo is one sample as the tables describe it.
type SampleInfo struct {
	Number   int   // 0-based, across the moov table and then the fragments
	Offset   int64 // of its data, from the start of the input
	Size     uint32
	DTS      int64
	PTS      int64
	Duration uint32
	Sync     bool
}

// Samples calls fn for each sample of the track, first those of the moov's
// tables, then those of the movie fragments in file order, until fn returns
// false. It allocates nothing per sample, so a table that claims billions
// of samples costs only the time fn lets it run.
func (f *File) Samples(trackID uint32, fn func(SampleInfo) bool) error {
	var t *TrackInfo
	if f.Movie != nil {
		t = f.Movie.Track(trackID)
	}
	w := sampleWalker{fn: fn}
	if t != nil {
		if err := w.walkTable(&t.Table); err != nil {
			return fmt.Errorf("mp4: track %d tables: %w", trackID, err)
		}
	}
	for i := range f.Fragments {
		fr := &f.Fragments[i]
		for j := range fr.Trafs {
			tf := &fr.Trafs[j]
			if tf.TrackID != trackID || w.stopped {
				continue
			}
			var defaults TrackExtends
			if t != nil {
				defaults = t.Extends
			}
			if err := w.walkTraf(fr, tf, defaults); err != nil {
				return fmt.Errorf("mp4: track %d fragment %d: %w", trackID, fr.Sequence, err)
			}
		}
	}
	return nil
}

// sampleWalker carries the running decode time and sample number across
// the moov and the fragments.
type sampleWalker struct {
	fn      func(SampleInfo) bool
	n       int
	dts     int64
	stopped bool
}

func (w *sampleWalker) emit(s SampleInfo) {
	if w.stopped {
		return
	}
	s.Number = w.n
	w.n++
	w.dts = s.DTS + int64(s.Duration)
	if !w.fn(s) {
		w.stopped = true
	}
}

// walkTable walks the moov's sample tables with one cursor per table.
func (w *sampleWalker) walkTable(t *SampleTable) error {
	if t.SampleSize == 0 && uint32(len(t.Sizes)) != t.SampleCount {
		return fmt.Errorf("stsz lists %d sizes for %d samples", len(t.Sizes), t.SampleCount)
	}
	var (
		stts, sttsUsed uint32
		ctts, cttsUsed uint32
		stsc           int
		chunk          int // 1-based chunk of the current sample
		left           uint32
		perChunk       uint32
		offset         uint64
		sync           int
	)
	for i := uint32(0); i < t.SampleCount && !w.stopped; i++ {
		size := t.SampleSize
		if size == 0 {
			size = t.Sizes[i]
		}
		if left == 0 {
			chunk++
			if chunk > len(t.ChunkOffsets) {
				return fmt.Errorf("sample %d is past the %d chunks", i+1, len(t.ChunkOffsets))
			}
			for stsc < len(t.SampleToChunk) && int64(t.SampleToChunk[stsc].FirstChunk) <= int64(chunk) {
				perChunk = t.SampleToChunk[stsc].SamplesPerChunk
				stsc++
			}
			if perChunk == 0 {
				return fmt.Errorf("chunk %d has no samples per stsc", chunk)
			}
			left = perChunk
			offset = t.ChunkOffsets[chunk-1]
		}
		for int(stts) < len(t.TimeToSample) && sttsUsed == t.TimeToSample[stts].Count {
			stts, sttsUsed = stts+1, 0
		}
		if int(stts) >= len(t.TimeToSample) {
			return fmt.Errorf("stts covers fewer than %d samples", i+1)
		}
		sttsUsed++
		var cto int32
		if len(t.CompositionOffsets) > 0 {
			for int(ctts) < len(t.CompositionOffsets) && cttsUsed == t.CompositionOffsets[ctts].Count {
				ctts, cttsUsed = ctts+1, 0
			}
			if int(ctts) >= len(t.CompositionOffsets) {
				return fmt.Errorf("ctts covers fewer than %d samples", i+1)
			}
			cttsUsed++
			cto = t.CompositionOffsets[ctts].Offset
		}
		isSync := !t.HasSyncTable
		for sync < len(t.SyncSamples) && t.SyncSamples[sync] < i+1 {
			sync++
		}
		if sync < len(t.SyncSamples) && t.SyncSamples[sync] == i+1 {
			isSync = true
		}
		if offset > math.MaxInt64 {
			return fmt.Errorf("sample %d offset %d", i+1, offset)
		}
		w.emit(SampleInfo{Offset: int64(offset), Size: size, DTS: w.dts, PTS: w.dts + int64(cto),
			Duration: t.TimeToSample[stts].Delta, Sync: isSync})
		offset += uint64(size)
		left--
	}
	return nil
}

// walkTraf walks one track fragment. Data offsets count from the moof
// (default-base-is-moof), from an explicit base, or, for a traf with
// neither, from the moof too, as for the first traf of a fragment.
func (w *sampleWalker) walkTraf(fr *Fragment, tf *TrackFragment, defaults TrackExtends) error {
	base := fr.Offset
	if tf.Flags&tfhdBaseDataOffset != 0 {
		if tf.BaseDataOffset > math.MaxInt64 {
			return fmt.Errorf("base data offset %d", tf.BaseDataOffset)
		}
		base = int64(tf.BaseDataOffset)
	}
	duration, size, flags := defaults.Duration, defaults.Size, defaults.Flags
	if tf.Flags&tfhdDefaultDuration != 0 {
		duration = tf.DefaultDuration
	}
	if tf.Flags&tfhdDefaultSize != 0 {
		size = tf.DefaultSize
	}
	if tf.Flags&tfhdDefaultFlags != 0 {
		flags = tf.DefaultFlags
	}
	if tf.HasBaseDecodeTime {
		if tf.BaseDecodeTime > math.MaxInt64 {
			return fmt.Errorf("base decode time %d", tf.BaseDecodeTime)
		}
		w.dts = int64(tf.BaseDecodeTime)
	}
	offset := base
	for _, run := range tf.Runs {
		if run.Flags&trunDataOffset != 0 {
			offset = base + int64(run.DataOffset)
		}
		for i := uint32(0); i < run.SampleCount && !w.stopped; i++ {
			s := SampleInfo{Offset: offset, DTS: w.dts, Duration: duration, Size: size}
			f := flags
			if i == 0 && run.Flags&trunFirstSampleFlags != 0 {
				f = run.FirstSampleFlags
			}
			var cto int32
			if len(run.Entries) > 0 {
				e := run.Entries[i]
				if run.Flags&trunSampleDuration != 0 {
					s.Duration = e.Duration
				}
				if run.Flags&trunSampleSize != 0 {
					s.Size = e.Size
				}
				if run.Flags&trunSampleFlags != 0 {
					f = e.Flags
				}
				cto = e.CompositionOffset
			}
			s.PTS = s.DTS + int64(cto)
			s.Sync = f&0x00010000 == 0 // sample_is_non_sync_sample
			w.emit(s)
			offset += int64(s.Size)
		}
	}
	return nil
}

// SampleData returns a sample's bytes from the input the file was parsed
// from, or an error when the tables point outside it.
func SampleData(input []byte, s SampleInfo) ([]byte, error) {
	if s.Offset < 0 || s.Offset > int64(len(input)) || uint64(s.Size) > uint64(int64(len(input))-s.Offset) {
		return nil, fmt.Errorf("%w: sample %d at %d+%d is outside the %d-byte input", ErrTruncated, s.Number, s.Offset, s.Size, len(input))
	}
	return input[s.Offset : s.Offset+int64(s.Size)], nil
}
