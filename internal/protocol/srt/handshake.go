package srt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Handshake types (Handshake Type field).
const (
	hsWaveahand  uint32 = 0x00000000
	hsInduction  uint32 = 0x00000001
	hsDone       uint32 = 0xFFFFFFFD
	hsAgreement  uint32 = 0xFFFFFFFE
	hsConclusion uint32 = 0xFFFFFFFF
)

const (
	hsCIFSize = 48     // the handshake CIF before its extensions
	srtMagic  = 0x4A17 // Extension Field of a v5 listener's induction response
	udtDgram  = 2      // Extension Field of a caller's induction request

	hsExtFlagHSREQ  = 0x1
	hsExtFlagKMREQ  = 0x2
	hsExtFlagConfig = 0x4

	// srtVersion is the SRT version advertised in HSREQ/HSRSP: 1.5.0.
	srtVersion = 0x010500
	// minPeerVersion is the oldest SRT that speaks the v5 handshake.
	minPeerVersion = 0x010300
)

var errBadHandshake = errors.New("srt: malformed handshake")

// handshake is the CIF of a handshake control packet.
type handshake struct {
	version    uint32
	encryption uint16 // 0, or key length / 8
	extension  uint16 // flags, the magic code or the UDT socket type
	isn        uint32
	mtu        uint32
	flowWindow uint32
	reqType    uint32
	socketID   uint32
	cookie     uint32
	peerIP     [16]byte
	ext        []byte // extension blocks, aliasing the packet
}

func parseHandshake(cif []byte) (handshake, error) {
	var h handshake
	if len(cif) < hsCIFSize {
		return h, fmt.Errorf("%w: CIF of %d bytes, need %d", errBadHandshake, len(cif), hsCIFSize)
	}
	h.version = binary.BigEndian.Uint32(cif[0:])
	h.encryption = binary.BigEndian.Uint16(cif[4:])
	h.extension = binary.BigEndian.Uint16(cif[6:])
	h.isn = binary.BigEndian.Uint32(cif[8:]) & seqMask
	h.mtu = binary.BigEndian.Uint32(cif[12:])
	h.flowWindow = binary.BigEndian.Uint32(cif[16:])
	h.reqType = binary.BigEndian.Uint32(cif[20:])
	h.socketID = binary.BigEndian.Uint32(cif[24:])
	h.cookie = binary.BigEndian.Uint32(cif[28:])
	copy(h.peerIP[:], cif[32:48])
	h.ext = cif[hsCIFSize:]
	return h, nil
}

// appendTo appends the CIF without extensions.
func (h *handshake) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, h.version)
	b = binary.BigEndian.AppendUint16(b, h.encryption)
	b = binary.BigEndian.AppendUint16(b, h.extension)
	b = binary.BigEndian.AppendUint32(b, h.isn&seqMask)
	b = binary.BigEndian.AppendUint32(b, h.mtu)
	b = binary.BigEndian.AppendUint32(b, h.flowWindow)
	b = binary.BigEndian.AppendUint32(b, h.reqType)
	b = binary.BigEndian.AppendUint32(b, h.socketID)
	b = binary.BigEndian.AppendUint32(b, h.cookie)
	return append(b, h.peerIP[:]...)
}

// rejection returns the reason of a rejection handshake.
func (h *handshake) rejection() (RejectReason, bool) {
	if h.reqType >= rejectWireBase && h.reqType < rejectWireBase+uint32(maxRejectReason) {
		return RejectReason(h.reqType - rejectWireBase), true
	}
	return 0, false
}

// encodePeerIP fills the Peer IP Address field the way libsrt does: the
// address bytes in 32-bit words stored host-order, which reverses each word
// on the wire (127.0.0.1 is sent as 01 00 00 7f).
func encodePeerIP(addr netip.Addr) [16]byte {
	var out [16]byte
	var raw []byte
	if addr.Unmap().Is4() {
		a := addr.Unmap().As4()
		raw = a[:]
	} else {
		a := addr.As16()
		raw = a[:]
	}
	for i := 0; i+4 <= len(raw); i += 4 {
		out[i], out[i+1], out[i+2], out[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	return out
}

// encryptionField advertises a key length in the handshake.
func encryptionField(keyLen int) uint16 { return uint16(keyLen / 8) }

// keyLenFromField reads an advertised key length; 0 when none or invalid.
func keyLenFromField(f uint16) int {
	switch f {
	case 2, 3, 4:
		return int(f) * 8
	}
	return 0
}

// agreement is what both ends settle on in the conclusion phase.
type agreement struct {
	peerID       uint32
	peerISN      uint32 // first sequence number the peer sends
	ourISN       uint32 // first sequence number we send
	mss          int
	flowWindow   int // the peer's receive window in packets
	recvLatency  time.Duration
	peerLatency  time.Duration
	peerDrops    bool // the peer's receiver drops too-late packets
	peerVersion  uint32
	streamID     string
	keys         *keyring
	hsTimestamp  uint32    // the peer's timestamp on its conclusion
	hsArrival    time.Time // when that conclusion arrived
	encryptField uint16
}

// ourHSFlags are the SRT flags this implementation always announces: TSBPD
// both ways, the KK and R fields, periodic NAK.
func ourHSFlags(tlpktdrop bool) uint32 {
	f := uint32(flagTSBPDSND | flagTSBPDRCV | flagCRYPT | flagPERIODICNAK | flagREXMITFLG)
	if tlpktdrop {
		f |= flagTLPKTDROP
	}
	return f
}

// negotiateListener checks a caller's conclusion and works out the
// connection; on failure it returns the reason to reject with. kmRsp is the
// KMRSP content to send back (the caller's KM message) when encrypting.
func negotiateListener(cfg *config, req *handshake) (a agreement, kmRsp []byte, reason RejectReason, err error) {
	if req.version != 5 {
		return a, nil, RejectVersion, fmt.Errorf("srt: handshake version %d (only 5)", req.version)
	}
	if req.extension&hsExtFlagHSREQ == 0 {
		return a, nil, RejectRogue, fmt.Errorf("%w: conclusion without HSREQ", errBadHandshake)
	}
	ext, err := parseExtensions(req.ext)
	if err != nil {
		return a, nil, RejectRogue, err
	}
	if ext.hs == nil || ext.hsType != extHSREQ {
		return a, nil, RejectRogue, fmt.Errorf("%w: conclusion without HSREQ", errBadHandshake)
	}
	if reason, err := checkPeerExtensions(ext); err != nil {
		return a, nil, reason, err
	}
	switch {
	case cfg.Passphrase == "" && ext.km != nil:
		return a, nil, RejectUnsecure, errors.New("srt: caller encrypts but no passphrase is set")
	case cfg.Passphrase != "" && ext.km == nil:
		return a, nil, RejectUnsecure, errors.New("srt: passphrase set but the caller does not encrypt")
	case ext.km != nil:
		if ext.kmType != extKMREQ {
			return a, nil, RejectRogue, fmt.Errorf("%w: key material of type %d in a request", errBadHandshake, ext.kmType)
		}
		keys, err := newResponderKeyring(cfg.Passphrase, ext.km, cfg.KMRefreshRate, cfg.KMPreAnnounce)
		if err != nil {
			if errors.Is(err, errBadKM) {
				return a, nil, RejectCrypto, err
			}
			return a, nil, RejectBadSecret, err
		}
		a.keys = keys
		a.encryptField = encryptionField(keys.keyLen)
		kmRsp = ext.km
	}
	mss := min(cfg.MSS, int(req.mtu))
	if mss < minMSS {
		return a, nil, RejectRogue, fmt.Errorf("srt: peer mss %d below %d", req.mtu, minMSS)
	}
	a.peerID = req.socketID
	a.peerISN, a.ourISN = req.isn, req.isn // libsrt's listener answers with the caller's ISN
	a.mss = mss
	a.flowWindow = max(int(req.flowWindow), minBufPackets)
	a.recvLatency = max(cfg.recvLatency, time.Duration(ext.hs.sendDelay)*time.Millisecond)
	a.peerLatency = max(cfg.peerLatency, time.Duration(ext.hs.recvDelay)*time.Millisecond)
	a.peerDrops = ext.hs.flags&flagTLPKTDROP != 0
	a.peerVersion = ext.hs.version
	a.streamID = ext.streamID
	return a, kmRsp, 0, nil
}

// checkPeerExtensions refuses what this implementation does not do: HSv4
// peers, buffer (stream) mode, congestion controllers other than live,
// packet filters and groups.
func checkPeerExtensions(ext extensions) (RejectReason, error) {
	switch {
	case ext.hs.version < minPeerVersion:
		return RejectVersion, fmt.Errorf("srt: peer version %#x older than 1.3.0", ext.hs.version)
	case ext.hs.flags&flagSTREAM != 0:
		return RejectMessageAPI, errors.New("srt: peer wants buffer (stream) mode; only live message mode is supported")
	case ext.congestion != "" && ext.congestion != "live":
		return RejectCongestion, fmt.Errorf("srt: congestion controller %q (only live)", ext.congestion)
	case ext.hasFilter:
		return RejectFilter, errors.New("srt: packet filters are not supported")
	case ext.hasGroup:
		return RejectGroup, errors.New("srt: socket groups are not supported")
	}
	return 0, nil
}

// appendConclusionResponse builds the listener's answer to an accepted
// conclusion: our CIF with HSRSP and, when encrypting, the KMRSP echo.
func appendConclusionResponse(b []byte, cfg *config, a *agreement, ourID uint32, peer netip.Addr, cookie uint32, kmRsp []byte) []byte {
	flags := uint16(hsExtFlagHSREQ)
	if kmRsp != nil {
		flags |= hsExtFlagKMREQ
	}
	h := handshake{
		version: 5, encryption: a.encryptField, extension: flags,
		isn: a.ourISN, mtu: uint32(a.mss), flowWindow: uint32(cfg.recvPackets),
		reqType: hsConclusion, socketID: ourID, cookie: cookie, peerIP: encodePeerIP(peer),
	}
	b = h.appendTo(b)
	hs := hsExtension{
		version: srtVersion, flags: ourHSFlags(cfg.TLPktDrop),
		recvDelay: latencyMillis(a.recvLatency), sendDelay: latencyMillis(a.peerLatency),
	}
	b = appendExtension(b, extHSRSP, hs.appendTo(nil))
	if kmRsp != nil {
		b = appendExtension(b, extKMRSP, padWords(kmRsp))
	}
	return b
}

// padWords returns b padded with zeros to whole 32-bit words.
func padWords(b []byte) []byte {
	if len(b)%4 == 0 {
		return b
	}
	return append(append([]byte(nil), b...), make([]byte, 4-len(b)%4)...)
}

// callerHandshake is the caller's side of the induction/conclusion exchange.
// It is a pure state machine: Dial feeds it the listener's answers and sends
// what it returns.
type callerHandshake struct {
	cfg      *config
	socketID uint32
	isn      uint32
	local    netip.Addr
	cookie   uint32
	keyLen   int
	keys     *keyring
	kmReq    []byte
	induced  bool
}

// inductionRequest is the first message: version 4, UDT_DGRAM, no cookie.
func (c *callerHandshake) inductionRequest() []byte {
	h := handshake{
		version: 4, extension: udtDgram, isn: c.isn, mtu: uint32(c.cfg.MSS),
		flowWindow: uint32(c.cfg.recvPackets), reqType: hsInduction, socketID: c.socketID,
		peerIP: encodePeerIP(c.local),
	}
	return h.appendTo(nil)
}

// onInductionResponse checks the listener is a v5 SRT listener, takes its
// cookie and advertised key length, and returns the conclusion request.
func (c *callerHandshake) onInductionResponse(rsp *handshake) ([]byte, error) {
	if reason, ok := rsp.rejection(); ok {
		return nil, &RejectError{Reason: reason}
	}
	if rsp.reqType != hsInduction {
		return nil, fmt.Errorf("%w: type %#x in answer to induction", errBadHandshake, rsp.reqType)
	}
	if rsp.version != 5 || rsp.extension != srtMagic {
		return nil, fmt.Errorf("srt: listener is not SRT v5 (version %d, magic %#x)", rsp.version, rsp.extension)
	}
	c.cookie = rsp.cookie
	if c.cfg.Passphrase != "" && c.keys == nil {
		c.keyLen = c.cfg.PBKeyLen
		if adv := keyLenFromField(rsp.encryption); adv != 0 {
			c.keyLen = adv // the responder's advertised length wins
		}
		if c.keyLen == 0 {
			c.keyLen = 16
		}
		keys, km, err := newCallerKeyring(c.cfg.Passphrase, c.keyLen, c.cfg.KMRefreshRate, c.cfg.KMPreAnnounce)
		if err != nil {
			return nil, err
		}
		c.keys, c.kmReq = keys, km
	}
	c.induced = true
	return c.conclusionRequest(), nil
}

func (c *callerHandshake) conclusionRequest() []byte {
	flags := uint16(hsExtFlagHSREQ)
	var enc uint16
	if c.kmReq != nil {
		flags |= hsExtFlagKMREQ
		enc = encryptionField(c.keyLen)
	}
	if c.cfg.StreamID != "" {
		flags |= hsExtFlagConfig
	}
	h := handshake{
		version: 5, encryption: enc, extension: flags, isn: c.isn, mtu: uint32(c.cfg.MSS),
		flowWindow: uint32(c.cfg.recvPackets), reqType: hsConclusion, socketID: c.socketID,
		cookie: c.cookie, peerIP: encodePeerIP(c.local),
	}
	b := h.appendTo(nil)
	hs := hsExtension{
		version: srtVersion, flags: ourHSFlags(c.cfg.TLPktDrop),
		recvDelay: latencyMillis(c.cfg.recvLatency), sendDelay: latencyMillis(c.cfg.peerLatency),
	}
	b = appendExtension(b, extHSREQ, hs.appendTo(nil))
	if c.kmReq != nil {
		b = appendExtension(b, extKMREQ, padWords(c.kmReq))
	}
	if c.cfg.StreamID != "" {
		b = appendStringExt(b, extSID, c.cfg.StreamID)
	}
	return b
}

// onConclusionResponse checks the listener's answer and returns the
// agreement.
func (c *callerHandshake) onConclusionResponse(rsp *handshake) (agreement, error) {
	var a agreement
	if reason, ok := rsp.rejection(); ok {
		return a, &RejectError{Reason: reason}
	}
	if rsp.reqType != hsConclusion {
		return a, fmt.Errorf("%w: type %#x in answer to conclusion", errBadHandshake, rsp.reqType)
	}
	if rsp.version != 5 {
		return a, fmt.Errorf("srt: listener answered with handshake version %d", rsp.version)
	}
	ext, err := parseExtensions(rsp.ext)
	if err != nil {
		return a, err
	}
	if ext.hs == nil || ext.hsType != extHSRSP {
		return a, fmt.Errorf("%w: conclusion response without HSRSP", errBadHandshake)
	}
	if _, err := checkPeerExtensions(ext); err != nil {
		return a, err
	}
	switch {
	case c.kmReq != nil && ext.km == nil:
		return a, errors.New("srt: listener did not answer the key material (no passphrase there?)")
	case c.kmReq == nil && ext.km != nil:
		return a, errors.New("srt: listener sent key material but no passphrase is set")
	case c.kmReq != nil:
		if len(ext.km) == 4 {
			return a, fmt.Errorf("srt: listener refused the key material (state %d): wrong passphrase?", binary.BigEndian.Uint32(ext.km))
		}
		km, err := parseKM(ext.km)
		if err != nil {
			return a, err
		}
		ours, err := parseKM(c.kmReq)
		if err != nil {
			return a, err
		}
		if string(km.wrapped) != string(ours.wrapped) || string(km.salt) != string(ours.salt) {
			return a, errors.New("srt: listener answered with different key material")
		}
		a.keys = c.keys
	}
	mss := min(c.cfg.MSS, int(rsp.mtu))
	if mss < minMSS {
		return a, fmt.Errorf("srt: peer mss %d below %d", rsp.mtu, minMSS)
	}
	a.peerID = rsp.socketID
	a.peerISN = rsp.isn
	a.ourISN = c.isn
	a.mss = mss
	a.flowWindow = max(int(rsp.flowWindow), minBufPackets)
	a.recvLatency = max(c.cfg.recvLatency, time.Duration(ext.hs.sendDelay)*time.Millisecond)
	a.peerLatency = max(c.cfg.peerLatency, time.Duration(ext.hs.recvDelay)*time.Millisecond)
	a.peerDrops = ext.hs.flags&flagTLPKTDROP != 0
	a.peerVersion = ext.hs.version
	a.streamID = c.cfg.StreamID
	return a, nil
}

// appendRejection builds a rejection answer to a request.
func appendRejection(b []byte, req *handshake, ourID uint32, reason RejectReason) []byte {
	h := handshake{
		version: 5, isn: req.isn, mtu: req.mtu, flowWindow: req.flowWindow,
		reqType: rejectWireBase + uint32(reason), socketID: ourID, cookie: req.cookie,
	}
	return h.appendTo(b)
}
