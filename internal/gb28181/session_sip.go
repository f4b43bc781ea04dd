package gb28181

import (
	"time"

	"github.com/castd/castd/internal/gb28181/sip"
)

// onRegister binds the session to the connection of the device's latest
// REGISTER. A device that registers again while invited did not get (or
// lost) the INVITE: it is invited again at once, as SRS does.
func (se *session) onRegister(c *sipConn, reg registration) {
	se.mu.Lock()
	defer se.mu.Unlock()
	se.sip, se.reg, se.lastSIP = c, reg, time.Now()
	if se.state == dialogInviting {
		se.state = dialogNone
	}
	se.log.Info("gb28181: device registered", "server_id", reg.serverID, "domain", reg.domain, "client", c.nc.RemoteAddr().String())
	select {
	case se.wake <- struct{}{}:
	default:
	}
}

// touchSIP notes a message from the device (a keep-alive...).
func (se *session) touchSIP(c *sipConn) {
	se.mu.Lock()
	defer se.mu.Unlock()
	se.lastSIP = time.Now()
	if se.sip == nil || se.sip.isClosed() {
		se.sip = c
	}
}

// byeFromDevice reports whether callID is the session's call, and marks it
// ended by the device.
func (se *session) byeFromDevice(callID string) bool {
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.state == dialogNone || se.dlg.callID != callID {
		return false
	}
	se.dlg.ended = true
	se.lastSIP = time.Now()
	return true
}

// onInviteResponse takes the device's answer to the current INVITE. It
// returns the ACK to send and the SSRC of the device's y= when it differs.
func (se *session) onInviteResponse(c *sipConn, m *sip.Message, cs sip.CSeq, to sip.Address) ([]outgoing, uint32) {
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.dlg.callID != m.Get("Call-ID") || cs.Seq != se.dlg.cseq || se.state == dialogNone {
		se.log.Info("gb28181: response to an old INVITE ignored", "msg", m.String())
		return nil, 0
	}
	se.lastSIP = time.Now()
	switch {
	case m.StatusCode < 200:
		return nil, 0
	case m.StatusCode >= 300:
		se.log.Warn("gb28181: the device refused the INVITE; inviting again later", "status", m.StatusCode,
			"reason", m.Reason, "in", se.srv.cfg.Reinvite)
		se.state = dialogNone
		se.nextInvite = time.Now().Add(se.srv.cfg.Reinvite)
		return nil, 0
	}
	// A 2xx: acknowledge it, also when it is a retransmission.
	se.dlg.to = m.Get("To")
	if contact, err := sip.ParseAddress(m.Get("Contact")); err == nil {
		se.dlg.requestURI = contact.URI
	}
	var alias uint32
	if se.state == dialogInviting {
		se.state = dialogAnswered
		ans, err := parseAnswer(m.Body)
		switch {
		case err != nil:
			se.log.Warn("gb28181: bad SDP in the INVITE answer", "err", err)
		case ans.proto != "" && ans.proto != "TCP/RTP/AVP":
			se.log.Warn("gb28181: the device answered a transport other than RTP over TCP; castd only listens on TCP", "transport", ans.proto)
		}
		if ans.hasSSRC && ans.ssrc != se.ssrc {
			se.log.Info("gb28181: the device answered another SSRC; accepting both", "ours", formatSSRC(se.ssrc), "device", formatSSRC(ans.ssrc))
			alias = ans.ssrc
		}
		se.log.Info("gb28181: INVITE answered", "to_tag", to.Tag())
	}
	return []outgoing{{c, se.dlg.ack(se.srv.candidate(c))}}, alias
}
