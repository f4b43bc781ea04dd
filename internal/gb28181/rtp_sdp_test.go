package gb28181

import (
	"bytes"
	"strings"
	"testing"

	"github.com/castd/castd/internal/gb28181/gbtest"
)

func TestParseRTP(t *testing.T) {
	base := gbtest.AppendRTP(nil, true, 7, 90000, 0x0200001234&0xffffffff, []byte("payload"))[2:]
	p, err := parseRTP(base)
	if err != nil || !p.marker || p.pt != 96 || p.seq != 7 || p.ts != 90000 || p.ssrc != 0x0200001234&0xffffffff || string(p.payload) != "payload" {
		t.Fatalf("got %+v, %v", p, err)
	}
	withCSRC := append([]byte{0x82}, base[1:12]...)
	withCSRC = append(append(withCSRC, make([]byte, 8)...), "pl"...)
	withExt := append([]byte{0x90}, base[1:12]...)
	withExt = append(append(withExt, 0xbe, 0xde, 0, 1, 1, 2, 3, 4), "pl"...)
	padded := append([]byte{0xa0}, base[1:12]...)
	padded = append(append(padded, "pl"...), 0, 0, 3)
	for _, tc := range []struct {
		name string
		b    []byte
		want string
		err  bool
	}{
		{"csrc", withCSRC, "pl", false},
		{"extension", withExt, "pl", false},
		{"padding", padded, "pl", false},
		{"short", base[:11], "", true},
		{"version 1", append([]byte{0x40}, base[1:]...), "", true},
		{"csrc past the end", append([]byte{0x8f}, base[1:14]...), "", true},
		{"extension cut", append([]byte{0x90}, base[1:13]...), "", true},
		{"padding past the header", append(append([]byte{0xa0}, base[1:12]...), 0xff), "", true},
	} {
		p, err := parseRTP(tc.b)
		if (err != nil) != tc.err || (!tc.err && string(p.payload) != tc.want) {
			t.Errorf("%s: %+v, %v", tc.name, p, err)
		}
	}
	if !isRTCP([]byte{0x80, 200, 0, 6, 0, 0, 0, 1}) || isRTCP(base) || isRTCP([]byte{0x80, 200}) {
		t.Error("isRTCP")
	}
}

func TestOfferSDP(t *testing.T) {
	got := string(offerSDP("34020000002000000001", "10.0.0.2", 9000, 200001234))
	want := "v=0\r\no=34020000002000000001 0 0 IN IP4 10.0.0.2\r\ns=Play\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n" +
		"m=video 9000 TCP/RTP/AVP 96\r\na=recvonly\r\na=rtpmap:96 PS/90000\r\na=setup:passive\r\na=connection:new\r\ny=0200001234\r\n"
	if got != want {
		t.Errorf("offer:\n%q\nwant\n%q", got, want)
	}
}

func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, sdp string
		ssrc      uint32
		has       bool
		proto     string
		err       bool
	}{
		{"hikvision", "v=0\r\no=34020000001320000001 0 0 IN IP4 192.168.1.64\r\ns=Play\r\nc=IN IP4 192.168.1.64\r\nt=0 0\r\n" +
			"m=video 15060 TCP/RTP/AVP 96\r\na=setup:active\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\ny=0200001234\r\nf=\r\n", 200001234, true, "TCP/RTP/AVP", false},
		{"udp, bare newlines", "m=video 15060 RTP/AVP 96\ny=100\n", 100, true, "RTP/AVP", false},
		{"no y", "v=0\r\nm=video 1 TCP/RTP/AVP 96\r\n", 0, false, "TCP/RTP/AVP", false},
		{"empty", "", 0, false, "", false},
		{"bad y", "y=abc\r\n", 0, false, "", true},
		{"y too long", "y=12345678901\r\n", 0, false, "", true},
		{"y over 32 bits", "y=9999999999\r\n", 0, false, "", true},
		{"too many lines", strings.Repeat("a=x\n", maxSDPLines+1), 0, false, "", true},
	} {
		a, err := parseAnswer([]byte(tc.sdp))
		if (err != nil) != tc.err || (!tc.err && (a.ssrc != tc.ssrc || a.hasSSRC != tc.has || a.proto != tc.proto)) {
			t.Errorf("%s: %+v, %v", tc.name, a, err)
		}
	}
}

func TestNewSSRC(t *testing.T) {
	for range 100 {
		s := formatSSRC(newSSRC("34020000002000000001"))
		if len(s) != 10 || !strings.HasPrefix(s, "020000") {
			t.Fatalf("SSRC %s", s)
		}
	}
	if s := formatSSRC(newSSRC("short")); !strings.HasPrefix(s, "000000") {
		t.Errorf("SSRC of a short server id: %s", s)
	}
	if s := formatSSRC(newSSRC("340ab00000")); !strings.HasPrefix(s, "000000") {
		t.Errorf("SSRC of a server id with letters: %s", s)
	}
}

// FuzzParseRTP: any packet gives a payload inside it or an error.
func FuzzParseRTP(f *testing.F) {
	f.Add(gbtest.AppendRTP(nil, true, 1, 2, 3, []byte{0, 0, 1, 0xba})[2:])
	f.Add([]byte{0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 5})
	f.Add([]byte{0xbf, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseRTP(b)
		if err == nil && (len(p.payload) > len(b) || !bytes.Contains(b, p.payload)) {
			t.Fatalf("payload of %d bytes from %d", len(p.payload), len(b))
		}
		_ = isRTCP(b)
	})
}

// FuzzParseAnswer: any SDP gives an answer or an error, never a panic.
func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte("v=0\r\nm=video 15060 TCP/RTP/AVP 96\r\ny=0200001234\r\n"))
	f.Add([]byte("y=\r\nm=\r\n=\r\n"))
	f.Add(offerSDP("a", "1.2.3.4", 9000, 42))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseAnswer(b)
		if err == nil && a.hasSSRC && !strings.Contains(string(b), "y=") {
			t.Fatal("an SSRC from nowhere")
		}
	})
}
