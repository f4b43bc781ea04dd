package player

import (
	"net/url"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/stamp"
)

func TestWHEPEndpoint(t *testing.T) {
	tests := []struct {
		in, want string // want "" is an error
	}{
		{"webrtc://127.0.0.1/live/s1", "http://127.0.0.1:1985/rtc/v1/whep/?app=live&stream=s1"},
		{"webrtc://example.com:2000/live/s1?schema=https&vhost=v", "https://example.com:2000/rtc/v1/whep/?app=live&stream=s1&vhost=v"},
		{"webrtc://[::1]/a/b/c", "http://[::1]:1985/rtc/v1/whep/?app=a%2Fb&stream=c"},
		{"WEBRTC://h/live/x/", "http://h:1985/rtc/v1/whep/?app=live&stream=x"},
		{"whep+http://h:1985/rtc/v1/whep/?app=live&stream=x", "http://h:1985/rtc/v1/whep/?app=live&stream=x"},
		{"whep+https://h/whep/x", "https://h/whep/x"},
		{"webrtc://h/livestream", ""},
		{"webrtc://h/", ""},
		{"webrtc:///live/x", ""},
		{"webrtc://h/live/x?schema=ftp", ""},
		{"whep+http:///x", ""},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := whepEndpoint(u)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s: got %s, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNewWebRTCPlayer(t *testing.T) {
	for _, u := range []string{"webrtc://127.0.0.1/live/s", "whep+http://127.0.0.1:1985/rtc/v1/whep/?app=live&stream=s"} {
		p, err := New(u, Options{})
		if _, ok := p.(*webrtcPlayer); err != nil || !ok {
			t.Errorf("New(%s) = %T, %v", u, p, err)
		}
	}
	if _, err := New("webrtc://127.0.0.1/nostream", Options{}); err == nil {
		t.Error("New accepted a webrtc:// URL without app and stream")
	}
}

func TestIsSlice(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    bool
	}{
		{"empty", nil, false},
		{"non-IDR slice", []byte{0x41, 0x9a}, true},
		{"IDR slice", []byte{0x65, 0x88}, true},
		{"SPS", []byte{0x67, 0x42}, false},
		{"SEI", []byte{0x06, 0x05}, false},
		{"FU-A of an IDR", []byte{0x7c, 0x85, 0x88}, true},
		{"FU-A of an SEI", []byte{0x7c, 0x86, 0x05}, false},
		{"FU-A cut", []byte{0x7c}, false},
		{"STAP-A SPS PPS", []byte{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}, false},
		{"STAP-A SPS slice", []byte{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x65, 0x88}, true},
		{"STAP-A size past the end", []byte{0x78, 0, 9, 0x65, 0x88}, false},
		{"STAP-A zero size", []byte{0x78, 0, 0, 0, 2, 0x65, 0x88}, false},
	}
	for _, tt := range tests {
		if got := isSlice(tt.payload); got != tt.want {
			t.Errorf("%s: isSlice = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// stampSEI is castbench's stamp as an H.264 SEI NAL unit.
func stampSEI(t testing.TB, s stamp.Stamp) []byte {
	t.Helper()
	sei, err := av.BuildSEIUserData(av.CodecH264, [16]byte([]byte(stamp.UUID)), s.AppendData(nil))
	if err != nil {
		t.Fatal(err)
	}
	return sei
}

// stapA aggregates NAL units in one RTP payload.
func stapA(nalus ...[]byte) []byte {
	b := []byte{0x78}
	for _, n := range nalus {
		b = append(append(b, byte(len(n)>>8), byte(len(n))), n...)
	}
	return b
}

// fuA splits a NAL unit into FU-A payloads of at most size bytes of it.
func fuA(nalu []byte, size int) [][]byte {
	var out [][]byte
	hdr, rest := nalu[0], nalu[1:]
	for first := true; len(rest) > 0; first = false {
		n := min(size, len(rest))
		fu := hdr & 0x1f
		if first {
			fu |= 0x80
		}
		if n == len(rest) {
			fu |= 0x40
		}
		out = append(out, append([]byte{hdr&0xe0 | rtpFUA, fu}, rest[:n]...))
		rest = rest[n:]
	}
	return out
}

func TestRTPH264Frames(t *testing.T) {
	sent := time.Now().Add(-50 * time.Millisecond)
	sei := stampSEI(t, stamp.Stamp{SentAt: sent.UnixNano(), Seq: 1})
	idr := append([]byte{0x65}, make([]byte, 3000)...)
	type pkt struct {
		ts      uint32
		marker  bool
		payload []byte
	}
	var pkts []pkt
	// A key frame: parameter sets and the stamp aggregated, the slice in
	// fragments, the marker on the last.
	pkts = append(pkts, pkt{0, false, stapA([]byte{0x67, 0x42, 0, 0x1f}, []byte{0x68, 0xce}, sei)})
	frags := fuA(idr, 1000)
	for i, f := range frags {
		pkts = append(pkts, pkt{0, i == len(frags)-1, f})
	}
	// The stamp and the slice in packets of their own.
	pkts = append(pkts, pkt{3600, false, sei}, pkt{3600, true, []byte{0x41, 0x9a, 1}})
	// A frame without stamp whose marker was lost: it ends when the next
	// timestamp comes.
	pkts = append(pkts, pkt{7200, false, []byte{0x41, 0x9a, 2}}, pkt{10800, true, []byte{0x41, 0x9a, 3}})
	// Parameter sets alone are no frame; nor is garbage.
	pkts = append(pkts, pkt{14400, true, stapA([]byte{0x67, 0x42, 0, 0x1f}, []byte{0x68, 0xce})}, pkt{18000, true, []byte{0x7c}})

	m := &Metrics{}
	rec := NewRecorder(m)
	rec.Connecting(time.Now())
	var f rtpH264Frames
	for i, p := range pkts {
		f.packet(time.Now(), &rtp.Packet{Header: rtp.Header{Timestamp: p.ts, Marker: p.marker, SequenceNumber: uint16(i)}, Payload: p.payload}, rec)
	}
	res := rec.Finish(time.Now(), nil)
	if res.Frames != 4 || res.Stamps != 2 || m.Latency.Count() != 2 {
		t.Fatalf("frames %d stamps %d latencies %d, want 4, 2, 2", res.Frames, res.Stamps, m.Latency.Count())
	}
	if p50 := time.Duration(m.Latency.Percentile(50)) * time.Microsecond; p50 < 50*time.Millisecond || p50 > 5*time.Second {
		t.Errorf("latency p50 %s, want about 50 ms", p50)
	}
	if got := rec.lastFrameTS; got != 120 {
		t.Errorf("last frame at %d ms, want 120 (RTP 10800 at 90 kHz)", got)
	}
}

func FuzzRTPH264Frames(f *testing.F) {
	f.Add([]byte{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x65, 0x88}, false)
	f.Add([]byte{0x7c, 0x85, 0x88, 1, 2}, true)
	f.Add(stampSEI(f, stamp.Stamp{SentAt: 1, Seq: 2}), false)
	f.Add([]byte{0x41, 0x9a}, true)
	m := &Metrics{}
	rec := NewRecorder(m)
	var frames rtpH264Frames
	ts := uint32(0)
	f.Fuzz(func(t *testing.T, payload []byte, marker bool) {
		frames.packet(time.Now(), &rtp.Packet{Header: rtp.Header{Timestamp: ts, Marker: marker}, Payload: payload}, rec)
		if marker {
			ts += 3000
		}
		if len(frames.head) > maxStampSearch {
			t.Fatalf("kept %d bytes of a frame, limit %d", len(frames.head), maxStampSearch)
		}
	})
}
