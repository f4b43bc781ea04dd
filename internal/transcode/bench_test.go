//go:build cgo && !castd_nolibav

package transcode

import (
	"testing"
	"time"
)

// BenchmarkAACToOpus reports the cost of one 20 ms Opus frame made from
// 44.1 kHz stereo AAC: decode, resample, encode.
func BenchmarkAACToOpus(b *testing.B) {
	in := makeAAC(b, 2, 44100, 2)
	tc, err := NewAACToOpus(in.asc, DefaultBitrate)
	if err != nil {
		b.Fatal(err)
	}
	defer tc.Close()
	b.ReportAllocs()
	var written, produced int
	start := time.Now()
	for b.Loop() {
		i := written % len(in.frames)
		frames, err := tc.Write(in.frames[i], in.pts(written))
		if err != nil {
			b.Fatal(err)
		}
		written++
		produced += len(frames)
	}
	if produced > 0 {
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(produced), "ns/opus-frame")
	}
}

// BenchmarkOpusToAAC reports the cost of one 1024-sample AAC frame made from
// 48 kHz stereo Opus.
func BenchmarkOpusToAAC(b *testing.B) {
	opus := makeOpus(b, 2)
	tc, err := NewOpusToAAC(2, DefaultBitrate)
	if err != nil {
		b.Fatal(err)
	}
	defer tc.Close()
	b.ReportAllocs()
	var written, produced int
	start := time.Now()
	for b.Loop() {
		p := opus[written%len(opus)]
		frames, err := tc.Write(p.Data, time.Duration(written)*20*time.Millisecond)
		if err != nil {
			b.Fatal(err)
		}
		written++
		produced += len(frames)
	}
	if produced > 0 {
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(produced), "ns/aac-frame")
	}
}
