package rtc

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
)

func TestNewBlackHoleRefusesBadAddresses(t *testing.T) {
	for _, addr := range []string{"", "nonsense", "127.0.0.1", "127.0.0.1:0", "0.0.0.0:9000", "[::]:9000", "127.0.0.1:99999"} {
		if bh, err := newBlackHole(addr, nil); err == nil {
			bh.close()
			t.Errorf("black hole %q: no error", addr)
		}
	}
}

// blackHoleListener is the test's Wireshark: a UDP socket collecting what
// the black hole sends.
func blackHoleListener(t *testing.T) net.PacketConn {
	t.Helper()
	l, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// blackHoleCopies reads what reaches l within d.
func blackHoleCopies(t *testing.T, l net.PacketConn, d time.Duration) [][]byte {
	t.Helper()
	var out [][]byte
	deadline := time.Now().Add(d)
	buf := make([]byte, 1500)
	for {
		if err := l.SetReadDeadline(deadline); err != nil {
			t.Fatal(err)
		}
		n, _, err := l.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bytes.Clone(buf[:n]))
	}
}

// senderSSRCs lists the SSRCs a client sends with.
func senderSSRCs(pc *webrtc.PeerConnection) map[uint32]bool {
	out := map[uint32]bool{}
	for _, s := range pc.GetSenders() {
		for _, enc := range s.GetParameters().Encodings {
			out[uint32(enc.SSRC)] = true
		}
	}
	return out
}

func TestBlackHoleCopiesPublishersRTP(t *testing.T) {
	hole := blackHoleListener(t)
	e := newTestEnv(t, func(c *conf.RTCServer, _ *Vhost) {
		c.BlackHole.Enabled, c.BlackHole.Addr = true, hole.LocalAddr().String()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub := newTestPublisher(t)
	whip(t, pub.pc, e.http.URL+"/rtc/v1/whip/?app=live&stream=bh")
	waitConnected(t, pub.pc)
	go pub.run(ctx, 25)
	waitPublishing(t, e.hub, hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "bh"})
	ssrcs := senderSSRCs(pub.pc)
	copies := blackHoleCopies(t, hole, 300*time.Millisecond)
	var audio, video int
	for _, b := range copies {
		var p rtp.Packet
		if err := p.Unmarshal(b); err != nil {
			t.Fatalf("the black hole sent %d bytes that are not RTP: %v", len(b), err)
		}
		if !ssrcs[p.SSRC] {
			t.Fatalf("the black hole sent SSRC %d, not one of the publisher's %v", p.SSRC, ssrcs)
		}
		switch {
		case bytes.Equal(p.Payload, opusSilence):
			audio++ // the publisher's Opus, in the clear
		case len(p.Payload) > 0 && (p.Payload[0]&0x1f == 28 || p.Payload[0]&0x1f <= 23):
			video++ // an H.264 FU-A or single NAL unit
		}
	}
	if audio < 5 || video < 5 {
		t.Fatalf("black hole: %d packets, %d of them plain Opus and %d H.264; want plain RTP of both in 0.3 s", len(copies), audio, video)
	}

	// A reload turns it off for live sessions too...
	e.reload(t, func(c *conf.RTCServer) { c.BlackHole.Enabled = false })
	blackHoleCopies(t, hole, 100*time.Millisecond) // what was on its way
	if n := len(blackHoleCopies(t, hole, 300*time.Millisecond)); n != 0 {
		t.Fatalf("%d copies after black_hole was turned off", n)
	}
	// ...and on again, elsewhere.
	hole2 := blackHoleListener(t)
	e.reload(t, func(c *conf.RTCServer) { c.BlackHole.Enabled, c.BlackHole.Addr = true, hole2.LocalAddr().String() })
	if n := len(blackHoleCopies(t, hole2, 300*time.Millisecond)); n < 10 {
		t.Fatalf("%d copies in 0.3 s at the black hole's new address", n)
	}
}
