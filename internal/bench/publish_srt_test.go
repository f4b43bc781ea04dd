package bench

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/stamp"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/protocol/srt"
)

// srtIngest is a fake SRT server: it accepts publishers (refusing stream
// ids that contain "busy" with 1409) and keeps the TS each sent.
type srtIngest struct {
	addr string
	mu   sync.Mutex
	got  map[string][]byte // by stream id
}

func fakeSRTIngest(t *testing.T) *srtIngest {
	ln, err := srt.Listen("udp", "127.0.0.1:0", srt.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	in := &srtIngest{addr: ln.Addr().String(), got: map[string][]byte{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			req, err := ln.Accept()
			if err != nil {
				return
			}
			if bytes.Contains([]byte(req.StreamID()), []byte("busy")) {
				_ = req.Reject(srt.RejectPredefinedBase + 409)
				continue
			}
			c, err := req.Accept()
			if err != nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 1500)
				for {
					n, err := c.ReadMessage(buf)
					if err != nil {
						return
					}
					if n%mpegts.PacketSize != 0 {
						t.Errorf("a message of %d bytes", n)
					}
					in.mu.Lock()
					in.got[c.StreamID()] = append(in.got[c.StreamID()], buf[:n]...)
					in.mu.Unlock()
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return in
}

func (in *srtIngest) stream(id string) []byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	return bytes.Clone(in.got[id])
}

// TestSRTPublishers: over SRT, publishers mux the looped file to TS with
// every video frame stamped, one stream id per stream number.
func TestSRTPublishers(t *testing.T) {
	in := fakeSRTIngest(t)
	src := smallSource(t)
	rep, err := Run(context.Background(), Config{
		Publish:  &PublishConfig{Source: src, URL: "srt://" + in.addr + "?streamid=#!::r=live/s%d,m=publish", Streams: 2},
		Duration: 1100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	pub := rep.Publish
	if pub.Publishers.EverUp != 2 || pub.Publishers.Failed != 0 || len(rep.FailedChecks) != 0 || pub.StampedFrames < 40 {
		t.Fatalf("report %+v, checks %v", pub, rep.FailedChecks)
	}
	for _, id := range []string{"#!::r=live/s0,m=publish", "#!::r=live/s1,m=publish"} {
		// Delivery trails sending by the SRT latency: wait until it settles.
		var ts []byte
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
			ts = in.stream(id)
			time.Sleep(300 * time.Millisecond)
			if len(ts) > 0 && len(ts) == len(in.stream(id)) {
				break
			}
		}
		d := mpegts.NewDemuxer(bytes.NewReader(ts))
		var reader stamp.Reader
		video, audio, stamps, seq := 0, 0, 0, uint64(0)
		var lastDTS int64 = -1
		for {
			f, err := d.ReadFrame()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch f.StreamType {
			case mpegts.StreamTypeH264:
				video++
				if f.DTS <= lastDTS {
					t.Fatalf("%s: video DTS %d after %d", id, f.DTS, lastDTS)
				}
				lastDTS = f.DTS
				if st, ok := reader.FindAnnexB(av.CodecH264, f.Data); ok {
					if st.Seq != seq {
						t.Fatalf("%s: stamp %d, want %d", id, st.Seq, seq)
					}
					seq++
					stamps++
				}
			case mpegts.StreamTypeAAC:
				audio++
			}
		}
		// smallSource's audio has no AAC sequence header: the TS writer
		// drops it, as it would from RTMP.
		if video < 20 || audio != 0 || stamps != video {
			t.Errorf("%s: %d video frames (%d stamped), %d audio frames", id, video, stamps, audio)
		}
		if st := d.Stats(); st.ContinuityErrors != 0 || st.DroppedPES != 0 {
			t.Errorf("%s: %+v", id, st)
		}
	}
}

// TestSRTPublisherRefused: a rejection is counted as such.
func TestSRTPublisherRefused(t *testing.T) {
	in := fakeSRTIngest(t)
	rep, err := Run(context.Background(), Config{
		Publish:  &PublishConfig{Source: smallSource(t), URL: "srt://" + in.addr + "?streamid=#!::r=live/busy,m=publish"},
		Duration: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := rep.Publish; p.Publishers.Failed != 1 || p.Errors[failure.Rejected].Count != 1 {
		t.Errorf("%+v %+v", p.Publishers, p.Errors)
	}
	if _, err := Run(context.Background(), Config{Publish: &PublishConfig{Source: smallSource(t), URL: "srt://h?streamid=x"}}); err == nil {
		t.Error("a bad srt:// URL passed the configuration check")
	}
}
