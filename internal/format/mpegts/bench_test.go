package mpegts

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkMuxer muxes a 30 fps, 1 Mbit/s video stream with 44.1 kHz AAC
// audio (about 4.2 KB per video frame, 300 bytes per audio frame), reusing
// the output buffer as an HTTP-TS or SRT writer would: nothing may be
// allocated per frame.
func BenchmarkMuxer(b *testing.B) {
	m := newTestMuxer(b, io.Discard)
	video := Frame{PID: DefaultVideoPID, Data: pattern(1_000_000/8/30, 1), HasDTS: true}
	audio := Frame{PID: DefaultAudioPID, Data: pattern(300, 2)}
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	b.SetBytes(int64(len(video.Data) + len(audio.Data)))
	for i := 0; b.Loop(); i++ {
		video.DTS = int64(i) * 3000
		video.PTS = video.DTS + 6000
		video.RandomAccess = i%60 == 0
		audio.PTS = int64(i) * 2090
		buf = buf[:0]
		if video.RandomAccess {
			buf = m.AppendTables(buf)
		}
		buf, _ = m.AppendFrame(buf, &video)
		buf, _ = m.AppendFrame(buf, &audio)
	}
}

// BenchmarkMuxerWrite is the same through WriteFrame.
func BenchmarkMuxerWrite(b *testing.B) {
	m := newTestMuxer(b, io.Discard)
	video := Frame{PID: DefaultVideoPID, Data: pattern(1_000_000/8/30, 1)}
	b.ReportAllocs()
	b.SetBytes(int64(len(video.Data)))
	for i := 0; b.Loop(); i++ {
		video.PTS = int64(i) * 3000
		if err := m.WriteFrame(&video); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDemuxer(b *testing.B) {
	data, frames := testStream(b, 200)
	size := 0
	for _, f := range frames {
		size += len(f.Data)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		d := NewDemuxer(bytes.NewReader(data))
		for {
			if _, err := d.ReadFrame(); err != nil {
				break
			}
		}
	}
}
