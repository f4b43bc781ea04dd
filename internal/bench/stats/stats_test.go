package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func TestPercentileNearestRank(t *testing.T) {
	// 1..100: the p-th percentile by nearest rank is p itself.
	values := make([]float64, 100)
	for i := range values {
		values[i] = float64(100 - i) // unsorted on purpose
	}
	s := Summarize(values)
	want := Summary{Count: 100, Min: 1, P1: 1, P50: 50, P99: 99, Max: 100, Mean: 50.5}
	if s != want {
		t.Errorf("Summarize(1..100) = %+v, want %+v", s, want)
	}
	tests := []struct {
		sorted []float64
		p      float64
		want   float64
	}{
		{nil, 50, 0},
		{[]float64{7}, 1, 7},
		{[]float64{7}, 99, 7},
		{[]float64{1, 2}, 50, 1},
		{[]float64{1, 2}, 51, 2},
		{[]float64{1, 2, 3, 4, 5}, 1, 1},
		{[]float64{1, 2, 3, 4, 5}, 20, 1},
		{[]float64{1, 2, 3, 4, 5}, 21, 2},
		{[]float64{1, 2, 3, 4, 5}, 100, 5},
		{[]float64{1, 2, 3, 4, 5}, 0, 1},
	}
	for _, tt := range tests {
		if got := Percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
		}
	}
	if s := Summarize(nil); s != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v", s)
	}
}

func TestBucketsCoverEveryValueInOrder(t *testing.T) {
	prev := -1
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 257, 511, 512, 1000, 1 << 20, 1<<20 + 1, MaxValue - 1, MaxValue} {
		i := bucketOf(v)
		if i < prev || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d after %d (of %d)", v, i, prev, numBuckets)
		}
		prev = i
		// The bucket's value is within half a bucket width of v.
		if got := bucketValue(i); math.Abs(float64(got-v)) > float64(v)/subBuckets/2+1 {
			t.Errorf("bucketValue(bucketOf(%d)) = %d", v, got)
		}
	}
	// Small values are exact.
	for v := int64(0); v < subBuckets*2; v++ {
		if got := bucketValue(bucketOf(v)); got != v {
			t.Errorf("value %d comes back as %d", v, got)
		}
	}
}

func TestHistogramAgainstExactPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	exact := make([]float64, 0, 100000)
	for range 100000 {
		// Log-normal-ish latencies in microseconds: 1 ms to a few seconds.
		v := int64(math.Exp(rng.NormFloat64()*1.2 + 10))
		h.Record(v)
		exact = append(exact, float64(v))
	}
	slices.Sort(exact)
	snap := h.Snapshot()
	for _, p := range []float64{1, 10, 50, 90, 99, 99.9} {
		want := Percentile(exact, p)
		got := float64(snap.Percentile(p))
		if math.Abs(got-want) > want/subBuckets+1 {
			t.Errorf("p%v = %v, exact %v", p, got, want)
		}
	}
	s := snap.Summary(1)
	if s.Count != 100000 || s.Min != exact[0] || s.Max != exact[len(exact)-1] {
		t.Errorf("summary %+v, exact min %v max %v", s, exact[0], exact[len(exact)-1])
	}
	var sum float64
	for _, v := range exact {
		sum += v
	}
	if math.Abs(s.Mean-sum/100000) > 1e-6*s.Mean {
		t.Errorf("mean %v, want %v", s.Mean, sum/100000)
	}
}

func TestHistogramKnownValues(t *testing.T) {
	var h Histogram
	if h.Percentile(50) != 0 || h.Snapshot().Summary(1) != (Summary{}) {
		t.Error("an empty histogram reports values")
	}
	for v := int64(1); v <= 100; v++ {
		h.Record(v)
	}
	h.Record(-5) // counted as 0
	s := h.Snapshot().Summary(0.5)
	want := Summary{Count: 101, Min: 0, P1: 0.5, P50: 25, P99: 49.5, Max: 50, Mean: 5050.0 / 101 * 0.5}
	if s != want {
		t.Errorf("summary %+v, want %+v", s, want)
	}
	h.Record(MaxValue + 1000)
	if got := h.Percentile(100); got != MaxValue {
		t.Errorf("a huge value is reported as %d, want it clamped to %d", got, MaxValue)
	}
	h.Reset()
	if h.Count() != 0 || h.Percentile(99) != 0 {
		t.Error("Reset kept values")
	}
	h.Record(3000)
	if s := h.Snapshot().Summary(1); s.Min != 3000 || s.Max != 3000 || s.P50 != 3000 {
		t.Errorf("after Reset: %+v", s)
	}
}

func TestHistogramConcurrentRecords(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				h.Record(int64(g*1000 + i))
			}
		})
	}
	wg.Wait()
	s := h.Snapshot().Summary(1)
	if s.Count != 8000 || s.Min != 0 || s.Max != 7999 {
		t.Errorf("summary %+v", s)
	}
}

func TestRecordAllocatesNothing(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { h.Record(12345) }); n != 0 {
		t.Errorf("%v allocations per Record", n)
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		v := int64(1000)
		for pb.Next() {
			h.Record(v)
			v = (v*7 + 13) % 5_000_000
		}
	})
}
