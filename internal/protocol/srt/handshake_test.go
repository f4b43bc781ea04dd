package srt

import (
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"
)

func mustConfig(t testing.TB, o Options) *config {
	t.Helper()
	c, err := o.normalize()
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestCallerRequestsMatchLibsrt builds our caller's requests with the
// parameters of the libsrt capture and compares them byte for byte; the
// only differences are the advertised version and the packet-filter flag.
func TestCallerRequestsMatchLibsrt(t *testing.T) {
	o := DefaultOptions()
	o.RecvLatency, o.PeerLatency = 200*time.Millisecond, 200*time.Millisecond
	o.StreamID = "#!::r=live/x,m=publish"
	hs := callerHandshake{cfg: mustConfig(t, o), socketID: 0x36f5c0f6, isn: 0x54a14f12, local: mustAddr("127.0.0.1")}
	hexDiff(t, "induction", hs.inductionRequest(), libsrtInductionRequest[headerSize:])

	rsp, err := parseHandshake(libsrtInductionResponse[headerSize:])
	if err != nil {
		t.Fatal(err)
	}
	rsp.cookie = 0xcafebabe
	conclusion, err := hs.onInductionResponse(&rsp)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte(nil), libsrtConclusionRequest[headerSize:]...)
	binary.BigEndian.PutUint32(want[hsCIFSize+4:], srtVersion) // libsrt says 1.5.1
	binary.BigEndian.PutUint32(want[hsCIFSize+8:], 0x3f)       // and sets PACKET_FILTER
	hexDiff(t, "conclusion", conclusion, want)
}

// TestListenerAnswersLibsrtCaller feeds libsrt's conclusion to the
// listener's negotiation and checks the answer against libsrt's own.
func TestListenerAnswersLibsrtCaller(t *testing.T) {
	o := DefaultOptions()
	o.Latency, o.RecvLatency, o.PeerLatency = 300*time.Millisecond, -1, -1
	cfg := mustConfig(t, o)
	req, err := parseHandshake(libsrtConclusionRequest[headerSize:])
	if err != nil {
		t.Fatal(err)
	}
	a, kmRsp, reason, err := negotiateListener(cfg, &req)
	if err != nil {
		t.Fatalf("rejected (%v): %v", reason, err)
	}
	if a.streamID != "#!::r=live/x,m=publish" || a.peerVersion != 0x010501 || a.peerISN != 0x54a14f12 || a.ourISN != a.peerISN {
		t.Errorf("agreement %+v", a)
	}
	if a.recvLatency != 300*time.Millisecond || a.peerLatency != 300*time.Millisecond || !a.peerDrops || kmRsp != nil {
		t.Errorf("latencies %v/%v, drops %v, km %x", a.recvLatency, a.peerLatency, a.peerDrops, kmRsp)
	}
	got := appendConclusionResponse(nil, cfg, &a, 0x1079830a, mustAddr("127.0.0.1"), 0x3cf738b7, nil)
	want := append([]byte(nil), libsrtConclusionResponse[headerSize:]...)
	binary.BigEndian.PutUint32(want[8:], 0x54a14f12)
	binary.BigEndian.PutUint32(want[hsCIFSize+4:], srtVersion)
	binary.BigEndian.PutUint32(want[hsCIFSize+8:], 0x3f)
	hexDiff(t, "conclusion response", got, want)
}

func TestLatencyNegotiation(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name                         string
		callerRecv, callerPeer       time.Duration
		listenerRecv, listenerPeer   time.Duration
		wantCallerRecv, wantListRecv time.Duration
	}{
		{"SRS defaults vs ffmpeg 200", ms(200), ms(200), ms(120), 0, ms(200), ms(200)},
		{"listener larger", ms(80), ms(100), ms(300), ms(300), ms(300), ms(300)},
		{"each direction its own", ms(50), ms(400), ms(120), ms(60), ms(60), ms(400)},
		{"zero everywhere", 0, 0, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			co := DefaultOptions()
			co.RecvLatency, co.PeerLatency = tc.callerRecv, tc.callerPeer
			lo := DefaultOptions()
			lo.RecvLatency, lo.PeerLatency = tc.listenerRecv, tc.listenerPeer
			caller, listener := exchange(t, co, lo)
			if caller.recvLatency != tc.wantCallerRecv || listener.peerLatency != tc.wantCallerRecv {
				t.Errorf("caller receives with %v, listener thinks %v; want %v", caller.recvLatency, listener.peerLatency, tc.wantCallerRecv)
			}
			if listener.recvLatency != tc.wantListRecv || caller.peerLatency != tc.wantListRecv {
				t.Errorf("listener receives with %v, caller thinks %v; want %v", listener.recvLatency, caller.peerLatency, tc.wantListRecv)
			}
		})
	}
}

// exchange runs a whole caller/listener handshake in memory.
func exchange(t *testing.T, co, lo Options) (caller, listener agreement) {
	t.Helper()
	ccfg, lcfg := mustConfig(t, co), mustConfig(t, lo)
	hs := callerHandshake{cfg: ccfg, socketID: 11, isn: 1000, local: mustAddr("127.0.0.1")}
	ind, err := parseHandshake(hs.inductionRequest())
	if err != nil || ind.version != 4 || ind.reqType != hsInduction {
		t.Fatalf("induction %+v %v", ind, err)
	}
	indRsp := handshake{version: 5, extension: srtMagic, reqType: hsInduction, cookie: 77, encryption: encryptionField(lcfg.PBKeyLen)}
	concl, err := hs.onInductionResponse(&indRsp)
	if err != nil {
		t.Fatal(err)
	}
	req, err := parseHandshake(concl)
	if err != nil {
		t.Fatal(err)
	}
	if req.cookie != 77 || req.socketID != 11 {
		t.Fatalf("conclusion %+v", req)
	}
	listener, kmRsp, reason, err := negotiateListener(lcfg, &req)
	if err != nil {
		t.Fatalf("listener rejects (%v): %v", reason, err)
	}
	rspBytes := appendConclusionResponse(nil, lcfg, &listener, 22, mustAddr("127.0.0.1"), 77, kmRsp)
	rsp, err := parseHandshake(rspBytes)
	if err != nil {
		t.Fatal(err)
	}
	caller, err = hs.onConclusionResponse(&rsp)
	if err != nil {
		t.Fatal(err)
	}
	if caller.peerID != 22 || caller.peerISN != 1000 || caller.ourISN != 1000 || listener.peerID != 11 {
		t.Fatalf("ids/ISNs: caller %+v listener %+v", caller, listener)
	}
	return caller, listener
}

func TestEncryptionNegotiation(t *testing.T) {
	for _, keyLen := range []int{0, 16, 24, 32} {
		co, lo := DefaultOptions(), DefaultOptions()
		co.Passphrase, lo.Passphrase = "0123456789secret", "0123456789secret"
		lo.PBKeyLen = keyLen // the listener's advertisement wins
		caller, listener := exchange(t, co, lo)
		want := max(keyLen, 16)
		if caller.keys == nil || listener.keys == nil || caller.keys.keyLen != want || listener.keys.keyLen != want {
			t.Fatalf("pbkeylen %d: keys %v %v", keyLen, caller.keys, listener.keys)
		}
		if string(caller.keys.tx[0].sek) != string(listener.keys.rx[0].sek) {
			t.Fatalf("pbkeylen %d: the listener opened a different key", keyLen)
		}
	}

	for _, tc := range []struct {
		name         string
		callerPass   string
		listenerPass string
		mutate       func(*handshake)
		want         RejectReason
	}{
		{"wrong passphrase", "0123456789secret", "another-secret", nil, RejectBadSecret},
		{"caller without passphrase", "", "0123456789secret", nil, RejectUnsecure},
		{"listener without passphrase", "0123456789secret", "", nil, RejectUnsecure},
		{"handshake version 4", "", "", func(h *handshake) { h.version = 4 }, RejectVersion},
		{"no HSREQ flag", "", "", func(h *handshake) { h.extension = 0 }, RejectRogue},
		{"stream mode", "", "", func(h *handshake) { h.ext[4+7] |= flagSTREAM }, RejectMessageAPI},
		{"old SRT", "", "", func(h *handshake) { binary.BigEndian.PutUint32(h.ext[4:], 0x010200) }, RejectVersion},
		{"file congestion", "", "", func(h *handshake) { h.ext = appendStringExt(h.ext, extCongestion, "file") }, RejectCongestion},
		{"packet filter", "", "", func(h *handshake) { h.ext = appendExtension(h.ext, extFilter, []byte("cef,")) }, RejectFilter},
		{"group", "", "", func(h *handshake) { h.ext = appendExtension(h.ext, extGroup, make([]byte, 8)) }, RejectGroup},
		{"garbled extension", "", "", func(h *handshake) { h.ext = append(h.ext, 0, 9, 0, 40) }, RejectRogue},
		{"tiny mss", "", "", func(h *handshake) { h.mtu = 40 }, RejectRogue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			co, lo := DefaultOptions(), DefaultOptions()
			co.Passphrase, lo.Passphrase = tc.callerPass, tc.listenerPass
			hs := callerHandshake{cfg: mustConfig(t, co), socketID: 11, isn: 1000, local: mustAddr("127.0.0.1")}
			concl, err := hs.onInductionResponse(&handshake{version: 5, extension: srtMagic, reqType: hsInduction})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := parseHandshake(concl)
			if tc.mutate != nil {
				tc.mutate(&req)
			}
			_, _, reason, err := negotiateListener(mustConfig(t, lo), &req)
			if err == nil || reason != tc.want {
				t.Errorf("reason %v (%v), want %v", reason, err, tc.want)
			}
		})
	}
}

func TestCallerRefusesBadAnswers(t *testing.T) {
	cfg := mustConfig(t, DefaultOptions())
	hs := callerHandshake{cfg: cfg, socketID: 11, isn: 1000}
	for _, tc := range []struct {
		name   string
		rsp    handshake
		reject RejectReason
	}{
		{"no magic", handshake{version: 5, extension: 0, reqType: hsInduction}, 0},
		{"udt listener", handshake{version: 4, extension: udtDgram, reqType: hsInduction}, 0},
		{"wrong type", handshake{version: 5, extension: srtMagic, reqType: hsAgreement}, 0},
		{"rejected", handshake{version: 5, reqType: rejectWireBase + uint32(RejectBacklog)}, RejectBacklog},
	} {
		_, err := hs.onInductionResponse(&tc.rsp)
		var rej *RejectError
		if err == nil || (tc.reject != 0) != errors.As(err, &rej) || rej != nil && rej.Reason != tc.reject {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := hs.onInductionResponse(&handshake{version: 5, extension: srtMagic, reqType: hsInduction}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		rsp    handshake
		reject RejectReason
	}{
		{"application code", handshake{version: 5, reqType: rejectWireBase + uint32(RejectPredefinedBase) + 403}, RejectPredefinedBase + 403},
		{"no HSRSP", handshake{version: 5, reqType: hsConclusion}, 0},
		{"HSREQ instead", handshake{version: 5, reqType: hsConclusion, ext: appendExtension(nil, extHSREQ, (&hsExtension{version: srtVersion}).appendTo(nil))}, 0},
		{"unexpected KMRSP", handshake{version: 5, reqType: hsConclusion, ext: appendExtension(appendExtension(nil, extHSRSP, (&hsExtension{version: srtVersion}).appendTo(nil)), extKMRSP, []byte{0, 0, 0, 4})}, 0},
	} {
		_, err := hs.onConclusionResponse(&tc.rsp)
		var rej *RejectError
		if err == nil || (tc.reject != 0) != errors.As(err, &rej) || rej != nil && rej.Reason != tc.reject {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// rawCaller speaks handshakes to a real Listener over UDP.
type rawCaller struct {
	t  *testing.T
	pc *net.UDPConn
}

func newRawCaller(t *testing.T, to net.Addr) *rawCaller {
	pc, err := net.DialUDP("udp", nil, to.(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &rawCaller{t: t, pc: pc}
}

func (r *rawCaller) send(dst uint32, cif []byte) {
	if _, err := r.pc.Write(appendControl(nil, controlHeader{typ: ctrlHandshake, dstID: dst}, cif)); err != nil {
		r.t.Fatal(err)
	}
}

// recv returns the next handshake, or ok=false after wait.
func (r *rawCaller) recv(wait time.Duration) (controlHeader, handshake, bool) {
	buf := make([]byte, 2048)
	_ = r.pc.SetReadDeadline(time.Now().Add(wait))
	n, err := r.pc.Read(buf)
	if err != nil {
		return controlHeader{}, handshake{}, false
	}
	h, err := parseControlHeader(buf[:n])
	if err != nil {
		r.t.Fatal(err)
	}
	hs, err := parseHandshake(buf[headerSize:n])
	if err != nil {
		r.t.Fatal(err)
	}
	return h, hs, true
}

// TestListenerStateMachine drives a Listener through induction, a forged
// cookie, a rejected request and its retransmission, and an accepted one.
func TestListenerStateMachine(t *testing.T) {
	checkGoroutines(t)
	o := DefaultOptions()
	o.Passphrase, o.PBKeyLen = "0123456789secret", 24
	l, err := Listen("udp", "127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	co := o
	co.StreamID = "#!::r=live/denied,m=publish"
	hs := callerHandshake{cfg: mustConfig(t, co), socketID: 0x1234, isn: 99, local: mustAddr("127.0.0.1")}
	raw := newRawCaller(t, l.Addr())

	raw.send(0, hs.inductionRequest())
	h, ind, ok := raw.recv(time.Second)
	if !ok {
		t.Fatal("no induction response")
	}
	if h.dstID != 0x1234 || ind.version != 5 || ind.extension != srtMagic || ind.encryption != 3 || ind.cookie == 0 || ind.socketID != l.id {
		t.Fatalf("induction response %+v %+v", h, ind)
	}
	concl, err := hs.onInductionResponse(&ind)
	if err != nil {
		t.Fatal(err)
	}
	if hs.keyLen != 24 {
		t.Errorf("caller took key length %d, the listener advertised 24", hs.keyLen)
	}

	forged := append([]byte(nil), concl...)
	binary.BigEndian.PutUint32(forged[28:], ind.cookie+1)
	raw.send(0, forged)
	if _, _, ok := raw.recv(200 * time.Millisecond); ok {
		t.Fatal("answered a conclusion with a forged cookie")
	}

	raw.send(0, concl)
	req, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if req.StreamID() != co.StreamID || !req.Encrypted() || req.PeerVersion() != srtVersion {
		t.Errorf("request %q encrypted %v version %x", req.StreamID(), req.Encrypted(), req.PeerVersion())
	}
	if err := req.Reject(RejectPredefinedBase + 403); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the answer, then the same for a repeated conclusion
		_, rej, ok := raw.recv(time.Second)
		if !ok {
			t.Fatalf("answer %d: no rejection", i)
		}
		if reason, ok := rej.rejection(); !ok || reason != RejectPredefinedBase+403 || rej.reqType != 2403 {
			t.Fatalf("answer %d: type %d", i, rej.reqType)
		}
		if i == 0 {
			raw.send(l.id, concl) // the draft's caller addresses the listener's ID
		}
	}
	if _, err := req.Accept(); !errors.Is(err, ErrRequestDecided) {
		t.Errorf("accept after reject: %v", err)
	}

	// A new caller socket ID is a new request; this one is accepted.
	hs2 := callerHandshake{cfg: mustConfig(t, o), socketID: 0x5678, isn: 500, local: mustAddr("127.0.0.1")}
	concl2, err := hs2.onInductionResponse(&ind)
	if err != nil {
		t.Fatal(err)
	}
	raw.send(0, concl2)
	req2, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c, err := req2.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 2; i++ {
		h, rsp, ok := raw.recv(time.Second)
		if !ok {
			t.Fatalf("answer %d: no conclusion response", i)
		}
		if h.dstID != 0x5678 || rsp.reqType != hsConclusion || rsp.socketID != c.SocketID() || rsp.isn != 500 {
			t.Fatalf("answer %d: %+v %+v", i, h, rsp)
		}
		a, err := hs2.onConclusionResponse(&rsp)
		if err != nil || a.keys == nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if i == 0 {
			raw.send(0, concl2) // a repeated conclusion gets the same answer
		}
	}
}
