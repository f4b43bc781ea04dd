package remux

import (
	"io"
	"testing"

	"github.com/castd/castd/internal/av"
)

// benchPackets is one second of a 30 fps, 1 Mbit/s H.264 stream with
// 44.1 kHz AAC: a keyframe every 2 s, 4166-byte frames of three NAL units.
func benchPackets(b *testing.B) (video, audio []*av.Packet, headers []*av.Packet) {
	headers = []*av.Packet{
		mustPacket(b, av.KindVideo, 0, avcSequenceHeader(testSPS, testPPS)),
		mustPacket(b, av.KindAudio, 0, aacSequenceHeader(testASC)),
	}
	const frameSize = 1_000_000 / 8 / 30
	for i := 0; i < 60; i++ {
		key := i == 0
		slice := filler(frameSize-40, byte(i))
		slice[0] = 0x41
		if key {
			slice[0] = 0x65
		}
		video = append(video, mustPacket(b, av.KindVideo, uint32(i*1000/30), avcFrame(key, 66, []byte{0x06, 5, 1, 2}, slice)))
	}
	for i := 0; i < 86; i++ {
		audio = append(audio, mustPacket(b, av.KindAudio, uint32(i*1024*1000/44100), aacFrame(filler(300, byte(i)))))
	}
	return video, audio, headers
}

// BenchmarkTSWriter measures steady-state remuxing, appending to a reused
// buffer as HTTP-TS would and writing as HLS would: per packet it must
// allocate nothing.
func BenchmarkTSWriter(b *testing.B) {
	video, audio, headers := benchPackets(b)
	for _, mode := range []string{"append", "write"} {
		b.Run(mode, func(b *testing.B) {
			tw := newTS(b, io.Discard, TSOptions{AudioDTSFromSamples: true})
			var buf []byte
			for _, p := range headers {
				buf, _ = tw.AppendPacket(buf[:0], p)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(video[1].Payload) + len(audio[0].Payload)))
			var err error
			for i := 0; b.Loop(); i++ {
				v, a := video[i%len(video)], audio[i%len(audio)]
				if mode == "append" {
					buf, err = tw.AppendPacket(buf[:0], v)
					if err == nil {
						buf, err = tw.AppendPacket(buf[:0], a)
					}
				} else {
					err = tw.WritePacket(v)
					if err == nil {
						err = tw.WritePacket(a)
					}
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkADTSWriter(b *testing.B) {
	_, audio, headers := benchPackets(b)
	a := NewADTSWriter(io.Discard, nil)
	_ = a.WritePacket(headers[1])
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := a.WritePacket(audio[i%len(audio)]); err != nil {
			b.Fatal(err)
		}
	}
}
