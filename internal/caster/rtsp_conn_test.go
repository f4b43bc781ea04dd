package caster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/castd/castd/internal/protocol/rtmp"
)

// rtspCasterUnderTest runs an rtsp caster to output.
type rtspCasterUnderTest struct {
	addr   string
	logs   *logBuffer
	cancel context.CancelFunc
	wait   func()
}

func startRTSPCaster(t *testing.T, output string, ports [2]int) *rtspCasterUnderTest {
	t.Helper()
	leakCheck(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := StartRTSP(ctx, ln, output, ports, testOptions(logs))
	if err != nil {
		cancel()
		ln.Close()
		t.Fatal(err)
	}
	c := &rtspCasterUnderTest{addr: ln.Addr().String(), logs: logs, cancel: cancel, wait: wait}
	t.Cleanup(func() {
		cancel()
		wait()
		if t.Failed() {
			t.Logf("caster log:\n%s", logs.String())
		}
	})
	return c
}

func (c *rtspCasterUnderTest) url(path string) string { return "rtsp://" + c.addr + path }

// waitLog waits for the caster to log s.
func (c *rtspCasterUnderTest) waitLog(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(c.logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the caster never logged %q", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rtspClient is a minimal RTSP pusher.
type rtspClient struct {
	t    *testing.T
	nc   net.Conn
	br   *bufio.Reader
	cseq int
}

func dialRTSP(t *testing.T, addr string) *rtspClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rtspClient{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// do sends a request (headers as "Name: value" lines) and reads the answer.
func (c *rtspClient) do(method, url, body string, headers ...string) (int, textproto.MIMEHeader) {
	c.t.Helper()
	c.cseq++
	req := fmt.Sprintf("%s %s RTSP/1.0\r\nCSeq: %d\r\n", method, url, c.cseq)
	for _, h := range headers {
		req += h + "\r\n"
	}
	if body != "" {
		req += fmt.Sprintf("Content-Length: %d\r\n", len(body))
	}
	return c.raw(req + "\r\n" + body)
}

// raw sends bytes and reads one answer; status 0 means the connection closed.
func (c *rtspClient) raw(req string) (int, textproto.MIMEHeader) {
	c.t.Helper()
	if err := c.nc.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		c.t.Fatal(err)
	}
	if _, err := io.WriteString(c.nc, req); err != nil {
		c.t.Fatal(err)
	}
	tp := textproto.NewReader(c.br)
	line, err := tp.ReadLine()
	if err != nil {
		return 0, nil
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "RTSP/1.0" {
		c.t.Fatalf("status line %q", line)
	}
	status, _ := strconv.Atoi(f[1])
	h, err := tp.ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		c.t.Fatalf("headers: %v", err)
	}
	if got := h.Get("Cseq"); got != strconv.Itoa(c.cseq) && c.cseq > 0 && status != 400 {
		c.t.Fatalf("CSeq %q, want %d", got, c.cseq)
	}
	return status, h
}

// push announces the test SDP at path and sets up its tracks with
// transports (interleaved channels or client ports are filled in), then
// RECORDs; it returns the RECORD status and the SETUP answers.
func (c *rtspClient) push(url string, transports ...string) (int, []textproto.MIMEHeader) {
	c.t.Helper()
	if st, _ := c.do("ANNOUNCE", url, testSDP, "Content-Type: application/sdp"); st != 200 {
		c.t.Fatalf("ANNOUNCE: %d", st)
	}
	var setups []textproto.MIMEHeader
	session := ""
	for i, tr := range transports {
		hs := []string{"Transport: " + tr}
		if session != "" {
			hs = append(hs, "Session: "+session)
		}
		st, h := c.do("SETUP", fmt.Sprintf("%s/streamid=%d", url, i), "", hs...)
		if st != 200 {
			c.t.Fatalf("SETUP %d: %d", i, st)
		}
		session, _, _ = strings.Cut(h.Get("Session"), ";")
		setups = append(setups, h)
	}
	st, _ := c.do("RECORD", url, "", "Session: "+session, "Range: npt=0.000-")
	return st, setups
}

func (c *rtspClient) interleaved(ch int, b []byte) {
	c.t.Helper()
	frame := append([]byte{'$', byte(ch), byte(len(b) >> 8), byte(len(b))}, b...)
	if _, err := c.nc.Write(frame); err != nil {
		c.t.Fatal(err)
	}
}

// testSDP announces H.264 (Constrained Baseline: no reordering) and AAC
// LC 44.1 kHz stereo in AAC-hbr.
var testSDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=test\r\nt=0 0\r\n" +
	"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:streamid=0\r\n" +
	"m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\n" +
	"a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1210\r\n" +
	"a=control:streamid=1\r\n"

// testMedia makes the RTP packets of frames video frames at 25 fps (a
// keyframe first) and the AAC frames of the same time, in send order.
type testMedia struct {
	video, audio [][]byte
	srVideo      []byte
}

func makeTestMedia(t *testing.T, frames int) testMedia {
	t.Helper()
	var m testMedia
	seq, ts := uint16(65000), uint32(0xffff0000) // both wrap during the test
	for i := range frames {
		nalus := [][]byte{slice(0x41, 1800, byte(i))}
		if i == 0 {
			nalus = [][]byte{x264SPSBaseline, x264PPS, slice(0x65, 4000, 0)}
		}
		payloads := rtpH264(nalus, 1200)
		for j, p := range payloads {
			m.video = append(m.video, marshalRTP(t, 96, seq, ts+uint32(i*3600), j == len(payloads)-1, p))
			seq++
		}
	}
	aacFrames := frames * 40 * 44100 / 1000 / 1024
	for i := range aacFrames {
		au := slice(0x21, 200, byte(i))
		payload := append([]byte{0, 16, byte(len(au) >> 5), byte(len(au) << 3)}, au...)
		m.audio = append(m.audio, marshalRTP(t, 97, uint16(i), 7000+uint32(i*1024), true, payload))
	}
	sr, err := (&rtcp.SenderReport{SSRC: 1, NTPTime: 3_900_000_000 << 32, RTPTime: 0xffff0000}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m.srVideo = sr
	return m
}

func marshalRTP(t *testing.T, pt uint8, seq uint16, ts uint32, marker bool, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts,
		Marker: marker, SSRC: uint32(pt)}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// send interleaves the media in time order through send(track, rtcp, packet).
func (m testMedia) send(send func(track int, isRTCP bool, b []byte)) {
	send(0, true, m.srVideo)
	a := 0
	for i, v := range m.video {
		send(0, false, v)
		for a < len(m.audio) && a*len(m.video) < i*len(m.audio) {
			send(1, false, m.audio[a])
			a++
		}
	}
	for ; a < len(m.audio); a++ {
		send(1, false, m.audio[a])
	}
}

// checkPushed checks what the target got of makeTestMedia(frames).
func checkPushed(t *testing.T, media []*rtmp.Message, frames int) {
	t.Helper()
	s := summarize(t, media)
	audio := frames * 40 * 44100 / 1000 / 1024
	if s.videoHeaders != 1 || s.audioHeaders != 1 || s.keyframes != 1 || s.video != frames || s.audio != audio {
		t.Fatalf("the target got %+v, want %d video frames and %d audio", s, frames, audio)
	}
	if s.lastVideoTS-s.firstVideoTS != uint32(frames-1)*40 {
		t.Fatalf("video from %d ms to %d ms, want %d ms apart", s.firstVideoTS, s.lastVideoTS, (frames-1)*40)
	}
}

func TestRTSPPushOverTCP(t *testing.T) {
	tg := newTarget(t)
	c := startRTSPCaster(t, tg.url("[app]/[stream]"), [2]int{})
	cl := dialRTSP(t, c.addr)
	if st, h := cl.do("OPTIONS", c.url("/live/cam"), ""); st != 200 || !strings.Contains(h.Get("Public"), "ANNOUNCE") {
		t.Fatalf("OPTIONS: %d %v", st, h)
	}
	url := c.url("/live/cam.sdp")
	st, setups := cl.push(url, "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record", "RTP/AVP/TCP;unicast;mode=record")
	if st != 200 {
		t.Fatalf("RECORD: %d", st)
	}
	if got := setups[1].Get("Transport"); got != "RTP/AVP/TCP;unicast;interleaved=2-3;mode=record" {
		t.Fatalf("second SETUP: Transport %q", got)
	}
	if e := tg.next("publish", 2*time.Second); e.stream != "cam" || e.connect.App != "live" {
		t.Fatalf("published %s to app %s", e.stream, e.connect.App)
	}
	const frames = 50
	makeTestMedia(t, frames).send(func(track int, isRTCP bool, b []byte) {
		ch := 2 * track
		if isRTCP {
			ch++
		}
		cl.interleaved(ch, b)
	})
	cl.interleaved(9, []byte{1, 2, 3}) // a channel nobody set up: ignored
	if st, _ := cl.do("GET_PARAMETER", url, ""); st != 200 {
		t.Fatalf("GET_PARAMETER while recording: %d", st)
	}
	if st, _ := cl.do("TEARDOWN", url, ""); st != 200 {
		t.Fatalf("TEARDOWN: %d", st)
	}
	media, ended := tg.collect(2 * time.Second)
	if !ended {
		t.Fatal("the publish did not end at TEARDOWN")
	}
	checkPushed(t, media, frames)
	c.waitLog(t, "reason=TEARDOWN")
	if _, err := cl.br.ReadByte(); err == nil {
		t.Fatal("the connection is open after TEARDOWN")
	}
}

func TestRTSPPushOverUDP(t *testing.T) {
	tg := newTarget(t)
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lo := probe.LocalAddr().(*net.UDPAddr).Port &^ 1
	probe.Close()
	c := startRTSPCaster(t, tg.url("[app]/[stream]"), [2]int{lo, lo + 9})
	cl := dialRTSP(t, c.addr)
	var senders [2]*net.UDPConn
	var transports []string
	for i := range senders {
		if senders[i], err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			t.Fatal(err)
		}
		defer senders[i].Close()
		p := senders[i].LocalAddr().(*net.UDPAddr).Port
		transports = append(transports, fmt.Sprintf("RTP/AVP;unicast;client_port=%d-%d;mode=record", p, p+1))
	}
	st, setups := cl.push(c.url("/live/udpcam"), transports...)
	if st != 200 {
		t.Fatalf("RECORD: %d", st)
	}
	var servers [2]int
	for i, h := range setups {
		tr := h.Get("Transport")
		_, ports, _ := strings.Cut(tr, "server_port=")
		ports, _, _ = strings.Cut(ports, ";")
		r, err := parseRange(ports, 65535)
		if err != nil || r[0] < lo || r[1] > lo+9 || r[0]%2 != 0 || r[1] != r[0]+1 {
			t.Fatalf("SETUP %d: Transport %q", i, tr)
		}
		servers[i] = r[0]
	}
	tg.next("publish", 2*time.Second)
	const frames = 50
	makeTestMedia(t, frames).send(func(track int, isRTCP bool, b []byte) {
		port := servers[track]
		if isRTCP {
			port++
		}
		if _, err := senders[track].WriteToUDP(b, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Microsecond) // the loopback queue is deep, but not endless
	})
	// Without TEARDOWN, silence ends it after the idle timeout (400 ms).
	media, ended := tg.collect(3 * time.Second)
	if !ended {
		t.Fatal("the publish did not end when the RTP stopped")
	}
	checkPushed(t, media, frames)
	c.waitLog(t, "input idle: no RTP for 400ms")
	c.waitLog(t, "rtcp_sender_reports=1")
}

func TestRTSPRequestErrors(t *testing.T) {
	tg := newTarget(t)
	c := startRTSPCaster(t, tg.url("[app]/[stream]"), [2]int{})
	url := c.url("/live/errs")
	sdp := "Content-Type: application/sdp"
	tests := []struct {
		name  string
		steps func(cl *rtspClient) (int, textproto.MIMEHeader)
		want  int
		allow bool // a 405 with Allow
	}{
		{"DESCRIBE", func(cl *rtspClient) (int, textproto.MIMEHeader) { return cl.do("DESCRIBE", url, "") }, 405, true},
		{"PLAY", func(cl *rtspClient) (int, textproto.MIMEHeader) { return cl.do("PLAY", url, "") }, 405, true},
		{"unknown method", func(cl *rtspClient) (int, textproto.MIMEHeader) { return cl.do("BREW", url, "") }, 501, false},
		{"SETUP first", func(cl *rtspClient) (int, textproto.MIMEHeader) {
			return cl.do("SETUP", url+"/streamid=0", "", "Transport: RTP/AVP/TCP;interleaved=0-1")
		}, 455, false},
		{"RECORD before SETUP", func(cl *rtspClient) (int, textproto.MIMEHeader) {
			cl.do("ANNOUNCE", url, testSDP, sdp)
			return cl.do("RECORD", url, "")
		}, 455, false},
		{"second ANNOUNCE", func(cl *rtspClient) (int, textproto.MIMEHeader) {
			cl.do("ANNOUNCE", url, testSDP, sdp)
			return cl.do("ANNOUNCE", url, testSDP, sdp)
		}, 455, false},
		{"not SDP", func(cl *rtspClient) (int, textproto.MIMEHeader) {
			return cl.do("ANNOUNCE", url, testSDP, "Content-Type: text/plain")
		}, 415, false},
		{"bad SDP", func(cl *rtspClient) (int, textproto.MIMEHeader) { return cl.do("ANNOUNCE", url, "hello", sdp) }, 400, false},
		{"no usable track", func(cl *rtspClient) (int, textproto.MIMEHeader) {
			return cl.do("ANNOUNCE", url, "v=0\r\nm=audio 0 RTP/AVP 0\r\n", sdp)
		}, 415, false},
		{"no stream in the path", func(cl *rtspClient) (int, textproto.MIMEHeader) {
			return cl.do("ANNOUNCE", c.url("/onlyone"), testSDP, sdp)
		}, 400, false},
		{"unknown track", func(cl *rtspClient) (int, textproto.MIMEHeader) {
			cl.do("ANNOUNCE", url, testSDP, sdp)
			return cl.do("SETUP", url+"/streamid=7", "", "Transport: RTP/AVP/TCP;interleaved=0-1")
		}, 404, false},
		{"UDP is off", func(cl *rtspClient) (int, textproto.MIMEHeader) {
			cl.do("ANNOUNCE", url, testSDP, sdp)
			return cl.do("SETUP", url+"/streamid=0", "", "Transport: RTP/AVP;unicast;client_port=5000-5001")
		}, 461, false},
		{"taken channels", func(cl *rtspClient) (int, textproto.MIMEHeader) {
			cl.do("ANNOUNCE", url, testSDP, sdp)
			cl.do("SETUP", url+"/streamid=0", "", "Transport: RTP/AVP/TCP;interleaved=0-1")
			return cl.do("SETUP", url+"/streamid=1", "", "Transport: RTP/AVP/TCP;interleaved=1-2")
		}, 400, false},
		{"set up twice", func(cl *rtspClient) (int, textproto.MIMEHeader) {
			cl.do("ANNOUNCE", url, testSDP, sdp)
			cl.do("SETUP", url+"/streamid=0", "", "Transport: RTP/AVP/TCP;interleaved=0-1")
			return cl.do("SETUP", url+"/streamid=0", "", "Transport: RTP/AVP/TCP;interleaved=2-3")
		}, 455, false},
		{"wrong session", func(cl *rtspClient) (int, textproto.MIMEHeader) {
			cl.do("ANNOUNCE", url, testSDP, sdp)
			cl.do("SETUP", url+"/streamid=0", "", "Transport: RTP/AVP/TCP;interleaved=0-1")
			return cl.do("RECORD", url, "", "Session: nosuchsession")
		}, 454, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := dialRTSP(t, c.addr)
			st, h := tt.steps(cl)
			if st != tt.want {
				t.Fatalf("status %d, want %d", st, tt.want)
			}
			if tt.allow && !strings.Contains(h.Get("Allow"), "RECORD") {
				t.Fatalf("405 with Allow %q", h.Get("Allow"))
			}
			// The connection goes on after a refused request.
			if st, _ := cl.do("OPTIONS", url, ""); st != 200 {
				t.Fatalf("OPTIONS after the error: %d", st)
			}
		})
	}
	// Malformed requests are answered, and the connection is closed.
	for _, req := range []string{
		"OPTIONS * RTSP/1.0\r\n\r\n",
		"OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n",
		"ANNOUNCE * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 999999\r\n\r\n",
	} {
		cl := dialRTSP(t, c.addr)
		st, _ := cl.raw(req)
		if st < 400 {
			t.Fatalf("%q: status %d", req, st)
		}
		if _, err := cl.br.ReadByte(); err == nil {
			t.Fatalf("%q: the connection is still open", req)
		}
	}
}

func TestRTSPPublishRefused(t *testing.T) {
	tests := []struct {
		reject [2]string
		want   int
	}{
		{[2]string{rtmp.CodePublishBadName, rtmp.DescStreamBusy}, 409},
		{[2]string{"NetStream.Publish.Rejected", "denied by a hook"}, 403},
	}
	for _, tt := range tests {
		tg := newTarget(t)
		tg.reject = tt.reject
		c := startRTSPCaster(t, tg.url("[app]/[stream]"), [2]int{})
		cl := dialRTSP(t, c.addr)
		if st, _ := cl.push(c.url("/live/taken"), "RTP/AVP/TCP;interleaved=0-1"); st != tt.want {
			t.Fatalf("%v: RECORD %d, want %d", tt.reject, st, tt.want)
		}
	}
	// A target out of reach.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := startRTSPCaster(t, "rtmp://"+addr+"/[app]/[stream]", [2]int{})
	cl := dialRTSP(t, c.addr)
	if st, _ := cl.push(c.url("/live/nowhere"), "RTP/AVP/TCP;interleaved=0-1"); st != 502 {
		t.Fatalf("RECORD to a closed port: %d, want 502", st)
	}
}

func TestRTSPEnds(t *testing.T) {
	t.Run("the output closes", func(t *testing.T) {
		tg := newTarget(t)
		c := startRTSPCaster(t, tg.url("[app]/[stream]"), [2]int{})
		cl := dialRTSP(t, c.addr)
		if st, _ := cl.push(c.url("/live/kicked"), "RTP/AVP/TCP;interleaved=0-1"); st != 200 {
			t.Fatalf("RECORD: %d", st)
		}
		tg.next("publish", 2*time.Second)
		tg.kick()
		// The caster notices at its next write and closes the connection.
		m := makeTestMedia(t, 25)
		if err := cl.nc.SetDeadline(time.Now().Add(3 * time.Second)); err != nil {
			t.Fatal(err)
		}
		for _, v := range m.video {
			frame := append([]byte{'$', 0, byte(len(v) >> 8), byte(len(v))}, v...)
			if _, err := cl.nc.Write(frame); err != nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := cl.br.ReadByte(); err == nil {
			t.Fatal("the connection is open after the output closed")
		}
		c.waitLog(t, "caster: stream ended")
	})
	t.Run("the caster stops", func(t *testing.T) {
		tg := newTarget(t)
		c := startRTSPCaster(t, tg.url("[app]/[stream]"), [2]int{})
		cl := dialRTSP(t, c.addr)
		if st, _ := cl.push(c.url("/live/stopped"), "RTP/AVP/TCP;interleaved=0-1"); st != 200 {
			t.Fatalf("RECORD: %d", st)
		}
		tg.next("publish", 2*time.Second)
		c.cancel()
		c.wait()
		if _, ended := tg.collect(2 * time.Second); !ended {
			t.Fatal("the publish outlived the caster")
		}
		c.waitLog(t, "caster stopped")
	})
}

func TestStartRTSPRefusesBadConfig(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tt := range []struct {
		output string
		ports  [2]int
	}{
		{"", [2]int{}},
		{"rtmp://127.0.0.1/[app]", [2]int{}},
		{"rtmp://127.0.0.1/[app]/[stream]", [2]int{5001, 5001}},
		{"rtmp://127.0.0.1/[app]/[stream]", [2]int{6000, 5000}},
		{"rtmp://127.0.0.1/[app]/[stream]", [2]int{65535, 70000}},
	} {
		if _, err := StartRTSP(context.Background(), ln, tt.output, tt.ports, Options{}); err == nil {
			t.Errorf("%q %v accepted", tt.output, tt.ports)
		}
	}
}

func TestRTSPUDPPortsRunOut(t *testing.T) {
	tg := newTarget(t)
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lo := probe.LocalAddr().(*net.UDPAddr).Port &^ 1
	probe.Close()
	c := startRTSPCaster(t, tg.url("[app]/[stream]"), [2]int{lo, lo + 1}) // one pair
	url := c.url("/live/ports")
	udp := "Transport: RTP/AVP;unicast;client_port=5000-5001;mode=record"
	cl := dialRTSP(t, c.addr)
	cl.do("ANNOUNCE", url, testSDP, "Content-Type: application/sdp")
	if st, _ := cl.do("SETUP", url+"/streamid=0", "", udp); st != 200 {
		t.Fatalf("first SETUP: %d", st)
	}
	// The pair is taken: the next SETUP is told to use another transport,
	// and TCP then works on another connection.
	if st, _ := cl.do("SETUP", url+"/streamid=1", "", udp); st != 461 {
		t.Fatalf("SETUP without a free pair: %d, want 461", st)
	}
	cl2 := dialRTSP(t, c.addr)
	if st, _ := cl2.push(c.url("/live/ports2"), "RTP/AVP/TCP;interleaved=0-1"); st != 200 {
		t.Fatalf("TCP push: %d", st)
	}
	// Once the first connection ends, its ports are free again.
	cl.nc.Close()
	deadline := time.Now().Add(2 * time.Second)
	for {
		cl3 := dialRTSP(t, c.addr)
		cl3.do("ANNOUNCE", url, testSDP, "Content-Type: application/sdp")
		if st, _ := cl3.do("SETUP", url+"/streamid=0", "", udp); st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the UDP ports were not freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
