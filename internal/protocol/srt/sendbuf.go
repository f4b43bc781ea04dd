package srt

import "time"

// sendBuffer holds what was written and not yet acknowledged, in sequence
// order: [base, sent) went out at least once, [sent, next) waits for its
// first transmission. The loss list holds what the receiver asked for
// again; retransmissions go before new packets.
type sendBuffer struct {
	slots []*packet
	head  int    // slot of base
	base  uint32 // oldest unacknowledged sequence number
	sent  uint32 // first never-sent sequence number
	next  uint32 // sequence number of the next packet written
	loss  *lossList
}

func newSendBuffer(size int, isn uint32) *sendBuffer {
	return &sendBuffer{slots: make([]*packet, size), base: isn, sent: isn, next: isn, loss: newLossList(size / 2)}
}

func (s *sendBuffer) len() int      { return int(seqDiff(s.base, s.next)) }
func (s *sendBuffer) full() bool    { return s.len() >= len(s.slots) }
func (s *sendBuffer) inFlight() int { return int(seqDiff(s.base, s.sent)) }
func (s *sendBuffer) unsent() int   { return int(seqDiff(s.sent, s.next)) }

func (s *sendBuffer) at(seq uint32) *packet {
	off := seqDiff(s.base, seq)
	if off < 0 || int(off) >= s.len() {
		return nil
	}
	return s.slots[(s.head+int(off))%len(s.slots)]
}

// push appends p, whose seq must be next. The caller checked full.
func (s *sendBuffer) push(p *packet) {
	s.slots[(s.head+s.len())%len(s.slots)] = p
	s.next = seqNext(s.next)
}

// popHead removes the packet at base and returns it.
func (s *sendBuffer) popHead() *packet {
	p := s.slots[s.head]
	s.slots[s.head] = nil
	s.head = (s.head + 1) % len(s.slots)
	s.base = seqNext(s.base)
	if seqLess(s.sent, s.base) {
		s.sent = s.base
	}
	return p
}

// ack releases everything before seq and returns how many packets went.
// An acknowledgement of packets never sent is clamped: it cannot be real.
func (s *sendBuffer) ack(seq uint32, pool *packetPool) int {
	if seqLess(s.sent, seq) {
		seq = s.sent
	}
	n := 0
	for seqLess(s.base, seq) {
		pool.put(s.popHead())
		n++
	}
	s.loss.removeBefore(s.base)
	return n
}

// nak queues from..to for retransmission, limited to what was sent and is
// still held, and returns how many numbers were new in the loss list.
func (s *sendBuffer) nak(from, to uint32) int {
	if seqLess(from, s.base) {
		from = s.base
	}
	if last := seqAdd(s.sent, -1); seqLess(last, to) {
		to = last
	}
	if seqDiff(from, to) < 0 {
		return 0
	}
	return s.loss.insert(from, to)
}

// nextRetransmit pops the next packet to send again. A packet sent less
// than minGap ago is skipped: its retransmission may still be on its way,
// and the next periodic NAK will ask again if it is not.
func (s *sendBuffer) nextRetransmit(now, minGap time.Duration) *packet {
	for {
		seq, ok := s.loss.first()
		if !ok {
			return nil
		}
		s.loss.remove(seq)
		p := s.at(seq)
		if p == nil || now-p.lastSent < minGap {
			continue
		}
		return p
	}
}

// nextNew returns the next never-sent packet and marks it sent.
func (s *sendBuffer) nextNew() *packet {
	if s.unsent() <= 0 {
		return nil
	}
	p := s.at(s.sent)
	s.sent = seqNext(s.sent)
	return p
}

// dropOlderThan drops the packets written before t (the sender's too-late
// drop) and returns how many went.
func (s *sendBuffer) dropOlderThan(t time.Duration, pool *packetPool) int {
	n := 0
	for s.len() > 0 && s.slots[s.head].origin < t {
		pool.put(s.popHead())
		n++
	}
	if n > 0 {
		s.loss.removeBefore(s.base)
	}
	return n
}

// release returns every packet held to pool.
func (s *sendBuffer) release(pool *packetPool) {
	for s.len() > 0 {
		pool.put(s.popHead())
	}
}

// pacer spaces packets to at most rate bytes per second with a token
// bucket: a packet may go when the bucket is not in debt, and takes its
// size from it. The bucket holds at most burst bytes of credit.
type pacer struct {
	rate   float64 // bytes per second
	burst  float64
	tokens float64
	last   time.Duration
}

func newPacer(rate int64, mss int) pacer {
	r := float64(rate)
	burst := max(r/100, float64(2*mss)) // 10 ms worth, at least two packets
	return pacer{rate: r, burst: burst, tokens: burst}
}

func (p *pacer) refill(now time.Duration) {
	if now > p.last {
		p.tokens = min(p.burst, p.tokens+p.rate*(now-p.last).Seconds())
		p.last = now
	}
}

// ready reports whether a packet may go at now.
func (p *pacer) ready(now time.Duration) bool {
	p.refill(now)
	return p.tokens >= 0
}

func (p *pacer) take(n int) { p.tokens -= float64(n) }

// wait returns how long until a packet may go.
func (p *pacer) wait() time.Duration {
	if p.tokens >= 0 {
		return 0
	}
	return time.Duration(-p.tokens / p.rate * float64(time.Second))
}
