package rtcpub

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/bench/benchtest"
	"github.com/castd/castd/internal/bench/source"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/transcode"
)

// aacASC is an AudioSpecificConfig: AAC-LC, 44.1 kHz, stereo.
var aacASC = []byte{0x12, 0x10}

// fakeOpus stands for the AAC to Opus transcoder: from the first input's
// timestamp on, it makes a 20 ms frame once the input is delay past its
// end, and the frame's Data is its PTS (8 bytes), in a buffer it reuses.
type fakeOpus struct {
	delay   time.Duration
	started bool
	next    time.Duration
	buf     []byte
	out     []transcode.Frame
	bitrate int
	fail    func(pts time.Duration) bool
	closed  bool
}

func (f *fakeOpus) Write(frame []byte, pts time.Duration) ([]transcode.Frame, error) {
	if f.fail != nil && f.fail(pts) {
		return nil, errors.New("corrupt frame")
	}
	if !f.started {
		f.started, f.next = true, pts
	}
	f.out, f.buf = f.out[:0], f.buf[:0]
	for f.next+20*time.Millisecond+f.delay <= pts {
		f.buf = binary.BigEndian.AppendUint64(f.buf, uint64(f.next))
		f.out = append(f.out, transcode.Frame{Data: f.buf[len(f.buf)-8:], PTS: f.next, Duration: 20 * time.Millisecond})
		f.next += 20 * time.Millisecond
	}
	return f.out, nil
}

func (f *fakeOpus) Close() error { f.closed = true; return nil }

// avSource is a Source with 25 fps H.264 and 44.1 kHz AAC (1024-sample
// frames of aacBytes bytes) for the given time.
func avSource(t *testing.T, dur time.Duration, aacBytes int) *source.Source {
	t.Helper()
	tags := []flv.Tag{{Type: flv.TagVideo, Data: avcSeqHeader}, {Type: flv.TagAudio, Data: append([]byte{0xaf, 0}, aacASC...)}}
	var v, a time.Duration
	for v < dur || a < dur {
		if v <= a {
			tags = append(tags, flv.Tag{Type: flv.TagVideo, Timestamp: uint32(v.Milliseconds()), Data: h264Tag(v == 0, 100, 0)})
			v += 40 * time.Millisecond
			continue
		}
		tags = append(tags, flv.Tag{Type: flv.TagAudio, Timestamp: uint32(a.Milliseconds()), Data: append([]byte{0xaf, 1}, make([]byte, aacBytes)...)})
		a += time.Second * 1024 / 44100
	}
	src, err := source.New(flv.Header{HasVideo: true, HasAudio: true}, tags)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestTranscodeLoop(t *testing.T) {
	src := avSource(t, time.Second, 200)
	tc := &fakeOpus{delay: 50 * time.Millisecond}
	frames, err := transcodeLoop(src, tc)
	if err != nil {
		t.Fatal(err)
	}
	// The second pass, rebased to the loop: every 20 ms slot of the loop,
	// none missing at the end, each frame its own copy.
	want := 0 // the 20 ms slots of the second pass
	for pts := time.Duration(0); pts < 2*src.Period; pts += 20 * time.Millisecond {
		if pts >= src.Period {
			want++
		}
	}
	if len(frames) != want {
		t.Fatalf("%d frames for a %v loop, want %d", len(frames), src.Period, want)
	}
	for i, f := range frames {
		pts := time.Duration(binary.BigEndian.Uint64(f.data))
		if f.at != pts-src.Period || f.at < 0 || f.at >= src.Period {
			t.Fatalf("frame %d at %v holds PTS %v (period %v)", i, f.at, pts, src.Period)
		}
		if i > 0 && f.at-frames[i-1].at != 20*time.Millisecond {
			t.Fatalf("frame %d at %v after %v", i, f.at, frames[i-1].at)
		}
	}
	// Corrupt frames are skipped; a transcoder that takes none is an error.
	frames, err = transcodeLoop(src, &fakeOpus{fail: func(pts time.Duration) bool { return pts%(100*time.Millisecond) < 30*time.Millisecond }})
	if err != nil || len(frames) < 40 {
		t.Errorf("with some corrupt frames: %d frames, %v", len(frames), err)
	}
	if _, err := transcodeLoop(src, &fakeOpus{fail: func(time.Duration) bool { return true }}); err == nil || !strings.Contains(err.Error(), "corrupt frame") {
		t.Errorf("all frames corrupt: %v", err)
	}
}

func TestPrepareAudio(t *testing.T) {
	var made *fakeOpus
	fake := func(asc []byte, bitrate int) (transcode.Transcoder, error) {
		if string(asc) != string(aacASC) {
			t.Errorf("ASC % x", asc)
		}
		made = &fakeOpus{bitrate: bitrate}
		return made, nil
	}
	// 200 bytes every 1024/44100 s is 68.9 kbps, a little less over the
	// loop, which ends one video frame after the last frame: the Opus
	// bitrate follows.
	m, err := Prepare(avSource(t, time.Second, 200), fake)
	if err != nil {
		t.Fatal(err)
	}
	if !m.HasAudio || m.Audio != "opus, transcoded from AAC at 68 kbps" || made.bitrate != 68000 || !made.closed {
		t.Errorf("AAC: %+v, transcoder %+v", m, made)
	}
	unavailable := func([]byte, int) (transcode.Transcoder, error) {
		return nil, fmt.Errorf("castd was built without cgo; %w", transcode.ErrUnavailable)
	}
	if m, err := Prepare(avSource(t, time.Second, 200), unavailable); err != nil || m.HasAudio ||
		m.Audio != "none: this build of castbench cannot transcode AAC to Opus (castd was built without cgo; AAC/Opus transcoding is unavailable)" {
		t.Errorf("no transcoder: %+v, %v", m, err)
	}
	broken := func([]byte, int) (transcode.Transcoder, error) { return nil, errors.New("transcode: bad ASC") }
	if m, err := Prepare(avSource(t, time.Second, 200), broken); err != nil || m.HasAudio || m.Audio != "none: transcode: bad ASC" {
		t.Errorf("a transcoder that cannot open: %+v, %v", m, err)
	}
	for _, tt := range []struct {
		name  string
		audio []flv.Tag
		want  string
	}{
		{"no audio", nil, "none: the file has no audio"},
		{"MP3", []flv.Tag{{Type: flv.TagAudio, Data: []byte{0x2f, 0xff, 0xfb}}}, "none: WebRTC carries Opus and the file's audio is MP3"},
		{"AAC without ASC", []flv.Tag{{Type: flv.TagAudio, Data: []byte{0xaf, 1, 1, 2}}}, "none: the file's AAC has no AudioSpecificConfig"},
		{"Opus", []flv.Tag{
			{Type: flv.TagAudio, Data: append([]byte{0x90, 'O', 'p', 'u', 's'}, "OpusHead\x01\x02\x00\x00\x80\xbb\x00\x00\x00\x00\x00"...)},
			{Type: flv.TagAudio, Timestamp: 0, Data: []byte{0x91, 'O', 'p', 'u', 's', 0xfc, 1}},
			{Type: flv.TagAudio, Timestamp: 20, Data: []byte{0x91, 'O', 'p', 'u', 's', 0xfc, 2}},
		}, "opus, as in the file"},
	} {
		tags := append([]flv.Tag{{Type: flv.TagVideo, Data: avcSeqHeader}, {Type: flv.TagVideo, Data: h264Tag(true, 10, 0)}}, tt.audio...)
		src, err := source.New(flv.Header{}, tags)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		m, err := Prepare(src, fake)
		if err != nil || m.Audio != tt.want || m.HasAudio != strings.HasPrefix(tt.want, "opus") {
			t.Errorf("%s: %+v, %v", tt.name, m, err)
		}
		if tt.name == "Opus" && (len(m.Source.Frames) != 3 || string(m.Source.Frames[2].Data) != "\xfc\x02") {
			t.Errorf("Opus passed through as %+v", m.Source.Frames)
		}
	}
	// WebRTC publishers need H.264.
	audioOnly, err := source.New(flv.Header{}, []flv.Tag{{Type: flv.TagAudio, Data: []byte{0x2f, 0xff, 0xfb}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(audioOnly, fake); err == nil {
		t.Error("a file without H.264 was accepted")
	}
}

func TestBuildLoop(t *testing.T) {
	src := avSource(t, 200*time.Millisecond, 10)
	audio := []opusFrame{{0, []byte{1}}, {40 * time.Millisecond, []byte{2, 2}}, {45 * time.Millisecond, []byte{3}}}
	loop := buildLoop(src, audio)
	if loop.Period != src.Period || loop.NALULengthSize != 4 || len(loop.Start) != 1 || loop.Start[0].Type != flv.TagVideo {
		t.Fatalf("loop %+v", loop)
	}
	var got []string
	var bytes int64
	for _, f := range loop.Frames {
		kind := "v"
		if f.Type == flv.TagAudio {
			kind = "a"
		}
		got = append(got, kind+f.At.String())
		bytes += int64(len(f.Data))
	}
	// Video first at equal times (it came first), audio in between.
	want := "v0s a0s v40ms a40ms a45ms v80ms v120ms v160ms"
	if strings.Join(got, " ") != want || bytes != loop.LoopBytes {
		t.Errorf("frames %s (%d bytes, LoopBytes %d)\nwant   %s", strings.Join(got, " "), bytes, loop.LoopBytes, want)
	}
}

func TestOpusBitrate(t *testing.T) {
	for _, tt := range []struct {
		bytes  int
		period time.Duration
		want   int
	}{
		{8000, time.Second, 64000},
		{8100, time.Second, 65000},
		{0, time.Second, transcode.DefaultBitrate},
		{100, 0, transcode.DefaultBitrate},
		{10, time.Second, transcode.MinBitrate},
		{1 << 20, time.Second, transcode.MaxBitrate},
	} {
		if got := opusBitrate(tt.bytes, tt.period); got != tt.want {
			t.Errorf("opusBitrate(%d, %v) = %d, want %d", tt.bytes, tt.period, got, tt.want)
		}
	}
}

// TestPrepareTranscodes runs libavcodec on a real file, when this build
// has it.
func TestPrepareTranscodes(t *testing.T) {
	if err := transcode.Available(); err != nil {
		t.Skipf("no transcoding in this build: %v", err)
	}
	src, err := source.Load(benchtest.GenerateFLV(t, benchtest.FLVOptions{Duration: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Prepare(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	var kbps int
	if _, err := fmt.Sscanf(m.Audio, "opus, transcoded from AAC at %d kbps", &kbps); err != nil || !m.HasAudio || kbps < 56 || kbps > 72 {
		t.Fatalf("media %+v (the file has 64 kbps AAC)", m)
	}
	var n int
	var last time.Duration = -1
	for _, f := range m.Source.Frames {
		if f.Type != flv.TagAudio {
			continue
		}
		if f.At <= last || f.At >= src.Period || len(f.Data) == 0 {
			t.Fatalf("Opus frame at %v after %v (period %v), %d bytes", f.At, last, src.Period, len(f.Data))
		}
		last = f.At
		n++
	}
	if want := int(src.Period / (20 * time.Millisecond)); n < want-1 || n > want+1 {
		t.Errorf("%d Opus frames in a %v loop", n, src.Period)
	}
}
