package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/gb28181/gbtest"
)

// gbConf runs a gb28181 caster publishing to castd's own RTMP port, as
// SRS's conf/gb28181.conf does.
func gbConf(mediaPort, sipPort int, sipOn string) string {
	return fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
daemon off;
srs_log_tank console;
http_api { enabled on; listen 127.0.0.1:{{api}}; }
stream_caster {
    enabled on;
    caster gb28181;
    output rtmp://127.0.0.1:{{rtmp}}/live/[stream];
    listen %d;
    sip { enabled %s; listen %d; timeout 10; reinvite 1; candidate 127.0.0.1; }
}
vhost __defaultVhost__ {}
`, mediaPort, sipOn, sipPort)
}

// TestGB28181DevicePublish: a simulated camera registers over SIP, is
// invited, sends H.264 and AAC in PS over RTP over TCP, and castd
// publishes it as live/<device id>: the API lists it, ffprobe plays it,
// and the camera's BYE ends the publish.
func TestGB28181DevicePublish(t *testing.T) {
	media, err := gbtest.MakeMedia(requireTool(t, "ffmpeg"), t.TempDir(), 4)
	if err != nil {
		t.Fatal(err)
	}
	mediaPort, sipPort := freePort(t), freePort(t)
	c := startCastd(t, gbConf(mediaPort, sipPort, "on"))
	const device = "34020000001320000001"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := gbtest.Dial(ctx, "127.0.0.1:"+strconv.Itoa(sipPort), device, "34020000002000000001", "3402000000")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if res, err := d.Register(3600); err != nil || res.StatusCode != 200 {
		t.Fatalf("REGISTER: %v, %v", res, err)
	}
	inv, err := d.NextRequest("INVITE", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	call, err := d.AnswerInvite(inv, 0)
	if err != nil {
		t.Fatal(err)
	}
	if call.Media != net.JoinHostPort("127.0.0.1", strconv.Itoa(mediaPort)) {
		t.Fatalf("invited to send media to %s", call.Media)
	}
	sender, err := gbtest.DialMedia(ctx, call.Media, call.SSRC)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	sender.Realtime = true
	sent := make(chan error, 1)
	go func() {
		var err error
		for range 3 { // 12 s at most; the test ends it sooner
			if _, err = sender.Send(ctx, media); err != nil {
				break
			}
		}
		sent <- err
	}()
	defer func() { cancel(); <-sent }()

	c.waitPublished(t, device, 10*time.Second)
	r := ffprobe(t, c.rtmpURL("live/"+device), 40)
	v, okV := r.stream("video")
	a, okA := r.stream("audio")
	if !okV || !okA || r.Streams[v].CodecName != "h264" || r.Streams[v].Width != 320 || r.Streams[a].CodecName != "aac" {
		t.Fatalf("ffprobe: %+v", r.Streams)
	}
	if len(r.Packets) < 40 {
		t.Errorf("ffprobe read %d packets", len(r.Packets))
	}
	if n := streamFrames(t, c, device); n == 0 {
		t.Error("the API counts no video frames")
	}

	res, err := d.Bye()
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("BYE: %v, %v", res, err)
	}
	c.waitPublishing(t, liveKey(device), false, 5*time.Second)
	c.waitLog(t, "the device sent BYE", time.Second)
}

// TestGB28181PublishAPI: with SIP off, an external SIP server asks for a
// session through /gb/v1/publish/ and the device's media is published.
func TestGB28181PublishAPI(t *testing.T) {
	media, err := gbtest.MakeMedia(requireTool(t, "ffmpeg"), t.TempDir(), 2)
	if err != nil {
		t.Fatal(err)
	}
	mediaPort := freePort(t)
	c := startCastd(t, gbConf(mediaPort, freePort(t), "off"))
	post := func(body string) map[string]any {
		t.Helper()
		resp, err := http.Post(c.apiURL("gb/v1/publish/"), "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	res := post(`{"id":"cam9","ssrc":"12345"}`)
	if res["code"] != 0.0 || res["port"] != float64(mediaPort) || res["is_tcp"] != true {
		t.Fatalf("publish API: %v", res)
	}
	if res := post(`{"id":"cam9","ssrc":"777"}`); res["code"] != 1028.0 {
		t.Errorf("a second SSRC for cam9: %v", res)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	sender, err := gbtest.DialMedia(ctx, "127.0.0.1:"+strconv.Itoa(mediaPort), 12345)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	sender.Realtime = true
	sent := make(chan error, 1)
	go func() { _, err := sender.Send(ctx, media); sent <- err }()
	defer func() { cancel(); <-sent }()
	c.waitPublished(t, "cam9", 10*time.Second)
}
