package srt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// headerSize is the SRT header that starts every packet (data or control).
const headerSize = 16

// udpIPOverhead is what IPv4 and UDP add to each datagram; MSS counts it,
// like libsrt does.
const udpIPOverhead = 28

// ctrlType is the 15-bit Control Type of a control packet.
type ctrlType uint16

const (
	ctrlHandshake  ctrlType = 0x0000
	ctrlKeepalive  ctrlType = 0x0001
	ctrlACK        ctrlType = 0x0002
	ctrlNAK        ctrlType = 0x0003
	ctrlCongestion ctrlType = 0x0004
	ctrlShutdown   ctrlType = 0x0005
	ctrlACKACK     ctrlType = 0x0006
	ctrlDropReq    ctrlType = 0x0007
	ctrlPeerError  ctrlType = 0x0008
	ctrlUser       ctrlType = 0x7FFF
)

func (t ctrlType) String() string {
	switch t {
	case ctrlHandshake:
		return "handshake"
	case ctrlKeepalive:
		return "keepalive"
	case ctrlACK:
		return "ack"
	case ctrlNAK:
		return "nak"
	case ctrlCongestion:
		return "congestion-warning"
	case ctrlShutdown:
		return "shutdown"
	case ctrlACKACK:
		return "ackack"
	case ctrlDropReq:
		return "dropreq"
	case ctrlPeerError:
		return "peer-error"
	case ctrlUser:
		return "user-defined"
	}
	return fmt.Sprintf("control-0x%04x", uint16(t))
}

// Packet position flags (PP) of a data packet.
const (
	ppMiddle = 0b00
	ppLast   = 0b01
	ppFirst  = 0b10
	ppSolo   = 0b11
)

// Key flags (KK) of a data packet: which stream key encrypted the payload.
const (
	keyNone = 0b00
	keyEven = 0b01
	keyOdd  = 0b10
	keyBoth = 0b11 // only in key material messages
)

var (
	errShortPacket  = errors.New("srt: packet shorter than the 16-byte header")
	errNotData      = errors.New("srt: not a data packet")
	errNotControl   = errors.New("srt: not a control packet")
	errBadLossList  = errors.New("srt: malformed loss list")
	errShortControl = errors.New("srt: control information field too short")
)

func isControl(b []byte) bool { return len(b) > 0 && b[0]&0x80 != 0 }

// destinationID returns the Destination Socket ID of a packet of at least
// headerSize bytes.
func destinationID(b []byte) uint32 { return binary.BigEndian.Uint32(b[12:16]) }

// dataHeader is the header of a data packet.
type dataHeader struct {
	seq           uint32
	position      uint8 // PP
	inOrder       bool  // O
	key           uint8 // KK
	retransmitted bool  // R
	msgNo         uint32
	timestamp     uint32
	dstID         uint32
}

func (h *dataHeader) marshal(b []byte) {
	binary.BigEndian.PutUint32(b[0:], h.seq&seqMask)
	w := uint32(h.position&3)<<30 | h.msgNo&msgNoMask | uint32(h.key&3)<<27
	if h.inOrder {
		w |= 1 << 29
	}
	if h.retransmitted {
		w |= 1 << 26
	}
	binary.BigEndian.PutUint32(b[4:], w)
	binary.BigEndian.PutUint32(b[8:], h.timestamp)
	binary.BigEndian.PutUint32(b[12:], h.dstID)
}

func parseDataHeader(b []byte) (dataHeader, error) {
	if len(b) < headerSize {
		return dataHeader{}, errShortPacket
	}
	if isControl(b) {
		return dataHeader{}, errNotData
	}
	w := binary.BigEndian.Uint32(b[4:])
	return dataHeader{
		seq:           binary.BigEndian.Uint32(b[0:]) & seqMask,
		position:      uint8(w >> 30),
		inOrder:       w&(1<<29) != 0,
		key:           uint8(w>>27) & 3,
		retransmitted: w&(1<<26) != 0,
		msgNo:         w & msgNoMask,
		timestamp:     binary.BigEndian.Uint32(b[8:]),
		dstID:         binary.BigEndian.Uint32(b[12:]),
	}, nil
}

// controlHeader is the header of a control packet.
type controlHeader struct {
	typ       ctrlType
	subtype   uint16
	info      uint32 // type-specific information
	timestamp uint32
	dstID     uint32
}

func (h *controlHeader) marshal(b []byte) {
	binary.BigEndian.PutUint32(b[0:], 1<<31|uint32(h.typ&0x7FFF)<<16|uint32(h.subtype))
	binary.BigEndian.PutUint32(b[4:], h.info)
	binary.BigEndian.PutUint32(b[8:], h.timestamp)
	binary.BigEndian.PutUint32(b[12:], h.dstID)
}

func parseControlHeader(b []byte) (controlHeader, error) {
	if len(b) < headerSize {
		return controlHeader{}, errShortPacket
	}
	if !isControl(b) {
		return controlHeader{}, errNotControl
	}
	w := binary.BigEndian.Uint32(b[0:])
	return controlHeader{
		typ:       ctrlType(w>>16) & 0x7FFF,
		subtype:   uint16(w),
		info:      binary.BigEndian.Uint32(b[4:]),
		timestamp: binary.BigEndian.Uint32(b[8:]),
		dstID:     binary.BigEndian.Uint32(b[12:]),
	}, nil
}

// appendControl appends a control packet with the given CIF to b. Control
// packets without a CIF (keepalive, shutdown, ACKACK) carry 4 zero bytes, as
// libsrt sends them.
func appendControl(b []byte, h controlHeader, cif []byte) []byte {
	b = appendControlHeader(b, h)
	if cif == nil {
		return append(b, 0, 0, 0, 0)
	}
	return append(b, cif...)
}

// appendControlHeader appends the 16-byte header of a control packet; the
// caller appends the CIF.
func appendControlHeader(b []byte, h controlHeader) []byte {
	var hdr [headerSize]byte
	h.marshal(hdr[:])
	return append(b, hdr[:]...)
}

// ACK CIF sizes: a light ACK carries only the acknowledged sequence number,
// a small ACK stops after the available buffer size, a full ACK has it all.
const (
	ackLightSize = 4
	ackSmallSize = 16
	ackFullSize  = 28
)

// ackCIF is the control information of an ACK.
type ackCIF struct {
	lastAck     uint32 // first sequence number not yet received
	rtt         uint32 // microseconds
	rttVar      uint32 // microseconds
	availBuf    uint32 // packets
	pktRecvRate uint32 // packets per second
	linkCap     uint32 // packets per second
	recvRate    uint32 // bytes per second
	size        int    // ackLightSize, ackSmallSize or ackFullSize
}

func (a *ackCIF) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, a.lastAck&seqMask)
	if a.size <= ackLightSize {
		return b
	}
	b = binary.BigEndian.AppendUint32(b, a.rtt)
	b = binary.BigEndian.AppendUint32(b, a.rttVar)
	b = binary.BigEndian.AppendUint32(b, a.availBuf)
	if a.size <= ackSmallSize {
		return b
	}
	b = binary.BigEndian.AppendUint32(b, a.pktRecvRate)
	b = binary.BigEndian.AppendUint32(b, a.linkCap)
	return binary.BigEndian.AppendUint32(b, a.recvRate)
}

// parseACK reads a light, small or full ACK. Longer CIFs (future fields) are
// accepted and their extra words ignored.
func parseACK(cif []byte) (ackCIF, error) {
	var a ackCIF
	if len(cif) < ackLightSize {
		return a, fmt.Errorf("srt: ack: %w (%d bytes)", errShortControl, len(cif))
	}
	a.lastAck = binary.BigEndian.Uint32(cif) & seqMask
	a.size = ackLightSize
	if len(cif) >= ackSmallSize {
		a.rtt = binary.BigEndian.Uint32(cif[4:])
		a.rttVar = binary.BigEndian.Uint32(cif[8:])
		a.availBuf = binary.BigEndian.Uint32(cif[12:])
		a.size = ackSmallSize
	}
	if len(cif) >= ackFullSize {
		a.pktRecvRate = binary.BigEndian.Uint32(cif[16:])
		a.linkCap = binary.BigEndian.Uint32(cif[20:])
		a.recvRate = binary.BigEndian.Uint32(cif[24:])
		a.size = ackFullSize
	}
	return a, nil
}

// appendLossRange appends one loss-list entry covering from..to (inclusive):
// a single number, or a pair whose first word has the top bit set.
func appendLossRange(b []byte, from, to uint32) []byte {
	if from == to {
		return binary.BigEndian.AppendUint32(b, from&seqMask)
	}
	b = binary.BigEndian.AppendUint32(b, from&seqMask|1<<31)
	return binary.BigEndian.AppendUint32(b, to&seqMask)
}

// maxLossRangeLen bounds one loss-list range: a longer one cannot come from a
// receive buffer and would make the sender scan for nothing.
const maxLossRangeLen = 1 << 20

// parseLossList calls fn for every range of a NAK's loss list. It allocates
// nothing and rejects truncated pairs, reversed or huge ranges.
func parseLossList(cif []byte, fn func(from, to uint32)) error {
	if len(cif)%4 != 0 {
		return fmt.Errorf("%w: %d bytes is not a multiple of 4", errBadLossList, len(cif))
	}
	for i := 0; i < len(cif); i += 4 {
		w := binary.BigEndian.Uint32(cif[i:])
		if w&(1<<31) == 0 {
			fn(w, w)
			continue
		}
		if i+8 > len(cif) {
			return fmt.Errorf("%w: range start without an end", errBadLossList)
		}
		from := w & seqMask
		to := binary.BigEndian.Uint32(cif[i+4:])
		if to&(1<<31) != 0 {
			return fmt.Errorf("%w: range end has the range bit set", errBadLossList)
		}
		if d := seqDiff(from, to); d < 0 || d > maxLossRangeLen {
			return fmt.Errorf("%w: range %d..%d", errBadLossList, from, to)
		}
		fn(from, to)
		i += 4
	}
	return nil
}

// dropReqCIF is the control information of a message drop request; the
// message number travels in the type-specific information.
type dropReqCIF struct {
	first, last uint32
}

func (d dropReqCIF) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, d.first&seqMask)
	return binary.BigEndian.AppendUint32(b, d.last&seqMask)
}

func parseDropReq(cif []byte) (dropReqCIF, error) {
	if len(cif) < 8 {
		return dropReqCIF{}, fmt.Errorf("srt: dropreq: %w (%d bytes)", errShortControl, len(cif))
	}
	d := dropReqCIF{
		first: binary.BigEndian.Uint32(cif) & seqMask,
		last:  binary.BigEndian.Uint32(cif[4:]) & seqMask,
	}
	if diff := seqDiff(d.first, d.last); diff < 0 || diff > maxLossRangeLen {
		return dropReqCIF{}, fmt.Errorf("srt: dropreq: bad range %d..%d", d.first, d.last)
	}
	return d, nil
}
