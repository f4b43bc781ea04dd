package mp4

import (
	"math"
)

// sampleTable accumulates one track's sample tables for a progressive file
// while the sample data goes straight to the mdat. It keeps what the tables
// need and run-length codes what repeats: about 4 bytes per sample for
// sizes, 8 per chunk, and a few bytes per change of duration or
// composition offset.
type sampleTable struct {
	tl        timeline
	count     uint32
	firstDTS  int64
	lastCTO   int32
	explicit  uint32 // Duration of the last sample, for the last-sample rule
	sizes     []uint32
	sameSize  bool
	stts      []sttsEntry
	ctts      []cttsEntry
	anyCTO    bool
	negCTO    bool
	sync      []uint32 // 1-based numbers of sync samples
	chunkOffs []uint64
	stsc      []stscEntry
	chunkLen  uint32 // samples in the open chunk
	finished  bool
}

type sttsEntry struct{ count, delta uint32 }

type cttsEntry struct {
	count  uint32
	offset int32
}

type stscEntry struct{ firstChunk, samplesPerChunk uint32 }

// maxTableSamples keeps sample numbers within stsz's 32-bit count.
const maxTableSamples = math.MaxUint32 - 1

// add records a sample whose data starts at offset. newChunk says the
// previous sample in the file belonged to another track (or this is the
// first), so this sample opens a chunk.
func (t *sampleTable) add(s *Sample, k Kind, offset uint64, newChunk bool) {
	adj, prevDur, hasPrev := t.tl.next(s.DTS)
	if hasPrev {
		t.addDuration(prevDur)
	} else {
		t.firstDTS = adj
	}
	var cto int32
	if k != KindAudio {
		cto = compositionOffset(s.PTS, adj)
	}
	if cto != 0 {
		t.anyCTO = true
	}
	if cto < 0 {
		t.negCTO = true
	}
	if n := len(t.ctts); n > 0 && t.ctts[n-1].offset == cto {
		t.ctts[n-1].count++
	} else {
		t.ctts = append(t.ctts, cttsEntry{1, cto})
	}
	size := uint32(len(s.Data))
	if t.count == 0 {
		t.sameSize = true
	} else if size != t.sizes[0] {
		t.sameSize = false
	}
	t.sizes = append(t.sizes, size)
	t.count++
	if sampleFlags(k, s) == sampleFlagsSync {
		t.sync = append(t.sync, t.count)
	}
	if newChunk || len(t.chunkOffs) == 0 {
		t.closeChunk()
		t.chunkOffs = append(t.chunkOffs, offset)
	}
	t.chunkLen++
	t.explicit = s.Duration
}

func (t *sampleTable) addDuration(d uint32) {
	if n := len(t.stts); n > 0 && t.stts[n-1].delta == d {
		t.stts[n-1].count++
		return
	}
	t.stts = append(t.stts, sttsEntry{1, d})
}

// closeChunk ends the open chunk, extending stsc when its sample count
// differs from the previous chunk's.
func (t *sampleTable) closeChunk() {
	if t.chunkLen == 0 {
		return
	}
	if n := len(t.stsc); n == 0 || t.stsc[n-1].samplesPerChunk != t.chunkLen {
		t.stsc = append(t.stsc, stscEntry{uint32(len(t.chunkOffs)), t.chunkLen})
	}
	t.chunkLen = 0
}

// finish applies the last-sample rule and closes the last chunk.
func (t *sampleTable) finish(def uint32) {
	if t.finished {
		return
	}
	t.finished = true
	if t.count > 0 {
		t.addDuration(t.tl.lastDuration(t.explicit, def))
	}
	t.closeChunk()
}

// mediaDuration is the sum of the sample durations (after finish).
func (t *sampleTable) mediaDuration() uint64 {
	var d uint64
	for _, e := range t.stts {
		d += uint64(e.count) * uint64(e.delta)
	}
	return d
}

// writeTables writes stts, ctts, stss, stsc, stsz and stco, or co64 when
// chunk offsets pass limit32 (math.MaxUint32 but in tests).
func (t *sampleTable) writeTables(w *BoxWriter, limit32 uint64) {
	w.BeginFull("stts", 0, 0)
	w.U32(uint32(len(t.stts)))
	for _, e := range t.stts {
		w.U32(e.count)
		w.U32(e.delta)
	}
	w.End()

	if t.anyCTO {
		var version uint8
		if t.negCTO {
			version = 1 // signed offsets
		}
		w.BeginFull("ctts", version, 0)
		w.U32(uint32(len(t.ctts)))
		for _, e := range t.ctts {
			w.U32(e.count)
			w.I32(e.offset)
		}
		w.End()
	}

	// No stss means every sample is a sync sample (audio, intra-only video).
	if uint32(len(t.sync)) != t.count {
		w.BeginFull("stss", 0, 0)
		w.U32(uint32(len(t.sync)))
		for _, n := range t.sync {
			w.U32(n)
		}
		w.End()
	}

	w.BeginFull("stsc", 0, 0)
	w.U32(uint32(len(t.stsc)))
	for _, e := range t.stsc {
		w.U32(e.firstChunk)
		w.U32(e.samplesPerChunk)
		w.U32(1) // sample_description_index
	}
	w.End()

	w.BeginFull("stsz", 0, 0)
	// A constant size of 0 would read as "sizes follow": list them.
	if t.sameSize && t.count > 0 && t.sizes[0] > 0 {
		w.U32(t.sizes[0])
		w.U32(t.count)
	} else {
		w.U32(0)
		w.U32(t.count)
		for _, s := range t.sizes {
			w.U32(s)
		}
	}
	w.End()

	wide := len(t.chunkOffs) > 0 && t.chunkOffs[len(t.chunkOffs)-1] > limit32
	if wide {
		w.BeginFull("co64", 0, 0)
	} else {
		w.BeginFull("stco", 0, 0)
	}
	w.U32(uint32(len(t.chunkOffs)))
	for _, o := range t.chunkOffs {
		if wide {
			w.U64(o)
		} else {
			w.U32(uint32(o))
		}
	}
	w.End()
}

// rescale converts v ticks of timescale from to timescale to, rounding to
// nearest, without overflowing for any realistic duration.
func rescale(v int64, from, to uint32) int64 {
	if from == to || from == 0 {
		return v
	}
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	q, r := u/uint64(from), u%uint64(from)
	if q > math.MaxInt64/uint64(to) {
		q, r = math.MaxInt64, 0 // saturates below
	}
	out := q*uint64(to) + (r*uint64(to)+uint64(from)/2)/uint64(from)
	if q == math.MaxInt64 || out > math.MaxInt64 {
		out = math.MaxInt64
	}
	if neg {
		return -int64(out)
	}
	return int64(out)
}
