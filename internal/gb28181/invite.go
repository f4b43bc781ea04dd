package gb28181

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/castd/castd/internal/gb28181/sip"
)

// userAgent names castd in the SIP messages it sends.
const userAgent = "castd"

// branchMagic starts every RFC 3261 branch (§8.1.1.7).
const branchMagic = "z9hG4bK"

// registration is what castd keeps of a device's REGISTER: the addresses
// its INVITEs are built from.
type registration struct {
	serverID   string // the Request-URI user: the platform id the device was set up with
	domain     string // the Request-URI host: the SIP domain
	deviceHost string // the From host
}

// dialog is one INVITE call with the device.
type dialog struct {
	conn       *sipConn
	callID     string
	from, to   string // header values: castd's (with its tag) and the device's
	requestURI string // where in-dialog requests go: the answer's Contact, else the device URI
	cseq       uint32
	sentAt     time.Time
	ended      bool // the device sent BYE
}

// randomToken returns n random hex digits for tags, branches and Call-IDs.
func randomToken(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)[:n]
}

// newSSRC makes a GB28181 SSRC (GB/T 28181-2016 Appendix F): "0" for live
// video, the 5 digits of the SIP domain at positions 4 to 8 of the server
// id, and 4 random digits.
func newSSRC(serverID string) uint32 {
	domain := "00000"
	if len(serverID) >= 8 && isDigits(serverID[3:8]) {
		domain = serverID[3:8]
	}
	n, _ := strconv.ParseUint(fmt.Sprintf("0%s%04d", domain, mrand.IntN(10000)), 10, 32)
	return uint32(n)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// candidate is the IP devices are told to send media to: the configured
// one, or the address the device reached the SIP server at.
func (s *Server) candidate(c *sipConn) string {
	if s.cfg.Candidate != "" && s.cfg.Candidate != "*" {
		return s.cfg.Candidate
	}
	if c != nil && c.localIP != "" {
		return c.localIP
	}
	return "127.0.0.1"
}

// inviteLocked builds a new dialog's INVITE, as SRS 5 words it, and makes
// it the current dialog.
func (se *session) inviteLocked(now time.Time) outgoing {
	c := se.sip
	ip := se.srv.candidate(c)
	serverURI := "sip:" + se.reg.serverID + "@" + se.reg.domain
	deviceURI := "sip:" + se.device + "@" + se.reg.deviceHost
	se.dlg = dialog{conn: c, callID: randomToken(16), from: "<" + serverURI + ">;tag=" + randomToken(8), to: "<" + deviceURI + ">",
		requestURI: deviceURI, cseq: 1 + mrand.Uint32N(1000), sentAt: now}
	se.state = dialogInviting
	se.attempts++
	m := &sip.Message{Method: sip.MethodInvite, RequestURI: deviceURI}
	m.Add("Via", via(ip, c.localPort))
	m.Add("From", se.dlg.from)
	m.Add("To", se.dlg.to)
	m.Add("Call-ID", se.dlg.callID)
	m.Add("CSeq", sip.CSeq{Seq: se.dlg.cseq, Method: sip.MethodInvite}.String())
	m.Add("Contact", "<sip:"+se.reg.serverID+"@"+net.JoinHostPort(ip, strconv.Itoa(c.localPort))+">")
	m.Add("Max-Forwards", "70")
	m.Add("User-Agent", userAgent)
	// Subject: the media sender and its SSRC, the receiver and its own.
	m.Add("Subject", fmt.Sprintf("%s:%s,%s:0", se.device, formatSSRC(se.ssrc), se.reg.serverID))
	m.Add("Content-Type", "Application/SDP")
	m.Body = offerSDP(se.reg.serverID, ip, se.srv.cfg.MediaPort, se.ssrc)
	se.log.Info("gb28181: INVITE", "attempt", se.attempts, "ssrc", formatSSRC(se.ssrc), "media", net.JoinHostPort(ip, strconv.Itoa(se.srv.cfg.MediaPort)),
		"call_id", se.dlg.callID)
	return outgoing{c, m}
}

func via(ip string, port int) string {
	return fmt.Sprintf("SIP/2.0/TCP %s;rport;branch=%s%s", net.JoinHostPort(ip, strconv.Itoa(port)), branchMagic, randomToken(10))
}

// inDialog builds a request of the dialog (ACK or BYE), from castd.
func (d *dialog) inDialog(method string, seq uint32, ip string) *sip.Message {
	m := &sip.Message{Method: method, RequestURI: d.requestURI}
	m.Add("Via", via(ip, d.conn.localPort))
	m.Add("From", d.from)
	m.Add("To", d.to)
	m.Add("Call-ID", d.callID)
	m.Add("CSeq", sip.CSeq{Seq: seq, Method: method}.String())
	m.Add("Max-Forwards", "70")
	m.Add("User-Agent", userAgent)
	return m
}

// ack acknowledges the 200 OK of the INVITE (same CSeq number).
func (d *dialog) ack(ip string) *sip.Message { return d.inDialog(sip.MethodAck, d.cseq, ip) }

// bye hangs up the call.
func (d *dialog) bye(ip string) *sip.Message {
	d.cseq++
	d.ended = true
	return d.inDialog(sip.MethodBye, d.cseq, ip)
}
