package srt

import (
	"testing"
	"time"
)

const ms = time.Millisecond

// rbPacket makes a received packet with a timestamp in milliseconds.
func rbPacket(seq uint32, tsMillis int) *packet {
	p := &packet{seq: seq, timestamp: uint32(tsMillis * 1000), n: 1}
	p.payload[0] = byte(seq)
	return p
}

// newTestRecvBuffer starts at ISN 100 with the peer's timestamp 0 at 1 s
// on our clock and 100 ms of latency: packet stamped t plays at 1.1 s + t.
func newTestRecvBuffer(tlpktdrop bool) *recvBuffer {
	b := newRecvBuffer(64, 100, 100*ms, tlpktdrop)
	b.setTimeBase(time.Second, 0)
	return b
}

func mustInsert(t *testing.T, b *recvBuffer, p *packet) (seqRange, bool) {
	t.Helper()
	res, gap, hasGap, _ := b.insert(p)
	if res != inserted {
		t.Fatalf("insert %d: result %d", p.seq, res)
	}
	return gap, hasGap
}

func expectNext(t *testing.T, b *recvBuffer, now time.Duration, wantSeq int64, wantDropped int, wantWait time.Duration) {
	t.Helper()
	p, dropped, wait := b.next(now, false)
	gotSeq := int64(-1)
	if p != nil {
		gotSeq = int64(p.seq)
	}
	if gotSeq != wantSeq || dropped != wantDropped || (p == nil && wait != wantWait) {
		t.Fatalf("next(%v) = seq %d dropped %d wait %v; want seq %d dropped %d wait %v",
			now, gotSeq, dropped, wait, wantSeq, wantDropped, wantWait)
	}
}

func TestTSBPDDelivery(t *testing.T) {
	b := newTestRecvBuffer(true)
	expectNext(t, b, time.Second, -1, 0, -1) // empty: wait for a packet
	for i := 0; i < 3; i++ {
		if _, gap := mustInsert(t, b, rbPacket(uint32(100+i), 10*i)); gap {
			t.Fatal("gap reported in order")
		}
	}
	expectNext(t, b, 1050*ms, -1, 0, 50*ms)
	expectNext(t, b, 1100*ms, 100, 0, 0)
	expectNext(t, b, 1100*ms, -1, 0, 10*ms)
	expectNext(t, b, 1115*ms, 101, 0, 0)
	expectNext(t, b, 1300*ms, 102, 0, 0) // late reads still get every packet
	if b.ackSeq() != 103 || b.held() != 0 || b.available() != 64 {
		t.Errorf("ack %d held %d available %d", b.ackSeq(), b.held(), b.available())
	}
}

func TestTooLatePacketDrop(t *testing.T) {
	b := newTestRecvBuffer(true)
	mustInsert(t, b, rbPacket(100, 0))
	gap, hasGap := mustInsert(t, b, rbPacket(103, 30))
	if !hasGap || gap != (seqRange{101, 102}) {
		t.Fatalf("gap %v %v", gap, hasGap)
	}
	if b.ackSeq() != 101 {
		t.Fatalf("ack %d, want the first hole 101", b.ackSeq())
	}
	expectNext(t, b, 1100*ms, 100, 0, 0)
	expectNext(t, b, 1110*ms, -1, 0, 20*ms) // 103 is due at 1.13 s
	expectNext(t, b, 1130*ms, 103, 2, 0)    // 101 and 102 skipped
	if b.ackSeq() != 104 || !b.loss.empty() {
		t.Errorf("after the drop: ack %d, loss %v", b.ackSeq(), b.loss.ranges)
	}
	// A retransmission arriving after its hole was skipped is belated.
	if res, _, _, _ := b.insert(rbPacket(101, 10)); res != belated {
		t.Errorf("late retransmission: result %d", res)
	}
}

func TestNoTooLateDropWaits(t *testing.T) {
	b := newTestRecvBuffer(false)
	mustInsert(t, b, rbPacket(100, 0))
	mustInsert(t, b, rbPacket(102, 20))
	expectNext(t, b, 1100*ms, 100, 0, 0)
	expectNext(t, b, 5*time.Second, -1, 0, -1) // the hole blocks, however late
	_, _, _, filled := b.insert(rbPacket(101, 10))
	if !filled || !b.loss.empty() {
		t.Fatal("retransmission did not fill the hole")
	}
	expectNext(t, b, 5*time.Second, 101, 0, 0)
	expectNext(t, b, 5*time.Second, 102, 0, 0)
}

func TestDropRequest(t *testing.T) {
	b := newTestRecvBuffer(false)
	mustInsert(t, b, rbPacket(100, 0))
	mustInsert(t, b, rbPacket(103, 30))
	if n := b.dropRange(101, 102); n != 2 {
		t.Fatalf("dropRange closed %d holes", n)
	}
	if b.ackSeq() != 104 {
		t.Errorf("ack %d after the sender gave up on 101-102", b.ackSeq())
	}
	expectNext(t, b, 1100*ms, 100, 0, 0)
	expectNext(t, b, 1130*ms, 103, 2, 0)
	// A drop request beyond what arrived extends the window.
	if n := b.dropRange(104, 106); n != 3 || b.ackSeq() != 107 {
		t.Errorf("dropRange ahead: closed %d, ack %d", n, b.ackSeq())
	}
	if n := b.dropRange(90, 95); n != 0 {
		t.Errorf("dropRange before base closed %d", n)
	}
}

func TestRecvBufferRejects(t *testing.T) {
	b := newTestRecvBuffer(true)
	mustInsert(t, b, rbPacket(100, 0))
	if res, _, _, _ := b.insert(rbPacket(100, 0)); res != duplicate {
		t.Errorf("duplicate: %d", res)
	}
	if res, _, _, _ := b.insert(rbPacket(100+64, 0)); res != overflow {
		t.Errorf("beyond the window: %d", res)
	}
	if res, _, _, _ := b.insert(rbPacket(99, 0)); res != belated {
		t.Errorf("before base: %d", res)
	}
}

func TestFlushDeliversAtOnce(t *testing.T) {
	b := newTestRecvBuffer(false)
	mustInsert(t, b, rbPacket(100, 0))
	mustInsert(t, b, rbPacket(102, 500))
	for _, want := range []uint32{100, 102} {
		p, _, _ := b.next(0, true)
		if p == nil || p.seq != want {
			t.Fatalf("flush returned %v, want %d", p, want)
		}
	}
	if p, _, wait := b.next(0, true); p != nil || wait != -1 {
		t.Fatal("flush of an empty buffer")
	}
}

func TestTimestampWrapAround(t *testing.T) {
	b := newRecvBuffer(64, 0, 100*ms, true)
	b.setTimeBase(0, 0xFFFFFF00) // the peer's clock is 256 µs before the wrap
	mustInsert(t, b, &packet{seq: 0, timestamp: 0xFFFFFFF0, n: 1})
	mustInsert(t, b, &packet{seq: 1, timestamp: 0x00000100, n: 1}) // after the wrap
	if got, want := b.deliveryTime(b.slots[1]), 0x200*time.Microsecond+100*ms; got != want {
		t.Errorf("wrapped packet plays at %v, want %v", got, want)
	}
	if got, want := b.deliveryTime(b.slots[0]), 0xF0*time.Microsecond+100*ms; got != want {
		t.Errorf("packet before the wrap plays at %v, want %v", got, want)
	}
	// A reordered packet from before the wrap, seen after it, stays before.
	if ext := b.unwrap(0xFFFFFFF8); ext != 0xFFFFFFF8 {
		t.Errorf("unwrap of a late pre-wrap timestamp: %#x", ext)
	}
}

func TestDriftCorrection(t *testing.T) {
	b := newTestRecvBuffer(true)
	p := rbPacket(100, 0)
	mustInsert(t, b, p)
	before := b.deliveryTime(p)
	// Every ACKACK arrives 8 ms later than its timestamp predicts: the
	// sender's clock runs slow.
	for i := 0; i < driftSamples; i++ {
		ts := uint32(i * 10000)
		b.onDriftSample(time.Second+time.Duration(ts)*time.Microsecond+8*ms, ts)
	}
	if b.drift.drift != maxDrift {
		t.Errorf("drift %v, want the cap %v", b.drift.drift, maxDrift)
	}
	if got := b.deliveryTime(p) - before; got != 8*ms {
		t.Errorf("delivery moved by %v, want 8ms (5 drift + 3 into the time base)", got)
	}
	var d driftTracer
	for i := 0; i < driftSamples-1; i++ {
		if d.update(ms) {
			t.Fatal("updated before enough samples")
		}
	}
	if !d.update(ms) || d.drift != ms || d.overdrift != 0 {
		t.Errorf("small drift: %+v", d)
	}
}

func TestRTTEstimator(t *testing.T) {
	r := newRTTEstimator()
	r.reported(initialRTT, initialRTTVar) // the peer's guess is no sample
	if r.sampled {
		t.Fatal("took the peer's initial guess as a sample")
	}
	r.reported(20*ms, 5*ms)
	if r.rtt != 20*ms || r.rttVar != 10*ms {
		t.Fatalf("first sample: %v/%v", r.rtt, r.rttVar)
	}
	r.measure(4 * ms)
	if r.rtt != 18*ms || r.rttVar != (3*10*ms+16*ms)/4 {
		t.Fatalf("EWMA: %v/%v", r.rtt, r.rttVar)
	}
	r.reported(100*ms, 0)
	if r.rtt != 18*ms {
		t.Fatal("a reported RTT overrode our own measurements")
	}
}
