package player

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// loopReader serves prefix once, then body reps times, then io.EOF: an
// endless stream without a network, so a benchmark sees the player's own
// cost.
type loopReader struct {
	prefix, body []byte
	reps         int
	cur          []byte
}

func (l *loopReader) Read(p []byte) (int, error) {
	for len(l.cur) == 0 {
		switch {
		case l.prefix != nil:
			l.cur, l.prefix = l.prefix, nil
		case l.reps > 0:
			l.cur = l.body
			l.reps--
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, l.cur)
	l.cur = l.cur[n:]
	return n, nil
}

func (l *loopReader) Write(p []byte) (int, error) { return len(p), nil }
func (l *loopReader) Close() error                { return nil }

var noDeadline = &deadliner{set: func(time.Time) error { return nil }, timeout: time.Hour}

// benchStream is a stamped 4 KB video frame and a 300-byte audio frame:
// about 1 Mb/s at 25 frames a second.
func benchStream(t testing.TB) (seqHeader, video, audio []byte) {
	return avcSeqHeader, frame(t, false, 4000, time.Now(), 1), bytes.Repeat([]byte{0xAF, 1}, 150)
}

// rtmpStream returns the chunked bytes of a play: prefix (chunk size and
// sequence header) and body (one video and one audio message).
func rtmpStream(t testing.TB) (prefix, body []byte) {
	seq, video, audio := benchStream(t)
	var buf bytes.Buffer
	w := rtmp.NewConn(&loopWriter{&buf}, rtmp.ConnOptions{})
	if err := w.SetChunkSize(60000); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteMedia(1, []rtmp.MediaMessage{{Type: rtmp.TypeVideo, Payload: seq}}); err != nil {
		t.Fatal(err)
	}
	prefix = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := w.WriteMedia(1, []rtmp.MediaMessage{{Type: rtmp.TypeVideo, Timestamp: 40, Payload: video}, {Type: rtmp.TypeAudio, Timestamp: 40, Payload: audio}}); err != nil {
		t.Fatal(err)
	}
	return prefix, bytes.Clone(buf.Bytes())
}

type loopWriter struct{ w io.Writer }

func (l *loopWriter) Read([]byte) (int, error)    { return 0, io.EOF }
func (l *loopWriter) Write(p []byte) (int, error) { return l.w.Write(p) }
func (l *loopWriter) Close() error                { return nil }

// flvStream returns an HTTP-FLV response body split the same way.
func flvStream(t testing.TB) (prefix, body []byte) {
	seq, video, audio := benchStream(t)
	var buf bytes.Buffer
	w, err := flv.NewWriter(&buf, flv.Header{HasAudio: true, HasVideo: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTag(flv.Tag{Type: flv.TagVideo, Data: seq}); err != nil {
		t.Fatal(err)
	}
	prefix = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := w.WriteTag(flv.Tag{Type: flv.TagVideo, Timestamp: 40, Data: video}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTag(flv.Tag{Type: flv.TagAudio, Timestamp: 40, Data: audio}); err != nil {
		t.Fatal(err)
	}
	return prefix, bytes.Clone(buf.Bytes())
}

// playRTMP runs the RTMP read path over reps repetitions of the body.
func playRTMP(t testing.TB, prefix, body []byte, reps int, rec *Recorder) {
	c := rtmp.NewConn(&loopReader{prefix: prefix, body: body, reps: reps}, rtmp.ConnOptions{})
	if err := readRTMP(c, noDeadline, rec); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
}

func playFLV(t testing.TB, prefix, body []byte, reps int, rec *Recorder) {
	if err := readFLV(&loopReader{prefix: prefix, body: body, reps: reps}, noDeadline, rec); !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
}

// The per-message path allocates nothing once buffers have grown: a run of
// 2000 messages allocates as much as a run of 20 (give or take the odd
// runtime allocation).
func TestReadPathsAllocateNothingPerMessage(t *testing.T) {
	for name, play := range map[string]func(testing.TB, []byte, []byte, int, *Recorder){"rtmp": playRTMP, "flv": playFLV} {
		prefix, body := rtmpStream(t)
		if name == "flv" {
			prefix, body = flvStream(t)
		}
		allocs := func(reps int) float64 {
			return testing.AllocsPerRun(3, func() {
				rec := NewRecorder(&Metrics{})
				play(t, prefix, body, reps, rec)
				if rec.stamps.Load() != int64(reps) {
					t.Fatalf("%s: %d stamps of %d", name, rec.stamps.Load(), reps)
				}
			})
		}
		short, long := allocs(10), allocs(1000)
		if long > short+5 {
			t.Errorf("%s: %v allocations for 20 messages, %v for 2000", name, short, long)
		}
	}
}

// BenchmarkPlayerMessage measures a player's cost per received message
// (half 4 KB stamped video frames, half audio): parsing, stamp reading,
// latency and byte accounting.
func BenchmarkPlayerMessage(b *testing.B) {
	for name, play := range map[string]func(testing.TB, []byte, []byte, int, *Recorder){"rtmp": playRTMP, "flv": playFLV} {
		b.Run(name, func(b *testing.B) {
			prefix, body := rtmpStream(b)
			if name == "flv" {
				prefix, body = flvStream(b)
			}
			rec := NewRecorder(&Metrics{})
			b.ReportAllocs()
			b.SetBytes(int64(len(body) / 2))
			b.ResetTimer()
			play(b, prefix, body, b.N/2+1, rec)
		})
	}
}
