package caster

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// ffmpegSDP is what ffmpeg's RTSP muxer announces for libx264 (veryfast,
// 64x64) and aac (44.1 kHz stereo).
const ffmpegSDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=tool:libavformat 61.7.100\r\n" +
	"m=video 0 RTP/AVP 96\r\nb=AS:200\r\na=rtpmap:96 H264/90000\r\n" +
	"a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QACqzZRCbARAAAAwAEAAADAMg8SJZY,aO+Pyw==; profile-level-id=64000A\r\n" +
	"a=control:streamid=0\r\n" +
	"m=audio 0 RTP/AVP 97\r\nb=AS:64\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\n" +
	"a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=121056E500\r\n" +
	"a=control:streamid=1\r\n"

// Parameter sets of x264 (64x64): veryfast (High, B-frames, POC type 0),
// veryfast with zerolatency (High, POC type 2) and ultrafast zerolatency
// (Constrained Baseline).
var (
	x264SPSBFrames   = mustHex("6764000aacd94426c044000003000400000300c83c489658")
	x264SPSNoBFrames = mustHex("6764000aacb421360220000003002000000651e244d4")
	x264SPSBaseline  = mustHex("6742c00ada109b011000000300100000030328f1226a")
	x264PPS          = mustHex("68ef8fcb")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestReadRTSPRequest(t *testing.T) {
	tests := []struct {
		name, in     string
		method, cseq string
		body         string
		status       int // an *rtspError's, 0 for none
		readErr      bool
	}{
		{name: "options", in: "OPTIONS rtsp://h/live/s RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf\r\n\r\n", method: "OPTIONS", cseq: "1"},
		{name: "bare LF", in: "OPTIONS * RTSP/1.0\nCSeq: 2\n\n", method: "OPTIONS", cseq: "2"},
		{name: "header case", in: "OPTIONS * RTSP/1.0\r\ncseq:   7 \r\n\r\n", method: "OPTIONS", cseq: "7"},
		{name: "body", in: "ANNOUNCE rtsp://h/a/b RTSP/1.0\r\nCSeq: 3\r\nContent-Length: 4\r\n\r\nv=0\nNEXT", method: "ANNOUNCE", cseq: "3", body: "v=0\n"},
		{name: "folded header", in: "SETUP rtsp://h/a/b RTSP/1.0\r\nCSeq: 4\r\nTransport: RTP/AVP/TCP;\r\n interleaved=0-1\r\n\r\n", method: "SETUP", cseq: "4"},
		{name: "no CSeq", in: "OPTIONS * RTSP/1.0\r\n\r\n", status: 400},
		{name: "RTSP 2.0", in: "OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n", status: 505},
		{name: "HTTP", in: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
		{name: "short request line", in: "OPTIONS RTSP/1.0\r\n\r\n", status: 400},
		{name: "header without colon", in: "OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n", status: 400},
		{name: "continuation first", in: "OPTIONS * RTSP/1.0\r\n x\r\n\r\n", status: 400},
		{name: "negative length", in: "ANNOUNCE * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -1\r\n\r\n", status: 400},
		{name: "huge body", in: "ANNOUNCE * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 70000\r\n\r\n", status: 413},
		{name: "too many headers", in: "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n" + strings.Repeat("X: y\r\n", 70) + "\r\n", status: 400},
		{name: "line too long", in: "OPTIONS /" + strings.Repeat("a", 5000) + " RTSP/1.0\r\n\r\n", status: 400},
		{name: "header too long", in: "OPTIONS * RTSP/1.0\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n", status: 400},
		{name: "truncated body", in: "ANNOUNCE * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 10\r\n\r\nv=0", readErr: true},
		{name: "truncated headers", in: "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n", readErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := readRTSPRequest(bufio.NewReaderSize(strings.NewReader(tt.in), 1024))
			var re *rtspError
			switch {
			case tt.status != 0:
				if !errors.As(err, &re) || re.status != tt.status {
					t.Fatalf("error %v, want status %d", err, tt.status)
				}
			case tt.readErr:
				if err == nil || errors.As(err, &re) {
					t.Fatalf("error %v, want a read error", err)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if req.method != tt.method || req.cseq != tt.cseq || string(req.body) != tt.body {
					t.Fatalf("got %s cseq %q body %q", req.method, req.cseq, req.body)
				}
			}
		})
	}
	t.Run("folded value", func(t *testing.T) {
		req, err := readRTSPRequest(bufio.NewReader(strings.NewReader(tests[4].in)))
		if err != nil || req.headers.Get("Transport") != "RTP/AVP/TCP; interleaved=0-1" {
			t.Fatalf("Transport %q, %v", req.headers.Get("Transport"), err)
		}
	})
}

func TestRTSPResponse(t *testing.T) {
	r := &rtspResponse{status: 461}
	r.set("Session", "abc")
	got := string(r.appendTo(nil, "5", "castd/1"))
	want := "RTSP/1.0 461 Unsupported Transport\r\nCSeq: 5\r\nServer: castd/1\r\nSession: abc\r\n\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestParseRTSPTransport(t *testing.T) {
	tests := []struct {
		in       string
		tcp      bool
		channels [2]int
		ports    [2]int
		status   int
	}{
		{in: "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record", tcp: true, channels: [2]int{0, 1}},
		{in: "RTP/AVP/TCP;unicast;mode=\"RECORD\"", tcp: true, channels: [2]int{-1, -1}},
		{in: "RTP/AVP/TCP;interleaved=4", tcp: true, channels: [2]int{4, 5}},
		{in: "RTP/AVP;unicast;client_port=5000-5001;mode=record", channels: [2]int{-1, -1}, ports: [2]int{5000, 5001}},
		{in: "RTP/AVP/UDP;unicast;client_port=6000-6001", channels: [2]int{-1, -1}, ports: [2]int{6000, 6001}},
		// The first spec the caster can take wins.
		{in: "RTP/AVP;multicast, RTP/AVP/TCP;interleaved=2-3", tcp: true, channels: [2]int{2, 3}},
		{in: "RTP/AVP;multicast;ttl=4", status: 461},
		{in: "RTP/AVP/TCP;interleaved=0-1;mode=play", status: 461},
		{in: "RTP/SAVP;unicast", status: 461},
		{in: "", status: 461},
		{in: "RTP/AVP/TCP;interleaved=300-301", status: 400},
		{in: "RTP/AVP;client_port=x-y", status: 400},
	}
	for _, tt := range tests {
		tr, err := parseRTSPTransport(tt.in)
		var re *rtspError
		if tt.status != 0 {
			if !errors.As(err, &re) || re.status != tt.status {
				t.Errorf("%q: error %v, want status %d", tt.in, err, tt.status)
			}
			continue
		}
		if err != nil || tr.tcp != tt.tcp || tr.channels != tt.channels || tr.clientPorts != tt.ports {
			t.Errorf("%q: got %+v, %v", tt.in, tr, err)
		}
	}
	tcp := rtspTransport{tcp: true, channels: [2]int{2, 3}}
	if got := tcp.reply([2]int{}); got != "RTP/AVP/TCP;unicast;interleaved=2-3;mode=record" {
		t.Errorf("TCP reply %q", got)
	}
	udp := rtspTransport{clientPorts: [2]int{5000, 5001}}
	if got := udp.reply([2]int{57200, 57201}); got != "RTP/AVP;unicast;client_port=5000-5001;server_port=57200-57201;mode=record" {
		t.Errorf("UDP reply %q", got)
	}
}

func TestReadInterleaved(t *testing.T) {
	in := []byte{'$', 1, 0, 3, 'a', 'b', 'c', '$', 0, 0, 0, 'x'}
	r := bufio.NewReader(bytes.NewReader(in))
	buf := make([]byte, 1<<16)
	ch, p, err := readInterleaved(r, buf)
	if err != nil || ch != 1 || string(p) != "abc" {
		t.Fatalf("first frame: %d %q %v", ch, p, err)
	}
	if ch, p, err = readInterleaved(r, buf); err != nil || ch != 0 || len(p) != 0 {
		t.Fatalf("empty frame: %d %q %v", ch, p, err)
	}
	if _, _, err = readInterleaved(r, buf); err == nil {
		t.Fatal("a frame that is not '$' was read")
	}
	r = bufio.NewReader(bytes.NewReader([]byte{'$', 0, 0, 9, 1, 2}))
	if _, _, err = readInterleaved(r, buf); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated frame: %v", err)
	}
}

func TestParseSDP(t *testing.T) {
	s, err := parseSDP([]byte(ffmpegSDP))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.media) != 2 {
		t.Fatalf("%d media", len(s.media))
	}
	v, a := s.media[0], s.media[1]
	if v.kind != "video" || v.payloadType != 96 || v.encoding != "H264" || v.clockRate != 90000 || v.control != "streamid=0" ||
		v.fmtp["packetization-mode"] != "1" || v.fmtp["profile-level-id"] != "64000A" {
		t.Errorf("video %+v", v)
	}
	if a.kind != "audio" || a.encoding != "MPEG4-GENERIC" || a.clockRate != 44100 || a.channels != 2 ||
		a.fmtp["config"] != "121056E500" || a.fmtp["sizelength"] != "13" || a.control != "streamid=1" {
		t.Errorf("audio %+v", a)
	}

	bad := []string{
		"",                                 // no version
		"v=1\r\n",                          // another version
		"v=0\r\nm=video\r\n",               // short media line
		"v=0\r\nm=video 0 RTP/AVP 300\r\n", // payload type out of range
		"v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264\r\n", // no clock rate
		"v=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100/0\r\n",
		"v=0\r\nnot a line\r\n",
		"v=0\r\n" + strings.Repeat("m=video 0 RTP/AVP 96\r\n", maxSDPMedia+1),
	}
	for _, in := range bad {
		if _, err := parseSDP([]byte(in)); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
	// Attributes of other payload types and unknown lines are skipped.
	s, err = parseSDP([]byte("v=0\na=control:rtsp://h/live/s\nm=video 0 RTP/AVP 96 97\na=rtpmap:97 VP8/90000\na=rtpmap:96 H265/90000\nx=y\n"))
	if err != nil || s.control != "rtsp://h/live/s" || s.media[0].encoding != "H265" {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestNewRTSPTrack(t *testing.T) {
	s, err := parseSDP([]byte(ffmpegSDP))
	if err != nil {
		t.Fatal(err)
	}
	v, err := newRTSPTrack(s.media[0])
	if err != nil || v.codec != av.CodecH264 || len(v.paramSets) != 2 ||
		!bytes.Equal(v.paramSets[0], x264SPSBFrames) || !bytes.Equal(v.paramSets[1], x264PPS) {
		t.Fatalf("video %+v %v", v, err)
	}
	a, err := newRTSPTrack(s.media[1])
	if err != nil || a.codec != av.CodecAAC || a.aacConfig.SampleRate != 44100 || a.aacConfig.Channels != 2 ||
		a.aac != (aacFormat{13, 3, 3}) {
		t.Fatalf("audio %+v %v", a, err)
	}

	media := func(kind, enc string, fmtp map[string]string) sdpMedia {
		return sdpMedia{kind: kind, encoding: enc, clockRate: 90000, payloadType: 96, fmtp: fmtp}
	}
	h265, err := newRTSPTrack(media("video", "H265", map[string]string{"sprop-vps": "QAEMAf//", "sprop-sps": "QgEB", "sprop-pps": "RAHA"}))
	if err != nil || h265.codec != av.CodecH265 || len(h265.paramSets) != 3 {
		t.Fatalf("H265 %+v %v", h265, err)
	}
	opus, err := newRTSPTrack(media("audio", "OPUS", nil))
	if err != nil || opus.codec != av.CodecUnknown || opus.why == "" {
		t.Fatalf("opus %+v %v", opus, err)
	}
	refused := []sdpMedia{
		media("video", "H264", map[string]string{"packetization-mode": "2"}),
		media("video", "H264", map[string]string{"sprop-parameter-sets": "!!!"}),
		media("video", "H265", map[string]string{"sprop-max-don-diff": "2"}),
		media("audio", "MPEG4-GENERIC", map[string]string{"mode": "CELP-cbr", "config": "1210"}),
		media("audio", "MPEG4-GENERIC", map[string]string{"mode": "AAC-hbr", "sizelength": "13"}),                 // no config
		media("audio", "MPEG4-GENERIC", map[string]string{"mode": "AAC-hbr", "config": "1210"}),                   // no sizelength
		media("audio", "MPEG4-GENERIC", map[string]string{"mode": "AAC-hbr", "sizelength": "13", "config": "zz"}), // bad hex
		media("audio", "MPEG4-GENERIC", map[string]string{"mode": "AAC-hbr", "sizelength": "13", "ctsdeltalength": "4", "config": "1210"}),
		{kind: "video", encoding: "H264", clockRate: 1},
	}
	for _, m := range refused {
		if tr, err := newRTSPTrack(m); err == nil {
			t.Errorf("%+v accepted as %+v", m, tr)
		}
	}
}

func TestParseRTSPPath(t *testing.T) {
	tests := []struct{ url, app, stream string }{
		{"rtsp://127.0.0.1:554/live/livestream", "live", "livestream"},
		{"rtsp://h/live/livestream.sdp", "live", "livestream"},
		{"rtsp://h/live/cam/?token=1", "live", "cam"},
		{"rtsp://h/a/b/cam", "a/b", "cam"},
		{"rtsp://h/stream", "", ""},
		{"rtsp://h/live/", "", ""},
		{"http://h/live/s", "", ""},
		{"rtsp://h/live/a%20b", "", ""},
		{"rtsp://h/live/[stream]", "", ""},
		{"rtsp://h/../s", "", ""},
	}
	for _, tt := range tests {
		app, stream, err := parseRTSPPath(tt.url)
		if tt.app == "" {
			if err == nil {
				t.Errorf("%s: accepted as %s/%s", tt.url, app, stream)
			}
			continue
		}
		if err != nil || app != tt.app || stream != tt.stream {
			t.Errorf("%s: %q %q %v", tt.url, app, stream, err)
		}
	}
}

func TestTrackFor(t *testing.T) {
	mk := func(controls ...string) *rtspConn {
		rc := &rtspConn{announceURL: "rtsp://127.0.0.1:554/live/cam"}
		for _, c := range controls {
			rc.tracks = append(rc.tracks, &rtspTrack{media: sdpMedia{control: c}})
		}
		return rc
	}
	tests := []struct {
		controls []string
		session  string
		url      string
		want     int // track index, -1 for none
	}{
		{[]string{"streamid=0", "streamid=1"}, "", "rtsp://127.0.0.1:554/live/cam/streamid=1", 1},
		{[]string{"streamid=0", "streamid=1"}, "", "rtsp://localhost/live/cam/streamid=0", 0},
		{[]string{"trackID=1", "trackID=2"}, "rtsp://h/live/cam/", "rtsp://h/live/cam/trackID=2", 1},
		{[]string{"rtsp://h/live/cam/v", "rtsp://h/live/cam/a"}, "", "rtsp://h/live/cam/a", 1},
		{[]string{"*"}, "", "rtsp://h/live/cam", 0},
		{[]string{"streamid=0"}, "", "rtsp://h/live/cam/streamid=9", -1},
		{[]string{"", ""}, "", "rtsp://h/live/cam", 0}, // no controls: in SDP order
	}
	for _, tt := range tests {
		rc := mk(tt.controls...)
		rc.sdp.control = tt.session
		got := rc.trackFor(tt.url)
		want := (*rtspTrack)(nil)
		if tt.want >= 0 {
			want = rc.tracks[tt.want]
		}
		if got != want {
			t.Errorf("%v %s: got %p, want track %d", tt.controls, tt.url, got, tt.want)
		}
	}
}

func TestAACSplit(t *testing.T) {
	f := aacFormat{sizeLength: 13, indexLength: 3, indexDeltaLength: 3}
	// Two AUs of 3 and 2 bytes: AU-headers-length 32 bits, then
	// size<<3|index for each (RFC 3640 3.3.6).
	two := []byte{0, 32, 0, 3 << 3, 0, 2 << 3, 'a', 'b', 'c', 'd', 'e'}
	u, err := f.split(two)
	if err != nil || u.fragment || len(u.units) != 2 || string(u.units[0]) != "abc" || string(u.units[1]) != "de" {
		t.Fatalf("two AUs: %+v %v", u, err)
	}
	// One AU of 300 bytes with 4 in this packet: a fragment.
	frag := []byte{0, 16, 300 >> 5, 300 << 3 & 0xff, 1, 2, 3, 4}
	if u, err = f.split(frag); err != nil || !u.fragment || u.fragSize != 300 || len(u.units[0]) != 4 {
		t.Fatalf("fragment: %+v %v", u, err)
	}
	lbr := aacFormat{sizeLength: 6, indexLength: 2, indexDeltaLength: 2}
	if u, err = lbr.split([]byte{0, 8, 2 << 2, 'x', 'y'}); err != nil || len(u.units) != 1 || string(u.units[0]) != "xy" {
		t.Fatalf("AAC-lbr: %+v %v", u, err)
	}
	bad := [][]byte{
		{0},                                 // no AU-headers-length
		{0, 64, 0, 8},                       // headers beyond the payload
		{0, 0, 'a'},                         // no header
		{0, 16, 0, 3<<3 | 1, 'a', 'b', 'c'}, // interleaved (index 1)
		{0, 32, 0, 3 << 3, 0, 9 << 3, 'a', 'b', 'c', 'd'}, // second AU beyond the data
		{0, 16, 0, 0},       // an AU of 0 bytes
		{0, 16, 0xff, 0xf8}, // an AU beyond any ADTS frame
	}
	for _, b := range bad {
		if u, err := f.split(b); err == nil {
			t.Errorf("% x split into %+v", b, u)
		}
	}
}

func TestAACDepacketizer(t *testing.T) {
	d := &aacDepacketizer{format: aacFormat{sizeLength: 13, indexLength: 3, indexDeltaLength: 3}}
	header := func(size int) []byte { return []byte{0, 16, byte(size >> 5), byte(size << 3)} }
	two := []byte{0, 32, 0, 1 << 3, 0, 2 << 3, 'a', 'b', 'c'}
	out, err := d.push(nil, two, 1000, true, false, 1024)
	if err != nil || len(out) != 2 || out[0].timestamp != 1000 || out[1].timestamp != 2024 || string(out[1].data) != "bc" {
		t.Fatalf("two AUs: %+v %v", out, err)
	}
	// A 6-byte AU in three fragments.
	out = nil
	for i, part := range []string{"ab", "cd", "ef"} {
		if out, err = d.push(out, append(header(6), part...), 5000, i == 2, false, 1024); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) != 1 || string(out[0].data) != "abcdef" || out[0].timestamp != 5000 {
		t.Fatalf("fragments: %+v", out)
	}
	// A lost middle fragment drops the AU; the next one comes through.
	out, _ = d.push(nil, append(header(6), "ab"...), 6000, false, false, 1024)
	out, _ = d.push(out, append(header(6), "ef"...), 6000, true, true, 1024)
	out, err = d.push(out, append(header(1), 'z'), 7024, true, false, 1024)
	if err != nil || len(out) != 1 || string(out[0].data) != "z" {
		t.Fatalf("after a loss: %+v %v", out, err)
	}
	// A fragment that ends early is an error, not a frame.
	if out, err = d.push(nil, append(header(6), "ab"...), 8000, true, false, 1024); err == nil || len(out) != 0 {
		t.Fatalf("short fragmented AU: %+v %v", out, err)
	}
}

// rtpH264 builds an H.264 access unit's payloads as RFC 6184 mode 1 does:
// parameter sets in a STAP-A, units over mtu in FU-A fragments.
func rtpH264(nalus [][]byte, mtu int) [][]byte {
	var out [][]byte
	var stap []byte
	for _, n := range nalus {
		if t := n[0] & 0x1f; t == 7 || t == 8 {
			if stap == nil {
				stap = []byte{h264STAPA}
			}
			stap = append(stap, byte(len(n)>>8), byte(len(n)))
			stap = append(stap, n...)
			continue
		}
		if stap != nil {
			out, stap = append(out, stap), nil
		}
		if len(n) <= mtu {
			out = append(out, n)
			continue
		}
		body := n[1:]
		for off := 0; off < len(body); off += mtu {
			end := min(off+mtu, len(body))
			h := n[0] & 0x1f
			if off == 0 {
				h |= 0x80
			}
			if end == len(body) {
				h |= 0x40
			}
			out = append(out, append([]byte{n[0]&0xe0 | h264FUA, h}, body[off:end]...))
		}
	}
	if stap != nil {
		out = append(out, stap)
	}
	return out
}

func slice(typ byte, n int, seed byte) []byte {
	b := make([]byte, n)
	b[0] = typ
	for i := 1; i < n; i++ {
		b[i] = byte(i) + seed
	}
	return b
}

func TestNALUDepacketizerH264(t *testing.T) {
	d := newNALUDepacketizer(av.CodecH264)
	idr := slice(0x65, 3000, 1)
	key := [][]byte{x264SPSBFrames, x264PPS, idr}
	var out []videoAU
	push := func(nalus [][]byte, ts uint32, lostFirst bool) {
		t.Helper()
		payloads := rtpH264(nalus, 1000)
		for i, p := range payloads {
			var err error
			out, err = d.push(out, p, ts, i == len(payloads)-1, lostFirst && i == 0)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	push([][]byte{slice(0x41, 50, 0)}, 0, false) // before any keyframe: dropped
	push(key, 3000, false)
	push([][]byte{slice(0x41, 2500, 2)}, 6000, false)
	if len(out) != 2 || !out[0].keyframe || out[0].timestamp != 3000 || len(out[0].nalus) != 3 ||
		!bytes.Equal(out[0].nalus[2], idr) || out[1].keyframe || len(out[1].nalus[0]) != 2500 {
		t.Fatalf("got %d units: %+v", len(out), out)
	}
	// A loss drops frames until the next keyframe.
	out = out[:0]
	push([][]byte{slice(0x41, 2500, 3)}, 9000, true)
	push([][]byte{slice(0x41, 100, 4)}, 12000, false)
	push(key, 15000, false)
	if len(out) != 1 || out[0].timestamp != 15000 {
		t.Fatalf("after a loss: %+v", out)
	}
	// Without markers, a new timestamp ends the unit.
	out = out[:0]
	out, _ = d.push(out, slice(0x41, 10, 5), 18000, false, false)
	out, _ = d.push(out, slice(0x41, 10, 6), 21000, false, false)
	if len(out) != 1 || out[0].timestamp != 18000 {
		t.Fatalf("unit without marker: %+v", out)
	}
	bad := [][]byte{
		{0x80 | 0x41},         // forbidden bit
		{h264FUA, 0x85},       // FU-A without a body
		{h264STAPA, 0, 9, 1},  // STAP-A unit beyond the payload
		{h264STAPA},           // empty STAP-A
		{25, 0, 1},            // STAP-B
		{h264FUA, 0x45, 1, 2}, // an end without a start
	}
	for _, b := range bad {
		d := newNALUDepacketizer(av.CodecH264)
		if _, err := d.push(nil, b, 0, true, false); err == nil {
			t.Errorf("% x: no error", b)
		}
	}
}

func TestNALUDepacketizerH265(t *testing.T) {
	d := newNALUDepacketizer(av.CodecH265)
	vps, sps, pps := []byte{0x40, 0x01, 0x0c}, []byte{0x42, 0x01, 0x01}, []byte{0x44, 0x01, 0xc0}
	idr := slice(19<<1, 2000, 1) // IDR_W_RADL
	idr[1] = 1
	ap := []byte{h265AP << 1, 1}
	for _, n := range [][]byte{vps, sps, pps} {
		ap = append(ap, 0, byte(len(n)))
		ap = append(ap, n...)
	}
	fu := func(start, end bool, body []byte) []byte {
		h := byte(19)
		if start {
			h |= 0x80
		}
		if end {
			h |= 0x40
		}
		return append([]byte{h265FU << 1, 1, h}, body...)
	}
	var out []videoAU
	var err error
	for i, p := range [][]byte{ap, fu(true, false, idr[2:1000]), fu(false, true, idr[1000:])} {
		if out, err = d.push(out, p, 90000, i == 2, false); err != nil {
			t.Fatal(err)
		}
	}
	if len(out) != 1 || !out[0].keyframe || len(out[0].nalus) != 4 || !bytes.Equal(out[0].nalus[3], idr) {
		t.Fatalf("got %+v", out)
	}
	if _, err := d.push(nil, []byte{50 << 1, 1, 0}, 0, true, false); err == nil {
		t.Error("PACI accepted")
	}
}

func TestDTSEstimator(t *testing.T) {
	const f = 3600 // 40 ms frames in 90 kHz ticks
	tests := []struct {
		name  string
		depth int
		pts   []int64 // in frames, decoding order
		dts   []int64 // want, in frames (dtsLead offsets excluded)
	}{
		{"no reordering", 0, []int64{0, 1, 2, 3, 4}, []int64{0, 1, 2, 3, 4}},
		{"one B-frame", 1, []int64{0, 2, 1, 4, 3, 6, 5}, []int64{-1, 0, 1, 2, 3, 4, 5}},
		{"B-pyramid", 2, []int64{0, 4, 2, 1, 3, 8, 6, 5, 7}, []int64{-2, -1, 0, 1, 2, 3, 4, 5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newDTSEstimator(tt.depth)
			for i, p := range tt.pts {
				got := e.next(p * f)
				want := tt.dts[i] * f
				if tt.dts[i] < 0 { // before the first PTS: dtsLead apart
					want = tt.dts[i] * dtsLead
				}
				if got != want {
					t.Fatalf("frame %d (pts %d): dts %d, want %d", i, p*f, got, want)
				}
			}
		})
	}
	// A guess too shallow is raised: DTS never falls or passes the PTS
	// after the first reordered frame. A guess too deep is lowered after
	// reorderWindow frames.
	e := newDTSEstimator(0)
	pts := []int64{0, 3, 1, 2, 6, 4, 5, 9, 7, 8, 12, 10, 11}
	last := int64(-1 << 62)
	for i, p := range pts {
		d := e.next(p * f)
		if d < last || (i >= 4 && d > p*f) { // frames 2 and 3 show the wrong guess
			t.Fatalf("frame %d: dts %d after %d, pts %d", i, d, last, p*f)
		}
		last = d
	}
	if e.depth != 1 {
		t.Fatalf("depth %d after B-frames, want 1", e.depth)
	}
	e = newDTSEstimator(2)
	var d int64
	for i := range int64(reorderWindow + 5) {
		d = e.next(i * f)
	}
	if e.depth != 0 || d != (reorderWindow+4)*f {
		t.Fatalf("after %d frames in order: depth %d, dts %d", reorderWindow+5, e.depth, d)
	}
}

func TestTrackClock(t *testing.T) {
	var s sessionClock
	v := trackClock{rate: 90000}
	// Wraparound: 0xffffff00 then 0x100 is 512 ticks later.
	if got := v.at(0xffffff00, &s); got != 0 {
		t.Fatalf("first packet at %d", got)
	}
	if got := v.at(0x100, &s); got != 0x200 {
		t.Fatalf("after the wrap: %d", got)
	}
	if got := v.at(0xfffffff0, &s); got != 0xf0 {
		t.Fatalf("back across the wrap: %d", got)
	}
	// Audio at 44.1 kHz without a sender report starts at 0 too.
	a := trackClock{rate: 44100}
	a.at(12345, &s)
	if got := a.at(12345+44100, &s); got != 90000 {
		t.Fatalf("one second of audio is %d ticks", got)
	}

	// With sender reports, a track that starts 0.5 s after another (by the
	// wall clock) starts 0.5 s later on the timeline.
	s = sessionClock{}
	const ntp0 = uint64(3_900_000_000) << 32
	v, a = trackClock{rate: 90000}, trackClock{rate: 48000}
	v.report(senderReport{ntp: ntp0, rtp: 1000})
	a.report(senderReport{ntp: ntp0 + 1<<31, rtp: 5000}) // +0.5 s
	if got := v.at(1000, &s); got != 0 || !v.ntpUsed {
		t.Fatalf("video starts at %d", got)
	}
	if got := a.at(5000+4800, &s); got < 53999 || got > 54000 || !a.ntpUsed { // 0.5 s + 0.1 s, rounded
		t.Fatalf("audio starts at %d, want 54000", got)
	}
	// A report placing a track minutes away is not trusted.
	far := trackClock{rate: 90000}
	far.report(senderReport{ntp: ntp0 + 600<<32, rtp: 0})
	if got := far.at(0, &s); got != 0 || far.ntpUsed {
		t.Fatalf("far track at %d, ntpUsed %v", got, far.ntpUsed)
	}
}

func TestReorderDepthGuess(t *testing.T) {
	tests := []struct {
		codec av.Codec
		sps   []byte
		want  int
	}{
		{av.CodecH264, x264SPSBaseline, 0},
		{av.CodecH264, x264SPSNoBFrames, 0},
		{av.CodecH264, x264SPSBFrames, 2},
		{av.CodecH264, nil, 2},
		{av.CodecH265, nil, 2},
	}
	for _, tt := range tests {
		if got := reorderDepthGuess(tt.codec, [][]byte{tt.sps}); got != tt.want {
			t.Errorf("%v % x: %d, want %d", tt.codec, tt.sps, got, tt.want)
		}
	}
	if !slices.ContainsFunc([][]byte{x264SPSBFrames}, func(b []byte) bool { return hasParameterSets(av.CodecH264, [][]byte{b}) }) {
		t.Error("an SPS is not a parameter set")
	}
}

// captured is a mediaOutput that keeps what is written.
type captured struct{ msgs []*rtmp.Message }

func (c *captured) write(batch []rtmp.MediaMessage) error {
	for _, m := range batch {
		c.msgs = append(c.msgs, &rtmp.Message{Type: m.Type, Timestamp: m.Timestamp, Payload: bytes.Clone(m.Payload)})
	}
	return nil
}

func (c *captured) close() {}

// TestRTSPMediaParameterSetsAlone: a camera that sends SPS and PPS in a
// unit of their own, before each IDR, and no sprop-parameter-sets.
func TestRTSPMediaParameterSetsAlone(t *testing.T) {
	tr, err := newRTSPTrack(sdpMedia{kind: "video", encoding: "H264", clockRate: 90000, payloadType: 96})
	if err != nil {
		t.Fatal(err)
	}
	tr.setup = true
	out := &captured{}
	m := newRTSPMedia(slog.New(slog.DiscardHandler), []*rtspTrack{tr}, out)
	seq := uint16(0)
	send := func(ts uint32, marker bool, payload []byte) {
		t.Helper()
		if err := m.handle(rtpInput{data: marshalRTP(t, 96, seq, ts, marker, payload)}); err != nil {
			t.Fatal(err)
		}
		seq++
	}
	stap := rtpH264([][]byte{x264SPSBaseline, x264PPS}, 1200)[0]
	send(0, true, slice(0x41, 100, 0)) // a P-frame before anything: dropped
	send(3600, true, stap)
	send(3600, true, slice(0x65, 500, 1))
	send(7200, true, slice(0x41, 100, 2))
	s := summarize(t, out.msgs)
	if s.videoHeaders != 1 || s.keyframes != 1 || s.video != 2 || s.firstVideoTS != 0 || s.lastVideoTS != 40 {
		t.Fatalf("got %+v", s)
	}
}
