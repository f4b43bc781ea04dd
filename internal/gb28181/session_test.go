package gb28181

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mpegps"
	"github.com/castd/castd/internal/gb28181/gbtest"
	"github.com/castd/castd/internal/gb28181/sip"
	"github.com/castd/castd/internal/protocol/rtmp"
)

func testConfig(tg *rtmpTarget) Config {
	return Config{Output: tg.output(), Timeout: 3 * time.Second, Reinvite: 300 * time.Millisecond,
		MediaIdle: 2 * time.Second, Info: rtmp.ServerInfo{Sig: "castd"}}
}

// TestRegisterInvitePublishBye is the whole call: REGISTER, INVITE with
// the media address and SSRC, media published as RTMP named by the device
// id, keep-alives answered, and BYE ending the publish.
func TestRegisterInvitePublishBye(t *testing.T) {
	m := testMedia(t)
	tg := newTarget(t)
	c := startCaster(t, testConfig(tg))
	d := c.dialDevice(t, testDevice)

	res, err := d.Register(3600)
	if err != nil || res.StatusCode != 200 || res.Get("Expires") != "3600" || res.Get("Date") == "" ||
		!strings.Contains(res.Get("To"), ";tag=") || res.Get("CSeq") != "1 REGISTER" {
		t.Fatalf("REGISTER answered %v %+v, %v", res, res.Headers, err)
	}
	inv, err := d.NextRequest(sip.MethodInvite, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	call, err := d.AnswerInvite(inv, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, mediaPort, _ := net.SplitHostPort(c.media)
	if call.Media != "127.0.0.1:"+mediaPort || call.Proto != "TCP/RTP/AVP" {
		t.Errorf("offer: media %s over %s, want 127.0.0.1:%s over TCP/RTP/AVP", call.Media, call.Proto, mediaPort)
	}
	if s := formatSSRC(call.SSRC); !strings.HasPrefix(s, "020000") || len(s) != 10 {
		t.Errorf("SSRC %s: want 0, the domain digits 20000 of the server id, and 4 random digits", s)
	}
	if inv.RequestURI != "sip:"+testDevice+"@"+testDomain || inv.Get("Subject") != fmt.Sprintf("%s:%s,%s:0", testDevice, formatSSRC(call.SSRC), testServerID) {
		t.Errorf("INVITE %s, Subject %q", inv.RequestURI, inv.Get("Subject"))
	}
	if !strings.Contains(string(inv.Body), "a=setup:passive\r\n") || !strings.Contains(string(inv.Body), "a=rtpmap:96 PS/90000\r\n") {
		t.Errorf("offer SDP:\n%s", inv.Body)
	}

	sendMedia(t, c.media, call.SSRC, m)
	pub := tg.next("publish", 10*time.Second)
	if pub.stream != testDevice {
		t.Errorf("published %q, want the device id", pub.stream)
	}
	if id, _ := pub.connect.Args.String("srs_sig"); id != "castd" {
		t.Errorf("connect args %+v", pub.connect.Args)
	}
	msgs := tg.media(20, 10*time.Second)
	var videoSH, audioSH, keyframes int
	for _, msg := range msgs {
		p, err := av.NewPacket(av.Kind(msg.Type), msg.Timestamp, msg.Payload)
		if err != nil {
			t.Fatalf("the target got a bad packet: %v", err)
		}
		switch {
		case p.IsVideo() && p.SequenceHeader:
			videoSH++
		case p.IsAudio() && p.SequenceHeader:
			audioSH++
		case p.IsVideo() && p.Keyframe:
			keyframes++
		}
		if p.IsVideo() && p.Codec != av.CodecH264 || p.IsAudio() && p.Codec != av.CodecAAC {
			t.Errorf("codec %s", p.Codec)
		}
	}
	if videoSH != 1 || audioSH != 1 || keyframes < 1 {
		t.Errorf("first 20 messages: %d video and %d audio sequence headers, %d keyframes", videoSH, audioSH, keyframes)
	}

	if res, err := d.Keepalive(); err != nil || res.StatusCode != 200 {
		t.Errorf("keep-alive answered %v, %v", res, err)
	}
	res, err = d.Bye()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("BYE answered %v, %v", res, err)
	}
	tg.next("end", 5*time.Second)
	c.logs.wait(t, "the device sent BYE", 2*time.Second)
	if se := c.srv.device(testDevice); se != nil {
		t.Errorf("the session outlived the BYE")
	}
}

// TestUnregisterEndsSession: REGISTER with Expires 0 ends the publish.
func TestUnregisterEndsSession(t *testing.T) {
	m := testMedia(t)
	tg := newTarget(t)
	c := startCaster(t, testConfig(tg))
	d := c.dialDevice(t, testDevice)
	call := invited(t, d)
	sendMedia(t, c.media, call.SSRC, m)
	tg.next("publish", 10*time.Second)
	if res, err := d.Register(0); err != nil || res.StatusCode != 200 || res.Get("Expires") != "0" {
		t.Fatalf("unregister answered %v, %v", res, err)
	}
	tg.next("end", 5*time.Second)
	// castd hangs up the call it made.
	if _, err := d.NextRequest(sip.MethodBye, 5*time.Second); err != nil {
		t.Error(err)
	}
	c.logs.wait(t, "the device unregistered", 2*time.Second)
}

// TestReinviteWhenMediaStops: after the media connection drops, castd
// hangs up and invites again with the same SSRC; the new media goes on
// the same publish.
func TestReinviteWhenMediaStops(t *testing.T) {
	m := testMedia(t)
	tg := newTarget(t)
	c := startCaster(t, testConfig(tg))
	d := c.dialDevice(t, testDevice)
	call := invited(t, d)
	s := sendMedia(t, c.media, call.SSRC, m)
	tg.next("publish", 10*time.Second)
	c.logs.wait(t, "session established", 3*time.Second)
	first := tg.drain(500 * time.Millisecond)
	var last uint32
	for _, msg := range first {
		last = max(last, msg.Timestamp)
	}
	s.Close()
	start := time.Now()
	bye, err := d.NextRequest(sip.MethodBye, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if bye.Get("Call-ID") != call.Invite.Get("Call-ID") {
		t.Errorf("BYE of call %q, want %q", bye.Get("Call-ID"), call.Invite.Get("Call-ID"))
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("re-invited after %v, before the reinvite delay", waited)
	}
	inv, err := d.NextRequest(sip.MethodInvite, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	call2, err := d.AnswerInvite(inv, 0)
	if err != nil {
		t.Fatal(err)
	}
	if call2.SSRC != call.SSRC || inv.Get("Call-ID") == call.Invite.Get("Call-ID") {
		t.Errorf("re-INVITE: SSRC %d (was %d), call %q", call2.SSRC, call.SSRC, inv.Get("Call-ID"))
	}
	// The camera restarted its clock: the new media continues the publish
	// (no new one, no end) and its timeline.
	sendMedia(t, c.media, call2.SSRC, m)
	second := tg.drain(500 * time.Millisecond)
	if len(second) < len(first)/2 {
		t.Fatalf("%d messages after the re-invite, %d before", len(second), len(first))
	}
	for _, msg := range second {
		if msg.Timestamp <= last {
			t.Fatalf("timestamp %d after the re-invite, not after the last before it (%d)", msg.Timestamp, last)
		}
	}
}

// TestInviteWithoutMedia: a device that answers but never sends media is
// invited again after the timeout, and dropped after maxInvites.
func TestInviteWithoutMedia(t *testing.T) {
	tg := newTarget(t)
	cfg := testConfig(tg)
	cfg.Timeout = 400 * time.Millisecond
	c := startCaster(t, cfg)
	d := c.dialDevice(t, testDevice)
	if res, err := d.Register(3600); err != nil || res.StatusCode != 200 {
		t.Fatal(res, err)
	}
	var calls []string
	for range maxInvites {
		inv, err := d.NextRequest(sip.MethodInvite, 3*time.Second)
		if err != nil {
			t.Fatalf("after %d invitations: %v", len(calls), err)
		}
		if _, err := d.AnswerInvite(inv, 0); err != nil {
			t.Fatal(err)
		}
		calls = append(calls, inv.Get("Call-ID"))
		// Keep the device alive on SIP; only the media is missing.
		if _, err := d.Keepalive(); err != nil {
			t.Fatal(err)
		}
	}
	c.logs.wait(t, fmt.Sprintf("no media after %d invitations", maxInvites), 3*time.Second)
	if calls[0] == calls[1] {
		t.Error("the second INVITE reused the call")
	}
}

// TestDeviceAnsweringAnotherSSRC: media with the SSRC of the answer's y=
// is accepted too.
func TestDeviceAnsweringAnotherSSRC(t *testing.T) {
	m := testMedia(t)
	tg := newTarget(t)
	c := startCaster(t, testConfig(tg))
	d := c.dialDevice(t, testDevice)
	if _, err := d.Register(3600); err != nil {
		t.Fatal(err)
	}
	inv, err := d.NextRequest(sip.MethodInvite, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.AnswerInvite(inv, 1234567890); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the answer is read after the ACK is sent
	sendMedia(t, c.media, 1234567890, m)
	if pub := tg.next("publish", 10*time.Second); pub.stream != testDevice {
		t.Errorf("published %q", pub.stream)
	}
}

// TestPublishAPI: a session made by Publish takes media of its SSRC
// without SIP; ids and SSRCs are unique.
func TestPublishAPI(t *testing.T) {
	m := testMedia(t)
	tg := newTarget(t)
	c := startCaster(t, testConfig(tg))
	if err := c.srv.Publish("cam1", 1001); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		ssrc uint32
		want error
	}{
		{"cam1", 1001, nil},
		{"cam1", 1002, ErrStreamBusy},
		{"cam2", 1001, ErrSSRCBusy},
	} {
		if err := c.srv.Publish(tc.id, tc.ssrc); err != tc.want {
			t.Errorf("Publish(%s, %d) = %v, want %v", tc.id, tc.ssrc, err, tc.want)
		}
	}
	if err := c.srv.Publish("a/b", 5); err == nil {
		t.Error("a stream id with a slash was accepted")
	}
	sendMedia(t, c.media, 1001, m)
	if pub := tg.next("publish", 10*time.Second); pub.stream != "cam1" {
		t.Errorf("published %q", pub.stream)
	}
	// A device cannot register under an id the API holds.
	d := c.dialDevice(t, "cam1")
	if res, err := d.Register(3600); err != nil || res.StatusCode != sip.StatusForbidden {
		t.Errorf("REGISTER of an API stream answered %v, %v", res, err)
	}
}

// TestAPISessionEndsWithoutMedia: the API's session is dropped when no
// media comes for the timeout.
func TestAPISessionEndsWithoutMedia(t *testing.T) {
	tg := newTarget(t)
	cfg := testConfig(tg)
	cfg.Timeout = 300 * time.Millisecond
	c := startCaster(t, cfg)
	if err := c.srv.Publish("cam1", 7); err != nil {
		t.Fatal(err)
	}
	c.logs.wait(t, "no media for 300ms", 3*time.Second)
	if err := c.srv.Publish("cam2", 7); err != nil {
		t.Errorf("the SSRC of an ended session is still taken: %v", err)
	}
}

func TestRequestsWithoutRegistration(t *testing.T) {
	tg := newTarget(t)
	c := startCaster(t, testConfig(tg))
	d := c.dialDevice(t, testDevice)
	if res, err := d.Keepalive(); err != nil || res.StatusCode != sip.StatusForbidden {
		t.Errorf("keep-alive of an unregistered device: %v, %v", res, err)
	}
	conn, err := net.Dial("tcp", c.sip)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for _, tc := range []struct{ req, want string }{
		{"OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:dev@d>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n", "SIP/2.0 200 OK"},
		{"SUBSCRIBE sip:x@y SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK2\r\nFrom: <sip:dev@d>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: 2\r\nCSeq: 1 SUBSCRIBE\r\n\r\n", "SIP/2.0 501 Not Implemented"},
		{"BYE sip:x@y SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK3\r\nFrom: <sip:dev@d>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: 3\r\nCSeq: 1 BYE\r\n\r\n", "SIP/2.0 481 "},
		{"MESSAGE sip:x@y SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK4\r\nFrom: <sip:dev@d>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: 4\r\nCSeq: 1 BYE\r\n\r\n", "SIP/2.0 400 Bad Request"},
		{"REGISTER sip:x@y SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK5\r\nFrom: <sip:dev@d>;tag=1\r\nTo: <sip:dev@d>\r\nCall-ID: 5\r\nCSeq: 1 REGISTER\r\nExpires: soon\r\n\r\n", "SIP/2.0 400 Bad Request"},
	} {
		if _, err := io.WriteString(conn, tc.req); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := sip.ReadMessage(br)
		if err != nil || !strings.HasPrefix(string(res.AppendTo(nil)), tc.want) {
			t.Errorf("%s answered %v, %v; want %s", strings.Fields(tc.req)[0], res, err, tc.want)
		}
	}
	// Something that is not SIP closes the connection.
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after HTTP: %v, want the connection closed", err)
	}
	c.logs.wait(t, "SIP connection closed on a bad message", time.Second)
}

func TestMediaOfNoSessionIsClosed(t *testing.T) {
	tg := newTarget(t)
	c := startCaster(t, testConfig(tg))
	conn, err := net.Dial("tcp", c.media)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out []byte
	for i := range maxUnknownPackets + 1 {
		out = gbtest.AppendRTP(out, false, uint16(i), 0, 999, []byte{0, 0, 1, 0xba})
	}
	if _, err := conn.Write(out); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read %v, want the connection closed", err)
	}
	c.logs.wait(t, "SSRC 0000000999 of no session", time.Second)

	// A zero length frame closes at once.
	conn2, err := net.Dial("tcp", c.media)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	conn2.Write([]byte{0, 0})
	_ = conn2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn2.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read %v, want the connection closed", err)
	}
}

// TestG711IsDropped: a camera with G.711 audio is published with its
// video only, and the drop is logged once.
func TestG711IsDropped(t *testing.T) {
	m := testMedia(t)
	tg := newTarget(t)
	c := startCaster(t, testConfig(tg))
	if err := c.srv.Publish("cam1", 42); err != nil {
		t.Fatal(err)
	}
	g711 := gbtest.Media{Video: m.Video, FPS: m.FPS, SampleRate: 8000, FrameSamples: 160}
	for range len(m.Video) * 2 {
		g711.Audio = append(g711.Audio, []byte(strings.Repeat("\xd5", 160)))
	}
	s, err := gbtest.DialMedia(t.Context(), c.media, 42)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.AudioType = mpegps.StreamTypeG711A
	if _, err := s.Send(t.Context(), g711); err != nil {
		t.Fatal(err)
	}
	tg.next("publish", 10*time.Second)
	for _, msg := range tg.media(20, 10*time.Second) {
		if msg.Type != rtmp.TypeVideo {
			t.Fatalf("the target got a message of type %d", msg.Type)
		}
	}
	c.logs.wait(t, "codec=\"G.711 A-law\"", time.Second)
	if n := strings.Count(c.logs.String(), "dropping a stream RTMP cannot carry"); n != 1 {
		t.Errorf("the drop was logged %d times", n)
	}
}
