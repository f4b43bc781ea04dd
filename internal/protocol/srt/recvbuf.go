package srt

import "time"

// recvBuffer is the receiver's window: a ring of packets indexed by
// sequence number from base (the next to deliver), the loss list of the
// holes, and timestamp-based packet delivery (TSBPD):
//
//	delivery time = time base + packet timestamp + latency + drift
//
// where the time base is when the peer's timestamp 0 happened on our clock,
// set from its conclusion handshake. With too-late packet drop, a hole is
// skipped once the packet after it is due. All times are durations on the
// connection's clock, passed in, so tests can use a fake clock.
type recvBuffer struct {
	slots []*packet
	head  int    // slot of base
	base  uint32 // next sequence number to deliver
	last  uint32 // highest sequence number seen (base-1 when none)
	loss  *lossList

	// dropMark fills the slot of a packet the sender gave up on (DROPREQ):
	// it counts as received for ACKs and is skipped at delivery.
	dropMark *packet

	tlpktdrop bool
	latency   time.Duration
	timeBase  time.Duration
	lastTS    int64 // highest unwrapped timestamp so far
	drift     driftTracer
}

func newRecvBuffer(size int, isn uint32, latency time.Duration, tlpktdrop bool) *recvBuffer {
	return &recvBuffer{
		slots:     make([]*packet, size),
		base:      isn,
		last:      seqAdd(isn, -1),
		loss:      newLossList(size / 2),
		dropMark:  &packet{},
		tlpktdrop: tlpktdrop,
		latency:   latency,
	}
}

// setTimeBase anchors TSBPD: the peer stamped ts on a packet that arrived
// at arrival.
func (b *recvBuffer) setTimeBase(arrival time.Duration, ts uint32) {
	b.timeBase = arrival - time.Duration(ts)*time.Microsecond
	b.lastTS = int64(ts)
}

// unwrap extends a 32-bit microsecond timestamp (it wraps every 71.6
// minutes) using the highest one seen: packets are never that far apart.
func (b *recvBuffer) unwrap(ts uint32) int64 {
	ext := b.lastTS + int64(int32(ts-uint32(b.lastTS)))
	if ext > b.lastTS {
		b.lastTS = ext
	}
	return ext
}

func (b *recvBuffer) deliveryTime(p *packet) time.Duration {
	return b.timeBase + time.Duration(p.extTS)*time.Microsecond + b.latency + b.drift.drift
}

// onDriftSample feeds the drift tracer with the arrival of a packet the
// peer stamped ts (an ACKACK).
func (b *recvBuffer) onDriftSample(arrival time.Duration, ts uint32) {
	expected := b.timeBase + time.Duration(b.unwrap(ts))*time.Microsecond
	if b.drift.update(arrival - expected) {
		b.timeBase += b.drift.overdrift
	}
}

func (b *recvBuffer) slot(seq uint32) int {
	return (b.head + int(seqDiff(b.base, seq))) % len(b.slots)
}

// insertResult says what became of an arriving packet.
type insertResult int

const (
	inserted  insertResult = iota
	duplicate              // already held
	belated                // before base: delivered or skipped already
	overflow               // beyond the window
)

// insert stores p (its seq and timestamp set). gap is the range of newly
// found holes before it, to report at once; filled says p closed a hole.
func (b *recvBuffer) insert(p *packet) (res insertResult, gap seqRange, hasGap, filled bool) {
	off := seqDiff(b.base, p.seq)
	switch {
	case off < 0:
		return belated, gap, false, false
	case int(off) >= len(b.slots):
		return overflow, gap, false, false
	}
	i := b.slot(p.seq)
	if b.slots[i] != nil {
		return duplicate, gap, false, false
	}
	p.extTS = b.unwrap(p.timestamp)
	b.slots[i] = p
	if d := seqDiff(b.last, p.seq); d > 0 {
		if d > 1 {
			gap, hasGap = seqRange{seqNext(b.last), seqAdd(p.seq, -1)}, true
			b.loss.insert(gap.from, gap.to)
		}
		b.last = p.seq
	} else {
		filled = b.loss.remove(p.seq)
	}
	return inserted, gap, hasGap, filled
}

// dropRange marks from..to as given up by the sender. It returns how many
// holes it closed.
func (b *recvBuffer) dropRange(from, to uint32) int {
	if seqLess(from, b.base) {
		from = b.base
	}
	if limit := seqAdd(b.base, len(b.slots)-1); seqLess(limit, to) {
		to = limit
	}
	if seqDiff(from, to) < 0 {
		return 0
	}
	if d := seqDiff(b.last, from); d > 1 {
		b.loss.insert(seqNext(b.last), seqAdd(from, -1))
	}
	closed := 0
	for s := from; ; s = seqNext(s) {
		if i := b.slot(s); b.slots[i] == nil {
			b.slots[i] = b.dropMark
			closed++
		}
		if s == to {
			break
		}
	}
	b.loss.removeRange(from, to)
	if seqLess(b.last, to) {
		b.last = to
	}
	return closed
}

// advance moves base past the head slot, which the caller emptied.
func (b *recvBuffer) advance() {
	b.slots[b.head] = nil
	b.head = (b.head + 1) % len(b.slots)
	b.base = seqNext(b.base)
}

// next returns the packet to deliver at now, removing it from the buffer,
// and how many packets were skipped to get there. With nothing due it
// returns how long to wait (negative: until something arrives). flush
// delivers everything held at once, skipping holes: the peer is gone.
func (b *recvBuffer) next(now time.Duration, flush bool) (p *packet, dropped int, wait time.Duration) {
	for seqDiff(b.base, b.last) >= 0 {
		head := b.slots[b.head]
		switch {
		case head == b.dropMark:
			b.advance()
			dropped++
			continue
		case head != nil:
			if t := b.deliveryTime(head); !flush && now < t {
				return nil, dropped, t - now
			}
			b.advance()
			b.loss.removeBefore(b.base)
			return head, dropped, 0
		}
		if !b.tlpktdrop && !flush {
			return nil, dropped, -1
		}
		q := b.firstHeldAfterHole()
		if q == nil {
			return nil, dropped, -1
		}
		if t := b.deliveryTime(q); !flush && now < t {
			return nil, dropped, t - now
		}
		for b.base != q.seq {
			if b.slots[b.head] == nil || b.slots[b.head] == b.dropMark {
				dropped++
			}
			b.advance()
		}
		b.loss.removeBefore(b.base)
	}
	return nil, dropped, -1
}

// firstHeldAfterHole finds the first real packet after the hole at base.
// The loss list knows where the hole ends, so this does not scan it.
func (b *recvBuffer) firstHeldAfterHole() *packet {
	s := b.base
	if r, ok := b.loss.rangeOf(s); ok {
		s = seqNext(r.to)
	}
	for ; seqDiff(s, b.last) >= 0; s = seqNext(s) {
		if p := b.slots[b.slot(s)]; p != nil && p != b.dropMark {
			return p
		}
		if r, ok := b.loss.rangeOf(s); ok {
			s = r.to
		}
	}
	return nil
}

// ackSeq is the sequence number to acknowledge: the first hole, or the
// one after the last packet seen.
func (b *recvBuffer) ackSeq() uint32 {
	if f, ok := b.loss.first(); ok {
		return f
	}
	return seqNext(b.last)
}

// held returns how many slots are in use, holes included.
func (b *recvBuffer) held() int { return int(seqDiff(b.base, b.last)) + 1 }

// available returns the free slots, the Available Buffer Size of an ACK.
func (b *recvBuffer) available() int { return len(b.slots) - b.held() }

// release returns every packet still held to pool.
func (b *recvBuffer) release(pool *packetPool) {
	for i, p := range b.slots {
		if p != nil && p != b.dropMark {
			pool.put(p)
		}
		b.slots[i] = nil
	}
}
