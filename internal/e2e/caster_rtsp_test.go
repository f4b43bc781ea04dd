package e2e

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/server"
)

// rtspCasterConf is a castd with an rtsp caster publishing to its own RTMP
// port, with HTTP-FLV and the API; UDP RTP takes ports rtpMin..rtpMin+19.
func rtspCasterConf(port, rtpMin int) string {
	return fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
http_api { enabled on; listen 127.0.0.1:{{api}}; }
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
stream_caster {
    enabled      on;
    caster       rtsp;
    output       rtmp://127.0.0.1:{{rtmp}}/[app]/[stream];
    listen       %d;
    rtp_port_min %d;
    rtp_port_max %d;
}
vhost __defaultVhost__ {
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
}
`, port, rtpMin, rtpMin+19)
}

// startRTSPCaster runs castd with an rtsp caster and returns its port.
func startRTSPCaster(t *testing.T) (*castd, int) {
	t.Helper()
	if !rtspCasterWired(t) {
		t.Skip("rtsp caster not wired yet: internal/server/casters.go has no rtsp case")
	}
	port, rtpMin := freePort(t), freeUDPPort(t)&^1
	c := startCastd(t, rtspCasterConf(port, rtpMin))
	if len(c.srv.Addrs()["rtsp"]) == 0 {
		t.Fatalf("Addrs has no rtsp caster: %v", c.srv.Addrs())
	}
	c.waitLog(t, "stream caster listening", time.Second)
	return c, port
}

// rtspCasterWired reports whether the server starts rtsp casters (the
// caster package has one before the server runs it).
func rtspCasterWired(t *testing.T) bool {
	t.Helper()
	text := fmt.Sprintf("listen 127.0.0.1:%d;\nstream_caster { enabled on; caster rtsp; output rtmp://127.0.0.1/[app]/[stream]; listen %d; }\n",
		freePort(t), freePort(t))
	cfg, err := conf.Parse("wired.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(cfg, server.Options{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	err = srv.Start(ctx)
	cancel()
	srv.Wait()
	if err != nil && strings.Contains(err.Error(), `unknown caster "rtsp"`) {
		return false
	}
	if err != nil {
		t.Fatalf("castd with an rtsp caster: %v", err)
	}
	return true
}

// ffmpegToRTSP pushes a generated H.264+AAC stream with ffmpeg's RTSP
// muxer over transport (tcp or udp). x264's veryfast preset makes B-frames,
// whose decoding times the caster must derive; zerolatency makes none.
func ffmpegToRTSP(t *testing.T, url, transport, preset string, dur time.Duration) *proc {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", fmt.Sprintf("%.1f", dur.Seconds()),
		"-c:v", "libx264", "-g", "25", "-pix_fmt", "yuv420p"}
	if preset == "zerolatency" {
		args = append(args, "-preset", "ultrafast", "-tune", "zerolatency")
	} else {
		args = append(args, "-preset", preset)
	}
	args = append(args, "-c:a", "aac", "-b:a", "64k", "-ac", "2",
		"-f", "rtsp", "-rtsp_transport", transport, url)
	return startCmd(t, requireTool(t, "ffmpeg"), args...)
}

// checkVideoTimestamps checks that the RTMP output's video decoding times
// rise and no frame is shown before it is decoded.
func checkVideoTimestamps(t *testing.T, url string) {
	t.Helper()
	r := ffprobe(t, url, 80)
	last, n, reordered := int64(-1), 0, false
	for _, p := range r.Packets {
		if p.CodecType != "video" {
			continue
		}
		if p.DTS < last || p.PTS < p.DTS {
			t.Fatalf("%s: video packet %d has dts %d (previous %d) and pts %d", url, n, p.DTS, last, p.PTS)
		}
		reordered = reordered || p.PTS > p.DTS
		last = p.DTS
		n++
	}
	if n < 20 {
		t.Fatalf("%s: %d video packets", url, n)
	}
	t.Logf("%d video packets, composition offsets: %v", n, reordered)
}

// TestCasterRTSPOverTCP: ffmpeg pushes RTSP with RTP interleaved on the
// connection; castd publishes it under the URL's app and stream. A second
// push of the same stream is refused at RECORD, and ffmpeg's TEARDOWN
// ends the publish at once.
func TestCasterRTSPOverTCP(t *testing.T) {
	c, port := startRTSPCaster(t)
	url := fmt.Sprintf("rtsp://127.0.0.1:%d/live/rtsptcp", port)
	push := ffmpegToRTSP(t, url, "tcp", "veryfast", 7*time.Second)
	c.waitPublished(t, "rtsptcp", 10*time.Second)
	checkCast(t, c.httpURL("live/rtsptcp.flv"))
	checkVideoTimestamps(t, c.rtmpURL("live/rtsptcp"))

	// The target refuses a second publisher; RECORD says so.
	if status := rtspPushStatus(t, url); !strings.HasPrefix(status, "RTSP/1.0 409") {
		t.Fatalf("a second push got %q at RECORD, want 409", status)
	}
	if err := push.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	// TEARDOWN, not the 3 s idle timeout, ends it.
	c.waitPublishing(t, liveKey("rtsptcp"), false, 2*time.Second)
	c.waitLog(t, "reason=TEARDOWN", time.Second)
}

// TestCasterRTSPOverUDP: the same over UDP, with RTP and RTCP on a pair of
// ports from rtp_port_min..rtp_port_max for each track.
func TestCasterRTSPOverUDP(t *testing.T) {
	c, port := startRTSPCaster(t)
	url := fmt.Sprintf("rtsp://127.0.0.1:%d/live/rtspudp", port)
	push := ffmpegToRTSP(t, url, "udp", "zerolatency", 6*time.Second)
	c.waitPublished(t, "rtspudp", 10*time.Second)
	checkCast(t, c.httpURL("live/rtspudp.flv"))
	checkVideoTimestamps(t, c.rtmpURL("live/rtspudp"))
	if err := push.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	c.waitPublishing(t, liveKey("rtspudp"), false, 2*time.Second)
	c.waitLog(t, "transport=udp", time.Second)
	c.waitLog(t, "reason=TEARDOWN", time.Second)
}

// rtspPushStatus announces an H.264 stream at url, sets it up over TCP and
// returns the status line of the answer to RECORD.
func rtspPushStatus(t *testing.T, url string) string {
	t.Helper()
	host := strings.TrimPrefix(url, "rtsp://")
	host = host[:strings.IndexByte(host, '/')]
	nc, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	sdp := "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n" +
		"a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:streamid=0\r\n"
	requests := []string{
		fmt.Sprintf("ANNOUNCE %s RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", url, len(sdp), sdp),
		fmt.Sprintf("SETUP %s/streamid=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n", url),
		fmt.Sprintf("RECORD %s RTSP/1.0\r\nCSeq: 3\r\n\r\n", url),
	}
	var status string
	for _, req := range requests {
		if _, err := nc.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		status = ""
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the answer to %q: %v", req[:strings.IndexByte(req, ' ')], err)
			}
			if status == "" {
				status = strings.TrimSpace(line)
			}
			if line == "\r\n" {
				break
			}
		}
		if !strings.HasPrefix(status, "RTSP/1.0 200") {
			return status
		}
	}
	return status
}
