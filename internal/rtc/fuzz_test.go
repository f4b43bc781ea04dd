package rtc

import (
	"strings"
	"testing"
	"time"
)

func FuzzParseAPIRequest(f *testing.F) {
	f.Add([]byte(`{"api":"http://h:1985/rtc/v1/play/","tid":"7b3c1a2","streamurl":"webrtc://h/live/s","clientip":null,"sdp":"v=0"}`))
	f.Add([]byte(`{"streamurl":"webrtc://h/live/s?vhost=v&eip=1.2.3.4","sdp":"` + strings.ReplaceAll(chromeOffer, "\r\n", `\r\n`) + `"}`))
	f.Add([]byte(`{"streamurl":"webrtc://[::1]:1985/a/b/c","sdp":"x","clientip":"::1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseAPIRequest(body)
		if err != nil {
			return
		}
		if r.SDP == "" || r.StreamURL == "" {
			t.Fatal("accepted a request without sdp or streamurl")
		}
		if su, err := parseStreamURL(r.StreamURL); err == nil && (su.App == "" || su.Stream == "") {
			t.Fatalf("stream URL %q gave app %q stream %q", r.StreamURL, su.App, su.Stream)
		}
	})
}

func FuzzCheckOffer(f *testing.F) {
	f.Add(chromeOffer, false)
	f.Add(strings.ReplaceAll(chromeOffer, "a=sendrecv", "a=recvonly"), true)
	f.Add(pionAnswer, true)
	f.Add("v=0\r\n", false)
	f.Fuzz(func(t *testing.T, text string, play bool) {
		o, err := checkOffer(text, play)
		if err == nil && (o.remoteUfrag == "" || !o.hasAudio && !o.hasVideo) {
			t.Fatalf("accepted an offer without ufrag or media: %+v", o)
		}
	})
}

func FuzzWithCandidates(f *testing.F) {
	f.Add(pionAnswer, "192.0.2.1", uint16(8000), false)
	f.Add(chromeOffer, "rtc.example.com", uint16(1), true)
	f.Add("", "::1", uint16(65535), false)
	f.Fuzz(func(t *testing.T, answer, host string, port uint16, tcp bool) {
		if validHostname(host) != nil {
			return
		}
		out := withCandidates(answer, []candidate{{host: host, port: int(port), tcp: tcp}})
		sections := strings.Count("\r\n"+answer, "\r\nm=")
		if got := strings.Count(out, "a=end-of-candidates"); got != sections {
			t.Fatalf("%d media sections, %d candidate lists", sections, got)
		}
		if strings.Count(out, "a=candidate:") != sections {
			t.Fatalf("stale candidates left in %q", out)
		}
	})
}

func FuzzH264Depacketizer(f *testing.F) {
	var seed []byte
	for _, p := range rtpOf([][]byte{testSPS, testPPS, testSlice(true, 0, 3000)}, 0, 0, rtpMaxPayload) {
		seed = append(seed, byte(len(p.payload)>>8), byte(len(p.payload)), 1)
		seed = append(seed, p.payload...)
	}
	f.Add(seed)
	f.Add([]byte{0, 3, 1, nalFUA, 0x85, 1, 0, 3, 0, nalFUA, 0x45, 2})
	f.Add([]byte{0, 5, 1, nalSTAPA, 0, 1, 0x65, 0})
	// The input is a list of packets: a 2-byte length, a flags byte (bit 0
	// the marker, bit 1 a loss before the packet, bit 2 a new timestamp),
	// then the payload.
	f.Fuzz(func(t *testing.T, in []byte) {
		d := newH264Depacketizer(func() {})
		var frames []*videoFrame
		ts := uint32(0)
		for seq := uint16(0); len(in) >= 3; seq++ {
			n := int(in[0])<<8 | int(in[1])
			flags := in[2]
			in = in[3:]
			n = min(n, len(in))
			if flags&2 != 0 {
				d.lost()
			}
			if flags&4 != 0 {
				ts += 3000
			}
			frames, _ = d.push(rtpPacket{seq: seq, timestamp: ts, marker: flags&1 != 0, payload: in[:n]}, frames[:0])
			for _, fr := range frames {
				size := 0
				for _, nalu := range fr.units {
					if len(nalu) == 0 {
						t.Fatal("empty NAL unit in a frame")
					}
					size += len(nalu)
				}
				if size > maxFrameBytes || len(fr.units) > maxFrameNALUs {
					t.Fatalf("frame of %d bytes, %d NAL units over the limits", size, len(fr.units))
				}
				// What comes out must go back out as RTP and in again unchanged.
				if !av264Valid(fr.units) {
					continue
				}
				back := &depacketizer{format: &h264Format{}}
				var got []*videoFrame
				var err error
				for _, p := range rtpOf(fr.units, 0, 1, rtpMaxPayload) {
					if got, err = back.push(p, got); err != nil {
						break
					}
				}
				if err != nil || len(got) != 1 || !equalNALUs(got[0].units, fr.units) {
					t.Fatalf("re-packetized frame does not come back: %v, %d frames", err, len(got))
				}
			}
			in = in[n:]
		}
	})
}

// av264Valid reports whether NAL units are ones the packetizer handles
// (a forbidden bit or a reserved type cannot be sent again).
func av264Valid(nalus [][]byte) bool {
	for _, n := range nalus {
		if n[0]&0x80 != 0 || n[0]&0x1f == 0 || n[0]&0x1f > 23 {
			return false
		}
	}
	return true
}

func FuzzReorderBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 0, 3, 0, 2, 0xff, 0xff, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		b := newReorderBuffer(50 * time.Millisecond)
		now := time.Unix(0, 0)
		delivered := 0
		pushed := 0
		for i := 0; i+1 < len(in); i += 2 {
			seq := uint16(in[i])<<8 | uint16(in[i+1])
			now = now.Add(time.Duration(in[i]%16) * time.Millisecond)
			out := b.push(rtpPacket{seq: seq}, now, nil)
			pushed++
			for j := 1; j < len(out); j++ {
				if int16(out[j].seq-out[j-1].seq) <= 0 {
					t.Fatalf("out of order: %d after %d", out[j].seq, out[j-1].seq)
				}
			}
			delivered += len(out)
			if b.held < 0 || b.held > reorderSlots {
				t.Fatalf("held %d", b.held)
			}
		}
		if delivered > pushed {
			t.Fatalf("delivered %d of %d packets", delivered, pushed)
		}
	})
}

func FuzzParseEIP(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4:9000", "[2001:db8::1]:9000", "rtc.example.com:8000", "a:b:c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, port, err := parseEIP(s)
		if err != nil {
			return
		}
		if port < 0 || port > 65535 || host == "" || strings.ContainsAny(host, " \r\n") {
			t.Fatalf("parseEIP(%q) = %q, %d", s, host, port)
		}
		// What is accepted goes into an SDP line: it must stay one line.
		line := candidate{host: host, port: port}.line(0)
		if strings.ContainsAny(line, "\r\n") {
			t.Fatalf("candidate line %q", line)
		}
	})
}

func FuzzIsBFrame(f *testing.F) {
	f.Add([]byte{0x01, 0xa0}, []byte{0x06, 1})
	f.Add(testSlice(true, 1, 20), []byte(nil))
	f.Add([]byte{0x41, 0x9c, 0x00, 0x00, 0x03, 0x01}, []byte{0x65})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var nalus [][]byte
		for _, n := range [][]byte{a, b} {
			if len(n) > 0 {
				nalus = append(nalus, n)
			}
		}
		isBFrame(nalus) // must not panic on any slice header
	})
}
