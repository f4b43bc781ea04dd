package gb28181

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/castd/castd/internal/gb28181/sip"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/logging"
)

const (
	// sipWriteTimeout bounds one SIP write: a device that stops reading
	// must not hold a session.
	sipWriteTimeout = 5 * time.Second
	// sipIdleMin is the least time a SIP connection may stay silent:
	// devices send keep-alives every 60 s by default.
	sipIdleMin = 5 * time.Minute
)

// sipConn is one device's SIP TCP connection.
type sipConn struct {
	nc        net.Conn
	localIP   string // the address the device reached castd at
	localPort int
	log       *slog.Logger
	wmu       sync.Mutex
	done      chan struct{} // closed when the connection's reader ends
}

func (c *sipConn) send(m *sip.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.nc.SetWriteDeadline(time.Now().Add(sipWriteTimeout)); err != nil {
		return err
	}
	_, err := c.nc.Write(m.AppendTo(nil))
	return err
}

func (c *sipConn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// serveSIP reads SIP messages from one device connection until it closes
// or sends something that is not SIP.
func (s *Server) serveSIP(nc net.Conn) {
	c := &sipConn{nc: nc, done: make(chan struct{})}
	defer close(c.done)
	if a, ok := nc.LocalAddr().(*net.TCPAddr); ok {
		c.localIP, c.localPort = a.IP.String(), a.Port
		if v4 := a.IP.To4(); v4 != nil {
			c.localIP = v4.String()
		}
	}
	c.log = s.cfg.Log.With(logging.CID(ids.NewCID()), "client", nc.RemoteAddr().String())
	c.log.Info("gb28181: SIP connection")
	idle := max(3*s.cfg.Timeout, sipIdleMin)
	br := bufio.NewReader(nc)
	for {
		if err := nc.SetReadDeadline(time.Now().Add(idle)); err != nil {
			return
		}
		m, err := sip.ReadMessage(br)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				c.log.Info("gb28181: SIP connection closed")
			} else {
				c.log.Warn("gb28181: SIP connection closed on a bad message", "err", err)
			}
			return
		}
		s.handleSIP(c, m)
	}
}

// handleSIP answers a request or takes a response to castd's requests.
func (s *Server) handleSIP(c *sipConn, m *sip.Message) {
	if !m.IsRequest() {
		s.handleResponse(c, m)
		return
	}
	from, err := sip.ParseAddress(m.Get("From"))
	if err != nil || from.User == "" || m.Get("Call-ID") == "" || m.Get("Via") == "" {
		c.log.Warn("gb28181: SIP request without a device in From, a Call-ID or a Via", "msg", m.String())
		s.reply(c, m, sip.StatusBadRequest)
		return
	}
	if cs, err := sip.ParseCSeq(m.Get("CSeq")); err != nil || cs.Method != m.Method {
		c.log.Warn("gb28181: SIP request with a bad CSeq", "msg", m.String(), "cseq", m.Get("CSeq"))
		s.reply(c, m, sip.StatusBadRequest)
		return
	}
	device := from.User
	switch m.Method {
	case sip.MethodRegister:
		s.register(c, m, device, from)
	case sip.MethodMessage, sip.MethodNotify, sip.MethodInfo:
		se := s.device(device)
		if se == nil || se.api {
			// Not registered: SRS answers 403 too, to ask for a REGISTER.
			s.reply(c, m, sip.StatusForbidden)
			return
		}
		se.touchSIP(c)
		s.reply(c, m, sip.StatusOK)
	case sip.MethodOptions:
		s.reply(c, m, sip.StatusOK)
	case sip.MethodBye:
		se := s.device(device)
		if se == nil || !se.byeFromDevice(m.Get("Call-ID")) {
			s.reply(c, m, sip.StatusCallDoesNotExist)
			return
		}
		s.reply(c, m, sip.StatusOK)
		se.stop("the device sent BYE")
	case sip.MethodAck:
		// Acknowledges a final response castd never sends to INVITEs.
	default:
		c.log.Info("gb28181: SIP request not implemented", "msg", m.String())
		s.reply(c, m, sip.StatusNotImplemented)
	}
}

func (s *Server) reply(c *sipConn, req *sip.Message, code int) {
	res := sip.NewResponse(req, code, randomToken(8))
	res.Add("User-Agent", userAgent)
	if err := c.send(res); err != nil {
		c.log.Warn("gb28181: SIP send failed", "msg", res.String(), "err", err)
	}
}

// register answers a REGISTER: a new or known device is (re)bound to this
// connection and invited; Expires 0 ends its session.
func (s *Server) register(c *sipConn, m *sip.Message, device string, from sip.Address) {
	expires := 3600
	if v := m.Get("Expires"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			c.log.Warn("gb28181: REGISTER with a bad Expires", "device", device, "expires", v)
			s.reply(c, m, sip.StatusBadRequest)
			return
		}
		expires = n
	}
	uri, err := sip.ParseAddress(m.RequestURI)
	if err != nil || uri.User == "" {
		c.log.Warn("gb28181: REGISTER without a server id in its Request-URI", "device", device, "uri", m.RequestURI)
		s.reply(c, m, sip.StatusBadRequest)
		return
	}
	res := sip.NewResponse(m, sip.StatusOK, randomToken(8))
	res.Add("User-Agent", userAgent)
	if contact := m.Get("Contact"); contact != "" {
		res.Add("Contact", contact)
	}
	res.Add("Expires", strconv.Itoa(expires))
	// GB/T 28181-2016 §9.10.1: devices set their clock from this Date.
	res.Add("Date", time.Now().Format("2006-01-02T15:04:05.000"))
	if expires == 0 {
		if err := c.send(res); err != nil {
			c.log.Warn("gb28181: SIP send failed", "msg", res.String(), "err", err)
		}
		if se := s.device(device); se != nil && !se.api {
			se.stop("the device unregistered")
		}
		return
	}
	reg := registration{serverID: uri.User, domain: uri.Host, deviceHost: from.Host}
	se, err := s.bindRegister(device, reg)
	if err != nil {
		c.log.Warn("gb28181: REGISTER refused", "device", device, "err", err)
		s.reply(c, m, sip.StatusForbidden)
		return
	}
	if err := c.send(res); err != nil {
		c.log.Warn("gb28181: SIP send failed", "msg", res.String(), "err", err)
		return
	}
	se.onRegister(c, reg)
}

// bindRegister finds or makes the SIP session of a device; the SSRC of a
// new one is chosen here, unique among the sessions.
func (s *Server) bindRegister(device string, reg registration) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if se := s.byDevice[device]; se != nil {
		if se.api {
			return nil, ErrStreamBusy
		}
		if !se.stopping() {
			return se, nil
		}
		delete(s.byDevice, device) // ending: a new session replaces it
	}
	for range 16 {
		ssrc := newSSRC(reg.serverID)
		if s.bySSRC[ssrc] == nil {
			return s.newSessionLocked(device, false, ssrc), nil
		}
	}
	return nil, errors.New("gb28181: no free SSRC")
}

// handleResponse takes a device's response to an INVITE (or a BYE).
func (s *Server) handleResponse(c *sipConn, m *sip.Message) {
	cs, err := sip.ParseCSeq(m.Get("CSeq"))
	to, err2 := sip.ParseAddress(m.Get("To"))
	if err != nil || err2 != nil {
		c.log.Warn("gb28181: SIP response without a CSeq or a To", "msg", m.String())
		return
	}
	if cs.Method != sip.MethodInvite {
		return // a BYE's answer: nothing to do
	}
	se := s.device(to.User)
	if se == nil {
		c.log.Warn("gb28181: INVITE response for no session", "device", to.User, "msg", m.String())
		return
	}
	out, alias := se.onInviteResponse(c, m, cs, to)
	for _, o := range out {
		o.send(se.log)
	}
	if alias != 0 {
		s.addSSRC(alias, se)
	}
}

// addSSRC lets media with another SSRC reach a session: some devices send
// the one of their answer's y= instead of castd's.
func (s *Server) addSSRC(ssrc uint32, se *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySSRC[ssrc] == nil && s.byDevice[se.device] == se {
		s.bySSRC[ssrc] = se
	}
}
