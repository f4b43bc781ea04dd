package sip

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// Realistic GB28181 traffic (GB/T 28181-2016 §9), as IPCs send it.
const (
	register = "REGISTER sip:34020000002000000001@3402000000 SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 192.168.1.64:5060;rport;branch=z9hG4bK1371463273\r\n" +
		"From: <sip:34020000001320000001@3402000000>;tag=2043466181\r\n" +
		"To: <sip:34020000001320000001@3402000000>\r\n" +
		"Call-ID: 1011047669\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Contact: <sip:34020000001320000001@192.168.1.64:5060>\r\n" +
		"Max-Forwards: 70\r\n" +
		"User-Agent: IP Camera\r\n" +
		"Expires: 3600\r\n" +
		"Content-Length: 0\r\n\r\n"
	keepalive = "MESSAGE sip:34020000002000000001@3402000000 SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 192.168.1.64:5060;rport;branch=z9hG4bK1419087424\r\n" +
		"From: <sip:34020000001320000001@3402000000>;tag=1505286373\r\n" +
		"To: <sip:34020000002000000001@3402000000>\r\n" +
		"Call-ID: 1215483436\r\n" +
		"CSeq: 20 MESSAGE\r\n" +
		"Content-Type: Application/MANSCDP+xml\r\n" +
		"Max-Forwards: 70\r\n" +
		"Content-Length: 168\r\n\r\n" +
		"<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n<Notify>\r\n<CmdType>Keepalive</CmdType>\r\n<SN>5</SN>\r\n" +
		"<DeviceID>34020000001320000001</DeviceID>\r\n<Status>OK</Status>\r\n</Notify>\r\n"
	inviteOK = "SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/TCP 127.0.0.1:5060;rport=5060;branch=z9hG4bKabcdef\r\n" +
		"From: <sip:34020000002000000001@3402000000>;tag=SRS1a2b3c4d\r\n" +
		"To: <sip:34020000001320000001@3402000000>;tag=1317850046\r\n" +
		"Call-ID: 6f1b2d3c4e5f6a7b\r\n" +
		"CSeq: 712 INVITE\r\n" +
		"Contact: <sip:34020000001320000001@192.168.1.64:5060>\r\n" +
		"Content-Type: application/sdp\r\n" +
		"User-Agent: IP Camera\r\n" +
		"Content-Length: 191\r\n\r\n" +
		"v=0\r\no=34020000001320000001 1800 1800 IN IP4 192.168.1.64\r\ns=Play\r\nc=IN IP4 192.168.1.64\r\nt=0 0\r\n" +
		"m=video 15060 TCP/RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\na=setup:active\r\ny=0200000001\r\n"
	compact = "BYE sip:34020000002000000001@3402000000 SIP/2.0\r\n" +
		"v: SIP/2.0/TCP 192.168.1.64:5060;branch=z9hG4bK77\r\n" +
		"f: <sip:34020000001320000001@3402000000>;tag=1317850046\r\n" +
		"t: <sip:34020000002000000001@3402000000>\r\n" +
		"  ;tag=SRS1a2b3c4d\r\n" +
		"i: 6f1b2d3c4e5f6a7b\r\n" +
		"CSeq: 713 BYE\r\n" +
		"l: 0\r\n\r\n"
	trying = "SIP/2.0 100 Trying\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n" +
		"To: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
)

func read(s string) (*Message, error) { return ReadMessage(bufio.NewReader(strings.NewReader(s))) }

func TestReadGB28181Messages(t *testing.T) {
	m, err := read(register)
	if err != nil {
		t.Fatal(err)
	}
	if !m.IsRequest() || m.Method != MethodRegister || m.RequestURI != "sip:34020000002000000001@3402000000" ||
		m.Get("expires") != "3600" || m.Get("CALL-ID") != "1011047669" || len(m.Body) != 0 {
		t.Errorf("REGISTER: %+v", m)
	}
	m, err = read(keepalive)
	if err != nil || m.Method != MethodMessage || len(m.Body) != 168 || !strings.Contains(string(m.Body), "Keepalive") {
		t.Errorf("MESSAGE: %+v, %v", m, err)
	}
	m, err = read(inviteOK)
	if err != nil || m.IsRequest() || m.StatusCode != 200 || m.Reason != "OK" || !strings.HasSuffix(string(m.Body), "y=0200000001\r\n") {
		t.Errorf("200 OK: %+v, %v", m, err)
	}
	m, err = read(compact)
	if err != nil {
		t.Fatal(err)
	}
	if m.Get("Via") == "" || m.Get("Call-ID") != "6f1b2d3c4e5f6a7b" || m.Get("To") != "<sip:34020000002000000001@3402000000> ;tag=SRS1a2b3c4d" {
		t.Errorf("compact forms and folding: %+v", m.Headers)
	}
}

func TestReadSeveralFromOneStream(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("\r\n\r\n" + register + keepalive + "\r\n\r\n" + trying + inviteOK))
	var got []string
	for {
		m, err := ReadMessage(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, m.String())
	}
	want := "REGISTER sip:34020000002000000001@3402000000|MESSAGE sip:34020000002000000001@3402000000|100 Trying|200 OK"
	if strings.Join(got, "|") != want {
		t.Errorf("got %q", got)
	}
}

func TestReadErrors(t *testing.T) {
	long := "REGISTER sip:a@b SIP/2.0\r\nX: " + strings.Repeat("a", MaxHeaderBytes) + "\r\n\r\n"
	many := "REGISTER sip:a@b SIP/2.0\r\n" + strings.Repeat("X: 1\r\n", maxHeaders+1) + "\r\n"
	for _, tc := range []struct {
		name, in, want string
		tooLarge       bool
	}{
		{"http", "GET / HTTP/1.1\r\n\r\n", "not a SIP/2.0 message", false},
		{"one word", "HELLO\r\n\r\n", "malformed start line", false},
		{"bad status", "SIP/2.0 2000 OK\r\n\r\n", "bad status code", false},
		{"status too low", "SIP/2.0 099 X\r\n\r\n", "bad status code", false},
		{"bad method", "REG{ISTER sip:a@b SIP/2.0\r\n\r\n", "malformed request line", false},
		{"header without colon", "BYE sip:a@b SIP/2.0\r\nVia\r\n\r\n", "malformed header line", false},
		{"fold first", "BYE sip:a@b SIP/2.0\r\n x\r\n\r\n", "continuation line", false},
		{"bad length", "BYE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n", "bad Content-Length", false},
		{"huge body", "BYE sip:a@b SIP/2.0\r\nContent-Length: 99999999\r\n\r\n", "body", true},
		{"long header", long, "headers over", true},
		{"many headers", many, "more than", true},
		{"cut headers", "BYE sip:a@b SIP/2.0\r\nVia: x", "unexpected EOF", false},
		{"cut body", "BYE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nabc", "unexpected EOF", false},
	} {
		_, err := read(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrTooLarge) != tc.tooLarge {
			t.Errorf("%s: %v, want %q (too large %v)", tc.name, err, tc.want, tc.tooLarge)
		}
	}
	if _, err := read(""); err != io.EOF {
		t.Errorf("empty stream: %v, want io.EOF", err)
	}
}

func TestWriteAndReadBack(t *testing.T) {
	m := &Message{Method: MethodInvite, RequestURI: "sip:34020000001320000001@3402000000"}
	m.Add("Via", "SIP/2.0/TCP 10.0.0.1:5060;rport;branch=z9hG4bKabc")
	m.Add("Content-Length", "999") // replaced by the body's length
	m.Add("Content-Type", "application/sdp")
	m.Body = []byte("v=0\r\n")
	wire := string(m.AppendTo(nil))
	want := "INVITE sip:34020000001320000001@3402000000 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:5060;rport;branch=z9hG4bKabc\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n"
	if wire != want {
		t.Fatalf("wire form:\n%q\nwant\n%q", wire, want)
	}
	back, err := read(wire)
	if err != nil || string(back.Body) != "v=0\r\n" || back.Get("Content-Length") != "5" {
		t.Errorf("read back: %+v, %v", back, err)
	}
	m.Set("via", "SIP/2.0/TCP x;branch=z9hG4bK1")
	m.Add("Via", "second")
	m.Set("Via", "only")
	if n := strings.Count(string(m.AppendTo(nil)), "Via:"); n != 1 || m.Get("VIA") != "only" {
		t.Errorf("Set left %d Via headers", n)
	}
	res := &Message{StatusCode: 200, Reason: "OK"}
	if s := string(res.AppendTo(nil)); s != "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n" {
		t.Errorf("response: %q", s)
	}
}

func TestNewResponse(t *testing.T) {
	req, err := read("MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP 1.1.1.1;branch=z9hG4bK1\r\nVia: SIP/2.0/TCP 2.2.2.2;branch=z9hG4bK2\r\n" +
		"From: <sip:dev@d>;tag=f\r\nTo: <sip:srv@d>\r\nCall-ID: c\r\nCSeq: 7 MESSAGE\r\nContent-Length: 0\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	res := NewResponse(req, StatusOK, "t1")
	wire := string(res.AppendTo(nil))
	want := "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 1.1.1.1;branch=z9hG4bK1\r\nVia: SIP/2.0/TCP 2.2.2.2;branch=z9hG4bK2\r\n" +
		"From: <sip:dev@d>;tag=f\r\nTo: <sip:srv@d>;tag=t1\r\nCall-ID: c\r\nCSeq: 7 MESSAGE\r\nContent-Length: 0\r\n\r\n"
	if wire != want {
		t.Errorf("got\n%q\nwant\n%q", wire, want)
	}
	if to := NewResponse(req, StatusTrying, "t1").Get("To"); to != "<sip:srv@d>" {
		t.Errorf("100 Trying got a To tag: %q", to)
	}
}
