package srt

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// mux owns one UDP socket: a single goroutine reads it and dispatches each
// packet to its connection by Destination Socket ID (checking the peer
// address), or to the listener's handshake handler. A listener's socket
// serves all its connections; a caller has a socket of its own.
type mux struct {
	pc       *net.UDPConn
	pool     packetPool
	listener *Listener // nil on a caller's socket

	mu    sync.RWMutex
	conns map[uint32]*Conn

	closing    atomic.Bool
	closeOnce  sync.Once
	readerDone chan struct{}
	writeErrs  atomic.Uint64
}

func newMux(pc *net.UDPConn) *mux {
	return &mux{pc: pc, conns: make(map[uint32]*Conn), readerDone: make(chan struct{})}
}

// maxDatagram is the read buffer: larger than any valid packet, so that an
// oversized one is seen whole and refused rather than truncated.
const maxDatagram = 2048

func (m *mux) start() { go m.readLoop() }

func (m *mux) readLoop() {
	defer close(m.readerDone)
	buf := make([]byte, maxDatagram)
	out := newOutbox(4)
	failures := 0
	for {
		n, from, err := m.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if m.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient errors (an ICMP error surfacing, a full buffer)
			// should not spin the loop.
			if failures++; failures > 10 {
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		failures = 0
		m.dispatch(buf[:n], netip.AddrPortFrom(from.Addr().Unmap(), from.Port()), time.Now(), out)
	}
}

func (m *mux) dispatch(b []byte, from netip.AddrPort, arrival time.Time, out *outbox) {
	if len(b) < headerSize || len(b) > maxMSS {
		return
	}
	dst := destinationID(b)
	if m.listener != nil && isControl(b) && ctrlType(b[0]&0x7F)<<8|ctrlType(b[1]) == ctrlHandshake &&
		(dst == 0 || dst == m.listener.id) {
		m.listener.handleHandshake(b, from, arrival, out)
		out.flush(m, from)
		return
	}
	m.mu.RLock()
	c := m.conns[dst]
	m.mu.RUnlock()
	if c == nil || c.peer != from {
		return
	}
	c.handlePacket(b, arrival, out)
	out.flush(m, from)
}

// write sends one datagram. Errors are counted, not returned: UDP has no
// delivery guarantee to report anyway, and a dead socket shows up as the
// peer going idle.
func (m *mux) write(b []byte, to netip.AddrPort) {
	if _, err := m.pc.WriteToUDPAddrPort(b, to); err != nil {
		m.writeErrs.Add(1)
	}
}

// register adds c under a fresh random socket ID and returns the ID.
func (m *mux) register(c *Conn) uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		var b [4]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		id := binary.BigEndian.Uint32(b[:]) & 0x3FFFFFFF
		if id == 0 || m.conns[id] != nil || m.listener != nil && id == m.listener.id {
			continue
		}
		c.id = id
		m.conns[id] = c
		return id
	}
}

func (m *mux) unregister(id uint32) {
	m.mu.Lock()
	delete(m.conns, id)
	m.mu.Unlock()
}

// close closes the socket and waits for the reading goroutine.
func (m *mux) close() {
	m.closeOnce.Do(func() {
		m.closing.Store(true)
		_ = m.pc.Close() // the only error is "already closed"
		<-m.readerDone
	})
}

// setSocketBuffers asks for UDP socket buffers as large as the SRT buffers,
// as libsrt does. The kernel caps them (net.core.rmem_max and wmem_max); a
// smaller buffer only means a burst may be lost and then retransmitted, so
// a refusal is not an error.
func setSocketBuffers(pc *net.UDPConn, cfg *config) {
	_ = pc.SetReadBuffer(cfg.recvPackets * cfg.MSS)
	_ = pc.SetWriteBuffer(cfg.sendPackets * cfg.MSS)
}
