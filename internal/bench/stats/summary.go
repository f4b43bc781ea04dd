package stats

import "slices"

// Summary describes a set of values. It is part of castbench's JSON report;
// every field is 0 when Count is 0.
type Summary struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	P1    float64 `json:"p1"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// Percentile returns the nearest-rank p-th percentile of sorted values
// (ascending); 0 when there are none.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[nearestRank(p, len(sorted))-1]
}

// Summarize returns the exact summary of values, which it sorts in place.
func Summarize(values []float64) Summary {
	if len(values) == 0 {
		return Summary{}
	}
	slices.Sort(values)
	var sum float64
	for _, v := range values {
		sum += v
	}
	return Summary{
		Count: int64(len(values)),
		Min:   values[0],
		P1:    Percentile(values, 1),
		P50:   Percentile(values, 50),
		P99:   Percentile(values, 99),
		Max:   values[len(values)-1],
		Mean:  sum / float64(len(values)),
	}
}
