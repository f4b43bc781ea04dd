package rtmp

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// HandshakeMode is the kind of handshake performed.
type HandshakeMode int

const (
	// HandshakeSimple is the handshake of the RTMP specification: random
	// C1/S1, echoed in S2/C2.
	HandshakeSimple HandshakeMode = iota
	// HandshakeComplex is the Flash Player 9 handshake with HMAC digests,
	// which Flash Player and some servers require.
	HandshakeComplex
)

func (m HandshakeMode) String() string {
	if m == HandshakeComplex {
		return "complex"
	}
	return "simple"
}

// HandshakeResult describes a completed handshake.
type HandshakeResult struct {
	Mode HandshakeMode
	// Schema is the C1/S1 layout of a complex handshake.
	Schema Schema
	// PeerEpoch and PeerVersion are the first 8 bytes of the peer's C1/S1.
	PeerEpoch   uint32
	PeerVersion uint32
	// ProxyRealIP is the client address an SRS-style proxy sent before C0
	// (a 0xF3 header). It is only a claim of the peer: the caller decides
	// whether to trust it. Nil when absent.
	ProxyRealIP net.IP
	// PeerSigned reports, on the client side of a complex handshake, whether
	// S2 was signed with our C1 digest (strict servers do; some do not).
	PeerSigned bool
}

// ErrHandshakeVersion is returned when the peer asks for a protocol version
// other than 3 (plain RTMP), e.g. RTMPE's 6.
var ErrHandshakeVersion = errors.New("rtmp: handshake: unsupported version (plain RTMP 3 required)")

// ServerHandshake runs the server side of the handshake on rw. It answers a
// complex C1 (digest found in schema 0 or 1) with a signed S1 and S2, and any
// other C1 with the simple handshake. C2 is read but not verified, as ffmpeg
// and others do not sign it correctly. Deadlines are the caller's (set them on
// the net.Conn).
func ServerHandshake(rw io.ReadWriter) (HandshakeResult, error) {
	var res HandshakeResult
	c0, proxyIP, err := readC0(rw)
	if err != nil {
		return res, err
	}
	res.ProxyRealIP = proxyIP
	if c0 != rtmpVersion {
		return res, fmt.Errorf("%w: got %d", ErrHandshakeVersion, c0)
	}
	c1 := make([]byte, handshakeSize)
	if _, err := io.ReadFull(rw, c1); err != nil {
		return res, fmt.Errorf("rtmp: handshake: read C1: %w", err)
	}
	res.PeerEpoch, res.PeerVersion = getU32(c1), getU32(c1[4:])

	s0s1s2 := make([]byte, 1+2*handshakeSize)
	s0s1s2[0] = rtmpVersion
	s1 := s0s1s2[1 : 1+handshakeSize]
	s2 := s0s1s2[1+handshakeSize:]
	if schema, c1Digest, ok := findDigest(c1, []byte(flashPlayerKey[:playerKeyShort])); ok {
		res.Mode, res.Schema = HandshakeComplex, schema
		if _, err := fillComplexC1S1(s1, schema, epochNow(), serverS1Version, []byte(mediaServerKey[:serverKeyShort])); err != nil {
			return res, err
		}
		if err := fillSignedC2S2(s2, c1Digest, []byte(mediaServerKey)); err != nil {
			return res, err
		}
	} else {
		res.Mode = HandshakeSimple
		if _, err := rand.Read(s1); err != nil {
			return res, fmt.Errorf("rtmp: handshake random: %w", err)
		}
		putU32(s1, epochNow())
		putU32(s1[4:], 0)
		copy(s2, c1) // S2 echoes C1
	}
	if _, err := rw.Write(s0s1s2); err != nil {
		return res, fmt.Errorf("rtmp: handshake: write S0S1S2: %w", err)
	}
	c2 := c1 // C1 is no longer needed; reuse its buffer
	if _, err := io.ReadFull(rw, c2); err != nil {
		return res, fmt.Errorf("rtmp: handshake: read C2: %w", err)
	}
	return res, nil
}

// readC0 reads C0, skipping an SRS proxy header (0xF3, 2-byte length, 4-byte
// client IPv4, padding) if one precedes it.
func readC0(r io.Reader) (byte, net.IP, error) {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, nil, fmt.Errorf("rtmp: handshake: read C0: %w", err)
	}
	if b[0] != proxyHeaderC0 {
		return b[0], nil, nil
	}
	var lenBuf [2]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return 0, nil, fmt.Errorf("rtmp: handshake: read proxy header: %w", err)
	}
	n := int(lenBuf[0])<<8 | int(lenBuf[1])
	if n > maxProxyHeader {
		return 0, nil, fmt.Errorf("rtmp: handshake: proxy header of %d bytes exceeds %d", n, maxProxyHeader)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return 0, nil, fmt.Errorf("rtmp: handshake: read proxy header: %w", err)
	}
	var ip net.IP
	if n >= 4 {
		ip = net.IPv4(hdr[0], hdr[1], hdr[2], hdr[3])
	}
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, nil, fmt.Errorf("rtmp: handshake: read C0: %w", err)
	}
	return b[0], ip, nil
}

// ClientHandshake runs the client side of the handshake on rw. With
// HandshakeComplex it sends a signed schema-1 C1 and, when S1 carries a valid
// server digest (either schema), answers with a signed C2; otherwise it falls
// back to echoing S1, which every server accepts. With HandshakeSimple it
// sends an unsigned C1.
func ClientHandshake(rw io.ReadWriter, mode HandshakeMode) (HandshakeResult, error) {
	var res HandshakeResult
	c0c1 := make([]byte, 1+handshakeSize)
	c0c1[0] = rtmpVersion
	c1 := c0c1[1:]
	var c1Digest []byte
	if mode == HandshakeComplex {
		d, err := fillComplexC1S1(c1, Schema1, epochNow(), clientC1Version, []byte(flashPlayerKey[:playerKeyShort]))
		if err != nil {
			return res, err
		}
		c1Digest = d
	} else {
		if _, err := rand.Read(c1); err != nil {
			return res, fmt.Errorf("rtmp: handshake random: %w", err)
		}
		putU32(c1, epochNow())
		putU32(c1[4:], 0)
	}
	if _, err := rw.Write(c0c1); err != nil {
		return res, fmt.Errorf("rtmp: handshake: write C0C1: %w", err)
	}
	s0s1s2 := make([]byte, 1+2*handshakeSize)
	if _, err := io.ReadFull(rw, s0s1s2); err != nil {
		return res, fmt.Errorf("rtmp: handshake: read S0S1S2: %w", err)
	}
	if s0s1s2[0] != rtmpVersion {
		return res, fmt.Errorf("%w: got %d", ErrHandshakeVersion, s0s1s2[0])
	}
	s1 := s0s1s2[1 : 1+handshakeSize]
	s2 := s0s1s2[1+handshakeSize:]
	res.PeerEpoch, res.PeerVersion = getU32(s1), getU32(s1[4:])

	c2 := make([]byte, handshakeSize)
	schema, s1Digest, ok := Schema0, []byte(nil), false
	if mode == HandshakeComplex {
		schema, s1Digest, ok = findDigest(s1, []byte(mediaServerKey[:serverKeyShort]))
	}
	if ok {
		res.Mode, res.Schema = HandshakeComplex, schema
		res.PeerSigned = string(s2[handshakeSize-digestSize:]) ==
			string(c2s2Signature(s2, c1Digest, []byte(mediaServerKey)))
		if err := fillSignedC2S2(c2, s1Digest, []byte(flashPlayerKey)); err != nil {
			return res, err
		}
	} else {
		res.Mode = HandshakeSimple
		copy(c2, s1) // C2 echoes S1
	}
	if _, err := rw.Write(c2); err != nil {
		return res, fmt.Errorf("rtmp: handshake: write C2: %w", err)
	}
	return res, nil
}

func epochNow() uint32 { return uint32(time.Now().Unix()) }
