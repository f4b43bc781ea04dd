package sip

import "testing"

func TestParseAddress(t *testing.T) {
	for _, tc := range []struct {
		in                   string
		uri, user, host, tag string
		err                  bool
	}{
		{"<sip:34020000001320000001@3402000000>;tag=2043466181", "sip:34020000001320000001@3402000000", "34020000001320000001", "3402000000", "2043466181", false},
		{`"Camera 1" <sip:dev@192.168.1.64:5060;transport=tcp>`, "sip:dev@192.168.1.64:5060;transport=tcp", "dev", "192.168.1.64:5060", "", false},
		{"sip:dev@host;tag=x", "sip:dev@host", "dev", "host", "x", false},
		{"sip:dev:secret@host", "sip:dev:secret@host", "dev", "host", "", false},
		{"sip:host.example", "sip:host.example", "", "host.example", "", false},
		{"<sip:dev@host", "", "", "", "", true},
		{"<tel:+123>", "", "", "", "", true},
		{"sip:dev@", "", "", "", "", true},
	} {
		a, err := ParseAddress(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		if err != nil || a.URI != tc.uri || a.User != tc.user || a.Host != tc.host || a.Tag() != tc.tag {
			t.Errorf("%q: got %+v tag %q, %v", tc.in, a, a.Tag(), err)
		}
	}
}

func TestParseCSeqAndVia(t *testing.T) {
	c, err := ParseCSeq(" 20  MESSAGE ")
	if err != nil || c.Seq != 20 || c.Method != "MESSAGE" || c.String() != "20 MESSAGE" {
		t.Errorf("CSeq: %+v, %v", c, err)
	}
	for _, bad := range []string{"", "1", "x INVITE", "1 INVITE extra", "4294967296 BYE"} {
		if _, err := ParseCSeq(bad); err == nil {
			t.Errorf("CSeq %q accepted", bad)
		}
	}
	v, err := ParseVia("SIP/2.0/tcp 192.168.1.64:5060;rport;branch=z9hG4bK1371463273, SIP/2.0/UDP other")
	if err != nil || v.Transport != "TCP" || v.SentBy != "192.168.1.64:5060" || v.Branch != "z9hG4bK1371463273" {
		t.Errorf("Via: %+v, %v", v, err)
	}
	for _, bad := range []string{"", "SIP/2.0 host", "HTTP/1.1/TCP host", "SIP/2.0/TCP ;branch=x"} {
		if _, err := ParseVia(bad); err == nil {
			t.Errorf("Via %q accepted", bad)
		}
	}
	for in, want := range map[string]string{"1.2.3.4:5070": "1.2.3.4/5070", "1.2.3.4": "1.2.3.4/5060", "[::1]:9": "::1/9", "h:x": "h/5060"} {
		h, p := HostPort(in)
		if got := h + "/" + itoa(p); got != want {
			t.Errorf("HostPort(%q) = %s, want %s", in, got, want)
		}
	}
	if Param(`;a=1; B = "two" ;c`, "b") != "two" || Param(";a", "a") != "" || Param("", "a") != "" {
		t.Error("Param")
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
