package rtc

import (
	"math"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/pion/ice/v4"

	"github.com/castd/castd/internal/httpx"
)

// SRS's error codes of the NACK simulator's answers.
const (
	codeRTCNoSession     = 5022 // no session has that username
	codeRTCInvalidParams = 5023 // drop is not a positive number
)

// nackHelp is the help string SRS's NACK simulator answers with.
const nackHelp = "?username=string&drop=int"

// nackDropper is SRS's NACK simulator for one session: it drops the next
// n RTP packets, so the NACK machinery has something to recover. A
// publisher's session drops incoming packets, on the socket, before SRTP:
// pion then NACKs them, and the client's retransmission is not refused as
// an SRTP replay. A player's session drops outgoing packets, which the
// player NACKs and castd resends. RTCP, STUN and DTLS always pass.
type nackDropper struct {
	incoming bool
	left     atomic.Int64 // packets still to drop
	dropped  atomic.Int64 // packets dropped so far
}

// take reports whether this RTP packet is to be dropped.
func (d *nackDropper) take() bool {
	for {
		n := d.left.Load()
		if n <= 0 {
			return false
		}
		if d.left.CompareAndSwap(n, n-1) {
			d.dropped.Add(1)
			return true
		}
	}
}

// isRTPNotRTCP tells RTP (or SRTP) from RTCP, STUN and DTLS on a muxed
// port: RTP and RTCP start with 128..191 (RFC 7983), and RTCP's packet
// types fill 192..223 of the second byte (RFC 5761).
func isRTPNotRTCP(b []byte) bool {
	return len(b) >= 12 && b[0] >= 128 && b[0] <= 191 && (b[1] < 192 || b[1] > 223)
}

// droppingConn is a session's muxed connection with the simulator on it.
type droppingConn struct {
	net.PacketConn
	drop *nackDropper
}

func (c *droppingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || !c.drop.incoming || !isRTPNotRTCP(b[:n]) || !c.drop.take() {
			return n, addr, err
		}
	}
}

func (c *droppingConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if !c.drop.incoming && isRTPNotRTCP(b) && c.drop.take() {
		return len(b), nil // lost on the way, as far as the player can tell
	}
	return c.PacketConn.WriteTo(b, addr)
}

// droppingUDPMux hands a session its connection on the shared UDP port
// with the simulator on it. The port belongs to the server: Close does
// nothing.
type droppingUDPMux struct {
	ice.UDPMux
	drop *nackDropper
}

func (m droppingUDPMux) GetConn(ufrag string, addr net.Addr) (net.PacketConn, error) {
	c, err := m.UDPMux.GetConn(ufrag, addr)
	if err != nil {
		return nil, err
	}
	return &droppingConn{PacketConn: c, drop: m.drop}, nil
}

func (droppingUDPMux) Close() error { return nil }

// droppingTCPMux is droppingUDPMux for WebRTC over TCP.
type droppingTCPMux struct {
	ice.TCPMux
	drop *nackDropper
}

func (m droppingTCPMux) GetConnByUfrag(ufrag string, isIPv6 bool, local net.IP) (net.PacketConn, error) {
	c, err := m.TCPMux.GetConnByUfrag(ufrag, isIPv6, local)
	if err != nil {
		return nil, err
	}
	return &droppingConn{PacketConn: c, drop: m.drop}, nil
}

func (droppingTCPMux) Close() error { return nil }

// nackAnswer is the NACK simulator's answer: SRS echoes the query as
// strings, with a help text, whatever the outcome.
type nackAnswer struct {
	Code  int       `json:"code"`
	Query nackQuery `json:"query"`
}

type nackQuery struct {
	Username string `json:"username"`
	Drop     string `json:"drop"`
	Help     string `json:"help"`
}

// serveNACK is SRS's NACK simulator, GET /rtc/v1/nack/?username=<session
// id>&drop=N: the session drops its next N RTP packets. The answer is HTTP
// 200 with code 0, 5023 for a drop that is not a positive number, or 5022
// when no session has that username (the sessionid of the signalling
// answer, "localUfrag:remoteUfrag").
func (s *Server) serveNACK(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ans := nackAnswer{Query: nackQuery{Username: q.Get("username"), Drop: q.Get("drop"), Help: nackHelp}}
	drop := atoi(ans.Query.Drop)
	s.mu.Lock()
	ss := s.sessions[ans.Query.Username]
	s.mu.Unlock()
	switch {
	case drop <= 0:
		ans.Code = codeRTCInvalidParams
		s.Log.Warn("rtc: NACK simulator: drop must be a positive number (code 5023)", "drop", ans.Query.Drop)
	case ss == nil:
		ans.Code = codeRTCNoSession
		s.Log.Warn("rtc: NACK simulator: no such session (code 5022)", "username", ans.Query.Username)
	default:
		ss.drop.left.Store(int64(drop))
		ss.log.Info("rtc: NACK simulator: dropping the next RTP packets", "session", ss.id, "drop", drop,
			"direction", map[bool]string{true: "from the publisher", false: "to the player"}[ss.drop.incoming])
	}
	httpx.WriteJSON(w, r, ans)
}

// atoi reads a number as C's atoi does, which is what SRS's drop= gets:
// leading spaces, a sign, then digits up to the first other character;
// anything else is 0. The result is clamped to 32 bits.
func atoi(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	n := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = min(n*10+int(s[i]-'0'), math.MaxInt32+1)
	}
	if neg {
		return max(-n, math.MinInt32)
	}
	return min(n, math.MaxInt32)
}
