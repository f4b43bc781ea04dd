package mp4

import (
	"fmt"
)

// Decoders for the payloads of the boxes this package writes (and the
// common ones ffmpeg writes), used by ParseFile.

// FileType is a decoded ftyp or styp.
type FileType struct {
	Major      string
	Minor      uint32
	Compatible []string
}

func parseFileType(b *Box) (FileType, error) {
	r := newFields(b.Type, b.Data)
	ft := FileType{Major: string(r.bytes(4)), Minor: r.u32()}
	if r.err != nil {
		return ft, r.err
	}
	if len(r.b)%4 != 0 {
		return ft, fmt.Errorf("mp4: %s of %d bytes is not a list of brands", b.Type, len(r.b))
	}
	for r.off < len(r.b) {
		ft.Compatible = append(ft.Compatible, string(r.bytes(4)))
	}
	return ft, nil
}

// Edit is one elst entry: Duration in the movie timescale, MediaTime in the
// track's (-1 for an empty edit), Rate in 16.16 fixed point.
type Edit struct {
	Duration  uint64
	MediaTime int64
	Rate      uint32
}

func parseElst(b *Box) ([]Edit, error) {
	r := newFields("elst", b.Data)
	v, _ := r.fullHeader()
	size := 12
	if v == 1 {
		size = 20
	}
	n := r.count(size)
	edits := make([]Edit, 0, n)
	for range n {
		e := Edit{Duration: r.uv(v)}
		if v == 1 {
			e.MediaTime = int64(r.u64())
		} else {
			e.MediaTime = int64(int32(r.u32()))
		}
		e.Rate = r.u32()
		edits = append(edits, e)
	}
	return edits, r.err
}

// SampleTable holds a track's decoded sample tables.
type SampleTable struct {
	TimeToSample       []TimeToSample
	CompositionOffsets []CompositionOffset
	CompositionVersion uint8
	// SyncSamples lists 1-based sync sample numbers when HasSyncTable;
	// without an stss every sample is a sync sample.
	SyncSamples   []uint32
	HasSyncTable  bool
	SampleToChunk []SampleToChunk
	// SampleSize is the size of every sample when not 0; otherwise Sizes
	// holds one size per sample.
	SampleSize     uint32
	SampleCount    uint32
	Sizes          []uint32
	ChunkOffsets   []uint64
	ChunkOffsets64 bool // from a co64
}

type TimeToSample struct{ Count, Delta uint32 }

type CompositionOffset struct {
	Count  uint32
	Offset int32
}

type SampleToChunk struct{ FirstChunk, SamplesPerChunk, DescriptionIndex uint32 }

func parseSampleTable(stbl *Box, t *SampleTable) error {
	for _, c := range stbl.Children {
		r := newFields(c.Type, c.Data)
		var v uint8
		switch c.Type {
		case "stts":
			r.fullHeader()
			n := r.count(8)
			t.TimeToSample = make([]TimeToSample, n)
			for i := range t.TimeToSample {
				t.TimeToSample[i] = TimeToSample{r.u32(), r.u32()}
			}
		case "ctts":
			v, _ = r.fullHeader()
			t.CompositionVersion = v
			n := r.count(8)
			t.CompositionOffsets = make([]CompositionOffset, n)
			for i := range t.CompositionOffsets {
				t.CompositionOffsets[i] = CompositionOffset{r.u32(), int32(r.u32())}
			}
		case "stss":
			r.fullHeader()
			t.HasSyncTable = true
			n := r.count(4)
			t.SyncSamples = make([]uint32, n)
			for i := range t.SyncSamples {
				t.SyncSamples[i] = r.u32()
			}
		case "stsc":
			r.fullHeader()
			n := r.count(12)
			t.SampleToChunk = make([]SampleToChunk, n)
			for i := range t.SampleToChunk {
				t.SampleToChunk[i] = SampleToChunk{r.u32(), r.u32(), r.u32()}
			}
		case "stsz":
			r.fullHeader()
			t.SampleSize = r.u32()
			if t.SampleSize != 0 {
				t.SampleCount = r.u32()
				break
			}
			n := r.count(4)
			t.SampleCount = uint32(n)
			t.Sizes = make([]uint32, n)
			for i := range t.Sizes {
				t.Sizes[i] = r.u32()
			}
		case "stco", "co64":
			r.fullHeader()
			size := 4
			if c.Type == "co64" {
				size, t.ChunkOffsets64 = 8, true
			}
			n := r.count(size)
			t.ChunkOffsets = make([]uint64, n)
			for i := range t.ChunkOffsets {
				if size == 8 {
					t.ChunkOffsets[i] = r.u64()
				} else {
					t.ChunkOffsets[i] = uint64(r.u32())
				}
			}
		}
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

// TrackExtends is a decoded trex: the defaults of a track's fragments.
type TrackExtends struct {
	TrackID, DescriptionIndex, Duration, Size, Flags uint32
}

func parseTrex(b *Box) (TrackExtends, error) {
	r := newFields("trex", b.Data)
	r.fullHeader()
	t := TrackExtends{r.u32(), r.u32(), r.u32(), r.u32(), r.u32()}
	return t, r.err
}

// TrackFragment is a decoded traf.
type TrackFragment struct {
	TrackID uint32
	Flags   uint32 // tfhd flags
	// BaseDataOffset is set when Flags has base-data-offset-present.
	BaseDataOffset    uint64
	DescriptionIndex  uint32
	DefaultDuration   uint32
	DefaultSize       uint32
	DefaultFlags      uint32
	BaseDecodeTime    uint64 // tfdt, when HasBaseDecodeTime
	HasBaseDecodeTime bool
	Runs              []RunInfo
}

// RunInfo is a decoded trun. Entries holds one entry per sample when the
// run has per-sample fields; otherwise it is empty and every sample takes
// the defaults.
type RunInfo struct {
	Version          uint8
	Flags            uint32
	SampleCount      uint32
	DataOffset       int32
	FirstSampleFlags uint32
	Entries          []RunEntry
}

type RunEntry struct {
	Duration, Size, Flags uint32
	CompositionOffset     int32
}

func parseTraf(traf *Box) (TrackFragment, error) {
	var tf TrackFragment
	hdr := traf.Child("tfhd")
	if hdr == nil {
		return tf, fmt.Errorf("mp4: traf at %d has no tfhd", traf.Offset)
	}
	r := newFields("tfhd", hdr.Data)
	_, tf.Flags = r.fullHeader()
	tf.TrackID = r.u32()
	if tf.Flags&tfhdBaseDataOffset != 0 {
		tf.BaseDataOffset = r.u64()
	}
	if tf.Flags&tfhdSampleDescription != 0 {
		tf.DescriptionIndex = r.u32()
	}
	if tf.Flags&tfhdDefaultDuration != 0 {
		tf.DefaultDuration = r.u32()
	}
	if tf.Flags&tfhdDefaultSize != 0 {
		tf.DefaultSize = r.u32()
	}
	if tf.Flags&tfhdDefaultFlags != 0 {
		tf.DefaultFlags = r.u32()
	}
	if r.err != nil {
		return tf, r.err
	}
	for _, c := range traf.Children {
		switch c.Type {
		case "tfdt":
			r := newFields("tfdt", c.Data)
			v, _ := r.fullHeader()
			tf.BaseDecodeTime, tf.HasBaseDecodeTime = r.uv(v), true
			if r.err != nil {
				return tf, r.err
			}
		case "trun":
			run, err := parseTrun(c.Data)
			if err != nil {
				return tf, err
			}
			tf.Runs = append(tf.Runs, run)
		}
	}
	return tf, nil
}

func parseTrun(b []byte) (RunInfo, error) {
	r := newFields("trun", b)
	var run RunInfo
	run.Version, run.Flags = r.fullHeader()
	run.SampleCount = r.u32()
	if run.Flags&trunDataOffset != 0 {
		run.DataOffset = int32(r.u32())
	}
	if run.Flags&trunFirstSampleFlags != 0 {
		run.FirstSampleFlags = r.u32()
	}
	if r.err != nil {
		return run, r.err
	}
	entrySize := 0
	for _, f := range [...]uint32{trunSampleDuration, trunSampleSize, trunSampleFlags, trunSampleCompositionTS} {
		if run.Flags&f != 0 {
			entrySize += 4
		}
	}
	if entrySize == 0 {
		return run, nil
	}
	if uint64(run.SampleCount)*uint64(entrySize) > uint64(len(b)-r.off) {
		return run, fmt.Errorf("%w: trun has %d samples of %d bytes, %d bytes left", ErrTruncated, run.SampleCount, entrySize, len(b)-r.off)
	}
	run.Entries = make([]RunEntry, run.SampleCount)
	for i := range run.Entries {
		e := &run.Entries[i]
		if run.Flags&trunSampleDuration != 0 {
			e.Duration = r.u32()
		}
		if run.Flags&trunSampleSize != 0 {
			e.Size = r.u32()
		}
		if run.Flags&trunSampleFlags != 0 {
			e.Flags = r.u32()
		}
		if run.Flags&trunSampleCompositionTS != 0 {
			e.CompositionOffset = int32(r.u32()) // version 0 is unsigned; real offsets fit either way
		}
	}
	return run, r.err
}

func parseSidx(b *Box) (SegmentIndex, error) {
	r := newFields("sidx", b.Data)
	v, _ := r.fullHeader()
	idx := SegmentIndex{ReferenceID: r.u32(), Timescale: r.u32()}
	idx.EarliestPresentationTime = r.uv(v)
	idx.FirstOffset = r.uv(v)
	r.skip(2)
	n := int(r.u16())
	if r.err == nil && n*12 > len(r.b)-r.off {
		return idx, fmt.Errorf("%w: sidx has %d references, %d bytes left", ErrTruncated, n, len(r.b)-r.off)
	}
	idx.References = make([]SegmentReference, n)
	for i := range idx.References {
		a, d, s := r.u32(), r.u32(), r.u32()
		idx.References[i] = SegmentReference{
			ReferencesIndex: a>>31 == 1, Size: a & 0x7fffffff, Duration: d,
			StartsWithSAP: s>>31 == 1, SAPType: uint8(s>>28) & 0x07, SAPDeltaTime: s & 0x0fffffff,
		}
	}
	return idx, r.err
}
