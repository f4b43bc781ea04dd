// Package gbtest simulates a GB28181 device (an IPC) for tests: it
// registers over SIP, answers castd's INVITE, and sends H.264 and AAC in an
// MPEG program stream over RTP over TCP (RFC 4571), one pack per frame, as
// cameras do. It also makes that media with ffmpeg.
package gbtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/castd/castd/internal/gb28181/sip"
)

// Device is one simulated camera's SIP side.
type Device struct {
	ID       string // the device id, e.g. 34020000001320000001
	ServerID string // the platform id it registers with
	Domain   string // the SIP domain, e.g. 3402000000

	conn    net.Conn
	inbox   chan *sip.Message // closed when the reader ends, after readErr is set
	readErr error
	wmu     sync.Mutex
	cseq    int
	tag     string
	call    *Call // the last answered INVITE
	// held are messages read while waiting for a response, returned by
	// Next first. A Device is driven by one goroutine.
	held []*sip.Message
}

// Call is an INVITE the device answered.
type Call struct {
	Invite *sip.Message
	Media  string // host:port from the offer
	SSRC   uint32 // from the offer's y=
	Proto  string // the offer's m= transport
	toTag  string
}

// Dial connects a device to castd's SIP port.
func Dial(ctx context.Context, addr, id, serverID, domain string) (*Device, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	dev := &Device{ID: id, ServerID: serverID, Domain: domain, conn: conn,
		inbox: make(chan *sip.Message, 64), tag: "dev" + strconv.Itoa(int(time.Now().UnixNano()%1e6))}
	go dev.read()
	return dev, nil
}

func (d *Device) read() {
	br := bufio.NewReader(d.conn)
	for {
		m, err := sip.ReadMessage(br)
		if err != nil {
			d.readErr = err
			close(d.inbox)
			return
		}
		d.inbox <- m
	}
}

// Close closes the SIP connection.
func (d *Device) Close() error { return d.conn.Close() }

// Send writes a message.
func (d *Device) Send(m *sip.Message) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	_ = d.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := d.conn.Write(m.AppendTo(nil))
	return err
}

// Next returns the next message castd sent, waiting at most within.
func (d *Device) Next(within time.Duration) (*sip.Message, error) {
	if len(d.held) > 0 {
		m := d.held[0]
		d.held = d.held[1:]
		return m, nil
	}
	return d.next(within)
}

// NextRequest skips responses until castd sends a request of method.
func (d *Device) NextRequest(method string, within time.Duration) (*sip.Message, error) {
	deadline := time.Now().Add(within)
	for {
		m, err := d.Next(time.Until(deadline))
		if err != nil {
			return nil, fmt.Errorf("waiting for %s: %w", method, err)
		}
		if m.Method == method {
			return m, nil
		}
	}
}

// request sends a request from the device and waits for castd's final
// response.
func (d *Device) request(method, requestURI, to string, body []byte, extra ...sip.Header) (*sip.Message, error) {
	d.cseq++
	callID := fmt.Sprintf("%s-%d", d.tag, d.cseq)
	m := &sip.Message{Method: method, RequestURI: requestURI}
	host, port := d.localHostPort()
	m.Add("Via", fmt.Sprintf("SIP/2.0/TCP %s:%d;rport;branch=z9hG4bK%s%d", host, port, d.tag, d.cseq))
	m.Add("From", fmt.Sprintf("<sip:%s@%s>;tag=%s", d.ID, d.Domain, d.tag))
	m.Add("To", to)
	m.Add("Call-ID", callID)
	m.Add("CSeq", fmt.Sprintf("%d %s", d.cseq, method))
	m.Add("Max-Forwards", "70")
	m.Headers = append(m.Headers, extra...)
	m.Body = body
	if err := d.Send(m); err != nil {
		return nil, err
	}
	return d.response(callID, 5*time.Second)
}

// response waits for the final response of the call, leaving requests
// castd sends meanwhile (an INVITE) for later.
func (d *Device) response(callID string, within time.Duration) (*sip.Message, error) {
	deadline := time.Now().Add(within)
	var other []*sip.Message
	defer func() { d.held = append(other, d.held...) }()
	for {
		m, err := d.next(time.Until(deadline))
		if err != nil {
			return nil, err
		}
		if !m.IsRequest() && m.Get("Call-ID") == callID {
			if m.StatusCode >= 200 {
				return m, nil
			}
			continue
		}
		other = append(other, m)
	}
}

// next reads from the connection only, not from held.
func (d *Device) next(within time.Duration) (*sip.Message, error) {
	t := time.NewTimer(within)
	defer t.Stop()
	select {
	case m, ok := <-d.inbox:
		if !ok {
			return nil, fmt.Errorf("gbtest: SIP connection closed: %w", d.readErr)
		}
		return m, nil
	case <-t.C:
		return nil, errors.New("gbtest: no SIP message in time")
	}
}

func (d *Device) localHostPort() (string, int) {
	a, _ := d.conn.LocalAddr().(*net.TCPAddr)
	if a == nil {
		return "127.0.0.1", 5060
	}
	return a.IP.String(), a.Port
}

func (d *Device) serverURI() string { return "sip:" + d.ServerID + "@" + d.Domain }

// Register sends REGISTER with the given Expires and returns the response.
func (d *Device) Register(expires int) (*sip.Message, error) {
	host, port := d.localHostPort()
	return d.request(sip.MethodRegister, d.serverURI(), fmt.Sprintf("<sip:%s@%s>", d.ID, d.Domain), nil,
		sip.Header{Name: "Contact", Value: fmt.Sprintf("<sip:%s@%s:%d>", d.ID, host, port)},
		sip.Header{Name: "Expires", Value: strconv.Itoa(expires)})
}

// Keepalive sends the MESSAGE devices send every minute.
func (d *Device) Keepalive() (*sip.Message, error) {
	body := fmt.Sprintf("<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n"+
		"<SN>%d</SN>\r\n<DeviceID>%s</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n", d.cseq+1, d.ID)
	return d.request(sip.MethodMessage, d.serverURI(), "<"+d.serverURI()+">", []byte(body),
		sip.Header{Name: "Content-Type", Value: "Application/MANSCDP+xml"})
}

// AnswerInvite answers an INVITE with 100 Trying and 200 OK, announcing
// answerSSRC on its y= (0 keeps the offer's), and waits for the ACK.
func (d *Device) AnswerInvite(inv *sip.Message, answerSSRC uint32) (*Call, error) {
	c := &Call{Invite: inv, toTag: fmt.Sprintf("%s%d", d.tag, time.Now().UnixNano()%1e6)}
	var ip, port string
	for l := range strings.SplitSeq(string(inv.Body), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "c=IN IP4 "):
			ip = strings.TrimPrefix(l, "c=IN IP4 ")
		case strings.HasPrefix(l, "m=video "):
			f := strings.Fields(l)
			if len(f) >= 3 {
				port, c.Proto = f[1], f[2]
			}
		case strings.HasPrefix(l, "y="):
			n, err := strconv.ParseUint(strings.TrimPrefix(l, "y="), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("gbtest: bad y= in %q", inv.Body)
			}
			c.SSRC = uint32(n)
		}
	}
	if ip == "" || port == "" {
		return nil, fmt.Errorf("gbtest: no media address in the offer %q", inv.Body)
	}
	c.Media = net.JoinHostPort(ip, port)
	if err := d.Send(sip.NewResponse(inv, sip.StatusTrying, "")); err != nil {
		return nil, err
	}
	ok := sip.NewResponse(inv, sip.StatusOK, c.toTag)
	host, p := d.localHostPort()
	ok.Add("Contact", fmt.Sprintf("<sip:%s@%s:%d>", d.ID, host, p))
	ok.Add("Content-Type", "application/sdp")
	ssrc := c.SSRC
	if answerSSRC != 0 {
		ssrc = answerSSRC
	}
	ok.Body = fmt.Appendf(nil, "v=0\r\no=%s 0 0 IN IP4 %s\r\ns=Play\r\nc=IN IP4 %s\r\nt=0 0\r\nm=video 15060 TCP/RTP/AVP 96\r\n"+
		"a=sendonly\r\na=rtpmap:96 PS/90000\r\na=setup:active\r\na=connection:new\r\ny=%010d\r\nf=\r\n", d.ID, host, host, ssrc)
	if err := d.Send(ok); err != nil {
		return nil, err
	}
	ack, err := d.NextRequest(sip.MethodAck, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if ack.Get("Call-ID") != inv.Get("Call-ID") {
		return nil, fmt.Errorf("gbtest: ACK of call %q, want %q", ack.Get("Call-ID"), inv.Get("Call-ID"))
	}
	d.call = c
	return c, nil
}

// Bye hangs up the last answered call and returns castd's response.
func (d *Device) Bye() (*sip.Message, error) {
	if d.call == nil {
		return nil, errors.New("gbtest: no call to hang up")
	}
	inv := d.call.Invite
	d.cseq++
	m := &sip.Message{Method: sip.MethodBye, RequestURI: "sip:" + d.ServerID + "@" + d.Domain}
	host, port := d.localHostPort()
	m.Add("Via", fmt.Sprintf("SIP/2.0/TCP %s:%d;rport;branch=z9hG4bK%sbye%d", host, port, d.tag, d.cseq))
	m.Add("From", inv.Get("To")+";tag="+d.call.toTag)
	m.Add("To", inv.Get("From"))
	m.Add("Call-ID", inv.Get("Call-ID"))
	m.Add("CSeq", fmt.Sprintf("%d BYE", d.cseq))
	if err := d.Send(m); err != nil {
		return nil, err
	}
	return d.response(inv.Get("Call-ID"), 5*time.Second)
}
