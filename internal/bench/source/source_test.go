package source

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/benchtest"
	"github.com/castd/castd/internal/format/flv"
)

// avcConfig is a minimal AVCDecoderConfigurationRecord with 4-byte NALU
// lengths, one SPS and one PPS.
var avcConfig = []byte{1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee}

func videoTag(ts uint32, body ...byte) flv.Tag {
	return flv.Tag{Type: flv.TagVideo, Timestamp: ts, Data: body}
}
func audioTag(ts uint32, body ...byte) flv.Tag {
	return flv.Tag{Type: flv.TagAudio, Timestamp: ts, Data: body}
}

// synthetic returns a file with metadata, both sequence headers, and
// seconds of 25 fps video (a keyframe each second) and 40 ms audio frames,
// starting at timestamp base.
func synthetic(seconds int, base uint32) []flv.Tag {
	tags := []flv.Tag{
		{Type: flv.TagScript, Timestamp: 0, Data: []byte{2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'}},
		videoTag(0, append([]byte{0x17, 0, 0, 0, 0}, avcConfig...)...),
		audioTag(0, 0xAF, 0, 0x12, 0x10),
	}
	for i := range seconds * 25 {
		ts := base + uint32(i*40)
		key := byte(0x27)
		if i%25 == 0 {
			key = 0x17
		}
		tags = append(tags, videoTag(ts, key, 1, 0, 0, 0, 0, 0, 0, 3, 0x65, 0x88, byte(i)))
		tags = append(tags, audioTag(ts+5, 0xAF, 1, byte(i), 0, 0))
	}
	return tags
}

func TestNewSplitsHeadersAndRebases(t *testing.T) {
	s, err := New(flv.Header{HasAudio: true, HasVideo: true}, synthetic(2, 1000))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Start) != 3 || s.Start[0].Type != flv.TagScript || !s.Start[1].Video.IsSequenceHeader() {
		t.Fatalf("start tags %+v", s.Start)
	}
	if len(s.Frames) != 100 {
		t.Fatalf("%d frames, want 100", len(s.Frames))
	}
	if s.Frames[0].At != 0 || s.Frames[1].At != 5*time.Millisecond || s.Frames[98].At != 1960*time.Millisecond {
		t.Errorf("times %v %v %v", s.Frames[0].At, s.Frames[1].At, s.Frames[98].At)
	}
	// Last frame at 1965 ms, video every 40 ms.
	if s.Period != 2005*time.Millisecond {
		t.Errorf("period %v, want 2.005s", s.Period)
	}
	if s.VideoCodec != av.CodecH264 || s.NALULengthSize != 4 {
		t.Errorf("codec %s, length size %d", s.VideoCodec, s.NALULengthSize)
	}
	stampable := 0
	for _, f := range s.Frames {
		if f.Stampable {
			stampable++
			if f.Type != flv.TagVideo {
				t.Errorf("stampable %d tag", f.Type)
			}
		}
	}
	if stampable != 50 {
		t.Errorf("%d stampable frames, want 50", stampable)
	}
	if s.LoopBytes != 50*12+50*5 {
		t.Errorf("loop bytes %d", s.LoopBytes)
	}
	if want := float64(850*8) / 2.005; math.Abs(s.Bitrate()-want) > 1e-9 {
		t.Errorf("bitrate %v, want %v", s.Bitrate(), want)
	}
}

func TestNewRejects(t *testing.T) {
	headersOnly := synthetic(0, 0)
	noSeqHeader := synthetic(1, 0)[3:]
	badVideo := append(synthetic(1, 0), videoTag(2000))
	badVideo[len(badVideo)-1].Data = []byte{0x17, 9}
	for name, tags := range map[string][]flv.Tag{"headers only": headersOnly, "no sequence header": noSeqHeader, "bad video tag": badVideo} {
		if _, err := New(flv.Header{}, tags); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// fakeClock jumps to whatever time the pacer sleeps until.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.After(c.now) {
		c.now = t
	}
	return nil
}

func TestPacerLoopsWithIncreasingTimestamps(t *testing.T) {
	s, err := New(flv.Header{}, synthetic(2, 300))
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{now: time.Unix(1000, 0)}
	start := clk.now
	p := &Pacer{Src: s, Clock: clk, Loops: 3}
	var sent []Timed
	var lastVideo int64 = -1
	err = p.Run(context.Background(), func(now time.Time, batch []Timed) error {
		for _, f := range batch {
			// Nothing goes out before its time.
			if due := start.Add(time.Duration(f.Timestamp) * time.Millisecond); now.Before(due) {
				t.Fatalf("frame at %d ms sent at %v", f.Timestamp, now.Sub(start))
			}
			if f.Type == flv.TagVideo && !f.Video.IsSequenceHeader() {
				if int64(f.Timestamp) <= lastVideo {
					t.Fatalf("video timestamp %d after %d", f.Timestamp, lastVideo)
				}
				lastVideo = int64(f.Timestamp)
			}
			sent = append(sent, f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 3+3*100 {
		t.Fatalf("%d tags sent, want the 3 headers once and 3 loops of 100", len(sent))
	}
	// Headers once, at 0; then loop k's frames shifted by k periods.
	for i, f := range sent[3:] {
		loop, idx := i/100, i%100
		want := uint32((time.Duration(loop)*s.Period + s.Frames[idx].At).Milliseconds())
		if f.Timestamp != want || f.Frame != &s.Frames[idx] {
			t.Fatalf("tag %d (loop %d, frame %d): ts %d, want %d", i, loop, idx, f.Timestamp, want)
		}
	}
	for _, f := range sent[:3] {
		if f.Timestamp != 0 {
			t.Errorf("header at %d", f.Timestamp)
		}
	}
	// Three loops of a 2.005 s file end when the last frame is due.
	if got, want := clk.now.Sub(start), 2*s.Period+s.Frames[99].At; got != want {
		t.Errorf("run took %v of clock time, want %v", got, want)
	}
	if loops, next := p.Position(); loops != 3 || next != 0 {
		t.Errorf("position %d, %d", loops, next)
	}
}

// A publisher that falls behind gets the overdue frames in one batch
// instead of an ever later stream.
func TestPacerCatchesUpInBatches(t *testing.T) {
	s, _ := New(flv.Header{}, synthetic(1, 0))
	clk := &fakeClock{now: time.Unix(0, 0)}
	start := clk.now
	p := &Pacer{Src: s, Clock: clk, Loops: 1, MaxBatch: 8}
	calls := 0
	var last time.Time
	err := p.Run(context.Background(), func(now time.Time, batch []Timed) error {
		calls++
		if len(batch) > 8 || len(batch) == 0 {
			t.Fatalf("batch of %d", len(batch))
		}
		if calls == 2 {
			clk.now = clk.now.Add(500 * time.Millisecond) // a stalled write
		}
		last = now
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls >= 50 {
		t.Errorf("%d sends: overdue frames were not batched", calls)
	}
	if got := last.Sub(start); got != s.Frames[len(s.Frames)-1].At {
		t.Errorf("last send at %v, want %v: the stall must not delay the stream", got, s.Frames[len(s.Frames)-1].At)
	}
}

func TestPacerStops(t *testing.T) {
	s, _ := New(flv.Header{}, synthetic(1, 0))
	boom := errors.New("boom")
	p := &Pacer{Src: s, Clock: &fakeClock{now: time.Unix(0, 0)}}
	n := 0
	err := p.Run(context.Background(), func(time.Time, []Timed) error {
		if n++; n == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("send error: Run returned %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p = &Pacer{Src: s, Clock: &WallClock{}}
	n = 0
	done := make(chan error)
	go func() {
		done <- p.Run(ctx, func(time.Time, []Timed) error { n++; return nil })
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("cancelled Run returned %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run ignores its context")
	}
}

// On the wall clock, a 2 s file played once takes its own length.
func TestPacerRealTime(t *testing.T) {
	path := benchtest.GenerateFLV(t, benchtest.FLVOptions{Duration: 2 * time.Second})
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Period < 1900*time.Millisecond || s.Period > 2100*time.Millisecond {
		t.Errorf("period %v of a 2 s file", s.Period)
	}
	if br := s.Bitrate(); br < 800e3 || br > 1200e3 {
		t.Errorf("bitrate %.0f of a ~960 kb/s file", br)
	}
	if s.VideoCodec != av.CodecH264 || s.NALULengthSize != 4 || len(s.Start) < 3 {
		t.Errorf("codec %s, length size %d, %d start tags", s.VideoCodec, s.NALULengthSize, len(s.Start))
	}
	p := &Pacer{Src: s, Clock: &WallClock{}, Loops: 1}
	began := time.Now()
	var lateMax time.Duration
	err = p.Run(context.Background(), func(now time.Time, batch []Timed) error {
		for _, f := range batch {
			lateMax = max(lateMax, time.Since(began.Add(time.Duration(f.Timestamp)*time.Millisecond)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	last := s.Frames[len(s.Frames)-1].At
	if took := time.Since(began); took < last || took > last+300*time.Millisecond {
		t.Errorf("one loop took %v, want about %v", took, last)
	}
	if lateMax > 200*time.Millisecond {
		t.Errorf("a frame went out %v late", lateMax)
	}
}

// FuzzSourceNew builds sources from arbitrary tag bodies: errors are fine,
// panics and sources that break the pacer's assumptions are not.
func FuzzSourceNew(f *testing.F) {
	tags := synthetic(1, 0)
	f.Add(tags[1].Data, tags[3].Data, tags[4].Data, uint32(40))
	f.Add([]byte{0x1C, 0, 0, 0, 0, 1}, []byte{0x2C, 1, 0, 0, 0, 0, 0, 0, 1, 2}, []byte{0xAF, 0, 0x12, 0x10}, uint32(0))
	f.Add([]byte{0x80 | 0x10, 'h', 'v', 'c', '1', 1}, []byte{0x80 | 0x20 | 3, 'h', 'v', 'c', '1', 0, 0, 0, 1, 0x40}, []byte{0x2F, 1}, uint32(1<<31))
	f.Fuzz(func(t *testing.T, seq, video, audio []byte, ts uint32) {
		in := []flv.Tag{
			{Type: flv.TagVideo, Data: seq},
			{Type: flv.TagVideo, Timestamp: ts, Data: video},
			{Type: flv.TagAudio, Timestamp: ts / 2, Data: audio},
			{Type: flv.TagVideo, Timestamp: ts + 40, Data: video},
		}
		s, err := New(flv.Header{}, in)
		if err != nil {
			return
		}
		if len(s.Frames) == 0 || s.Period <= 0 {
			t.Fatalf("source with %d frames and period %v", len(s.Frames), s.Period)
		}
		for _, fr := range s.Frames {
			if fr.At < 0 || fr.At >= s.Period {
				t.Fatalf("frame at %v outside the %v loop", fr.At, s.Period)
			}
			if fr.Stampable && s.NALULengthSize == 0 {
				t.Fatal("stampable frame without a NALU length size")
			}
		}
	})
}
