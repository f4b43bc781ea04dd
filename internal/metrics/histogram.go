package metrics

import (
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// LatencyBounds are upper bounds in seconds suited to HTTP calls such as
// hooks: 5 ms to 30 s (SRS's hook timeout).
var LatencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// LiveHistogram counts observations into buckets with atomics, so the
// goroutine observing never waits for a scrape.
type LiveHistogram struct {
	bounds  []float64
	buckets []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sumBits atomic.Uint64   // float64 bits of the sum
}

// NewLiveHistogram returns a histogram with the given upper bounds; NaN,
// infinite and duplicate bounds are dropped.
func NewLiveHistogram(bounds []float64) *LiveHistogram {
	bs := make([]float64, 0, len(bounds))
	for _, b := range bounds {
		if !math.IsNaN(b) && !math.IsInf(b, 0) {
			bs = append(bs, b)
		}
	}
	sort.Float64s(bs)
	bs = slices.Compact(bs)
	return &LiveHistogram{bounds: bs, buckets: make([]atomic.Uint64, len(bs)+1)}
}

// Observe records one value.
func (h *LiveHistogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v: "le" semantics
	h.buckets[i].Add(1)
	for {
		old := h.sumBits.Load()
		if h.sumBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Snapshot returns the cumulative counts. Count is the sum of the buckets,
// so the +Inf bucket always equals _count even while values arrive.
func (h *LiveHistogram) Snapshot(labels ...Label) HistogramSample {
	s := HistogramSample{Labels: labels, Bounds: slices.Clone(h.bounds), Counts: make([]uint64, len(h.bounds))}
	var cum uint64
	for i := range h.buckets {
		cum += h.buckets[i].Load()
		if i < len(h.bounds) {
			s.Counts[i] = cum
		}
	}
	s.Count = cum
	s.Sum = math.Float64frombits(h.sumBits.Load())
	return s
}

// HistogramVec is one histogram per value of a label.
type HistogramVec struct {
	label  string
	bounds []float64
	mu     sync.Mutex
	m      map[string]*LiveHistogram
}

// NewHistogramVec returns histograms labelled by label.
func NewHistogramVec(label string, bounds []float64) *HistogramVec {
	return &HistogramVec{label: label, bounds: bounds, m: map[string]*LiveHistogram{}}
}

// With returns the histogram for one label value, creating it.
func (v *HistogramVec) With(value string) *LiveHistogram {
	v.mu.Lock()
	defer v.mu.Unlock()
	h, ok := v.m[value]
	if !ok {
		h = NewLiveHistogram(v.bounds)
		v.m[value] = h
	}
	return h
}

// Snapshots returns every histogram, sorted by label value.
func (v *HistogramVec) Snapshots() []HistogramSample {
	v.mu.Lock()
	values := make([]string, 0, len(v.m))
	for k := range v.m {
		values = append(values, k)
	}
	hs := make([]*LiveHistogram, 0, len(values))
	sort.Strings(values)
	for _, k := range values {
		hs = append(hs, v.m[k])
	}
	v.mu.Unlock()
	out := make([]HistogramSample, len(hs))
	for i, h := range hs {
		out[i] = h.Snapshot(Label{v.label, values[i]})
	}
	return out
}
