// Package sip reads and writes SIP messages (RFC 3261 §7) over a stream
// transport, as GB28181 devices speak it over TCP: requests and responses,
// headers in their long and compact forms, folded header lines, and a body
// whose size Content-Length gives. It also parses the header values a
// GB28181 server needs (addresses, Via, CSeq). It knows nothing of
// transactions or dialogs.
package sip

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits of one message; a larger one is an error and the connection is
// not worth reading further.
const (
	MaxHeaderBytes = 16 << 10 // start line and headers
	MaxBodyBytes   = 64 << 10
	maxHeaders     = 100
)

// Version is the protocol name and version of every start line.
const Version = "SIP/2.0"

// Methods castd sends or answers.
const (
	MethodRegister = "REGISTER"
	MethodInvite   = "INVITE"
	MethodAck      = "ACK"
	MethodBye      = "BYE"
	MethodCancel   = "CANCEL"
	MethodMessage  = "MESSAGE"
	MethodOptions  = "OPTIONS"
	MethodNotify   = "NOTIFY"
	MethodInfo     = "INFO"
)

// Header is one header field; Name is as received (compact forms expanded)
// and is compared without regard to case.
type Header struct {
	Name  string
	Value string
}

// Message is a SIP request (Method set) or response (StatusCode set).
type Message struct {
	Method     string
	RequestURI string
	StatusCode int
	Reason     string
	Headers    []Header
	Body       []byte
}

// IsRequest reports whether m is a request.
func (m *Message) IsRequest() bool { return m.Method != "" }

// Get returns the first value of the named header, or "".
func (m *Message) Get(name string) string {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Add appends a header.
func (m *Message) Add(name, value string) { m.Headers = append(m.Headers, Header{name, value}) }

// Set replaces the named header's values with one, or appends it.
func (m *Message) Set(name, value string) {
	for i, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			m.Headers[i].Value = value
			m.Headers = deleteAfter(m.Headers, i+1, name)
			return
		}
	}
	m.Add(name, value)
}

func deleteAfter(hs []Header, from int, name string) []Header {
	out := hs[:from]
	for _, h := range hs[from:] {
		if !strings.EqualFold(h.Name, name) {
			out = append(out, h)
		}
	}
	return out
}

// String is the start line, for logs.
func (m *Message) String() string {
	if m.IsRequest() {
		return m.Method + " " + m.RequestURI
	}
	return strconv.Itoa(m.StatusCode) + " " + m.Reason
}

// AppendTo appends m in wire form to dst, with a Content-Length that
// matches its body (any other is replaced).
func (m *Message) AppendTo(dst []byte) []byte {
	if m.IsRequest() {
		dst = fmt.Appendf(dst, "%s %s %s\r\n", m.Method, m.RequestURI, Version)
	} else {
		dst = fmt.Appendf(dst, "%s %03d %s\r\n", Version, m.StatusCode, m.Reason)
	}
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, "Content-Length") {
			continue
		}
		dst = fmt.Appendf(dst, "%s: %s\r\n", h.Name, h.Value)
	}
	dst = fmt.Appendf(dst, "Content-Length: %d\r\n\r\n", len(m.Body))
	return append(dst, m.Body...)
}

// compactForms are the one-letter header names of RFC 3261 §7.3.3 (and
// the extensions GB28181 devices use).
var compactForms = map[string]string{
	"i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
	"c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To", "v": "Via",
	"o": "Event", "u": "Allow-Events", "r": "Refer-To", "b": "Referred-By", "x": "Session-Expires",
}

// ErrTooLarge is matched (errors.Is) by the error of a message over the limits.
var ErrTooLarge = errors.New("sip: message too large")

// ReadMessage reads one message from r. Empty lines before it (RFC 5626
// keep-alives) are skipped. A malformed message is an error; the stream is
// then out of step and should be closed.
func ReadMessage(r *bufio.Reader) (*Message, error) {
	lr := lineReader{r: r, left: MaxHeaderBytes}
	var line string
	for {
		l, err := lr.line()
		if err != nil {
			return nil, err
		}
		if l != "" {
			line = l
			break
		}
		lr.left = MaxHeaderBytes // keep-alives do not count
	}
	m := &Message{}
	if err := m.parseStartLine(line); err != nil {
		return nil, err
	}
	for {
		l, err := lr.line()
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		if l == "" {
			break
		}
		if l[0] == ' ' || l[0] == '\t' { // folded onto the previous line
			if len(m.Headers) == 0 {
				return nil, errors.New("sip: continuation line before any header")
			}
			last := &m.Headers[len(m.Headers)-1]
			last.Value += " " + strings.TrimSpace(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		name = strings.TrimSpace(name)
		if !ok || !isToken(name) {
			return nil, fmt.Errorf("sip: malformed header line %q", clip(l))
		}
		if long, ok := compactForms[strings.ToLower(name)]; ok {
			name = long
		}
		if len(m.Headers) == maxHeaders {
			return nil, fmt.Errorf("%w: more than %d headers", ErrTooLarge, maxHeaders)
		}
		m.Add(name, strings.TrimSpace(value))
	}
	n, err := contentLength(m)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		m.Body = make([]byte, n)
		if _, err := io.ReadFull(r, m.Body); err != nil {
			return nil, fmt.Errorf("sip: read %d-byte body of %s: %w", n, m, unexpectedEOF(err))
		}
	}
	return m, nil
}

func (m *Message) parseStartLine(line string) error {
	a, rest, ok1 := strings.Cut(line, " ")
	b, c, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 {
		return fmt.Errorf("sip: malformed start line %q", clip(line))
	}
	if strings.EqualFold(a, Version) { // a status line
		code, err := strconv.Atoi(b)
		if err != nil || len(b) != 3 || code < 100 || code > 699 {
			return fmt.Errorf("sip: bad status code in %q", clip(line))
		}
		m.StatusCode, m.Reason = code, c
		return nil
	}
	if !strings.EqualFold(c, Version) {
		return fmt.Errorf("sip: not a SIP/2.0 message: %q", clip(line))
	}
	if !isToken(a) || b == "" {
		return fmt.Errorf("sip: malformed request line %q", clip(line))
	}
	m.Method, m.RequestURI = a, b
	return nil
}

// contentLength reads Content-Length; a message without one has no body,
// as on a stream transport the length is mandatory (RFC 3261 §18.3).
func contentLength(m *Message) (int, error) {
	v := m.Get("Content-Length")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("sip: bad Content-Length %q", clip(v))
	}
	if n > MaxBodyBytes {
		return 0, fmt.Errorf("%w: %d-byte body (at most %d)", ErrTooLarge, n, MaxBodyBytes)
	}
	return n, nil
}

// lineReader reads CRLF (or bare LF) terminated lines within a byte budget.
type lineReader struct {
	r    *bufio.Reader
	left int
}

func (lr *lineReader) line() (string, error) {
	var buf []byte
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.left -= len(chunk)
		if lr.left < 0 {
			return "", fmt.Errorf("%w: headers over %d bytes", ErrTooLarge, MaxHeaderBytes)
		}
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		buf = bytes.TrimSuffix(bytes.TrimSuffix(buf, []byte("\n")), []byte("\r"))
		return string(buf), nil
	}
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// isToken reports whether s is a non-empty RFC 3261 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// clip shortens what goes into an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
