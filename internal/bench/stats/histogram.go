// Package stats holds castbench's statistics: a fixed-memory log-linear
// histogram for values recorded at a high rate by many goroutines (latency,
// time to first frame), and exact percentiles of small sample sets (one
// value per player, such as its bitrate).
package stats

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// The histogram keeps subBuckets linear buckets per power of two, as HDR
// histograms do: values below subBuckets are exact, larger ones fall in a
// bucket 1/subBuckets of their octave wide, so a reported percentile is
// within 0.4% (half a bucket) of a recorded value. The exact minimum and
// maximum are kept aside. Values above MaxValue are recorded as MaxValue.
const (
	subBits    = 7
	subBuckets = 1 << subBits
	// MaxValue is the largest value the buckets tell apart: 2^40-1, over
	// 18 minutes in microseconds.
	MaxValue   = 1<<40 - 1
	maxShift   = 40 - subBits - 1
	numBuckets = (maxShift + 2) * subBuckets
)

// Histogram counts non-negative int64 values (the unit is the caller's).
// Record is safe for concurrent use and allocates nothing; memory is fixed
// (about 34 KiB). The zero value is ready to use.
type Histogram struct {
	counts [numBuckets]atomic.Uint64
	count  atomic.Uint64
	sum    atomic.Int64
	min    atomic.Int64 // valid when count > 0; stored as value+1 so 0 means unset
	max    atomic.Int64
}

// bucketOf returns the bucket index of v, 0 <= v <= MaxValue.
func bucketOf(v int64) int {
	if v < subBuckets {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - subBits - 1 // v>>shift is in [subBuckets, 2*subBuckets)
	return (shift+1)*subBuckets + int(v>>shift) - subBuckets
}

// bucketValue returns the value a bucket stands for: its middle.
func bucketValue(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	shift := i/subBuckets - 1
	low := int64(subBuckets+i%subBuckets) << shift
	return low + (int64(1)<<shift)/2
}

// Record counts v. Negative values are recorded as 0.
func (h *Histogram) Record(v int64) {
	v = min(max(v, 0), MaxValue)
	h.counts[bucketOf(v)].Add(1)
	h.count.Add(1)
	h.sum.Add(v)
	for cur := h.min.Load(); cur == 0 || v+1 < cur; cur = h.min.Load() {
		if h.min.CompareAndSwap(cur, v+1) {
			break
		}
	}
	for cur := h.max.Load(); v > cur; cur = h.max.Load() {
		if h.max.CompareAndSwap(cur, v) {
			break
		}
	}
}

// Count returns how many values were recorded.
func (h *Histogram) Count() uint64 { return h.count.Load() }

// Reset forgets every value. Values recorded while Reset runs may be kept
// or lost; castbench only uses it between reporting intervals.
func (h *Histogram) Reset() {
	for i := range h.counts {
		h.counts[i].Store(0)
	}
	h.count.Store(0)
	h.sum.Store(0)
	h.min.Store(0)
	h.max.Store(0)
}

// Percentile returns the value at or below which p percent of the values
// lie (nearest rank), within the histogram's precision and clamped to the
// exact minimum and maximum; 0 when empty.
func (h *Histogram) Percentile(p float64) int64 {
	return h.Snapshot().Percentile(p)
}

// Snapshot copies the histogram, so several percentiles describe the same
// values while recording goes on.
func (h *Histogram) Snapshot() *Snapshot {
	s := &Snapshot{min: max(h.min.Load()-1, 0), max: h.max.Load(), sum: h.sum.Load()}
	for i := range h.counts {
		c := h.counts[i].Load()
		s.counts[i] = c
		s.count += c
	}
	return s
}

// Snapshot is a copy of a Histogram at one moment.
type Snapshot struct {
	counts   [numBuckets]uint64
	count    uint64
	sum      int64
	min, max int64
}

// Count returns how many values the snapshot holds.
func (s *Snapshot) Count() uint64 { return s.count }

// Percentile is Histogram.Percentile on the snapshot.
func (s *Snapshot) Percentile(p float64) int64 {
	if s.count == 0 {
		return 0
	}
	rank := nearestRank(p, int(min(s.count, math.MaxInt)))
	switch rank { // the extremes are known exactly
	case 1:
		return s.min
	case int(s.count):
		return s.max
	}
	var seen uint64
	for i := range s.counts {
		seen += s.counts[i]
		if seen >= uint64(rank) {
			return min(max(bucketValue(i), s.min), s.max)
		}
	}
	return s.max
}

// Summary describes the snapshot's values multiplied by scale (for example
// 1e-3 to turn microseconds into milliseconds).
func (s *Snapshot) Summary(scale float64) Summary {
	if s.count == 0 {
		return Summary{}
	}
	return Summary{
		Count: int64(s.count),
		Min:   float64(s.min) * scale,
		P1:    float64(s.Percentile(1)) * scale,
		P50:   float64(s.Percentile(50)) * scale,
		P99:   float64(s.Percentile(99)) * scale,
		Max:   float64(s.max) * scale,
		Mean:  float64(s.sum) / float64(s.count) * scale,
	}
}

// nearestRank is the 1-based rank of the p-th percentile among n values:
// the smallest rank whose share of the values reaches p percent.
func nearestRank(p float64, n int) int {
	r := int(math.Ceil(p / 100 * float64(n)))
	return min(max(r, 1), n)
}
