package srt

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

type connState int

const (
	stateConnecting connState = iota // caller, handshake under way
	stateConnected
	stateBroken // the peer left or went silent: reads drain, writes fail
	stateClosed // Close was called
)

// Conn is one SRT connection in live mode. Each ReadMessage returns one
// message (one data packet, up to the peer's payload size) at its TSBPD
// delivery time; each WriteMessage sends one message of up to PayloadSize
// bytes. Reads and writes may run concurrently; each of them is serialized.
// Conn implements net.Conn: Read and Write are ReadMessage and
// WriteMessage, except that Write splits long buffers into PayloadSize
// messages.
type Conn struct {
	m        *mux
	ownsMux  bool   // a caller's Conn owns its socket
	onClose  func() // tells the listener it is gone
	id       uint32
	peer     netip.AddrPort
	peerAddr *net.UDPAddr
	cfg      *config
	start    time.Time

	// Set when the connection is established, then read-only.
	agr         agreement
	payloadSize int
	peerID      uint32

	readMu     sync.Mutex
	writeMu    sync.Mutex
	rxScratch  ctrScratch  // under readMu
	txScratch  ctrScratch  // under writeMu
	readTimer  *time.Timer // under readMu
	writeTimer *time.Timer // under writeMu

	mu            sync.Mutex
	state         connState
	err           error // why the connection broke
	rb            *recvBuffer
	sb            *sendBuffer
	keys          *keyring
	pace          pacer
	rtt           rttEstimator
	flowWindow    int
	msgNo         uint32
	ackNo         uint32
	ackHist       [ackHistorySize]ackRecord
	ackHistPos    int
	lastAckSent   uint32
	lastAckSentAt time.Duration
	lastAckAcked  uint32
	ackAcked      bool
	nextACK       time.Duration
	nextNAK       time.Duration
	lastAckGain   time.Duration // when an ACK last released packets
	lastProbe     time.Duration
	lastKMSent    time.Duration
	lastKM        []byte // the announcement last sent
	lastRecv      time.Duration
	lastSend      time.Duration
	lastWrite     time.Duration // when the application last wrote
	rates         rateMeter
	stats         Stats
	readDeadline  time.Time
	writeDeadline time.Time
	conclusionRsp []byte // listener side: answer to a repeated conclusion
	running       bool   // the loop was started

	readReady  chan struct{} // a packet arrived, a deadline moved, or the state changed
	writeReady chan struct{} // buffer space freed
	wake       chan struct{} // the loop has data or retransmissions to send
	broken     chan struct{} // closed when the connection breaks or closes
	runDone    chan struct{} // closed when the loop returns
	hsCh       chan handshakeAnswer
	closeOnce  sync.Once
	brokenOnce sync.Once
}

// handshakeAnswer is a handshake packet the caller's Conn received while
// connecting, with its arrival time.
type handshakeAnswer struct {
	b  []byte
	at time.Time
}

const ackHistorySize = 64

// ackRecord remembers when a full ACK went out, to time its ACKACK.
type ackRecord struct {
	no  uint32
	seq uint32
	at  time.Duration
}

func newConn(m *mux, cfg *config, id uint32, peer netip.AddrPort, start time.Time) *Conn {
	readTimer, writeTimer := time.NewTimer(time.Hour), time.NewTimer(time.Hour)
	readTimer.Stop()
	writeTimer.Stop()
	return &Conn{
		m: m, cfg: cfg, id: id, peer: peer, peerAddr: net.UDPAddrFromAddrPort(peer), start: start,
		readTimer: readTimer, writeTimer: writeTimer,
		rtt:        newRTTEstimator(),
		readReady:  make(chan struct{}, 1),
		writeReady: make(chan struct{}, 1),
		wake:       make(chan struct{}, 1),
		broken:     make(chan struct{}),
		runDone:    make(chan struct{}),
	}
}

// establish sets up buffers and timers from the agreement. hsNow is when
// the peer's conclusion (or conclusion response) arrived, on our clock.
func (c *Conn) establish(a agreement, hsNow time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.agr = a
	c.peerID = a.peerID
	c.payloadSize = min(c.cfg.PayloadSize, a.mss-udpIPOverhead-headerSize)
	c.keys = a.keys
	c.rb = newRecvBuffer(c.cfg.recvPackets, a.peerISN, a.recvLatency, c.cfg.TLPktDrop)
	c.rb.setTimeBase(hsNow, a.hsTimestamp)
	c.sb = newSendBuffer(c.cfg.sendPackets, a.ourISN)
	c.pace = newPacer(c.cfg.MaxBW, a.mss)
	c.flowWindow = a.flowWindow
	c.msgNo = 1
	c.lastAckSent = seqAdd(a.peerISN, -1)
	c.lastRecv, c.lastSend, c.lastAckGain = hsNow, hsNow, hsNow
	c.state = stateConnected
}

func (c *Conn) now() time.Duration { return time.Since(c.start) }

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// breakLocked marks the connection broken with err and wakes everyone.
// Reads then drain what is held and return err.
func (c *Conn) breakLocked(err error) {
	if c.state == stateConnected || c.state == stateConnecting {
		c.state, c.err = stateBroken, err
	}
	c.brokenOnce.Do(func() { close(c.broken) })
	signal(c.readReady)
	signal(c.writeReady)
}

// StreamID returns the Stream ID the caller sent (empty if none).
func (c *Conn) StreamID() string { return c.agr.streamID }

// SocketID returns this side's SRT socket ID.
func (c *Conn) SocketID() uint32 { return c.id }

// PeerSocketID returns the peer's SRT socket ID.
func (c *Conn) PeerSocketID() uint32 { return c.peerID }

// PayloadSize returns the largest message WriteMessage accepts.
func (c *Conn) PayloadSize() int { return c.payloadSize }

// LocalAddr returns the UDP address of the socket.
func (c *Conn) LocalAddr() net.Addr { return c.m.pc.LocalAddr() }

// RemoteAddr returns the peer's UDP address.
func (c *Conn) RemoteAddr() net.Addr { return c.peerAddr }

// Stats returns a snapshot of the counters.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.RTT, s.RTTVar = c.rtt.rtt, c.rtt.rttVar
	s.RecvLatency, s.PeerLatency = c.agr.recvLatency, c.agr.peerLatency
	s.MSS = c.agr.mss
	s.FlowWindow = c.flowWindow
	if c.keys != nil {
		s.Encrypted = true
		s.KMRefreshes = c.keys.switches
	}
	if c.sb != nil {
		s.SendBufPackets = c.sb.len()
	}
	if c.rb != nil {
		s.RecvBufPackets = c.rb.held()
	}
	return s
}

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline, c.writeDeadline = t, t
	c.mu.Unlock()
	signal(c.readReady)
	signal(c.writeReady)
	return nil
}

// SetReadDeadline makes blocked and future reads fail with
// os.ErrDeadlineExceeded after t; the zero time means none.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	signal(c.readReady)
	return nil
}

// SetWriteDeadline makes writes blocked on a full send buffer fail with
// os.ErrDeadlineExceeded after t.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
	signal(c.writeReady)
	return nil
}

// Close ends the connection: with Linger set it first waits (that long at
// most) for the peer to acknowledge what was sent and to play it out (its
// latency), then it tells the peer
// (SHUTDOWN) and releases everything. Blocked reads and writes return
// net.ErrClosed. Without Linger, Close still waits (a second at most) for
// the messages already written to go out once. Closing a caller's Conn
// closes its socket.
func (c *Conn) Close() error {
	c.closeOnce.Do(c.close)
	return nil
}

func (c *Conn) close() {
	if c.cfg.Linger > 0 {
		c.drain(c.cfg.Linger, true)
	} else {
		c.drain(closeFlushLimit, false)
	}
	c.mu.Lock()
	tellPeer := c.state == stateConnected
	running := c.running
	c.state, c.err = stateClosed, net.ErrClosed
	c.brokenOnce.Do(func() { close(c.broken) })
	c.mu.Unlock()
	signal(c.readReady)
	signal(c.writeReady)
	if tellPeer {
		c.m.write(appendControl(nil, controlHeader{typ: ctrlShutdown, timestamp: c.timestamp(), dstID: c.peerID}, nil), c.peer)
	}
	if running {
		<-c.runDone
	}
	c.m.unregister(c.id)
	if c.onClose != nil {
		c.onClose()
	}
	// Readers and writers hold no packets once they saw the closed state,
	// so the buffers can go back to the pool under the lock.
	c.readMu.Lock()
	c.writeMu.Lock()
	c.mu.Lock()
	if c.rb != nil {
		c.rb.release(&c.m.pool)
	}
	if c.sb != nil {
		c.sb.release(&c.m.pool)
	}
	c.mu.Unlock()
	c.writeMu.Unlock()
	c.readMu.Unlock()
	if c.ownsMux {
		c.m.close()
	}
}

// closeFlushLimit bounds how long Close waits for written messages to go
// out once when there is no Linger.
const closeFlushLimit = time.Second

// drain waits, at most d, until everything written was sent at least once
// (played false), or was acknowledged and is past its delivery time at the
// peer (played true), or the connection breaks. Waiting out the peer's
// latency matters: libsrt discards what it still holds for delivery when
// a SHUTDOWN arrives.
func (c *Conn) drain(d time.Duration, played bool) {
	deadline := time.Now().Add(d)
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		c.mu.Lock()
		done := c.state != stateConnected || c.sb == nil
		if !done && played {
			done = c.sb.len() == 0 && c.now() >= c.lastWrite+c.agr.peerLatency+2*synInterval
		} else if !done {
			done = c.sb.unsent() == 0
		}
		c.mu.Unlock()
		if done || !time.Now().Before(deadline) {
			return
		}
		timer.Reset(min(5*time.Millisecond, time.Until(deadline)))
		select {
		case <-c.writeReady:
		case <-c.broken:
			return
		case <-timer.C:
		}
	}
}

// timestamp is the header timestamp for a packet sent now.
func (c *Conn) timestamp() uint32 { return uint32(c.now().Microseconds()) }

var _ net.Conn = (*Conn)(nil)
