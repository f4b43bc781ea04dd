package srt

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Listener accepts SRT callers on one UDP port. Every connection it
// accepts shares its socket; closing the Listener closes them too.
//
// A caller's conclusion handshake becomes a ConnRequest (see Accept) once
// its SYN cookie, version, extensions and key material check out; the
// application then accepts or rejects it, typically from its Stream ID.
// Until it decides, the caller's repeated conclusions are ignored; after,
// they get the same answer again.
type Listener struct {
	m      *mux
	cfg    config
	id     uint32 // socket ID in our induction answers
	start  time.Time
	secret [32]byte // SYN cookie key

	accept chan *ConnRequest
	done   chan struct{}

	mu          sync.Mutex
	closed      bool
	pending     map[peerKey]*ConnRequest
	established map[peerKey]*Conn
}

// peerKey identifies a caller: its address and its socket ID.
type peerKey struct {
	addr netip.AddrPort
	id   uint32
}

// ConnRequest is a caller waiting for the application's decision.
type ConnRequest struct {
	l        *Listener
	key      peerKey
	req      handshake
	agr      agreement
	kmRsp    []byte
	arrival  time.Time
	decided  bool
	response []byte // the rejection, resent to repeated conclusions
}

// StreamID returns the caller's Stream ID (SID extension), empty if none.
func (r *ConnRequest) StreamID() string { return r.agr.streamID }

// RemoteAddr returns the caller's address.
func (r *ConnRequest) RemoteAddr() net.Addr { return net.UDPAddrFromAddrPort(r.key.addr) }

// Encrypted reports whether the caller's key material was accepted.
func (r *ConnRequest) Encrypted() bool { return r.agr.keys != nil }

// PeerVersion returns the caller's SRT version (0x010501 for 1.5.1).
func (r *ConnRequest) PeerVersion() uint32 { return r.agr.peerVersion }

// Listen opens a UDP socket on address ("host:port", network "udp",
// "udp4" or "udp6") and starts serving SRT handshakes on it.
func Listen(network, address string, opts Options) (*Listener, error) {
	cfg, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	laddr, err := net.ResolveUDPAddr(network, address)
	if err != nil {
		return nil, fmt.Errorf("srt: listen %s: %w", address, err)
	}
	pc, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, fmt.Errorf("srt: listen %s: %w", address, err)
	}
	l := &Listener{
		m: newMux(pc), cfg: cfg, start: time.Now(),
		accept:      make(chan *ConnRequest, cfg.Backlog),
		done:        make(chan struct{}),
		pending:     make(map[peerKey]*ConnRequest),
		established: make(map[peerKey]*Conn),
	}
	setSocketBuffers(pc, &cfg)
	if _, err := rand.Read(l.secret[:]); err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("srt: listen: %w", err)
	}
	l.id = binary.BigEndian.Uint32(l.secret[:4])&0x3FFFFFFF | 1
	l.m.listener = l
	l.m.start()
	return l, nil
}

// Addr returns the local address.
func (l *Listener) Addr() net.Addr { return l.m.pc.LocalAddr() }

// Accept waits for the next connection request. It returns net.ErrClosed
// once the Listener is closed.
func (l *Listener) Accept() (*ConnRequest, error) {
	select {
	case r := <-l.accept:
		return r, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops listening, closes every accepted connection (telling their
// peers), rejects the requests not yet decided, and closes the socket.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	for _, r := range l.pending {
		if !r.decided {
			l.rejectLocked(r, RejectClose, nil)
		}
	}
	conns := make([]*Conn, 0, len(l.established))
	for _, c := range l.established {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	// In parallel: each may linger.
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Close()
		}()
	}
	wg.Wait()
	l.m.close()
	return nil
}

// cookie is the SYN cookie for a caller in a given minute: a MAC of its
// address and port, so a listener keeps no state before the conclusion.
func (l *Listener) cookie(from netip.AddrPort, minute int64) uint32 {
	mac := hmac.New(sha256.New, l.secret[:])
	a := from.Addr().As16()
	mac.Write(a[:])
	var b [10]byte
	binary.BigEndian.PutUint16(b[:2], from.Port())
	binary.BigEndian.PutUint64(b[2:], uint64(minute))
	mac.Write(b[:])
	return binary.BigEndian.Uint32(mac.Sum(nil))
}

func cookieMinute(t time.Time) int64 { return t.Unix() / 60 }

// cookieValid accepts the cookie of this minute or the previous one.
func (l *Listener) cookieValid(c uint32, from netip.AddrPort, now time.Time) bool {
	m := cookieMinute(now)
	return c == l.cookie(from, m) || c == l.cookie(from, m-1)
}

func (l *Listener) timestamp(now time.Time) uint32 { return uint32(now.Sub(l.start).Microseconds()) }

// handleHandshake answers inductions and conclusions; it runs on the
// socket's reading goroutine.
func (l *Listener) handleHandshake(b []byte, from netip.AddrPort, now time.Time, out *outbox) {
	hs, err := parseHandshake(b[headerSize:])
	if err != nil {
		return
	}
	switch hs.reqType {
	case hsInduction:
		rsp := handshake{
			version: 5, encryption: encryptionField(l.advertisedKeyLen()), extension: srtMagic,
			isn: hs.isn, mtu: uint32(l.cfg.MSS), flowWindow: hs.flowWindow, reqType: hsInduction,
			socketID: l.id, cookie: l.cookie(from, cookieMinute(now)), peerIP: encodePeerIP(from.Addr()),
		}
		pkt := appendControlHeader(out.next(), controlHeader{typ: ctrlHandshake, timestamp: l.timestamp(now), dstID: hs.socketID})
		out.add(rsp.appendTo(pkt))
	case hsConclusion:
		l.handleConclusion(&hs, binary.BigEndian.Uint32(b[8:]), from, now, out)
	}
}

func (l *Listener) advertisedKeyLen() int {
	if l.cfg.Passphrase == "" {
		return 0
	}
	return l.cfg.PBKeyLen
}

func (l *Listener) handleConclusion(hs *handshake, ts uint32, from netip.AddrPort, now time.Time, out *outbox) {
	if !l.cookieValid(hs.cookie, from, now) {
		return // forged or stale: stay silent rather than reflect traffic
	}
	key := peerKey{from, hs.socketID}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	if c := l.established[key]; c != nil {
		rsp := c.conclusionRsp
		l.mu.Unlock()
		out.add(append(out.next(), rsp...))
		return
	}
	l.purgeLocked(now)
	if r := l.pending[key]; r != nil {
		if r.response != nil {
			out.add(append(out.next(), r.response...))
		}
		l.mu.Unlock()
		return
	}
	backlogFull := len(l.pending) >= l.cfg.Backlog
	l.mu.Unlock()

	r := &ConnRequest{l: l, key: key, req: *hs, arrival: now}
	r.req.ext = nil // it aliases the read buffer
	reason := RejectBacklog
	var err error
	if !backlogFull {
		r.agr, r.kmRsp, reason, err = negotiateListener(&l.cfg, hs)
		r.agr.hsTimestamp, r.agr.hsArrival = ts, now
		r.kmRsp = append([]byte(nil), r.kmRsp...)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.pending[key] = r
	if backlogFull || err != nil {
		l.rejectLocked(r, reason, out)
		return
	}
	select {
	case l.accept <- r:
	default:
		l.rejectLocked(r, RejectBacklog, out)
	}
}

// purgeLocked forgets requests older than the connect timeout; one still
// undecided is rejected (timeout) so that a late caller hears why.
func (l *Listener) purgeLocked(now time.Time) {
	for k, r := range l.pending {
		age := now.Sub(r.arrival)
		switch {
		case age > 2*l.cfg.ConnectTimeout:
			delete(l.pending, k)
		case age > l.cfg.ConnectTimeout && !r.decided:
			r.decided = true
			r.response = appendControl(nil, controlHeader{typ: ctrlHandshake, timestamp: l.timestamp(now), dstID: r.key.id},
				appendRejection(nil, &r.req, l.id, RejectTimeout))
		}
	}
}

func (l *Listener) rejectLocked(r *ConnRequest, reason RejectReason, out *outbox) {
	r.decided = true
	r.response = appendControl(nil, controlHeader{typ: ctrlHandshake, timestamp: l.timestamp(time.Now()), dstID: r.key.id},
		appendRejection(nil, &r.req, l.id, reason))
	if out != nil {
		out.add(append(out.next(), r.response...))
	} else {
		l.m.write(r.response, r.key.addr)
	}
}

// Reject refuses the connection with reason; the caller's Dial (or
// srt_connect) fails with it. Use RejectPredefinedBase+403-style codes for
// application decisions.
func (r *ConnRequest) Reject(reason RejectReason) error {
	l := r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.decided || l.closed {
		return ErrRequestDecided
	}
	l.rejectLocked(r, reason, nil)
	return nil
}

// Accept completes the handshake and returns the connection.
func (r *ConnRequest) Accept() (*Conn, error) {
	l := r.l
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, net.ErrClosed
	}
	if r.decided || time.Since(r.arrival) > l.cfg.ConnectTimeout {
		r.decided = true
		l.mu.Unlock()
		return nil, ErrRequestDecided
	}
	r.decided = true
	delete(l.pending, r.key)
	start := time.Now()
	c := newConn(l.m, &l.cfg, 0, r.key.addr, start)
	c.establish(r.agr, r.agr.hsArrival.Sub(start))
	l.m.register(c)
	rsp := appendControlHeader(nil, controlHeader{typ: ctrlHandshake, timestamp: c.timestamp(), dstID: r.key.id})
	rsp = appendConclusionResponse(rsp, &l.cfg, &r.agr, c.id, r.key.addr.Addr(), r.req.cookie, r.kmRsp)
	c.conclusionRsp = rsp
	key := r.key
	c.onClose = func() { l.forget(key, c) }
	l.established[key] = c
	l.mu.Unlock()
	c.startLoop()
	l.m.write(rsp, r.key.addr)
	return c, nil
}

func (l *Listener) forget(key peerKey, c *Conn) {
	l.mu.Lock()
	if l.established[key] == c {
		delete(l.established, key)
	}
	l.mu.Unlock()
}
