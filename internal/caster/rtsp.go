package caster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

const (
	// rtspRequestTimeout bounds the wait for each request before RECORD,
	// and for the rest of a request once its first byte came.
	rtspRequestTimeout = 10 * time.Second
	// rtspSessionTimeout is the timeout announced in the Session header
	// (RFC 2326 12.37): clients that keep the session alive with requests
	// send one well within it. Media keeps it alive too.
	rtspSessionTimeout = 60
)

// rtspCaster is an rtsp caster: encoders push with ANNOUNCE, SETUP and
// RECORD; each pushed stream is published to the output.
type rtspCaster struct {
	output string
	opt    Options
	ports  *rtpPortPool // nil when UDP transport is off
	dial   dialFunc
	conns  requestGroup
}

// StartRTSP serves an rtsp caster on ln in the background until ctx ends.
// An encoder pushes a stream to rtsp://host:port/<app>/<stream> (RFC 2326
// ANNOUNCE, SETUP, RECORD) with H.264 or H.265 video and AAC audio; it is
// published to output, an rtmp:// URL template where [app] and [stream] are
// filled in from the RTSP URL's path (a trailing ".sdp" is dropped, as SRS
// did). RTP comes interleaved on the RTSP connection (RTP/AVP/TCP) or over
// UDP on a pair of ports taken from rtpPorts (the inclusive range
// rtp_port_min..rtp_port_max; {0, 0} turns UDP transport off, and a SETUP
// asking for it gets 461 so that the encoder falls back to TCP).
//
// The caster owns ln from then on and closes it, and every connection, when
// ctx ends. wait blocks until every connection has ended. An error (a bad
// output or port range) means nothing was started and ln is still the
// caller's.
func StartRTSP(ctx context.Context, ln net.Listener, output string, rtpPorts [2]int, opt Options) (wait func(), err error) {
	if err := CheckOutput("rtsp", output); err != nil {
		return nil, err
	}
	c := &rtspCaster{output: output, dial: dialRTMP}
	if rtpPorts != [2]int{} {
		if c.ports, err = newRTPPortPool(rtpPorts[0], rtpPorts[1]); err != nil {
			return nil, fmt.Errorf("caster rtsp: %w", err)
		}
	}
	opt = opt.withDefaults()
	opt.Log = opt.Log.With("caster", "rtsp", "listen", ln.Addr().String())
	c.opt = opt
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	go func() {
		defer close(done)
		defer stop()
		defer ln.Close()
		c.accept(ctx, ln)
	}()
	return func() {
		<-done
		c.conns.wait()
	}, nil
}

// accept serves each connection in its own goroutine until ln fails.
func (c *rtspCaster) accept(ctx context.Context, ln net.Listener) {
	var pause time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, as net/http does.
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			c.opt.Log.Warn("caster: accept failed", "err", err, "retry_in", pause)
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		pause = 0
		if !c.conns.add() {
			nc.Close()
			return
		}
		go func() {
			defer c.conns.done()
			newRTSPConn(c, nc).serve(ctx)
		}()
	}
}

// rtpPortPool hands out pairs of UDP ports from a range: an even port for
// RTP and the next one for RTCP (RFC 3550 11). Ports in use, by castd or
// anything else, fail to bind and are skipped.
type rtpPortPool struct {
	min, max int
	mu       sync.Mutex
	next     int // where the next search starts, so ports rotate
}

func newRTPPortPool(lo, hi int) (*rtpPortPool, error) {
	if lo%2 == 1 {
		lo++
	}
	if lo < 1 || hi > 65535 || lo+1 > hi {
		return nil, fmt.Errorf("rtp_port_min..rtp_port_max %d..%d holds no pair of ports (an even one and the next)", lo, hi)
	}
	return &rtpPortPool{min: lo, max: hi, next: lo}, nil
}

// rtpPortPair is a bound pair of UDP sockets.
type rtpPortPair struct {
	rtp, rtcp *net.UDPConn
	port      int // the RTP port; RTCP is port+1
}

func (p *rtpPortPair) close() {
	p.rtp.Close()
	p.rtcp.Close()
}

// listen binds the next free pair on ip.
func (p *rtpPortPool) listen(ip net.IP) (*rtpPortPair, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pairs := (p.max - p.min + 1) / 2
	for range pairs {
		port := p.next
		if p.next += 2; p.next+1 > p.max {
			p.next = p.min
		}
		rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
		if err != nil {
			continue
		}
		rtcp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port + 1})
		if err != nil {
			rtp.Close()
			continue
		}
		return &rtpPortPair{rtp: rtp, rtcp: rtcp, port: port}, nil
	}
	return nil, fmt.Errorf("no free pair of UDP ports in %d..%d", p.min, p.max)
}
