package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/protocol/rtmp"
)

// streamKeys lists the hub's streams as "vhost/app/name".
func (c *castd) streamKeys() []string {
	var out []string
	for _, s := range c.srv.Hub().Streams() {
		out = append(out, s.Key.Vhost+"/"+s.Key.App+"/"+s.Key.Name)
	}
	return out
}

func (c *castd) waitStream(t *testing.T, key string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, k := range c.streamKeys() {
			if k == key {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stream %s; streams: %v", key, c.streamKeys())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publishTo dials tcURL and publishes stream; it returns the error instead
// of failing so rejections can be tested.
func publishTo(t *testing.T, tcURL, stream string) (*rtmp.ClientConn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := rtmp.Dial(ctx, tcURL, rtmp.ClientOptions{})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { cc.Close() })
	if err := cc.Publish(ctx, stream); err != nil {
		return nil, err
	}
	if err := cc.WriteMedia([]rtmp.MediaMessage{{Type: rtmp.TypeVideo, Payload: avcSH}}); err != nil {
		return nil, err
	}
	return cc, nil
}

// TestVhostRouting publishes with each URL form SRS accepts and checks the
// stream lands in the right vhost, app and name.
func TestVhostRouting(t *testing.T) {
	c := startCastd(t, `
listen 127.0.0.1:{{rtmp}};
vhost __defaultVhost__ {}
vhost demo.com {}
vhost off.com { enabled off; }
`)
	base := fmt.Sprintf("rtmp://127.0.0.1:%d", c.rtmp)
	cases := []struct {
		tcURL, stream, key string
	}{
		{base + "/live", "plain", "__defaultVhost__/live/plain"},
		{base + "/live", "q?vhost=demo.com&token=1", "demo.com/live/q"},
		{base + "/live", "d?domain=demo.com", "demo.com/live/d"},
		{base + "/live?vhost=demo.com", "fmle", "demo.com/live/fmle"},
		{base + "/live...vhost...demo.com", "dots", "demo.com/live/dots"},
		{base + "/live/_definst_", "definst", "__defaultVhost__/live/definst"},
		{base + "/show/live", "multi", "__defaultVhost__/show/live/multi"},
		{base + "/live", "unknown?vhost=nobody.com", "__defaultVhost__/live/unknown"},
	}
	for _, tc := range cases {
		if _, err := publishTo(t, tc.tcURL, tc.stream); err != nil {
			t.Errorf("publish %s %s: %v", tc.tcURL, tc.stream, err)
			continue
		}
		c.waitStream(t, tc.key, 3*time.Second)
	}
	// A disabled vhost is refused.
	if _, err := publishTo(t, base+"/live", "x?vhost=off.com"); err == nil {
		t.Error("publish to a disabled vhost was accepted")
	}
	c.waitLog(t, `off.com\" from 127.0.0.1: vhost is disabled`, 2*time.Second)
}

func TestNoDefaultVhostRefusesUnknown(t *testing.T) {
	c := startCastd(t, `
listen 127.0.0.1:{{rtmp}};
vhost demo.com {}
`)
	base := fmt.Sprintf("rtmp://127.0.0.1:%d", c.rtmp)
	if _, err := publishTo(t, base+"/live", "s"); err == nil {
		t.Fatal("publish without a matching vhost and no __defaultVhost__ was accepted")
	}
	c.waitLog(t, "no such vhost and no __defaultVhost__ (code 2014)", 2*time.Second)
	if _, err := publishTo(t, base+"/live?vhost=demo.com", "s"); err != nil {
		t.Fatalf("publish to the named vhost: %v", err)
	}
	c.waitStream(t, "demo.com/live/s", 3*time.Second)
}

// TestIPv6AndSeveralPorts listens on two IPv4 ports and IPv6 loopback:
// publish on one, play on the others.
func TestIPv6AndSeveralPorts(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback on this machine: %v", err)
	}
	v6 := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	second := freePort(t)
	c := startCastd(t, fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}} 127.0.0.1:%d [::1]:%d;
vhost __defaultVhost__ { play { mw_latency 0; } }
`, second, v6))
	pub := dialPublish(t, c, "multi", rtmp.ClientOptions{})
	for _, host := range []string{fmt.Sprintf("127.0.0.1:%d", second), fmt.Sprintf("[::1]:%d", v6)} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cc, err := rtmp.Dial(ctx, "rtmp://"+host+"/live", rtmp.ClientOptions{})
		if err != nil {
			cancel()
			t.Fatalf("dial %s: %v", host, err)
		}
		err = cc.Play(ctx, "multi")
		cancel()
		if err != nil {
			t.Fatalf("play on %s: %v", host, err)
		}
		write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: avcSH})
		if got := readMedia(t, cc, 1, 5*time.Second); !bytes.Equal(got[0].Payload, avcSH) {
			t.Fatalf("play on %s got %v", host, got[0])
		}
		cc.Close()
	}
}

func TestMaxConnections(t *testing.T) {
	c := startCastd(t, `
listen 127.0.0.1:{{rtmp}};
max_connections 2;
vhost __defaultVhost__ {}
`)
	a := dialPlay(t, c, "a")
	b := dialPlay(t, c, "b")
	_, _ = a, b
	nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", c.rtmp))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, err := nc.Read(make([]byte, 1)); err == nil || n > 0 {
		t.Fatal("a third connection was served with max_connections 2")
	}
	c.waitLog(t, "max_connections reached", 2*time.Second)
	// A slot frees when a client leaves.
	a.Close()
	time.Sleep(200 * time.Millisecond)
	dialPlay(t, c, "c")
}

// TestPlayDurationAndPause: play's duration argument ends the play after
// that much stream time; pause stops media until unpause, which resumes at
// a keyframe.
func TestPlayDurationAndPause(t *testing.T) {
	c := startCastd(t, `
listen 127.0.0.1:{{rtmp}};
http_api { enabled on; listen 127.0.0.1:{{api}}; }
vhost __defaultVhost__ { play { mw_latency 0; time_jitter off; } }
`)
	pub := dialPublish(t, c, "dur", rtmp.ClientOptions{})
	write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: avcSH})

	// pause / unpause.
	play := dialPlay(t, c, "dur")
	readMedia(t, play, 1, 5*time.Second)
	pause := func(on bool) {
		body, err := rtmp.EncodeCommand("pause", 0, nil, on, float64(0))
		if err != nil {
			t.Fatal(err)
		}
		if err := play.WriteMessage(&rtmp.Message{Type: rtmp.TypeCommandAMF0, StreamID: play.StreamID(), Payload: body}); err != nil {
			t.Fatal(err)
		}
	}
	pause(true)
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 30; i++ {
		write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: uint32(i * 40), Payload: frame(i%10 == 0, 100, i)})
	}
	_ = play.NetConn().SetReadDeadline(time.Now().Add(400 * time.Millisecond))
	for {
		m, err := play.ReadMessage()
		if err != nil {
			break // timeout: nothing while paused
		}
		if m.Type == rtmp.TypeVideo {
			t.Fatalf("media while paused: %v", m)
		}
	}
	_ = play.NetConn().SetReadDeadline(time.Time{})
	pause(false)
	time.Sleep(100 * time.Millisecond)
	write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: 1200, Payload: frame(false, 100, 30)},
		rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: 1240, Payload: frame(true, 100, 31)})
	// The player resumes cleanly: the sequence header, then a keyframe (the
	// newest cached one or the next), never an inter frame first.
	got := readMedia(t, play, 2, 5*time.Second)
	if !bytes.Equal(got[0].Payload, avcSH) || got[1].Payload[0] != 0x17 {
		t.Fatalf("after unpause: %x then %x, want the sequence header then a keyframe", got[0].Payload[:2], got[1].Payload[:2])
	}

	// duration: a play for 400 ms of stream time ends there.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := rtmp.Dial(ctx, c.rtmpURL("live"), rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	body, _ := rtmp.EncodeCommand("createStream", 2, nil)
	_ = cc.WriteMessage(&rtmp.Message{Type: rtmp.TypeCommandAMF0, Payload: body})
	body, _ = rtmp.EncodeCommand("play", 0, nil, "dur", float64(-1000), float64(400))
	_ = cc.WriteMessage(&rtmp.Message{Type: rtmp.TypeCommandAMF0, StreamID: 1, Payload: body})
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 40; i++ {
		write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: uint32(2000 + i*40), Payload: frame(i%10 == 0, 100, i)})
		time.Sleep(5 * time.Millisecond)
	}
	_ = cc.NetConn().SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err := cc.ReadMessage(); err != nil {
			if strings.Contains(err.Error(), "timeout") {
				t.Fatal("play with a duration was not ended")
			}
			break
		}
	}
	c.waitLog(t, "play duration reached", 2*time.Second)
}

// TestHEVCOverEnhancedRTMP: an enhanced-RTMP H.265 stream passes through
// unchanged and the API reports its codec facts.
func TestHEVCOverEnhancedRTMP(t *testing.T) {
	c := startCastd(t, defaultConf)
	pub := dialPublish(t, c, "hevc", rtmp.ClientOptions{})
	play := dialPlay(t, c, "hevc")
	sh := append([]byte{0x90, 'h', 'v', 'c', '1'}, hevcConfig...)      // key frame, SequenceStart
	key := []byte{0x91, 'h', 'v', 'c', '1', 0, 0, 0, 0, 0, 0, 1, 0x26} // key frame, CodedFrames with CTS
	write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: sh}, rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: 40, Payload: key})
	got := readMedia(t, play, 2, 5*time.Second)
	if !bytes.Equal(got[0].Payload, sh) || !bytes.Equal(got[1].Payload, key) {
		t.Fatal("enhanced RTMP H.265 was changed on the way")
	}
	var r struct {
		Streams []struct {
			Name  string
			Video struct {
				Codec, Profile string
				Width, Height  int
			}
		}
	}
	getJSON(t, "GET", c.apiURL("api/v1/streams/"), &r)
	if len(r.Streams) != 1 || r.Streams[0].Video.Codec != "HEVC" || r.Streams[0].Video.Profile != "Main" ||
		r.Streams[0].Video.Width != 320 || r.Streams[0].Video.Height != 240 {
		t.Fatalf("API video for the HEVC stream: %+v", r)
	}
}

// hevcConfig is an HEVCDecoderConfigurationRecord from libx265 (Main,
// 320x240) with its VPS, SPS and PPS.
var hevcConfig = []byte{
	0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3c, 0xf0, 0x00, 0xfc,
	0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0xa0, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01,
	0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00,
	0x3c, 0x95, 0x98, 0x09, 0xa1, 0x00, 0x01, 0x00, 0x2a, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00,
	0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x16,
	0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03,
	0x00, 0x32, 0x10, 0xa2, 0x00, 0x01, 0x00, 0x07, 0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40,
}

// TestPublishTimeouts: a publisher that sends nothing is dropped after
// firstpkt_timeout, and one that stops sending after normal_timeout.
func TestPublishTimeouts(t *testing.T) {
	c := startCastd(t, `
listen 127.0.0.1:{{rtmp}};
vhost __defaultVhost__ { publish { firstpkt_timeout 300; normal_timeout 300; } }
`)
	for _, sendFirst := range []bool{false, true} {
		pub := dialPublish(t, c, fmt.Sprint("idle", sendFirst), rtmp.ClientOptions{})
		if sendFirst {
			write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: avcSH})
		}
		start := time.Now()
		_ = pub.NetConn().SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			if _, err := pub.ReadMessage(); err != nil {
				if strings.Contains(err.Error(), "timeout") {
					t.Fatalf("sendFirst=%v: an idle publisher was kept", sendFirst)
				}
				break
			}
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("sendFirst=%v: dropped after %v, want about 300ms", sendFirst, el)
		}
	}
	c.waitLog(t, "publish timeout: no media for 300ms", time.Second)
}
