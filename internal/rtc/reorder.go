package rtc

import "time"

// reorderBuffer puts a publisher's RTP packets back in sequence order. A
// packet that arrives after a gap is held until the gap fills (the NACK
// interceptor asks for the missing ones) or until waiting longer is worse
// than the loss: maxWait passed or the buffer is half full. Then the gap is
// skipped and the next packet is marked lostBefore.
type reorderBuffer struct {
	slots   []reorderSlot // indexed by seq modulo len
	next    uint16        // the next sequence number to deliver
	started bool
	held    int
	maxWait time.Duration

	late, duplicates, gaps int // counters for logs
}

type reorderSlot struct {
	pkt     rtpPacket
	arrived time.Time
	used    bool
}

// orderedPacket is a packet out of the buffer; lostBefore is set on the
// first packet after a gap that was given up.
type orderedPacket struct {
	rtpPacket
	lostBefore bool
}

// reorderSlots must be a power of two well under 32768, so a sequence
// number difference always tells ahead from behind.
const reorderSlots = 512

func newReorderBuffer(maxWait time.Duration) *reorderBuffer {
	return &reorderBuffer{slots: make([]reorderSlot, reorderSlots), maxWait: maxWait}
}

func (b *reorderBuffer) slot(seq uint16) *reorderSlot { return &b.slots[int(seq)%len(b.slots)] }

// push adds p, which arrived at now, and appends to out the packets now
// ready in order. The buffer keeps p's payload: the caller must not reuse it.
func (b *reorderBuffer) push(p rtpPacket, now time.Time, out []orderedPacket) []orderedPacket {
	if !b.started {
		b.started, b.next = true, p.seq
	}
	ahead := int(int16(p.seq - b.next))
	switch {
	case ahead < 0:
		b.late++ // a retransmission that came too late, or a duplicate
		return out
	case ahead >= len(b.slots):
		// A jump far ahead (the sender restarted its sequence): deliver what
		// is held and start again from p.
		out = b.flush(out)
		b.next = p.seq
	}
	s := b.slot(p.seq)
	if s.used {
		b.duplicates++
		return out
	}
	*s = reorderSlot{pkt: p, arrived: now, used: true}
	b.held++
	out = b.drain(out, false)
	for b.held > 0 && (b.held > len(b.slots)/2 || now.Sub(b.oldestHeld()) > b.maxWait) {
		out = b.skipGap(out)
	}
	return out
}

// drain delivers packets from next on while there is no gap.
func (b *reorderBuffer) drain(out []orderedPacket, lostBefore bool) []orderedPacket {
	for {
		s := b.slot(b.next)
		if !s.used {
			return out
		}
		out = append(out, orderedPacket{rtpPacket: s.pkt, lostBefore: lostBefore})
		lostBefore = false
		*s = reorderSlot{}
		b.held--
		b.next++
	}
}

// skipGap gives up the missing packets before the first held one.
func (b *reorderBuffer) skipGap(out []orderedPacket) []orderedPacket {
	for i := 0; i < len(b.slots) && !b.slot(b.next).used; i++ {
		b.next++
	}
	b.gaps++
	return b.drain(out, true)
}

// oldestHeld returns when the first packet after the gap arrived.
func (b *reorderBuffer) oldestHeld() time.Time {
	seq := b.next
	for i := 0; i < len(b.slots); i++ {
		if s := b.slot(seq); s.used {
			return s.arrived
		}
		seq++
	}
	return time.Time{}
}

// flush delivers everything held, in order, marking the gaps.
func (b *reorderBuffer) flush(out []orderedPacket) []orderedPacket {
	for b.held > 0 {
		out = b.skipGapOrDrain(out)
	}
	return out
}

func (b *reorderBuffer) skipGapOrDrain(out []orderedPacket) []orderedPacket {
	if b.slot(b.next).used {
		return b.drain(out, false)
	}
	return b.skipGap(out)
}
