package rtc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
)

// fakeTranscoders stands for internal/transcode: one AAC frame per Opus
// frame, carrying the input's length.
type fakeTranscoders struct{ err error }

func (f fakeTranscoders) Available() error { return f.err }
func (f fakeTranscoders) NewOpusToAAC(channels, bitrate int) (OpusToAAC, error) {
	if channels != 2 || bitrate != 48000 {
		return nil, errors.New("unexpected channels or bitrate")
	}
	return &fakeAAC{}, nil
}
func (f fakeTranscoders) NewAACToOpus([]byte, int) (AACToOpus, error) {
	return nil, errors.New("not used")
}

type fakeAAC struct{ buf []byte }

func (a *fakeAAC) Write(frame []byte, pts time.Duration) ([]AudioFrame, error) {
	a.buf = append(a.buf[:0], 0x21, byte(len(frame))) // reused, as the real one's
	return []AudioFrame{{Data: a.buf, PTS: pts, Duration: 20 * time.Millisecond}}, nil
}
func (a *fakeAAC) AudioSpecificConfig() []byte { return []byte{0x11, 0x90} }
func (a *fakeAAC) Close() error                { return nil }

func TestRTCToRTMPAudio(t *testing.T) {
	for _, c := range []struct {
		name  string
		tc    Transcoders
		audio bool
	}{
		{"transcoded to AAC", fakeTranscoders{}, true},
		{"no transcoder: video only", nil, false},
		{"transcoder unavailable: video only", fakeTranscoders{err: errors.New("built without cgo")}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t, func(_ *conf.RTCServer, v *Vhost) { v.RTC.RTCToRTMP = true })
			e.srv.Transcoders = c.tc // before any session reads it
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "aac"}
			viewer := e.hub.Play(key, hub.ClientInfo{ID: "rtmp-player"}, hub.DefaultStreamOptions(), hub.ViewerOptions{Jitter: hub.JitterOff})
			defer viewer.Close()
			pub := newTestPublisher(t)
			whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=aac")
			waitConnected(t, pub.pc)
			go pub.run(ctx, 25)

			var video, aacFrames int
			var ash *av.Packet
			buf := make([]hub.Delivery, 32)
			rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
			defer rcancel()
			for video < 25 {
				n, err := viewer.Read(rctx, buf)
				if err != nil {
					t.Fatalf("read after %d video and %d AAC frames: %v", video, aacFrames, err)
				}
				for _, d := range buf[:n] {
					p := d.Packet
					switch {
					case p.Kind == av.KindVideo && !p.SequenceHeader:
						video++
					case p.Kind == av.KindAudio && p.SequenceHeader:
						ash = p
					case p.Kind == av.KindAudio:
						if p.Codec != av.CodecAAC || len(p.Payload) != 4 || p.Payload[2] != 0x21 || p.Payload[3] != byte(len(opusSilence)) {
							t.Fatalf("audio packet %x", p.Payload)
						}
						aacFrames++
					}
				}
			}
			if c.audio && (ash == nil || string(ash.Payload) != "\xaf\x00\x11\x90" || aacFrames < 25) {
				t.Fatalf("sequence header %v, %d AAC frames with %d video frames", ash, aacFrames, video)
			}
			if !c.audio && (ash != nil || aacFrames > 0) {
				t.Fatal("audio reached RTMP players without a transcoder")
			}
			if !c.audio && strings.Count(e.logs.String(), "cannot be transcoded to AAC") != 1 {
				t.Fatal("the missing transcoder must be logged once")
			}
		})
	}
}
