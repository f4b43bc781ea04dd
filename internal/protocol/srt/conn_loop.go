package srt

import (
	"net/netip"
	"time"
)

// Timers of a connection. One goroutine per connection runs them all (and
// sends every data packet): it sleeps until the earliest of the next ACK
// tick, the next periodic NAK, the pacer's next slot, the next keepalive and
// the next key announcement, or until woken by a write or a NAK.
const (
	synInterval       = 10 * time.Millisecond // full ACK period (SYN)
	minNAKInterval    = 20 * time.Millisecond
	keepaliveInterval = time.Second
	minKMResend       = 100 * time.Millisecond
	outboxSize        = 32 // packets one pass prepares before writing
	tailProbePackets  = 16 // oldest unacknowledged packets resent by a tail probe
)

// outbox collects the packets prepared under the connection's lock so that
// they are written after it is released. Its buffers are reused.
type outbox struct {
	bufs  [][]byte
	n     int
	limit int
}

func newOutbox(limit int) *outbox { return &outbox{limit: limit} }

// next returns an empty buffer to build a packet in.
func (o *outbox) next() []byte {
	if o.n == len(o.bufs) {
		o.bufs = append(o.bufs, make([]byte, 0, maxMSS))
	}
	return o.bufs[o.n][:0]
}

func (o *outbox) add(b []byte) {
	o.bufs[o.n] = b
	o.n++
}

func (o *outbox) full() bool { return o.n >= o.limit }

func (o *outbox) flush(m *mux, to netip.AddrPort) {
	for i := 0; i < o.n; i++ {
		m.write(o.bufs[i], to)
	}
	o.n = 0
}

// rateMeter measures the receiving rate over one-second windows, for the
// rate fields of ACKs.
type rateMeter struct {
	start           time.Duration
	pkts, bytes     int
	pktRate, byRate uint32
}

func (r *rateMeter) add(now time.Duration, n int) {
	if elapsed := now - r.start; elapsed >= time.Second {
		r.pktRate = uint32(float64(r.pkts) / elapsed.Seconds())
		r.byRate = uint32(float64(r.bytes) / elapsed.Seconds())
		r.start, r.pkts, r.bytes = now, 0, 0
	}
	r.pkts++
	r.bytes += n
}

// startLoop starts the connection's goroutine.
func (c *Conn) startLoop() {
	c.mu.Lock()
	c.running = true
	c.nextACK = c.now() + synInterval
	c.mu.Unlock()
	go c.run()
}

func (c *Conn) run() {
	defer close(c.runDone)
	out := newOutbox(outboxSize)
	timer := time.NewTimer(synInterval)
	defer timer.Stop()
	for {
		wait, more := c.service(out)
		out.flush(c.m, c.peer)
		select {
		case <-c.broken:
			return
		default:
		}
		if more {
			continue
		}
		timer.Reset(wait)
		select {
		case <-c.broken:
			return
		case <-c.wake:
		case <-timer.C:
		}
	}
}

// service does whatever is due at now and prepares packets in out. It
// returns how long the loop may sleep, and whether out filled up with more
// to send.
func (c *Conn) service(out *outbox) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateConnected {
		return synInterval, false
	}
	now := c.now()
	if now-c.lastRecv > c.cfg.PeerIdleTimeout {
		c.breakLocked(ErrPeerIdle)
		return synInterval, false
	}
	if now >= c.nextACK {
		c.queueACK(now, out)
		c.nextACK = now + synInterval
	}
	if !c.rb.loss.empty() && now >= c.nextNAK {
		c.queueNAK(now, out)
		c.nextNAK = now + c.nakInterval()
	}
	kmDue := c.queueKM(now, out)
	if c.agr.peerDrops {
		c.senderDrop(now)
	}
	c.tailProbe(now)
	more := c.queueData(now, out)
	if out.n == 0 && now-c.lastSend >= keepaliveInterval {
		out.add(appendControl(out.next(), controlHeader{typ: ctrlKeepalive, timestamp: c.timestamp(), dstID: c.peerID}, nil))
	}
	if out.n > 0 {
		c.lastSend = now
	}

	wait := c.nextACK - now
	if !c.rb.loss.empty() {
		wait = min(wait, c.nextNAK-now)
	}
	if kmDue > 0 {
		wait = min(wait, kmDue)
	}
	if c.canSend() {
		wait = min(wait, c.pace.wait())
	}
	return max(wait, 0), more
}

// canSend reports whether data waits and the flow window lets it go.
func (c *Conn) canSend() bool {
	return !c.sb.loss.empty() || c.sb.unsent() > 0 && c.sb.inFlight() < c.flowWindow
}

func (c *Conn) nakInterval() time.Duration {
	return max((c.rtt.rtt+4*c.rtt.rttVar)/2, minNAKInterval)
}

// queueACK sends a full ACK when the acknowledgement point moved, or
// again after two RTTs when the peer has not confirmed it (ACKACK).
func (c *Conn) queueACK(now time.Duration, out *outbox) {
	ack := c.rb.ackSeq()
	if c.ackAcked && ack == c.lastAckAcked {
		return
	}
	if ack == c.lastAckSent && now-c.lastAckSentAt < max(2*c.rtt.rtt, synInterval) {
		return
	}
	c.ackNo++
	if c.ackNo == 0 {
		c.ackNo = 1
	}
	c.ackHist[c.ackHistPos] = ackRecord{no: c.ackNo, seq: ack, at: now}
	c.ackHistPos = (c.ackHistPos + 1) % len(c.ackHist)
	a := ackCIF{
		lastAck:     ack,
		rtt:         uint32(c.rtt.rtt.Microseconds()),
		rttVar:      uint32(c.rtt.rttVar.Microseconds()),
		availBuf:    uint32(max(c.rb.available(), 2)),
		pktRecvRate: c.rates.pktRate,
		linkCap:     c.rates.pktRate,
		recvRate:    c.rates.byRate,
		size:        ackFullSize,
	}
	b := appendControlHeader(out.next(), controlHeader{typ: ctrlACK, info: c.ackNo, timestamp: c.timestamp(), dstID: c.peerID})
	out.add(a.appendTo(b))
	c.lastAckSent, c.lastAckSentAt = ack, now
	c.stats.PktSentACK++
}

// queueNAK sends the periodic loss report: every hole still open.
func (c *Conn) queueNAK(now time.Duration, out *outbox) {
	limit := c.agr.mss - udpIPOverhead - headerSize
	b := appendControlHeader(out.next(), controlHeader{typ: ctrlNAK, timestamp: c.timestamp(), dstID: c.peerID})
	out.add(c.rb.loss.appendNAK(b, limit))
	c.stats.PktSentNAK++
}

// queueKM (re)sends a key announcement until the peer confirms it. It
// returns how long until the next resend, or 0 when nothing is pending.
func (c *Conn) queueKM(now time.Duration, out *outbox) time.Duration {
	if c.keys == nil {
		return 0
	}
	km := c.keys.pendingAnnouncement()
	if km == nil {
		return 0
	}
	every := max(2*c.rtt.rtt, minKMResend)
	fresh := len(km) != len(c.lastKM) || &km[0] != &c.lastKM[0] // a new announcement goes at once
	if since := now - c.lastKMSent; !fresh && since < every {
		return every - since
	}
	out.add(appendControl(out.next(), controlHeader{typ: ctrlUser, subtype: extKMREQ, timestamp: c.timestamp(), dstID: c.peerID}, km))
	c.lastKMSent, c.lastKM = now, km
	return every
}

// senderDrop discards packets too old to be played by the peer (the
// sender's too-late packet drop): older than 1.25 times the peer's latency,
// and at least one second.
func (c *Conn) senderDrop(now time.Duration) {
	threshold := max(c.agr.peerLatency*5/4, time.Second) + 2*synInterval
	if now <= threshold {
		return
	}
	if n := c.sb.dropOlderThan(now-threshold, &c.m.pool); n > 0 {
		c.stats.PktSndDrop += uint64(n)
		signal(c.writeReady)
	}
}

// tailProbe resends the oldest unacknowledged packets when nothing new was
// sent for a retransmission timeout and no ACK arrived: a loss at the tail
// of a burst leaves the receiver no later packet to notice the hole by.
func (c *Conn) tailProbe(now time.Duration) {
	if c.sb.len() == 0 || c.sb.unsent() > 0 || !c.sb.loss.empty() {
		return
	}
	rto := c.rtt.rtt + 4*c.rtt.rttVar + 2*synInterval
	newest := c.sb.at(seqAdd(c.sb.sent, -1))
	if newest == nil || now-newest.lastSent < rto || now-c.lastAckGain < rto || now-c.lastProbe < rto {
		return
	}
	n := min(c.sb.inFlight(), tailProbePackets)
	c.sb.nak(c.sb.base, seqAdd(c.sb.base, n-1))
	c.lastProbe = now
}

// queueData prepares retransmissions first, then new packets, as the pacer
// and the peer's flow window allow. It reports whether out filled up.
func (c *Conn) queueData(now time.Duration, out *outbox) bool {
	for !out.full() {
		if !c.canSend() || !c.pace.ready(now) {
			return false
		}
		p := c.sb.nextRetransmit(now, c.rtt.rtt)
		retrans := p != nil
		if p == nil {
			if c.sb.inFlight() >= c.flowWindow {
				return false
			}
			if p = c.sb.nextNew(); p == nil {
				return false
			}
		}
		h := dataHeader{
			seq: p.seq, position: p.position, key: p.key, retransmitted: retrans,
			msgNo: p.msgNo, timestamp: p.timestamp, dstID: c.peerID,
		}
		b := out.next()[:headerSize]
		h.marshal(b)
		b = append(b, p.data()...)
		out.add(b)
		p.lastSent = now
		c.pace.take(len(b) + udpIPOverhead)
		c.stats.PktSent++
		c.stats.ByteSent += uint64(p.n)
		if retrans {
			c.stats.PktRetrans++
			c.stats.ByteRetrans += uint64(p.n)
		} else {
			c.stats.PktSentUnique++
			c.stats.ByteSentUnique += uint64(p.n)
		}
	}
	return true
}
