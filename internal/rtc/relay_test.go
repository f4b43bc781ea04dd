package rtc

import (
	"math/rand"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// udpRelay sits between one client and the server's media port and can
// drop RTP (not STUN, DTLS or RTCP) in either direction, or everything.
type udpRelay struct {
	front, back net.PacketConn // client side, server side
	server      net.Addr

	mu     sync.Mutex
	client net.Addr
	rnd    *rand.Rand

	dropDown  float64 // share of server-to-client RTP to drop
	dropUp    float64 // share of client-to-server RTP to drop
	blackhole atomic.Bool
	dropped   atomic.Int64
	wg        sync.WaitGroup
}

func newUDPRelay(t *testing.T, server net.Addr, dropUp, dropDown float64) *udpRelay {
	t.Helper()
	front, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRelay{front: front, back: back, server: server, rnd: rand.New(rand.NewSource(1)), dropUp: dropUp, dropDown: dropDown}
	r.wg.Add(2)
	go r.pump(front, true)
	go r.pump(back, false)
	t.Cleanup(r.close)
	return r
}

func (r *udpRelay) close() {
	r.front.Close()
	r.mu.Lock()
	r.back.Close()
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *udpRelay) port() int { return r.front.LocalAddr().(*net.UDPAddr).Port }

// rebind moves the relay's server side to a new socket, as a NAT that
// changes the client's public port does.
func (r *udpRelay) rebind(t *testing.T) {
	t.Helper()
	back, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	old := r.back
	r.back = back
	r.mu.Unlock()
	old.Close()
	r.wg.Add(1)
	go r.pump(back, false)
}

func (r *udpRelay) pump(from net.PacketConn, up bool) {
	defer r.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, addr, err := from.ReadFrom(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		if up {
			r.client = addr
		}
		to, drop := r.client, r.dropDown
		if up {
			to, drop = r.server, r.dropUp
		}
		lose := r.blackhole.Load() || isRTP(buf[:n]) && r.rnd.Float64() < drop
		r.mu.Unlock()
		if lose {
			r.dropped.Add(1)
			continue
		}
		if up {
			r.mu.Lock()
			back := r.back
			r.mu.Unlock()
			_, _ = back.WriteTo(buf[:n], to)
		} else if to != nil {
			_, _ = r.front.WriteTo(buf[:n], to)
		}
	}
}

// isRTP tells RTP from RTCP, STUN and DTLS (RFC 7983, RFC 5761).
func isRTP(b []byte) bool {
	if len(b) < 12 || b[0] < 128 || b[0] > 191 {
		return false
	}
	pt := b[1] & 0x7f
	return pt < 64 || pt > 95
}
