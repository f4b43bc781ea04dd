package rtmpserver

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// discardConn is a net.Conn that accepts every write.
type discardConn struct{}

func (discardConn) Read([]byte) (int, error)         { select {} }
func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (discardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (discardConn) SetDeadline(time.Time) error      { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }

// benchPackets makes n packets of a 1 Mbps 25 fps stream with 44.1 kHz AAC:
// a 5 KB video frame then a 370-byte audio frame, keyframe every 50.
func benchPackets(n int) []*av.Packet {
	video := make([]byte, 5000)
	video[0], video[1] = 0x27, 0x01
	key := make([]byte, 20000)
	key[0], key[1] = 0x17, 0x01
	audio := make([]byte, 370)
	audio[0], audio[1] = 0xaf, 0x01
	out := make([]*av.Packet, n)
	for i := range out {
		ts := uint32(i / 2 * 40)
		switch {
		case i%2 == 1:
			out[i], _ = av.NewPacket(av.KindAudio, ts, audio)
		case i%100 == 0:
			out[i], _ = av.NewPacket(av.KindVideo, ts, key)
		default:
			out[i], _ = av.NewPacket(av.KindVideo, ts, video)
		}
	}
	return out
}

// warmup is how many packets run before a fan-out benchmark counts: two
// GOPs of benchPackets.
const warmup = 200

// BenchmarkFanOutRTMP measures one packet published and written to N RTMP
// viewers through the production path (hub read, chunk headers, writev).
// allocs/op must stay 0: nothing is allocated per viewer per packet.
func BenchmarkFanOutRTMP(b *testing.B) {
	for _, viewers := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("viewers=%d", viewers), func(b *testing.B) {
			h := hub.New(hub.Options{})
			key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "bench"}
			pub, _ := h.Publish(key, hub.ClientInfo{}, hub.DefaultStreamOptions())
			type player struct {
				v *hub.Viewer
				w *playWriter
			}
			players := make([]player, viewers)
			for i := range players {
				v := h.Play(key, hub.ClientInfo{}, hub.DefaultStreamOptions(), hub.ViewerOptions{})
				sc := rtmp.NewServerConn(discardConn{}, rtmp.ServerOptions{})
				players[i] = player{v: v, w: &playWriter{sc: sc, viewer: v, msgs: make([]rtmp.MediaMessage, 0, maxBatch)}}
			}
			pkts := benchPackets(warmup + b.N)
			buf := make([]hub.Delivery, maxBatch)
			ctx := context.Background()
			// Warm up: every player's scratch reaches its steady size and
			// the GOP cache its usual length before anything is counted.
			for i := 0; i < warmup; i++ {
				if err := pub.Write(pkts[i]); err != nil {
					b.Fatal(err)
				}
				for _, p := range players {
					n, err := p.v.Read(ctx, buf)
					if err != nil {
						b.Fatal(err)
					}
					if err := p.w.send(buf[:n]); err != nil {
						b.Fatal(err)
					}
				}
			}
			pkts = pkts[warmup:]
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := pub.Write(pkts[i]); err != nil {
					b.Fatal(err)
				}
				for _, p := range players {
					n, err := p.v.Read(ctx, buf)
					if err != nil {
						b.Fatal(err)
					}
					if err := p.w.send(buf[:n]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(viewers), "ns/viewer/packet")
		})
	}
}
