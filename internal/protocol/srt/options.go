package srt

import (
	"fmt"
	"time"
)

// Defaults of SRS's srt_server directives (and libsrt where SRS has none).
const (
	DefaultLatency         = 120 * time.Millisecond
	DefaultMSS             = 1500
	DefaultPayloadSize     = 1316 // seven 188-byte MPEG-TS packets
	DefaultConnectTimeout  = 3 * time.Second
	DefaultPeerIdleTimeout = 10 * time.Second
	DefaultBufferBytes     = 8192 * (DefaultMSS - udpIPOverhead)
	// DefaultMaxBW is libsrt's "infinite" live bandwidth: 1 Gbit/s.
	DefaultMaxBW = 1_000_000_000 / 8

	minMSS         = 76
	maxMSS         = 1500
	minBufPackets  = 32
	maxLatency     = 65535 * time.Millisecond // the handshake carries 16-bit milliseconds
	defaultBacklog = 128
)

// Options configures a listener or a caller. Start from DefaultOptions:
// its TLPktDrop is on and its latencies are SRS's, while the zero Options
// turns TLPktDrop off and asks for no latency of its own.
type Options struct {
	// Latency is the TSBPD latency for both directions, used where
	// RecvLatency or PeerLatency is negative (SRTO_LATENCY).
	Latency time.Duration
	// RecvLatency is the least latency of what this side receives
	// (SRTO_RCVLATENCY); negative means Latency.
	RecvLatency time.Duration
	// PeerLatency is the least latency proposed for what the peer receives
	// (SRTO_PEERLATENCY); negative means Latency. Each direction uses the
	// larger of what its two ends ask for.
	PeerLatency time.Duration
	// TLPktDrop lets the receiver skip packets that missed their delivery
	// time (too-late packet drop) instead of waiting for them.
	TLPktDrop bool
	// MaxBW caps the sending rate, retransmissions included, in bytes per
	// second; zero or negative means DefaultMaxBW.
	MaxBW int64
	// MSS is the largest datagram including IP and UDP headers, 76..1500;
	// zero means 1500. The smaller of the two peers' values is used.
	MSS int
	// PayloadSize is the largest message WriteMessage accepts, at most
	// MSS-44; zero means 1316.
	PayloadSize int
	// ConnectTimeout bounds a caller's handshake and how long a listener
	// keeps an undecided connection request; zero means 3 s.
	ConnectTimeout time.Duration
	// PeerIdleTimeout breaks a connection when nothing arrives for this
	// long; zero means 10 s.
	PeerIdleTimeout time.Duration
	// SendBuf and RecvBuf size the send and receive buffers in bytes (as
	// SRTO_SNDBUF/SRTO_RCVBUF: counted in MSS-28 byte packets); zero means
	// 8192 packets.
	SendBuf, RecvBuf int
	// Passphrase turns on AES encryption; 10 to 79 characters.
	Passphrase string
	// PBKeyLen is the AES key length in bytes: 16, 24 or 32, or 0 for the
	// listener's advertised length or 16. A listener advertises it; the
	// caller's key material decides.
	PBKeyLen int
	// StreamID is sent by a caller in the SID extension (at most 512 bytes).
	StreamID string
	// Linger makes Close wait, up to this long, until the peer has
	// acknowledged everything sent. Zero closes at once, like libsrt in
	// live mode.
	Linger time.Duration
	// KMRefreshRate and KMPreAnnounce schedule key refreshes, in packets
	// (SRTO_KMREFRESHRATE, SRTO_KMPREANNOUNCE); zero means 2^24 and 2^16.
	KMRefreshRate, KMPreAnnounce uint64
	// Backlog bounds the connection requests waiting for Accept; zero
	// means 128. Requests beyond it are rejected (RejectBacklog).
	Backlog int
}

// DefaultOptions returns the defaults of SRS's srt_server: latency and
// recvlatency 120 ms, peerlatency 0, tlpktdrop on, MSS 1500, payload 1316,
// connect timeout 3 s, peer idle timeout 10 s, 8192-packet buffers.
func DefaultOptions() Options {
	return Options{
		Latency:         DefaultLatency,
		RecvLatency:     DefaultLatency,
		PeerLatency:     0,
		TLPktDrop:       true,
		MaxBW:           DefaultMaxBW,
		MSS:             DefaultMSS,
		PayloadSize:     DefaultPayloadSize,
		ConnectTimeout:  DefaultConnectTimeout,
		PeerIdleTimeout: DefaultPeerIdleTimeout,
		SendBuf:         DefaultBufferBytes,
		RecvBuf:         DefaultBufferBytes,
	}
}

// config is Options with defaults applied and values checked.
type config struct {
	Options
	recvLatency time.Duration
	peerLatency time.Duration
	sendPackets int
	recvPackets int
}

func (o Options) normalize() (config, error) {
	c := config{Options: o}
	if c.MSS == 0 {
		c.MSS = DefaultMSS
	}
	if c.MSS < minMSS || c.MSS > maxMSS {
		return c, fmt.Errorf("srt: mss %d out of range %d..%d", c.MSS, minMSS, maxMSS)
	}
	maxPayload := c.MSS - udpIPOverhead - headerSize
	if c.PayloadSize == 0 {
		c.PayloadSize = min(DefaultPayloadSize, maxPayload)
	}
	if c.PayloadSize < 1 || c.PayloadSize > maxPayload {
		return c, fmt.Errorf("srt: payload size %d out of range 1..%d (mss %d)", c.PayloadSize, maxPayload, c.MSS)
	}
	if c.MaxBW <= 0 {
		c.MaxBW = DefaultMaxBW
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.PeerIdleTimeout <= 0 {
		c.PeerIdleTimeout = DefaultPeerIdleTimeout
	}
	if c.Backlog <= 0 {
		c.Backlog = defaultBacklog
	}
	c.recvLatency, c.peerLatency = c.RecvLatency, c.PeerLatency
	if c.recvLatency < 0 {
		c.recvLatency = c.Latency
	}
	if c.peerLatency < 0 {
		c.peerLatency = c.Latency
	}
	for _, l := range []time.Duration{c.Latency, c.recvLatency, c.peerLatency} {
		if l < 0 || l > maxLatency {
			return c, fmt.Errorf("srt: latency %v out of range 0..%v", l, maxLatency)
		}
	}
	unit := c.MSS - udpIPOverhead
	c.sendPackets, c.recvPackets = bufferPackets(c.SendBuf, unit), bufferPackets(c.RecvBuf, unit)
	if c.Passphrase != "" && (len(c.Passphrase) < MinPassphraseLen || len(c.Passphrase) > MaxPassphraseLen) {
		return c, fmt.Errorf("srt: passphrase of %d characters, want %d..%d", len(c.Passphrase), MinPassphraseLen, MaxPassphraseLen)
	}
	switch c.PBKeyLen {
	case 0, 16, 24, 32:
	default:
		return c, fmt.Errorf("srt: pbkeylen %d, want 0, 16, 24 or 32", c.PBKeyLen)
	}
	if len(c.StreamID) > maxStreamIDLen {
		return c, fmt.Errorf("srt: stream id of %d bytes, max %d", len(c.StreamID), maxStreamIDLen)
	}
	return c, nil
}

// bufferPackets converts a buffer size in bytes to packets, with libsrt's
// unit and a floor that keeps a connection usable.
func bufferPackets(bytes, unit int) int {
	if bytes <= 0 {
		return DefaultBufferBytes / (DefaultMSS - udpIPOverhead)
	}
	return max(bytes/unit, minBufPackets)
}

// latencyMillis converts a latency to the handshake's 16-bit milliseconds.
func latencyMillis(d time.Duration) uint16 {
	return uint16(min(d, maxLatency) / time.Millisecond)
}
