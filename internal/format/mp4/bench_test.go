package mp4

import (
	"io"
	"testing"
)

// benchGOP is a 2 s segment of 25 fps video (8 KB frames, keyframe first,
// B-frame composition offsets) and its 86 AAC frames.
func benchGOP() (video, audio []Sample) {
	video = frames(50, 0, []int{0}, []int64{7200, 18000, 3600, 3600})
	for i := range video {
		video[i].Data = make([]byte, 8<<10)
	}
	for i := range 86 {
		audio = append(audio, Sample{DTS: int64(i) * 1024, Data: make([]byte, 370)})
	}
	return video, audio
}

func segmentBytes(samples []Sample) int64 {
	var n int64
	for _, s := range samples {
		n += int64(len(s.Data))
	}
	return n
}

func BenchmarkMediaSegment(b *testing.B) {
	video, audio := benchGOP()
	for _, c := range []struct {
		name    string
		track   Track
		samples []Sample
	}{{"video", testVideo, video}, {"audio", testAudio, audio}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(segmentBytes(c.samples))
			for b.Loop() {
				if _, err := MediaSegment(1, c.track, c.samples, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppendFragmentReuse is the steady state of a packager that
// reuses its buffer: no allocation per segment.
func BenchmarkAppendFragmentReuse(b *testing.B) {
	video, audio := benchGOP()
	runs := []TrackRun{{Track: testVideo, Samples: video}, {Track: testAudio, Samples: audio}}
	b.ReportAllocs()
	b.SetBytes(segmentBytes(video) + segmentBytes(audio))
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = AppendFragment(buf[:0], 1, runs...); err != nil {
			b.Fatal(err)
		}
	}
}

// discardSeeker is an io.WriteSeeker that keeps nothing.
type discardSeeker struct{}

func (discardSeeker) Write(p []byte) (int, error)         { return len(p), nil }
func (discardSeeker) Seek(int64, int) (int64, error)      { return 0, nil }
func (discardSeeker) ReadFrom(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }

// BenchmarkFileWriterSample is the per-sample cost of DVR recording.
func BenchmarkFileWriterSample(b *testing.B) {
	w, err := NewFileWriter(discardSeeker{}, testVideo)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 8<<10)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	i := int64(0)
	for b.Loop() {
		if err := w.WriteSample(1, Sample{DTS: i * 3600, PTS: i*3600 + 7200, Keyframe: i%50 == 0, Data: data}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
