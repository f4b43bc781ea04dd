package caster

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// errIdle ends a UDP cast stream whose datagrams stopped.
var errIdle = errors.New("caster: no datagram")

// deadlineRefresh is how often the idle deadline moves: a deadline per
// datagram would cost a timer reset each, and ±100 ms does not matter.
const deadlineRefresh = 100 * time.Millisecond

// datagramReader feeds a UDP socket's datagrams to the TS demuxer, one per
// Read (the demuxer always offers 64 KiB, more than a datagram holds),
// starting with the datagram that started the stream. A silence of idle
// ends it with errIdle.
type datagramReader struct {
	conn  net.PacketConn
	first []byte // the datagram read before the stream started
	idle  time.Duration

	deadlineSet time.Time
	sender      net.Addr // the latest sender, to log a change once
	datagrams   uint64
	bytes       uint64
	senders     int // senders seen, the first included
	onSender    func(from net.Addr)
}

func (r *datagramReader) Read(p []byte) (int, error) {
	if len(r.first) > 0 {
		n := copy(p, r.first)
		r.first = r.first[n:]
		return n, nil
	}
	if now := time.Now(); now.Sub(r.deadlineSet) > deadlineRefresh {
		if err := r.conn.SetReadDeadline(now.Add(r.idle)); err != nil {
			return 0, fmt.Errorf("caster: set read deadline: %w", err)
		}
		r.deadlineSet = now
	}
	n, from, err := r.conn.ReadFrom(p)
	if err != nil {
		if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
			return 0, fmt.Errorf("%w for %v", errIdle, r.idle)
		}
		return 0, err
	}
	r.count(n, from)
	return n, nil
}

// count keeps the counters and reports a new sender.
func (r *datagramReader) count(n int, from net.Addr) {
	r.datagrams++
	r.bytes += uint64(n)
	if !sameAddr(r.sender, from) {
		r.sender = from
		r.senders++
		if r.onSender != nil {
			r.onSender(from)
		}
	}
}

// sameAddr compares two senders without allocating for UDP addresses.
func sameAddr(a, b net.Addr) bool {
	ua, okA := a.(*net.UDPAddr)
	ub, okB := b.(*net.UDPAddr)
	if okA && okB {
		return ua.Port == ub.Port && ua.IP.Equal(ub.IP)
	}
	return a != nil && b != nil && a.String() == b.String()
}
