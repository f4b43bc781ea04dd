package sip

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzReadMessage: any bytes give messages or an error, never a panic or
// more than the limits; what is read writes back to a message that reads
// the same.
func FuzzReadMessage(f *testing.F) {
	for _, s := range []string{register, keepalive, inviteOK, compact, trying, "\r\n\r\n" + register + keepalive,
		"SIP/2.0 403 Forbidden\r\nl: 3\r\n\r\nabc", "INVITE sip:x@y SIP/2.0\r\nContent-Length: 70000\r\n\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for range 10 {
			m, err := ReadMessage(r)
			if err != nil {
				return
			}
			if len(m.Body) > MaxBodyBytes || len(m.Headers) > maxHeaders {
				t.Fatalf("limits exceeded: %d body bytes, %d headers", len(m.Body), len(m.Headers))
			}
			wire := m.AppendTo(nil)
			back, err := ReadMessage(bufio.NewReader(bytes.NewReader(wire)))
			if err != nil {
				t.Fatalf("re-reading %q: %v", wire, err)
			}
			if back.String() != m.String() || !bytes.Equal(back.Body, m.Body) {
				t.Fatalf("round trip changed %q into %q", m.String(), back.String())
			}
			for _, h := range []string{"From", "To", "Contact"} {
				_, _ = ParseAddress(m.Get(h))
			}
			_, _ = ParseVia(m.Get("Via"))
			_, _ = ParseCSeq(m.Get("CSeq"))
			_ = NewResponse(m, StatusOK, "tag").AppendTo(nil)
		}
	})
}
