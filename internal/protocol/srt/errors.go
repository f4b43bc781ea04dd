package srt

import (
	"errors"
	"fmt"
)

// RejectReason says why a connection was refused during the handshake. The
// values below 1000 are SRT's own (SRT_REJ_*); 1000-1999 are the
// "predefined" application codes (1000 + an HTTP-like status, e.g. 1403) and
// 2000-2999 are free for applications, like libsrt's srt_setrejectreason. On
// the wire the handshake type carries 1000 + reason.
type RejectReason uint32

// SRT's rejection reasons (draft-sharabayko-srt, "Handshake Rejection Reason
// codes", and libsrt's SRT_REJ_*).
const (
	RejectUnknown    RejectReason = 0  // unknown reason
	RejectSystem     RejectReason = 1  // system function error
	RejectPeer       RejectReason = 2  // rejected by peer
	RejectResource   RejectReason = 3  // resource allocation problem
	RejectRogue      RejectReason = 4  // incorrect data in the handshake
	RejectBacklog    RejectReason = 5  // listener's backlog exceeded
	RejectIPE        RejectReason = 6  // internal program error
	RejectClose      RejectReason = 7  // socket is closing
	RejectVersion    RejectReason = 8  // peer is older than the agent's minimum
	RejectRdvCookie  RejectReason = 9  // rendezvous cookie collision
	RejectBadSecret  RejectReason = 10 // wrong passphrase
	RejectUnsecure   RejectReason = 11 // passphrase required or unexpected
	RejectMessageAPI RejectReason = 12 // stream flag collision
	RejectCongestion RejectReason = 13 // incompatible congestion controller
	RejectFilter     RejectReason = 14 // incompatible packet filter
	RejectGroup      RejectReason = 15 // incompatible group
	RejectTimeout    RejectReason = 16 // connection timeout
	RejectCrypto     RejectReason = 17 // incompatible cryptographic mode
)

const (
	// RejectPredefinedBase starts the application codes that mirror HTTP
	// statuses: RejectPredefinedBase+403 is "forbidden".
	RejectPredefinedBase RejectReason = 1000
	// RejectUserBase starts the codes free for applications.
	RejectUserBase RejectReason = 2000
	// maxRejectReason bounds what a handshake type can carry as a reason.
	maxRejectReason RejectReason = 3000
	// rejectWireBase is added to a reason to form the handshake type.
	rejectWireBase = 1000
)

var rejectNames = [...]string{
	"unknown", "system error", "rejected by peer", "resource allocation problem",
	"incorrect data in handshake", "listener's backlog exceeded", "internal program error",
	"socket is closing", "peer version too old", "rendezvous cookie collision",
	"wrong passphrase", "passphrase required or unexpected", "stream flag collision",
	"incompatible congestion controller", "incompatible packet filter", "incompatible group",
	"timeout", "incompatible cryptographic mode",
}

func (r RejectReason) String() string {
	switch {
	case int(r) < len(rejectNames):
		return rejectNames[r]
	case r >= RejectUserBase && r < maxRejectReason:
		return fmt.Sprintf("application code %d", r-RejectUserBase)
	case r >= RejectPredefinedBase && r < RejectUserBase:
		return fmt.Sprintf("predefined code %d", r-RejectPredefinedBase)
	}
	return fmt.Sprintf("reason %d", uint32(r))
}

// RejectError is returned by Dial when the listener refuses the connection.
type RejectError struct {
	Reason RejectReason
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("srt: connection rejected: %s (%d)", e.Reason, uint32(e.Reason))
}

var (
	// ErrPeerIdle means nothing arrived from the peer for PeerIdleTimeout.
	ErrPeerIdle = errors.New("srt: peer idle timeout")
	// ErrConnectTimeout means the handshake did not complete in ConnectTimeout.
	ErrConnectTimeout = errors.New("srt: connect timeout")
	// ErrMessageTooLong means a message is larger than PayloadSize.
	ErrMessageTooLong = errors.New("srt: message longer than the payload size")
	// ErrRequestDecided means Accept or Reject was already called on a
	// ConnRequest, or it expired.
	ErrRequestDecided = errors.New("srt: connection request already decided or expired")
)
