package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/source"
	"github.com/castd/castd/internal/bench/stamp"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// received is what a fake server got from one publisher.
type received struct {
	stream string
	msgs   []rtmp.Message
	err    error // how the publish ended (rtmp.ErrUnpublish for a clean end)
}

// fakeIngest accepts publishes and records their messages; streams named
// "busy" are refused.
func fakeIngest(t *testing.T) (addr string, results func() []received) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []received
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				s := rtmp.NewServerConn(c, rtmp.ServerOptions{})
				r := received{}
				defer func() {
					mu.Lock()
					got = append(got, r)
					mu.Unlock()
				}()
				if _, r.err = s.Handshake(); r.err != nil {
					return
				}
				if _, r.err = s.ReadConnect(); r.err != nil {
					return
				}
				if r.err = s.AcceptConnect(); r.err != nil {
					return
				}
				req, err := s.Identify()
				if r.err = err; err != nil {
					return
				}
				r.stream = req.Name
				if req.Name == "busy" {
					r.err = s.RejectStream(rtmp.CodePublishBadName, rtmp.DescStreamBusy)
					return
				}
				if r.err = s.StartPublish(); r.err != nil {
					return
				}
				for {
					m, err := s.ReadMedia()
					if err != nil {
						r.err = err
						return
					}
					r.msgs = append(r.msgs, *m)
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String(), func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

// smallSource is 400 ms of 25 fps H.264 (one keyframe) with audio.
func smallSource(t *testing.T) *source.Source {
	cfg := []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee}
	tags := []flv.Tag{
		{Type: flv.TagScript, Data: []byte{2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a', 5}},
		{Type: flv.TagVideo, Data: cfg},
	}
	for i := range 10 {
		first := byte(0x27)
		if i == 0 {
			first = 0x17
		}
		tags = append(tags,
			flv.Tag{Type: flv.TagVideo, Timestamp: uint32(i * 40), Data: []byte{first, 1, 0, 0, 0, 0, 0, 0, 3, 0x65, 0x88, byte(i)}},
			flv.Tag{Type: flv.TagAudio, Timestamp: uint32(i*40 + 10), Data: []byte{0xAF, 1, byte(i)}})
	}
	src, err := source.New(flv.Header{HasAudio: true, HasVideo: true}, tags)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestPublishersStampAndLoop(t *testing.T) {
	addr, results := fakeIngest(t)
	src := smallSource(t)
	start := time.Now()
	rep, err := Run(context.Background(), Config{
		Publish:  &PublishConfig{Source: src, URL: "rtmp://" + addr + "/live/s%d", Streams: 2, Start: 5},
		Duration: 1100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	pub := rep.Publish
	if pub.Publishers.EverUp != 2 || pub.Publishers.Up != 2 || pub.Publishers.Failed != 0 || len(rep.FailedChecks) != 0 {
		t.Fatalf("publishers %+v, checks %v", pub.Publishers, rep.FailedChecks)
	}
	var got []received
	for deadline := time.Now().Add(5 * time.Second); len(got) < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		got = results()
	}
	if len(got) != 2 {
		t.Fatalf("%d publishes reached the server", len(got))
	}
	var frames, bytes int64
	for _, r := range got {
		if r.stream != "s5" && r.stream != "s6" {
			t.Errorf("stream %q", r.stream)
		}
		// The publisher unpublishes and closes, like ffmpeg, so the server's
		// answer to FCUnpublish may find the connection closed.
		if !errors.Is(r.err, rtmp.ErrUnpublish) && !strings.Contains(fmt.Sprint(r.err), "send _result") {
			t.Errorf("%s ended with %v, want an unpublish", r.stream, r.err)
		}
		// Headers once, then about 2.75 loops of 20 frames.
		if len(r.msgs) < 2+40 || r.msgs[0].Type != rtmp.TypeDataAMF0 || r.msgs[1].Type != rtmp.TypeVideo {
			t.Fatalf("%s: %d messages", r.stream, len(r.msgs))
		}
		var reader stamp.Reader
		lastVideo, seq := int64(-1), uint64(0)
		for i, m := range r.msgs[2:] {
			frames++
			bytes += int64(len(m.Payload))
			f := src.Frames[i%len(src.Frames)]
			loop := i / len(src.Frames)
			if want := uint32((time.Duration(loop)*src.Period + f.At).Milliseconds()); m.Timestamp != want {
				t.Fatalf("%s message %d: timestamp %d, want %d", r.stream, i, m.Timestamp, want)
			}
			if m.Type != rtmp.TypeVideo {
				continue
			}
			if int64(m.Timestamp) <= lastVideo {
				t.Fatalf("video timestamp %d after %d", m.Timestamp, lastVideo)
			}
			lastVideo = int64(m.Timestamp)
			tag, err := av.ParseFLVVideoTag(m.Payload)
			if err != nil {
				t.Fatal(err)
			}
			st, ok := reader.Find(av.CodecH264, m.Payload[tag.PayloadOffset:], 4)
			if !ok || st.Seq != seq {
				t.Fatalf("%s frame %d: stamp %+v %v, want sequence %d", r.stream, i, st, ok, seq)
			}
			sent := time.Unix(0, st.SentAt)
			if due := start.Add(time.Duration(m.Timestamp) * time.Millisecond); sent.Before(due.Add(-50*time.Millisecond)) || sent.After(due.Add(500*time.Millisecond)) {
				t.Errorf("frame at %d ms stamped %v after the start", m.Timestamp, sent.Sub(start))
			}
			seq++
			// The frame's own NAL unit follows the stamp unchanged.
			nalus, _ := av.SplitAVCC(m.Payload[tag.PayloadOffset:], 4)
			if len(nalus) != 2 || string(nalus[1]) != string(f.Data[9:]) {
				t.Fatalf("frame %d NAL units %x", i, nalus)
			}
		}
	}
	headers := int64(2 * (len(src.Start[0].Data) + len(src.Start[1].Data)))
	if pub.FramesSent != frames+4 || pub.BytesSent != bytes+headers || pub.StampedFrames < 40 {
		t.Errorf("report says %d frames, %d bytes, %d stamped; the server got %d frames and %d bytes",
			pub.FramesSent, pub.BytesSent, pub.StampedFrames, frames+4, bytes+headers)
	}
}

func TestPublisherFailures(t *testing.T) {
	addr, _ := fakeIngest(t)
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused.Close()
	src := smallSource(t)
	for _, tt := range []struct {
		url  string
		kind failure.Kind
	}{
		{"rtmp://" + addr + "/live/busy", failure.Rejected},
		{"rtmp://" + refused.Addr().String() + "/live/s", failure.Dial},
	} {
		rep, err := Run(context.Background(), Config{Publish: &PublishConfig{Source: src, URL: tt.url}, Duration: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		p := rep.Publish
		if p.Publishers.Failed != 1 || p.Publishers.EverUp != 0 || p.Errors[tt.kind].Count != 1 {
			t.Errorf("%s: %+v %+v", tt.url, p.Publishers, p.Errors)
		}
		if len(rep.FailedChecks) != 1 || rep.FailedChecks[0] != "no publisher connected" {
			t.Errorf("%s: checks %v", tt.url, rep.FailedChecks)
		}
	}
}
