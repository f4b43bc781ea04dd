package srt

import (
	"io"
	"net"
	"os"
	"time"
)

// waitUntil blocks until ch fires, the connection breaks, d passes (unless
// negative) or the deadline passes. It reports a deadline error.
func (c *Conn) waitUntil(ch chan struct{}, timer *time.Timer, d time.Duration, deadline time.Time) error {
	if !deadline.IsZero() {
		until := time.Until(deadline)
		if until <= 0 {
			return os.ErrDeadlineExceeded
		}
		if d < 0 || until < d {
			d = until
		}
	}
	var tc <-chan time.Time
	if d >= 0 {
		timer.Reset(d)
		tc = timer.C
		defer timer.Stop()
	}
	select {
	case <-ch:
	case <-c.broken:
	case <-tc:
	}
	return nil
}

// ReadMessage waits for the next message and copies it into b. If b is too
// short the message is truncated and io.ErrShortBuffer returned with it.
// After the peer closes, what is held is delivered at once, then io.EOF;
// after a peer idle timeout, ErrPeerIdle; after Close, net.ErrClosed.
func (c *Conn) ReadMessage(b []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	for {
		c.mu.Lock()
		if c.state == stateClosed {
			c.mu.Unlock()
			return 0, net.ErrClosed
		}
		if c.rb == nil { // not connected: cannot happen for Conns handed out
			c.mu.Unlock()
			return 0, net.ErrClosed
		}
		flush := c.state == stateBroken
		p, dropped, wait := c.rb.next(c.now(), flush)
		c.stats.PktRcvDrop += uint64(dropped)
		if p != nil {
			key := p.rxKey
			if p.key != keyNone {
				if key == nil {
					c.stats.PktRcvUndecrypt++
					c.stats.PktRcvDrop++
					c.mu.Unlock()
					c.m.pool.put(p)
					continue
				}
			}
			c.mu.Unlock()
			n := copy(b, p.data())
			if key != nil {
				key.xorKeyStream(&c.rxScratch, p.seq, b[:n])
			}
			short := n < p.n
			c.m.pool.put(p)
			if short {
				return n, io.ErrShortBuffer
			}
			return n, nil
		}
		if flush {
			err := c.err
			c.mu.Unlock()
			return 0, err
		}
		deadline := c.readDeadline
		c.mu.Unlock()
		if err := c.waitUntil(c.readReady, c.readTimer, wait, deadline); err != nil {
			return 0, err
		}
	}
}

// Read is ReadMessage, for net.Conn.
func (c *Conn) Read(b []byte) (int, error) { return c.ReadMessage(b) }

// WriteMessage sends b as one message. It blocks while the send buffer is
// full (until the peer acknowledges, the sender drops late packets, or the
// write deadline passes).
func (c *Conn) WriteMessage(b []byte) (int, error) {
	if len(b) > c.payloadSize {
		return 0, ErrMessageTooLong
	}
	if len(b) == 0 {
		return 0, nil
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	for {
		c.mu.Lock()
		if err := c.writeErrLocked(); err != nil {
			c.mu.Unlock()
			return 0, err
		}
		if !c.sb.full() {
			break
		}
		deadline := c.writeDeadline
		c.mu.Unlock()
		if err := c.waitUntil(c.writeReady, c.writeTimer, -1, deadline); err != nil {
			return 0, err
		}
	}
	now := c.now()
	seq := c.sb.next
	msgNo := c.msgNo
	c.msgNo = msgNoNext(c.msgNo)
	var key *streamKey
	var kk uint8
	if c.keys != nil {
		var err error
		if key, kk, err = c.keys.txKey(); err != nil {
			c.mu.Unlock()
			return 0, err
		}
	}
	c.mu.Unlock()

	p := c.m.pool.get()
	p.n = copy(p.payload[:], b)
	if key != nil {
		key.xorKeyStream(&c.txScratch, seq, p.payload[:p.n])
	}
	p.seq, p.msgNo, p.key, p.position = seq, msgNo, kk, ppSolo
	p.timestamp = uint32(now.Microseconds())
	p.origin, p.lastSent = now, 0

	c.mu.Lock()
	if err := c.writeErrLocked(); err != nil {
		c.mu.Unlock()
		c.m.pool.put(p)
		return 0, err
	}
	c.sb.push(p)
	c.lastWrite = now
	c.mu.Unlock()
	signal(c.wake)
	return len(b), nil
}

func (c *Conn) writeErrLocked() error {
	switch c.state {
	case stateConnected:
		return nil
	case stateBroken:
		return c.err
	}
	return net.ErrClosed
}

// Write sends b as messages of at most PayloadSize bytes each, for
// net.Conn and io.Copy.
func (c *Conn) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		n, err := c.WriteMessage(b[:min(len(b), c.payloadSize)])
		written += n
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}
