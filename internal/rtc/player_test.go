package rtc

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"github.com/castd/castd/internal/av"
)

// testPlayer receives a stream and checks every video frame it can
// rebuild: complete frames come out of pion's sample builder, whose slices
// must be exactly what the test publisher sent.
type testPlayer struct {
	pc *webrtc.PeerConnection

	mu        sync.Mutex
	frames    int
	keyframes int
	first     int  // number of the first frame, -1 before any
	firstKey  bool // the first frame was a keyframe
	last      int
	corrupt   []error
	audio     int
	video     int // RTP packets
}

func newTestPlayer(t *testing.T, audio, video bool) *testPlayer {
	t.Helper()
	return newTestPlayerWith(t, audio, video, nil)
}

func newTestPlayerWith(t *testing.T, audio, video bool, tweak func(*webrtc.SettingEngine)) *testPlayer {
	t.Helper()
	p := &testPlayer{pc: newClientPCWith(t, tweak), first: -1}
	recv := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
	if audio {
		if _, err := p.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, recv); err != nil {
			t.Fatal(err)
		}
	}
	if video {
		if _, err := p.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, recv); err != nil {
			t.Fatal(err)
		}
	}
	p.pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if track.Kind() == webrtc.RTPCodecTypeAudio {
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
				p.mu.Lock()
				p.audio++
				p.mu.Unlock()
			}
		}
		sb := samplebuilder.New(64, &codecs.H264Packet{}, 90000) // 64 packets: time enough for a NACKed one
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.video++
			p.mu.Unlock()
			sb.Push(pkt)
			for s := sb.Pop(); s != nil; s = sb.Pop() {
				p.check(s.Data)
			}
		}
	})
	return p
}

// check verifies one access unit (Annex-B).
func (p *testPlayer) check(au []byte) {
	nalus, err := av.SplitAnnexB(au)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.corrupt = append(p.corrupt, err)
		return
	}
	for _, n := range nalus {
		t := av.H264NALUType(n)
		if t != av.H264NALSlice && t != av.H264NALIDR {
			continue
		}
		if err := checkSlice(n); err != nil {
			p.corrupt = append(p.corrupt, err)
			return
		}
		num := frameNumber(n)
		if p.first < 0 {
			p.first, p.firstKey = num, t == av.H264NALIDR
		} else if num <= p.last {
			p.corrupt = append(p.corrupt, fmt.Errorf("frame %d after frame %d", num, p.last))
		}
		p.last = num
		p.frames++
		if t == av.H264NALIDR {
			p.keyframes++
		}
	}
}

// waitFrames waits until the player rebuilt n frames.
func (p *testPlayer) waitFrames(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		p.mu.Lock()
		got, corrupt := p.frames, p.corrupt
		p.mu.Unlock()
		if len(corrupt) > 0 {
			t.Fatalf("corrupt frames: %v", corrupt)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("player got %d frames in %v, want %d", got, within, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
