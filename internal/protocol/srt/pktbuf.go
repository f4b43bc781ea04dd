package srt

import (
	"sync"
	"time"
)

// maxPayload is the largest payload a data packet can carry (MSS 1500).
const maxPayload = maxMSS - udpIPOverhead - headerSize

// packet is one data packet held in a send or receive buffer. Packets come
// from a packetPool, so the hot path allocates nothing per packet.
type packet struct {
	seq           uint32
	msgNo         uint32
	position      uint8
	key           uint8
	retransmitted bool
	timestamp     uint32
	extTS         int64         // receiver: timestamp unwrapped past 32 bits
	origin        time.Duration // sender: when written; receiver: when it arrived
	lastSent      time.Duration // sender: last (re)transmission
	rxKey         *streamKey    // receiver: the key in force when it arrived
	n             int
	payload       [maxPayload]byte
}

func (p *packet) data() []byte { return p.payload[:p.n] }

// packetPool recycles packets; one pool serves all connections of a socket.
type packetPool struct{ pool sync.Pool }

func (pp *packetPool) get() *packet {
	if p, ok := pp.pool.Get().(*packet); ok {
		return p
	}
	return new(packet)
}

func (pp *packetPool) put(p *packet) {
	if p == nil {
		return
	}
	p.n, p.retransmitted, p.key, p.rxKey = 0, false, 0, nil
	pp.pool.Put(p)
}
