package srt

import (
	"testing"
	"time"
)

func fillSendBuffer(s *sendBuffer, n int, origin time.Duration) {
	for i := 0; i < n; i++ {
		s.push(&packet{seq: s.next, origin: origin + time.Duration(i)*ms, n: 1})
	}
}

func sendAll(s *sendBuffer, now time.Duration) []uint32 {
	var seqs []uint32
	for p := s.nextNew(); p != nil; p = s.nextNew() {
		p.lastSent = now
		seqs = append(seqs, p.seq)
	}
	return seqs
}

func TestSendBuffer(t *testing.T) {
	var pool packetPool
	isn := uint32(seqMask - 2) // cross the wrap-around on the way
	s := newSendBuffer(8, isn)
	fillSendBuffer(s, 6, 0)
	if s.len() != 6 || s.unsent() != 6 || s.inFlight() != 0 || s.full() {
		t.Fatalf("len %d unsent %d in flight %d", s.len(), s.unsent(), s.inFlight())
	}
	sent := sendAll(s, 10*ms)
	if want := []uint32{isn, isn + 1, isn + 2, 0, 1, 2}; len(sent) != 6 || sent[3] != want[3] || sent[0] != want[0] {
		t.Fatalf("sent %v, want %v", sent, want)
	}
	if n := s.ack(seqAdd(isn, 2), &pool); n != 2 || s.base != seqAdd(isn, 2) {
		t.Fatalf("ack released %d, base %d", n, s.base)
	}

	// NAKs are clamped to what was sent and is still held.
	if added := s.nak(isn, 5); added != 4 {
		t.Fatalf("nak added %d, want 4 (%d..2)", added, seqAdd(isn, 2))
	}
	if p := s.nextRetransmit(12*ms, 5*ms); p != nil {
		t.Fatalf("retransmitted %d only 2 ms after sending", p.seq)
	}
	if !s.loss.empty() {
		t.Fatal("suppressed retransmissions stay queued; the next NAK asks again")
	}
	s.nak(0, 1)
	var re []uint32
	for p := s.nextRetransmit(20*ms, 5*ms); p != nil; p = s.nextRetransmit(20*ms, 5*ms) {
		re = append(re, p.seq)
	}
	if len(re) != 2 || re[0] != 0 || re[1] != 1 {
		t.Fatalf("retransmissions %v", re)
	}

	// An ACK of what was never sent is clamped to what was.
	fillSendBuffer(s, 2, 50*ms)
	if n := s.ack(100, &pool); n != 4 || s.base != 3 || s.len() != 2 {
		t.Fatalf("over-ack released %d, base %d, len %d", n, s.base, s.len())
	}

	// Too-late drop removes old packets, sent or not.
	if n := s.dropOlderThan(51*ms, &pool); n != 1 || s.base != 4 || s.sent != 4 {
		t.Fatalf("drop released %d, base %d, sent %d", n, s.base, s.sent)
	}
	fillSendBuffer(s, 7, 60*ms)
	if !s.full() {
		t.Fatal("8 packets in an 8-slot buffer is full")
	}
	s.release(&pool)
	if s.len() != 0 {
		t.Fatal("release left packets")
	}
}

func TestPacer(t *testing.T) {
	p := newPacer(1000, 100) // 1000 B/s, a burst of two 100-byte packets
	if !p.ready(0) {
		t.Fatal("a fresh pacer is not ready")
	}
	p.take(150)
	if !p.ready(0) {
		t.Fatal("credit left but not ready")
	}
	p.take(150) // 100 bytes in debt
	if p.ready(0) {
		t.Fatal("ready while in debt")
	}
	if w := p.wait(); w != 100*ms {
		t.Fatalf("wait %v, want 100ms", w)
	}
	if !p.ready(100 * ms) {
		t.Fatal("not ready once the debt is paid")
	}
	if p.ready(10 * time.Second); p.tokens != 200 {
		t.Fatalf("credit %v, want capped at the burst 200", p.tokens)
	}
}
