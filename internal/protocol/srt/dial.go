package srt

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// handshakeResend is how often a caller repeats its handshake request
// while waiting for an answer, as libsrt does.
const handshakeResend = 250 * time.Millisecond

// Dial connects to an SRT listener at address as a caller, on a UDP socket
// of its own, and returns once the handshake is done. It fails with a
// *RejectError when the listener refuses, ErrConnectTimeout after
// opts.ConnectTimeout, or ctx's error.
func Dial(ctx context.Context, network, address string, opts Options) (*Conn, error) {
	cfg, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	raddr, err := net.ResolveUDPAddr(network, address)
	if err != nil {
		return nil, fmt.Errorf("srt: dial %s: %w", address, err)
	}
	peer := raddr.AddrPort()
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	pc, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, fmt.Errorf("srt: dial %s: %w", address, err)
	}
	setSocketBuffers(pc, &cfg)
	m := newMux(pc)
	start := time.Now()
	c := newConn(m, &cfg, 0, peer, start)
	c.ownsMux = true
	c.hsCh = make(chan handshakeAnswer, 4)
	m.register(c)
	m.start()
	if err := c.handshake(ctx, &cfg); err != nil {
		m.close()
		return nil, fmt.Errorf("srt: dial %s: %w", address, err)
	}
	c.startLoop()
	return c, nil
}

// handshake runs the caller's induction and conclusion phases.
func (c *Conn) handshake(ctx context.Context, cfg *config) error {
	var isnBytes [4]byte
	if _, err := rand.Read(isnBytes[:]); err != nil {
		return err
	}
	local := netip.IPv4Unspecified()
	if a, ok := c.m.pc.LocalAddr().(*net.UDPAddr); ok {
		if ap := a.AddrPort(); ap.Addr().IsValid() {
			local = ap.Addr()
		}
	}
	hs := callerHandshake{cfg: cfg, socketID: c.id, isn: binary.BigEndian.Uint32(isnBytes[:]) & seqMask, local: local}
	request := hs.inductionRequest()
	send := func() {
		pkt := appendControl(nil, controlHeader{typ: ctrlHandshake, timestamp: c.timestamp()}, request)
		c.m.write(pkt, c.peer)
	}
	send()
	deadline := time.NewTimer(cfg.ConnectTimeout)
	defer deadline.Stop()
	resend := time.NewTicker(handshakeResend)
	defer resend.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return ErrConnectTimeout
		case <-resend.C:
			send()
		case ans := <-c.hsCh:
			rsp, err := parseHandshake(ans.b[headerSize:])
			if err != nil {
				continue
			}
			if !hs.induced {
				if rsp.reqType != hsInduction && rsp.reqType < rejectWireBase {
					continue // a stray answer to an earlier phase
				}
				if request, err = hs.onInductionResponse(&rsp); err != nil {
					return err
				}
				send()
				continue
			}
			if rsp.reqType == hsInduction {
				continue // a late answer to a repeated induction
			}
			a, err := hs.onConclusionResponse(&rsp)
			if err != nil {
				return err
			}
			a.hsTimestamp = binary.BigEndian.Uint32(ans.b[8:])
			c.establish(a, ans.at.Sub(c.start))
			return nil
		}
	}
}
