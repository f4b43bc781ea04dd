package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/hooks/hookserver"
)

// casterConf is a castd with both simple stream casters publishing to its
// own RTMP port, HTTP-FLV and the on_publish/on_unpublish hooks.
func casterConf(udpPort, flvPort int, hookURL string) string {
	return fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
http_api { enabled on; listen 127.0.0.1:{{api}}; }
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
stream_caster {
    enabled on;
    caster  mpegts_over_udp;
    output  rtmp://127.0.0.1:{{rtmp}}/live/udpcast;
    listen  %d;
}
stream_caster {
    enabled on;
    caster  flv;
    output  rtmp://127.0.0.1:{{rtmp}}/[app]/[stream];
    listen  %d;
}
vhost __defaultVhost__ {
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
    http_hooks { enabled on; on_publish %[3]s; on_unpublish %[3]s; }
}
`, udpPort, flvPort, hookURL)
}

// ffmpegToUDP sends a generated stream (H.264 and AAC unless codecs says
// otherwise) as MPEG-TS in 1316-byte datagrams (7 TS packets), as an
// encoder pushing to a caster does.
func ffmpegToUDP(t *testing.T, port int, dur time.Duration, codecs ...string) *proc {
	t.Helper()
	if len(codecs) == 0 {
		codecs = []string{"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-c:a", "aac"}
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", fmt.Sprintf("%.1f", dur.Seconds()), "-g", "25", "-pix_fmt", "yuv420p", "-b:a", "64k", "-ac", "2"}
	args = append(args, codecs...)
	args = append(args, "-f", "mpegts", fmt.Sprintf("udp://127.0.0.1:%d?pkt_size=1316", port))
	return startCmd(t, requireTool(t, "ffmpeg"), args...)
}

// checkCast probes a cast stream and checks it is the H.264 + AAC that
// ffmpeg sent, starting on a keyframe.
func checkCast(t *testing.T, url string) {
	t.Helper()
	r := ffprobe(t, url, 60)
	v, okV := r.stream("video")
	a, okA := r.stream("audio")
	if !okV || !okA || r.Streams[v].CodecName != "h264" || r.Streams[a].CodecName != "aac" ||
		r.Streams[v].Width != 320 || r.Streams[v].Height != 240 || r.Streams[a].SampleRate != "44100" {
		t.Fatalf("%s plays %+v, want 320x240 h264 and 44.1 kHz aac", url, r.Streams)
	}
	videos, audios, firstKey := 0, 0, false
	for _, p := range r.Packets {
		switch p.CodecType {
		case "video":
			if videos == 0 {
				firstKey = strings.Contains(p.Flags, "K")
			}
			videos++
		case "audio":
			audios++
		}
	}
	if videos < 15 || audios < 15 || !firstKey {
		t.Fatalf("%s: %d video (first a keyframe: %v) and %d audio packets", url, videos, firstKey, audios)
	}
}

// publishHooks returns the streams of the on_publish hooks received.
func publishHooks(t *testing.T, hs *hookserver.Server, action string) []string {
	t.Helper()
	var out []string
	for _, h := range hs.Hooks() {
		if h.Action == action {
			b := bodyOf(t, h)
			out = append(out, fmt.Sprintf("%v/%v/%v", b["vhost"], b["app"], b["stream"]))
		}
	}
	return out
}

// TestCasterMPEGTSOverUDP: ffmpeg pushes MPEG-TS over UDP; castd publishes
// it to its RTMP port, where hooks, HTTP-FLV and the API see it; after the
// datagrams stop it is unpublished, and a new push publishes it again.
func TestCasterMPEGTSOverUDP(t *testing.T) {
	hs, hookURL := startHookServer(t, hookserver.Options{})
	udpPort, flvPort := freeUDPPort(t), freePort(t)
	c := startCastd(t, casterConf(udpPort, flvPort, hookURL))
	addrs := c.srv.Addrs()
	if u := addrs["mpegts_over_udp"]; len(u) != 1 || u[0].(*net.UDPAddr).Port != udpPort {
		t.Fatalf("Addrs: mpegts_over_udp %v, want port %d", u, udpPort)
	}
	c.waitLog(t, "stream caster listening", time.Second)

	push := ffmpegToUDP(t, udpPort, 5*time.Second)
	c.waitPublished(t, "udpcast", 10*time.Second)
	checkCast(t, c.httpURL("live/udpcast.flv"))
	if got := publishHooks(t, hs, "on_publish"); len(got) != 1 || got[0] != "__defaultVhost__/live/udpcast" {
		t.Fatalf("on_publish hooks %v", got)
	}
	if err := push.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	// Unpublished after the idle timeout (3 s).
	c.waitPublishing(t, liveKey("udpcast"), false, 6*time.Second)
	c.waitLog(t, "input idle: no datagram for 3s", time.Second)
	waitActions(t, hs, []string{"on_publish", "on_unpublish"}, 2*time.Second)

	// A new push publishes the stream again.
	push = ffmpegToUDP(t, udpPort, 3*time.Second)
	c.waitPublishing(t, liveKey("udpcast"), true, 10*time.Second)
	r := ffprobe(t, c.rtmpURL("live/udpcast"), 0)
	if v, ok := r.stream("video"); !ok || r.Streams[v].CodecName != "h264" {
		t.Fatalf("after the republish RTMP plays %+v", r.Streams)
	}
	if err := push.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	if n := strings.Count(c.logs.String(), "caster: publishing"); n != 2 {
		t.Errorf("%d publishes logged, want 2", n)
	}
}

// TestCasterFLVPost: ffmpeg POSTs FLV; castd publishes it under the path's
// app and stream; a second POST of the same stream gets the RTMP
// rejection as 409, a bad path 404.
func TestCasterFLVPost(t *testing.T) {
	hs, hookURL := startHookServer(t, hookserver.Options{})
	udpPort, flvPort := freeUDPPort(t), freePort(t)
	c := startCastd(t, casterConf(udpPort, flvPort, hookURL))
	if f := c.srv.Addrs()["flv"]; len(f) != 1 || f[0].(*net.TCPAddr).Port != flvPort {
		t.Fatalf("Addrs: flv %v, want port %d", f, flvPort)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", flvPort)
	push := ffmpegPublish(t, base+"/live/flvcast.flv", 6*time.Second, "-tune", "zerolatency", "-method", "POST")
	c.waitPublished(t, "flvcast", 10*time.Second)
	var streams struct {
		Streams []struct{ Name, App, Vhost string }
	}
	getJSON(t, "GET", c.apiURL("api/v1/streams/"), &streams)
	if len(streams.Streams) != 1 || streams.Streams[0].App != "live" || streams.Streams[0].Name != "flvcast" {
		t.Fatalf("the API lists %+v", streams.Streams)
	}
	checkCast(t, c.rtmpURL("live/flvcast"))
	if got := publishHooks(t, hs, "on_publish"); len(got) != 1 || got[0] != "__defaultVhost__/live/flvcast" {
		t.Fatalf("on_publish hooks %v", got)
	}

	post := func(path string, body []byte) (int, string) {
		t.Helper()
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Post(base+path, "video/x-flv", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	header := []byte("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00")
	if status, answer := post("/live/flvcast.flv", header); status != http.StatusConflict || !strings.Contains(answer, "Stream is busy") {
		t.Errorf("a second POST of the stream: %d %q, want 409 Stream is busy", status, answer)
	}
	if status, _ := post("/live/flvcast.mp4", header); status != http.StatusNotFound {
		t.Errorf("a POST to a .mp4 path: %d, want 404", status)
	}
	if err := push.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	c.waitPublishing(t, liveKey("flvcast"), false, 5*time.Second)
	c.waitLog(t, `reason="the body ended"`, time.Second)
}

// TestCasterMPEGTSOverUDPHEVCAndMP3: H.265 and MP3 in MPEG-TS are
// published too, as the API's codec facts show.
func TestCasterMPEGTSOverUDPHEVCAndMP3(t *testing.T) {
	udpPort := freeUDPPort(t)
	c := startCastd(t, fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
http_api { enabled on; listen 127.0.0.1:{{api}}; }
stream_caster { enabled on; caster mpegts_over_udp; output rtmp://127.0.0.1:{{rtmp}}/live/hevc; listen %d; }
vhost __defaultVhost__ { }
`, udpPort))
	push := ffmpegToUDP(t, udpPort, 3*time.Second, "-c:v", "libx265", "-preset", "ultrafast",
		"-x265-params", "log-level=error:keyint=25", "-c:a", "libmp3lame")
	c.waitPublished(t, "hevc", 10*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		var r struct {
			Streams []struct {
				Name  string
				Video *struct{ Codec string }
				Audio *struct{ Codec string }
			}
		}
		getJSON(t, "GET", c.apiURL("api/v1/streams/"), &r)
		if len(r.Streams) == 1 && r.Streams[0].Video != nil && r.Streams[0].Audio != nil {
			if v, a := r.Streams[0].Video.Codec, r.Streams[0].Audio.Codec; v != "HEVC" || a != "MP3" {
				t.Fatalf("the API says %s and %s, want HEVC and MP3", v, a)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API never showed both codecs: %+v", r.Streams)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := push.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
}
