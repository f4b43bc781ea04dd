package srt

import (
	"encoding/binary"
	"io"
	"time"
)

// handlePacket processes one packet addressed to c. It runs on the socket's
// reading goroutine; replies that must go at once (ACKACK, an immediate
// NAK, KMRSP) are appended to out, which the caller writes after return.
func (c *Conn) handlePacket(b []byte, arrival time.Time, out *outbox) {
	if !isControl(b) {
		c.handleData(b, arrival, out)
		return
	}
	h, err := parseControlHeader(b)
	if err != nil {
		return
	}
	cif := b[headerSize:]
	now := arrival.Sub(c.start)

	c.mu.Lock()
	if c.state == stateConnecting {
		c.mu.Unlock()
		if h.typ == ctrlHandshake {
			select {
			case c.hsCh <- handshakeAnswer{b: append([]byte(nil), b...), at: arrival}:
			default:
			}
		}
		return
	}
	if c.state != stateConnected {
		c.mu.Unlock()
		return
	}
	c.lastRecv = now
	switch h.typ {
	case ctrlACK:
		c.onACK(h, cif, now, out)
	case ctrlNAK:
		c.onNAK(cif)
	case ctrlACKACK:
		c.onACKACK(h, now)
	case ctrlShutdown:
		c.breakLocked(io.EOF)
	case ctrlDropReq:
		if d, err := parseDropReq(cif); err == nil {
			c.stats.PktRcvDrop += uint64(c.rb.dropRange(d.first, d.last))
			signal(c.readReady)
		}
	case ctrlUser:
		c.onUserControl(h, cif, out)
	}
	// Keepalive, congestion warning, peer error and late handshakes only
	// prove the peer is alive.
	c.mu.Unlock()
}

func (c *Conn) handleData(b []byte, arrival time.Time, out *outbox) {
	h, err := parseDataHeader(b)
	payload := b[min(len(b), headerSize):]
	if err != nil || len(payload) > maxPayload || len(payload) == 0 {
		return
	}
	p := c.m.pool.get()
	p.n = copy(p.payload[:], payload)
	p.seq, p.msgNo, p.position, p.key = h.seq, h.msgNo, h.position, h.key
	p.retransmitted, p.timestamp = h.retransmitted, h.timestamp
	now := arrival.Sub(c.start)
	p.origin = now

	c.mu.Lock()
	if c.state != stateConnected {
		c.mu.Unlock()
		c.m.pool.put(p)
		return
	}
	c.lastRecv = now
	if p.key != keyNone && c.keys != nil {
		// Resolve the key now: by the time the packet is read the peer may
		// have refreshed the key of the same parity.
		p.rxKey = c.keys.rxKey(p.key)
	}
	c.stats.PktRecv++
	c.stats.ByteRecv += uint64(p.n)
	c.rates.add(now, p.n)
	if h.retransmitted {
		c.stats.PktRcvRetrans++
	}
	res, gap, hasGap, _ := c.rb.insert(p)
	switch res {
	case inserted:
		c.stats.PktRecvUnique++
		c.stats.ByteRecvUnique += uint64(p.n)
	case duplicate:
		c.stats.PktRcvDup++
	case belated:
		c.stats.PktRcvBelated++
	}
	if hasGap {
		c.stats.PktRcvLoss += uint64(gap.size())
		c.stats.PktSentNAK++
		nak := out.next()
		nak = appendControl(nak, controlHeader{typ: ctrlNAK, timestamp: c.timestamp(), dstID: c.peerID},
			appendLossRange(nil, gap.from, gap.to))
		out.add(nak)
	}
	c.mu.Unlock()
	if res != inserted {
		c.m.pool.put(p)
		return
	}
	signal(c.readReady)
}

func (c *Conn) onACK(h controlHeader, cif []byte, now time.Duration, out *outbox) {
	a, err := parseACK(cif)
	if err != nil {
		return
	}
	c.stats.PktRecvACK++
	if seqLess(c.sb.base, a.lastAck) {
		if c.sb.ack(a.lastAck, &c.m.pool) > 0 {
			c.lastAckGain = now
			signal(c.writeReady)
		}
	}
	if a.size >= ackSmallSize {
		if a.rtt > 0 {
			c.rtt.reported(time.Duration(a.rtt)*time.Microsecond, time.Duration(a.rttVar)*time.Microsecond)
		}
		c.flowWindow = max(int(a.availBuf), 2)
	}
	// Only full ACKs (those with a number) are answered, at once, so that
	// the receiver's RTT measure includes no waiting.
	if h.info != 0 && a.size > ackLightSize {
		ackack := out.next()
		ackack = appendControl(ackack, controlHeader{typ: ctrlACKACK, info: h.info, timestamp: c.timestamp(), dstID: c.peerID}, nil)
		out.add(ackack)
	}
	signal(c.wake)
}

func (c *Conn) onNAK(cif []byte) {
	c.stats.PktRecvNAK++
	added := 0
	err := parseLossList(cif, func(from, to uint32) {
		added += c.sb.nak(from, to)
	})
	if err != nil {
		return
	}
	c.stats.PktSndLoss += uint64(added)
	signal(c.wake)
}

func (c *Conn) onACKACK(h controlHeader, now time.Duration) {
	for i := range c.ackHist {
		r := &c.ackHist[i]
		if r.no != h.info || r.no == 0 {
			continue
		}
		c.rtt.measure(now - r.at)
		if !c.ackAcked || seqLess(c.lastAckAcked, r.seq) {
			c.lastAckAcked, c.ackAcked = r.seq, true
		}
		r.no = 0
		break
	}
	c.rb.onDriftSample(now, h.timestamp)
}

func (c *Conn) onUserControl(h controlHeader, cif []byte, out *outbox) {
	switch h.subtype {
	case extKMREQ:
		var rsp []byte
		if c.keys != nil {
			rsp = c.keys.onKMRequest(cif)
		} else {
			rsp = binary.BigEndian.AppendUint32(nil, kmStateNoSecret)
		}
		pkt := out.next()
		pkt = appendControl(pkt, controlHeader{typ: ctrlUser, subtype: extKMRSP, timestamp: c.timestamp(), dstID: c.peerID}, rsp)
		out.add(pkt)
	case extKMRSP:
		// A refusal leaves the current key in use; it is counted.
		if c.keys != nil && c.keys.onKMResponse(cif) != nil {
			c.stats.KMErrors++
		}
	}
}
