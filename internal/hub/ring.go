package hub

import "github.com/castd/castd/internal/av"

// entry is one ring slot: the shared packet and the stream clock at its
// arrival, a monotonic millisecond time the hub derives from the publisher's
// timestamps (they can restart at 0 on republish or interleave A/V slightly
// out of order, so spans are measured on this clock instead).
type entry struct {
	pkt   *av.Packet
	clock int64
}

// ring is the stream's bounded packet history. Sequence numbers only grow;
// the live window is [tail, head). It is guarded by the Stream's lock.
type ring struct {
	buf  []entry // len is a power of two
	mask uint64
	head uint64 // sequence number of the next packet
	tail uint64 // oldest sequence number still held
	max  int    // capacity limit; the oldest packet is evicted beyond it
}

func newRing(initial, max int) ring {
	n := 1
	for n < initial {
		n <<= 1
	}
	return ring{buf: make([]entry, n), mask: uint64(n - 1), max: max}
}

func (r *ring) len() int { return int(r.head - r.tail) }

func (r *ring) at(seq uint64) *entry { return &r.buf[seq&r.mask] }

// push appends e and returns its sequence number. When the ring is full it
// doubles up to max; past max the oldest packet is evicted (evicted reports it).
func (r *ring) push(e entry) (seq uint64, evicted bool) {
	if r.len() == len(r.buf) {
		if len(r.buf) < r.max {
			r.grow()
		} else {
			r.dropOldest()
			evicted = true
		}
	}
	seq = r.head
	*r.at(seq) = e
	r.head++
	return seq, evicted
}

func (r *ring) grow() {
	nb := make([]entry, len(r.buf)*2)
	nmask := uint64(len(nb) - 1)
	for s := r.tail; s < r.head; s++ {
		nb[s&nmask] = r.buf[s&r.mask]
	}
	r.buf, r.mask = nb, nmask
}

// dropOldest releases the oldest packet so its memory can be reclaimed.
func (r *ring) dropOldest() {
	*r.at(r.tail) = entry{}
	r.tail++
}

// clear drops every packet (used when a stream dies).
func (r *ring) clear() {
	for r.tail < r.head {
		r.dropOldest()
	}
}
