package rtcpub

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/source"
	"github.com/castd/castd/internal/bench/stamp"
	"github.com/castd/castd/internal/format/flv"
)

// rtpRecorder keeps copies of the packets written to it.
type rtpRecorder struct {
	pkts []rtp.Packet
	err  error // returned by every write when set
}

func (r *rtpRecorder) WriteRTP(p *rtp.Packet) error {
	if r.err != nil {
		return r.err
	}
	c := *p
	c.Payload = slices.Clone(p.Payload)
	r.pkts = append(r.pkts, c)
	return nil
}

// h264Tag returns a coded frame tag body: one slice NAL unit of size bytes
// (an IDR when key), with composition time cts.
func h264Tag(key bool, size int, cts int32) []byte {
	first, nalType := byte(0x27), byte(0x41)
	if key {
		first, nalType = 0x17, 0x65
	}
	body := []byte{first, 1, byte(cts >> 16), byte(cts >> 8), byte(cts), byte(size >> 24), byte(size >> 16), byte(size >> 8), byte(size)}
	nalu := bytes.Repeat([]byte{0xab}, size)
	nalu[0] = nalType
	return append(body, nalu...)
}

// testLoop is a Source: a sequence header, an IDR frame larger than the MTU
// and a P frame 40 ms later shown 80 ms later, with Opus packets 20 ms
// apart in between.
func testLoop(t *testing.T) *source.Source {
	t.Helper()
	src, err := source.New(flv.Header{HasVideo: true}, []flv.Tag{
		{Type: flv.TagVideo, Data: avcSeqHeader},
		{Type: flv.TagVideo, Timestamp: 0, Data: h264Tag(true, 3000, 0)},
		{Type: flv.TagVideo, Timestamp: 40, Data: h264Tag(false, 500, 80)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return buildLoop(src, []opusFrame{{0, []byte{1, 2, 3}}, {20 * time.Millisecond, []byte{4, 5}}, {40 * time.Millisecond, []byte{6}}})
}

// batchOf paces the whole loop (start frames included) into one batch,
// stamped as publishers do, with the given stream time offset.
func batchOf(t *testing.T, src *source.Source, offset uint32, sentAt int64) ([]source.Timed, [][]byte) {
	t.Helper()
	var batch []source.Timed
	var payloads [][]byte
	for i := range src.Start {
		batch = append(batch, source.Timed{Frame: &src.Start[i], Timestamp: offset})
		payloads = append(payloads, src.Start[i].Data)
	}
	for i := range src.Frames {
		f := &src.Frames[i]
		batch = append(batch, source.Timed{Frame: f, Timestamp: offset + uint32(f.At.Milliseconds())})
		payload := f.Data
		if f.Stampable {
			var err error
			if payload, err = stamp.AppendStamped(nil, f.Data, f.Video, src.NALULengthSize, stamp.Stamp{SentAt: sentAt, Seq: uint64(i)}); err != nil {
				t.Fatal(err)
			}
		}
		payloads = append(payloads, payload)
	}
	return batch, payloads
}

func TestSender(t *testing.T) {
	src := testLoop(t)
	var video, audio rtpRecorder
	s := NewSender(&video, &audio, src.NALULengthSize)
	for loop := range 2 {
		batch, payloads := batchOf(t, src, uint32(loop)*uint32(src.Period.Milliseconds()), 1234567)
		frames, bytes, err := s.Send(batch, payloads)
		if err != nil || frames != 5 || bytes == 0 {
			t.Fatalf("loop %d: Send = %d frames, %d bytes, %v", loop, frames, bytes, err)
		}
	}
	if n := len(audio.pkts); n != 6 {
		t.Fatalf("%d audio packets, want 6", n)
	}
	// The loop is 80 ms (the last frame plus one frame interval).
	for i, p := range audio.pkts {
		at := []uint32{0, 20, 40, 80, 100, 120}[i] * 48
		if got := p.Timestamp - audio.pkts[0].Timestamp; got != at || p.SequenceNumber != audio.pkts[0].SequenceNumber+uint16(i) {
			t.Errorf("audio packet %d: seq %d at %d ticks, want seq %d at %d", i, p.SequenceNumber, got, audio.pkts[0].SequenceNumber+uint16(i), at)
		}
		if p.Version != 2 || p.Marker {
			t.Errorf("audio packet %d header %+v", i, p.Header)
		}
	}
	// Video: frames are the packets of one timestamp, the last marked.
	type frame struct {
		ts uint32
		au []byte
	}
	var frames []frame
	var depack codecs.H264Packet
	for i, p := range video.pkts {
		if i > 0 && p.SequenceNumber != video.pkts[i-1].SequenceNumber+1 {
			t.Fatalf("video packet %d: seq %d after %d", i, p.SequenceNumber, video.pkts[i-1].SequenceNumber)
		}
		if len(p.Payload) > MTU {
			t.Errorf("video packet %d: %d bytes", i, len(p.Payload))
		}
		if len(frames) == 0 || frames[len(frames)-1].ts != p.Timestamp {
			if i > 0 && !video.pkts[i-1].Marker {
				t.Errorf("video packet %d: the frame before ended without a marker", i)
			}
			frames = append(frames, frame{ts: p.Timestamp})
		} else if video.pkts[i-1].Marker {
			t.Errorf("video packet %d: marker in the middle of a frame", i)
		}
		nal, err := depack.Unmarshal(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		frames[len(frames)-1].au = append(frames[len(frames)-1].au, nal...)
	}
	if len(frames) != 4 || !video.pkts[len(video.pkts)-1].Marker {
		t.Fatalf("%d video frames, want 4", len(frames))
	}
	// Presentation times: 0, 120 ms, then the same a Period later.
	period := uint32(src.Period.Milliseconds()) * 90
	for i, want := range []uint32{0, 120 * 90, period, period + 120*90} {
		if got := frames[i].ts - frames[0].ts; got != want {
			t.Errorf("frame %d at %d ticks, want %d", i, got, want)
		}
	}
	var r stamp.Reader
	for i, f := range frames {
		nalus, err := av.SplitAnnexB(f.au)
		if err != nil {
			t.Fatal(err)
		}
		var types []uint8
		for _, n := range nalus {
			types = append(types, av.H264NALUType(n))
		}
		want := []uint8{av.H264NALSEI, 1}
		if i%2 == 0 {
			want = []uint8{av.H264NALSPS, av.H264NALPPS, av.H264NALSEI, av.H264NALIDR}
		}
		if !slices.Equal(types, want) {
			t.Errorf("frame %d has NAL units %v, want %v", i, types, want)
		}
		if st, ok := r.FindAnnexB(av.CodecH264, f.au); !ok || st.SentAt != 1234567 {
			t.Errorf("frame %d: stamp %+v, %v", i, st, ok)
		}
	}
}

func TestSenderVideoOnlyAndErrors(t *testing.T) {
	src := testLoop(t)
	var video rtpRecorder
	s := NewSender(&video, nil, src.NALULengthSize)
	batch, payloads := batchOf(t, src, 0, 1)
	if frames, _, err := s.Send(batch, payloads); err != nil || frames != 2 {
		t.Fatalf("video only: %d frames, %v", frames, err)
	}
	broken := errors.New("broken pipe")
	s = NewSender(&rtpRecorder{err: broken}, nil, src.NALULengthSize)
	if _, _, err := s.Send(batch, payloads); !errors.Is(err, broken) {
		t.Errorf("a failing write: %v", err)
	}
	// A sequence header that does not parse.
	bad := slices.Clone(batch[:1])
	if _, _, err := NewSender(&video, nil, 4).Send(bad, [][]byte{{0x17, 0, 0, 0, 0, 1}}); err == nil {
		t.Error("a broken sequence header was accepted")
	}
}
