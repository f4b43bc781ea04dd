package srt

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lossyRelay forwards datagrams between one client and a server, dropping
// each one with probability loss in both directions.
type lossyRelay struct {
	front, back *net.UDPConn
	server      netip.AddrPort
	loss        float64

	mu     sync.Mutex
	rng    *rand.Rand
	client netip.AddrPort

	forwarded, dropped atomic.Uint64
	wg                 sync.WaitGroup
}

func newLossyRelay(t *testing.T, server netip.AddrPort, loss float64, seed uint64) *lossyRelay {
	t.Helper()
	front, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		t.Fatal(err)
	}
	r := &lossyRelay{front: front, back: back, server: server, loss: loss, rng: rand.New(rand.NewPCG(seed, seed+1))}
	r.wg.Add(2)
	go r.pump(front, true)
	go r.pump(back, false)
	t.Cleanup(r.close)
	return r
}

func (r *lossyRelay) addr() string { return r.front.LocalAddr().String() }

func (r *lossyRelay) drop() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rng.Float64() < r.loss
}

func (r *lossyRelay) pump(in *net.UDPConn, fromClient bool) {
	defer r.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := in.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		var out *net.UDPConn
		var to netip.AddrPort
		if fromClient {
			r.mu.Lock()
			r.client = from
			r.mu.Unlock()
			out, to = r.back, r.server
		} else {
			r.mu.Lock()
			to = r.client
			r.mu.Unlock()
			out = r.front
		}
		if r.drop() {
			r.dropped.Add(1)
			continue
		}
		r.forwarded.Add(1)
		_, _ = out.WriteToUDPAddrPort(buf[:n], to)
	}
}

func (r *lossyRelay) close() {
	r.front.Close()
	r.back.Close()
	r.wg.Wait()
}

// TestLossyPublish publishes through a relay that drops 5% and 10% of the
// datagrams each way: with 200 ms of latency every message must arrive, in
// order, thanks to retransmissions.
func TestLossyPublish(t *testing.T) {
	for _, tc := range []struct {
		name string
		loss float64
		seed uint64
	}{
		{"5%", 0.05, 5},
		{"10%", 0.10, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			opts := DefaultOptions()
			// 400 ms, not SRS's usual 200: the retransmissions must beat the
			// too-late drop even when the race detector and a busy CI
			// machine slow both ends down (the e2e test keeps 200 ms).
			opts.Latency, opts.RecvLatency, opts.PeerLatency = 400*time.Millisecond, -1, -1
			l, err := Listen("udp", "127.0.0.1:0", opts)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			relay := newLossyRelay(t, l.Addr().(*net.UDPAddr).AddrPort(), tc.loss, tc.seed)

			const messages = 800 // 2 s at about 4 Mbit/s
			type result struct {
				seqs  []uint32
				stats Stats
				err   error
			}
			done := make(chan result, 1)
			go func() {
				var res result
				defer func() { done <- res }()
				req, err := l.Accept()
				if err != nil {
					res.err = err
					return
				}
				c, err := req.Accept()
				if err != nil {
					res.err = err
					return
				}
				defer c.Close()
				buf := make([]byte, 1500)
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				for len(res.seqs) < messages {
					n, err := c.ReadMessage(buf)
					if err != nil {
						res.err = err
						res.stats = c.Stats()
						return
					}
					if n != 1316 {
						t.Errorf("message %d has %d bytes", len(res.seqs), n)
					}
					res.seqs = append(res.seqs, binary.BigEndian.Uint32(buf))
				}
				res.stats = c.Stats()
			}()

			copts := opts
			copts.StreamID = "#!::r=live/lossy,m=publish"
			copts.Linger = 5 * time.Second
			c, err := Dial(context.Background(), "udp", relay.addr(), copts)
			if err != nil {
				t.Fatal(err)
			}
			msg := make([]byte, 1316)
			for i := 0; i < messages; i++ {
				binary.BigEndian.PutUint32(msg, uint32(i))
				if _, err := c.WriteMessage(msg); err != nil {
					t.Fatal(err)
				}
				if i%10 == 9 {
					time.Sleep(25 * time.Millisecond)
				}
			}
			res := <-done
			sent := c.Stats()
			c.Close()
			if res.err != nil {
				t.Fatalf("receiver: %v after %d messages; sender %+v; receiver %+v", res.err, len(res.seqs), sent, res.stats)
			}
			for i, s := range res.seqs {
				if s != uint32(i) {
					t.Fatalf("message %d carries %d: lost or out of order", i, s)
				}
			}
			t.Logf("relay forwarded %d, dropped %d; sender %+v; receiver %+v",
				relay.forwarded.Load(), relay.dropped.Load(), sent, res.stats)
			if relay.dropped.Load() == 0 {
				t.Fatal("the relay dropped nothing")
			}
			if sent.PktRetrans == 0 || res.stats.PktRcvRetrans == 0 {
				t.Errorf("no retransmissions counted: sender %d, receiver %d", sent.PktRetrans, res.stats.PktRcvRetrans)
			}
			if res.stats.PktRcvLoss == 0 || sent.PktSndLoss == 0 {
				t.Errorf("no loss counted: receiver %d, sender %d", res.stats.PktRcvLoss, sent.PktSndLoss)
			}
			if res.stats.PktRcvDrop != 0 {
				t.Errorf("receiver dropped %d packets", res.stats.PktRcvDrop)
			}
		})
	}
}
