package rtc

import (
	"strings"
	"testing"
)

// chromeOffer is a trimmed browser offer: BUNDLE, audio then video, both
// sendrecv with rtcp-mux, Opus and H.264 among other codecs.
const chromeOffer = "v=0\r\n" +
	"o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=group:BUNDLE 0 1\r\n" +
	"a=extmap-allow-mixed\r\n" +
	"a=msid-semantic: WMS\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=rtcp:9 IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:Ab1x\r\n" +
	"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=ice-options:trickle\r\n" +
	"a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n" +
	"a=setup:actpass\r\n" +
	"a=mid:0\r\n" +
	"a=sendrecv\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtpmap:111 opus/48000/2\r\n" +
	"a=fmtp:111 minptime=10;useinbandfec=1\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=ssrc:1001 cname:x\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96 102\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=rtcp:9 IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:Ab1x\r\n" +
	"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" +
	"a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n" +
	"a=setup:actpass\r\n" +
	"a=mid:1\r\n" +
	"a=sendrecv\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtcp-rsize\r\n" +
	"a=rtpmap:96 VP8/90000\r\n" +
	"a=rtpmap:102 H264/90000\r\n" +
	"a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n" +
	"a=ssrc:2002 cname:x\r\n"

func TestCheckOffer(t *testing.T) {
	o, err := checkOffer(chromeOffer, false)
	if err != nil {
		t.Fatal(err)
	}
	if o.remoteUfrag != "Ab1x" || !o.hasAudio || !o.hasVideo {
		t.Fatalf("offer %+v", o)
	}
	// Video codecs come in castd's order of preference, not the offer's.
	if got := videoCodecNames(o.videoCodecs); got != "H.264, VP8" {
		t.Fatalf("offered video codecs %s, want H.264, VP8", got)
	}
	vp8Only := strings.Replace(chromeOffer, "a=rtpmap:102 H264/90000", "a=rtpmap:102 H263/90000", 1)
	if o, err := checkOffer(vp8Only, false); err != nil || videoCodecNames(o.videoCodecs) != "VP8" {
		t.Fatalf("a VP8-only offer: %v, codecs %v", err, o.videoCodecs)
	}
	cases := []struct {
		name   string
		play   bool
		edit   func(string) string
		errHas string
	}{
		{"no BUNDLE", false, func(s string) string { return strings.Replace(s, "a=group:BUNDLE 0 1\r\n", "", 1) }, "BUNDLE"},
		{"no rtcp-mux", false, func(s string) string { return strings.Replace(s, "a=rtcp-mux\r\n", "", 1) }, "rtcp-mux"},
		{"data channel", false, func(s string) string {
			return s + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n"
		}, "application"},
		{"publisher that only receives", false, func(s string) string { return strings.ReplaceAll(s, "a=sendrecv", "a=recvonly") }, "recvonly"},
		{"player that only sends", true, func(s string) string { return strings.ReplaceAll(s, "a=sendrecv", "a=sendonly") }, "sendonly"},
		{"inactive", true, func(s string) string { return strings.ReplaceAll(s, "a=sendrecv", "a=inactive") }, "inactive"},
		{"no video codec castd speaks", false, func(s string) string {
			s = strings.Replace(s, "a=rtpmap:102 H264/90000", "a=rtpmap:102 H263/90000", 1)
			return strings.Replace(s, "a=rtpmap:96 VP8/90000", "a=rtpmap:96 MP4V-ES/90000", 1)
		}, "none of the video codecs"},
		{"no Opus", false, func(s string) string { return strings.Replace(s, "opus/48000/2", "G722/8000", 1) }, "opus"},
		{"no ufrag", false, func(s string) string { return strings.ReplaceAll(s, "a=ice-ufrag:Ab1x\r\n", "") }, "ice-ufrag"},
		{"not SDP", false, func(string) string { return "hello" }, "parse"},
		{"huge", false, func(s string) string { return s + strings.Repeat("a=x:y\r\n", maxSDPBytes/6) }, "larger"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := checkOffer(c.edit(chromeOffer), c.play)
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.errHas)
			}
		})
	}
	if _, err := checkOffer(strings.ReplaceAll(chromeOffer, "a=sendrecv", "a=recvonly"), true); err != nil {
		t.Fatalf("a recvonly player: %v", err)
	}
}

const pionAnswer = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n" +
	"a=candidate:1 1 udp 2130706431 10.0.0.5 8000 typ host\r\na=end-of-candidates\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n" +
	"a=candidate:1 1 udp 2130706431 10.0.0.5 8000 typ host\r\n"

func TestWithCandidates(t *testing.T) {
	got := withCandidates(pionAnswer, []candidate{{host: "192.0.2.1", port: 8000}, {host: "192.0.2.1", port: 8000, tcp: true}})
	if strings.Contains(got, "10.0.0.5") {
		t.Fatal("the gathered candidates must be gone")
	}
	sections := strings.Split(got, "m=")
	if len(sections) != 3 {
		t.Fatalf("media sections changed: %q", got)
	}
	for _, sec := range sections[1:] {
		if !strings.Contains(sec, "a=candidate:0 1 udp 2130706431 192.0.2.1 8000 typ host generation 0\r\n") ||
			!strings.Contains(sec, "a=candidate:1 1 tcp 1526726399 192.0.2.1 8000 typ host tcptype passive\r\n") ||
			strings.Count(sec, "a=end-of-candidates") != 1 {
			t.Fatalf("section lacks castd's candidates: %q", sec)
		}
	}
	if !strings.HasSuffix(got, "\r\n") || strings.Contains(got, "\r\n\r\n") {
		t.Fatalf("bad line endings: %q", got)
	}
}

func TestParseEIP(t *testing.T) {
	cases := []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"1.2.3.4", "1.2.3.4", 0, true},
		{"1.2.3.4:9000", "1.2.3.4", 9000, true},
		{"[2001:db8::1]:9000", "2001:db8::1", 9000, true},
		{"2001:db8::1", "2001:db8::1", 0, true},
		{"rtc.example.com", "rtc.example.com", 0, true},
		{"rtc.example.com:8000", "rtc.example.com", 8000, true},
		{"", "", 0, false},
		{"host:0", "", 0, false},
		{"host:99999", "", 0, false},
		{"bad host", "", 0, false},
		{"a\r\nb", "", 0, false},
		{"::% ", "", 0, false}, // found by FuzzParseEIP: a zone is no candidate
		{"[fe80::1%eth0]:8000", "", 0, false},
		{"1.2.3.4:0", "", 0, false},
	}
	for _, c := range cases {
		h, p, err := parseEIP(c.in)
		if (err == nil) != c.ok || c.ok && (h != c.host || p != c.port) {
			t.Errorf("parseEIP(%q) = %q, %d, %v", c.in, h, p, err)
		}
	}
}
