package httpstream

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
)

type discardConn struct{}

func (discardConn) Read([]byte) (int, error)         { select {} }
func (discardConn) Write(b []byte) (int, error)      { return len(b), nil }
func (discardConn) Close() error                     { return nil }
func (discardConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (discardConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (discardConn) SetDeadline(time.Time) error      { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkFanOutFLV measures one packet published and written to N HTTP-FLV
// viewers through the production path (hub read, 15 bytes of tag framing,
// one chunked writev). allocs/op must stay 0.
// warmup is how many packets run before the benchmark counts.
const warmup = 200

func BenchmarkFanOutFLV(b *testing.B) {
	video := make([]byte, 5000)
	video[0], video[1] = 0x27, 0x01
	audio := make([]byte, 370)
	audio[0], audio[1] = 0xaf, 0x01
	for _, viewers := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("viewers=%d", viewers), func(b *testing.B) {
			h := hub.New(hub.Options{})
			key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "bench"}
			pub, _ := h.Publish(key, hub.ClientInfo{}, hub.DefaultStreamOptions())
			type player struct {
				v *hub.Viewer
				w *flvWriter
			}
			players := make([]player, viewers)
			for i := range players {
				v := h.Play(key, hub.ClientInfo{}, hub.DefaultStreamOptions(), hub.ViewerOptions{})
				w := newFLVWriter(httpx.NewLiveResponse(discardConn{}, true), Remux{HasAudio: true, HasVideo: true})
				players[i] = player{v: v, w: w}
			}
			pkts := make([]*av.Packet, warmup+b.N)
			for i := range pkts {
				if i%2 == 1 {
					pkts[i], _ = av.NewPacket(av.KindAudio, uint32(i/2*40), audio)
				} else {
					pkts[i], _ = av.NewPacket(av.KindVideo, uint32(i/2*40), video)
				}
			}
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
					if err := p.w.write(buf[:n]); err != nil {
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
					if err := p.w.write(buf[:n]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(viewers), "ns/viewer/packet")
		})
	}
}
