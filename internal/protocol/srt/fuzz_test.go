package srt

import (
	"bytes"
	"net"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// packetSeeds are real and generated packets of every type.
func packetSeeds(t testing.TB) [][]byte {
	data := make([]byte, headerSize+188)
	(&dataHeader{seq: 7, position: ppSolo, key: keyEven, msgNo: 3, timestamp: 99, dstID: 5}).marshal(data)
	full := ackCIF{lastAck: 8, rtt: 1000, rttVar: 500, availBuf: 100, size: ackFullSize}
	_, km, err := newCallerKeyring("0123456789secret", 16, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctrl := func(typ ctrlType, sub uint16, info uint32, cif []byte) []byte {
		return appendControl(nil, controlHeader{typ: typ, subtype: sub, info: info, dstID: 5}, cif)
	}
	return [][]byte{
		data,
		libsrtInductionRequest, libsrtConclusionRequest, libsrtInductionResponse, libsrtConclusionResponse,
		ctrl(ctrlKeepalive, 0, 0, nil),
		ctrl(ctrlACK, 0, 1, full.appendTo(nil)),
		ctrl(ctrlACK, 0, 0, []byte{0, 0, 0, 9}),
		ctrl(ctrlNAK, 0, 0, appendLossRange(appendLossRange(nil, 3, 3), 5, 9)),
		ctrl(ctrlACKACK, 0, 1, nil),
		ctrl(ctrlShutdown, 0, 0, nil),
		ctrl(ctrlDropReq, 0, 2, dropReqCIF{first: 4, last: 6}.appendTo(nil)),
		ctrl(ctrlUser, extKMREQ, 0, km),
		ctrl(ctrlUser, extKMRSP, 0, []byte{0, 0, 0, 4}),
	}
}

// FuzzPacket decodes anything as a packet, checking that what parses
// writes back to the same bytes.
func FuzzPacket(f *testing.F) {
	for _, s := range packetSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !isControl(b) {
			h, err := parseDataHeader(b)
			if err != nil {
				return
			}
			out := make([]byte, headerSize)
			h.marshal(out)
			if !bytes.Equal(out, b[:headerSize]) {
				t.Fatalf("data header % x re-encodes as % x", b[:headerSize], out)
			}
			return
		}
		h, err := parseControlHeader(b)
		if err != nil {
			return
		}
		if back := appendControlHeader(nil, h); !bytes.Equal(back, b[:headerSize]) {
			t.Fatalf("control header % x re-encodes as % x", b[:headerSize], back)
		}
		cif := b[headerSize:]
		switch h.typ {
		case ctrlACK:
			if a, err := parseACK(cif); err == nil {
				if back := a.appendTo(nil); !bytes.Equal(back[4:], cif[4:a.size]) {
					t.Fatalf("ack % x re-encodes as % x", cif[:a.size], back)
				}
			}
		case ctrlNAK:
			n := 0
			_ = parseLossList(cif, func(from, to uint32) {
				if seqDiff(from, to) < 0 || seqDiff(from, to) > maxLossRangeLen {
					t.Fatalf("range %d..%d passed", from, to)
				}
				n++
			})
			if n > len(cif)/4 {
				t.Fatalf("%d ranges from %d bytes", n, len(cif))
			}
		case ctrlDropReq:
			_, _ = parseDropReq(cif)
		case ctrlHandshake:
			if hs, err := parseHandshake(cif); err == nil {
				_, _ = parseExtensions(hs.ext)
			}
		case ctrlUser:
			_, _ = parseKM(cif)
		}
	})
}

// FuzzHandshake feeds anything as a handshake CIF to both sides' state
// machines: the listener's negotiation (with and without a passphrase) and
// the caller's handling of answers.
func FuzzHandshake(f *testing.F) {
	for _, s := range [][]byte{libsrtInductionRequest, libsrtConclusionRequest, libsrtInductionResponse, libsrtConclusionResponse} {
		f.Add(s[headerSize:])
	}
	o := DefaultOptions()
	o.StreamID = "#!::r=live/x,m=publish"
	cfg := mustConfig(f, o)
	hs := callerHandshake{cfg: cfg, socketID: 1, isn: 2}
	concl, err := hs.onInductionResponse(&handshake{version: 5, extension: srtMagic, reqType: hsInduction})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(concl)
	eo := o
	eo.Passphrase = "0123456789secret"
	ecfg := mustConfig(f, eo)
	ehs := callerHandshake{cfg: ecfg, socketID: 1, isn: 2}
	econcl, err := ehs.onInductionResponse(&handshake{version: 5, extension: srtMagic, reqType: hsInduction})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(econcl)
	f.Fuzz(func(t *testing.T, cif []byte) {
		h, err := parseHandshake(cif)
		if err != nil {
			return
		}
		// Reserved bits aside (the ISN's top bit), it re-encodes stably.
		back, err := parseHandshake(append(h.appendTo(nil), h.ext...))
		if err != nil || !reflect.DeepEqual(back, h) {
			t.Fatalf("handshake re-encodes as %+v (%v), was %+v", back, err, h)
		}
		for _, c := range []*config{cfg, ecfg} {
			a, kmRsp, reason, err := negotiateListener(c, &h)
			if err != nil {
				if reason == RejectUnknown {
					// Every refusal must carry a reason to send back.
					t.Fatalf("refused without a reason: %v", err)
				}
				continue
			}
			rsp := appendConclusionResponse(nil, c, &a, 9, netip.MustParseAddr("127.0.0.1"), h.cookie, kmRsp)
			if _, err := parseHandshake(rsp); err != nil {
				t.Fatalf("our own answer does not parse: %v", err)
			}
		}
		for _, caller := range []callerHandshake{hs, ehs} {
			c := caller
			if !c.induced {
				continue
			}
			_, _ = c.onConclusionResponse(&h)
			fresh := callerHandshake{cfg: c.cfg, socketID: 1, isn: 2}
			_, _ = fresh.onInductionResponse(&h)
		}
	})
}

// FuzzKM parses key material, opens it and answers it as a KMREQ.
func FuzzKM(f *testing.F) {
	const pass = "0123456789secret"
	for _, keyLen := range []int{16, 24, 32} {
		_, km, err := newCallerKeyring(pass, keyLen, 0, 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(km)
	}
	tx, _, err := newCallerKeyring(pass, 16, 10, 2)
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, _, err := tx.txKey(); err != nil {
			f.Fatal(err)
		}
	}
	if ann := tx.pendingAnnouncement(); ann != nil {
		f.Add(ann) // both keys
	}
	f.Add([]byte{0, 0, 0, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		km, err := parseKM(b)
		if err == nil {
			// Reserved fields aside, it re-encodes stably.
			back, err := parseKM(km.appendTo(nil))
			if err != nil || !reflect.DeepEqual(back, km) {
				t.Fatalf("KM re-encodes as %+v (%v), was %+v", back, err, km)
			}
			if keys, err := unwrapKM(pass, km); err == nil && keys[0] == nil && keys[1] == nil {
				t.Fatal("unwrapped no key without an error")
			}
		}
		rx, _, err := newCallerKeyring(pass, 16, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		rsp := rx.onKMRequest(b)
		if len(rsp) != 4 && !bytes.Equal(rsp, b) {
			t.Fatal("KMRSP is neither an echo nor a state")
		}
		_ = rx.onKMResponse(b)
	})
}

// FuzzConnInput feeds packets to an established connection, as its
// socket's reader would, then runs its timers and reads: whatever arrives,
// nothing panics and the buffers stay consistent.
func FuzzConnInput(f *testing.F) {
	for _, s := range packetSeeds(f) {
		f.Add(s, s)
	}
	pc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		f.Fatal(err)
	}
	defer pc.Close()
	m := newMux(pc)
	cfg := mustConfig(f, DefaultOptions())
	peer := netip.MustParseAddrPort("127.0.0.1:9") // discard
	f.Fuzz(func(t *testing.T, a, b []byte) {
		c := newConn(m, cfg, 5, peer, time.Now().Add(-time.Second))
		c.establish(agreement{peerID: 6, peerISN: 7, ourISN: 7, mss: 1500, flowWindow: 100,
			recvLatency: 10 * time.Millisecond, peerDrops: true}, 0)
		for i := 0; i < 3; i++ {
			if _, err := c.WriteMessage([]byte("payload")); err != nil {
				t.Fatal(err)
			}
		}
		out := newOutbox(outboxSize)
		for _, pkt := range [][]byte{a, b, a} {
			if len(pkt) < headerSize {
				continue
			}
			c.handlePacket(pkt, time.Now(), out)
			out.n = 0
			c.service(out)
			out.n = 0
		}
		_ = c.SetReadDeadline(time.Now())
		buf := make([]byte, 1500)
		for i := 0; i < 10; i++ {
			if _, err := c.ReadMessage(buf); err != nil {
				break
			}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.rb.held() < 0 || c.rb.held() > len(c.rb.slots) || c.sb.len() < 0 || c.sb.inFlight() > c.sb.len() {
			t.Fatalf("buffers inconsistent: held %d, send %d, in flight %d", c.rb.held(), c.sb.len(), c.sb.inFlight())
		}
		c.rb.release(&m.pool)
		c.sb.release(&m.pool)
	})
}
