package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/hooks/hookserver"
	"github.com/castd/castd/internal/protocol/srt"
)

// srtConf serves SRT (srtExtra goes into srt_server), RTMP, HTTP-FLV and
// the API; vhostExtra goes into the default vhost.
func srtConf(srtExtra, vhostExtra string) string {
	return fmt.Sprintf(`
listen              127.0.0.1:{{rtmp}};
daemon              off;
pid                 {{dir}}/castd.pid;
http_api { enabled on; listen 127.0.0.1:{{api}}; }
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
srt_server { enabled on; listen {{srt}}; %s }
vhost __defaultVhost__ {
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
    srt { enabled on; srt_to_rtmp on; }
    %s
}`, srtExtra, vhostExtra)
}

const srtTestPassphrase = "castd-e2e-passphrase"

// srtURL is castd's SRT URL for a stream id, with extra libsrt options
// (latency=..., passphrase=...) as ffmpeg takes them.
func (c *castd) srtURL(streamID string, extra ...string) string {
	return srtURLAt(c.srt, streamID, extra...)
}

func srtURLAt(port int, streamID string, extra ...string) string {
	u := fmt.Sprintf("srt://127.0.0.1:%d?streamid=%s", port, streamID)
	for _, e := range extra {
		u += "&" + e
	}
	return u
}

// ffmpegPublishTS has ffmpeg publish a generated H.264+AAC transport
// stream to url (srt://...) for dur.
func ffmpegPublishTS(t *testing.T, url string, dur time.Duration) *proc {
	t.Helper()
	return startCmd(t, requireTool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", fmt.Sprintf("%.1f", dur.Seconds()),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-ac", "2", "-f", "mpegts", url)
}

// wantH264AAC checks a probe found H.264 video and AAC audio.
func wantH264AAC(t *testing.T, what string, r probeResult) {
	t.Helper()
	v, okV := r.stream("video")
	a, okA := r.stream("audio")
	if !okV || !okA || r.Streams[v].CodecName != "h264" || r.Streams[a].CodecName != "aac" ||
		r.Streams[v].Width != 320 || r.Streams[v].Height != 240 {
		t.Errorf("%s: streams %+v, want h264 320x240 and aac", what, r.Streams)
	}
}

// srtClient is the part of /api/v1/clients the SRT tests read.
type srtClient struct {
	ID        string
	Type      string
	Name      string
	Transport *struct {
		Protocol      string
		RTTMs         float64 `json:"rtt_ms"`
		PktRecv       uint64  `json:"pkt_recv"`
		PktRcvLoss    uint64  `json:"pkt_rcv_loss"`
		PktRcvRetrans uint64  `json:"pkt_rcv_retrans"`
		PktRcvDrop    uint64  `json:"pkt_rcv_drop"`
		PktSndLoss    uint64  `json:"pkt_snd_loss"`
		PktRetrans    uint64  `json:"pkt_retrans"`
		Encrypted     bool
	}
}

func (c *castd) srtClients(t *testing.T) []srtClient {
	t.Helper()
	var r struct{ Clients []srtClient }
	getJSON(t, "GET", c.apiURL("api/v1/clients/?count=100"), &r)
	return r.Clients
}

func (c *castd) srtPublisher(t *testing.T, stream string) srtClient {
	t.Helper()
	for _, cl := range c.srtClients(t) {
		if cl.Type == "srt-publish" && cl.Name == stream {
			return cl
		}
	}
	t.Fatalf("no srt-publish client for %s in %+v", stream, c.srtClients(t))
	return srtClient{}
}

// TestSRTPublishFFmpeg: ffmpeg (libsrt) publishes over SRT, plain and
// encrypted; ffprobe plays the stream back over SRT, RTMP and HTTP-FLV.
func TestSRTPublishFFmpeg(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "passphrase"}[encrypted], func(t *testing.T) {
			srtExtra, opts := "", []string{"latency=200000"}
			if encrypted {
				srtExtra = "passphrase " + srtTestPassphrase + "; pbkeylen 16;"
				opts = append(opts, "passphrase="+srtTestPassphrase, "pbkeylen=16")
			}
			c := startCastd(t, srtConf(srtExtra, ""))
			// ffprobe needs 5 s of a live TS to settle the frame rate; the
			// stream lasts until the probes are done.
			pub := ffmpegPublishTS(t, c.srtURL("#!::r=live/x,m=publish", opts...), 9*time.Second)
			c.waitPublished(t, "x", 10*time.Second)
			p := c.srtPublisher(t, "x")
			if p.Transport == nil || p.Transport.Protocol != "srt" || p.Transport.Encrypted != encrypted || p.Transport.PktRecv == 0 {
				t.Errorf("publisher's transport %+v", p.Transport)
			}

			wantH264AAC(t, "SRT", ffprobe(t, c.srtURL("#!::r=live/x,m=request", opts...), 0))
			wantH264AAC(t, "RTMP", ffprobe(t, c.rtmpURL("live/x"), 0))
			if !encrypted { // the bridge is the same; keep the suite short
				wantH264AAC(t, "HTTP-FLV", ffprobe(t, c.httpURL("live/x.flv"), 0))
			}
			if err := pub.Wait(); err != nil {
				t.Errorf("ffmpeg: %v", err)
			}
			c.waitLog(t, "srt: publish end", 5*time.Second)
			if strings.Contains(c.logs.String(), "srt: request refused") {
				t.Error("a caller was refused")
			}
		})
	}
	// A caller without the passphrase is refused by the protocol.
	t.Run("wrong passphrase", func(t *testing.T) {
		c := startCastd(t, srtConf("passphrase "+srtTestPassphrase+";", ""))
		_, err := dialSRT(c, "#!::r=live/x,m=publish", "")
		var rej *srt.RejectError
		if !errors.As(err, &rej) || (rej.Reason != srt.RejectUnsecure && rej.Reason != srt.RejectBadSecret) {
			t.Errorf("dial without passphrase: %v", err)
		}
	})
}

// TestSRTPlayRTMPPublish: a stream published over RTMP plays over SRT, in
// the full and the short stream id forms.
func TestSRTPlayRTMPPublish(t *testing.T) {
	c := startCastd(t, srtConf("", ""))
	ffmpegPublish(t, c.rtmpURL("live/r"), 15*time.Second)
	c.waitPublished(t, "r", 10*time.Second)
	player, err := dialSRT(c, "#!::r=live/r,m=request", "")
	if err != nil {
		t.Fatal(err)
	}
	defer player.Close()
	// The SRT player is listed as such, next to the RTMP publisher.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var types []string
		for _, cl := range c.srtClients(t) {
			types = append(types, cl.Type)
		}
		if got := strings.Join(types, ","); strings.Contains(got, "fmle-publish") && strings.Contains(got, "srt-play") {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("client types %v", types)
		}
		time.Sleep(50 * time.Millisecond)
	}
	player.Close()
	wantH264AAC(t, "SRT full stream id", ffprobe(t, c.srtURL("#!::r=live/r,m=request"), 0))
	wantH264AAC(t, "SRT short stream id", ffprobe(t, c.srtURL("live/r"), 0))
}

func dialSRT(c *castd, streamID, passphrase string) (*srt.Conn, error) {
	o := srt.DefaultOptions()
	o.StreamID, o.Passphrase = streamID, passphrase
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srt.Dial(ctx, "udp", fmt.Sprintf("127.0.0.1:%d", c.srt), o)
}

// TestSRTLiveTransmit: libsrt's own tool as caller, publishing a transport
// stream into castd and playing one out of it.
func TestSRTLiveTransmit(t *testing.T) {
	slt := requireTool(t, "srt-live-transmit")
	c := startCastd(t, srtConf("", ""))

	// ffmpeg paces the TS (-re); srt-live-transmit carries it from stdin.
	ff := exec.Command(requireTool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "8", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k", "-f", "mpegts", "-")
	pipe, err := ff.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	pubOut := &syncBuffer{}
	pub := exec.Command(slt, "-q", "file://con", c.srtURL("#!::r=live/slt,m=publish"))
	pub.Stdin, pub.Stdout, pub.Stderr = pipe, pubOut, pubOut
	ff.Stderr = pubOut
	if err := ff.Start(); err != nil {
		t.Fatal(err)
	}
	if err := pub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = ff.Process.Kill()
		_ = pub.Process.Kill()
		_ = ff.Wait()
		_ = pub.Wait()
		if t.Failed() {
			t.Logf("ffmpeg | srt-live-transmit output:\n%s", pubOut.String())
		}
	})
	c.waitPublished(t, "slt", 10*time.Second)
	wantH264AAC(t, "RTMP of an srt-live-transmit publish", ffprobe(t, c.rtmpURL("live/slt"), 0))

	// srt-live-transmit plays for a few seconds into a file.
	file := filepath.Join(t.TempDir(), "played.ts")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	play := exec.CommandContext(ctx, slt, "-q", c.srtURL("#!::r=live/slt,m=request"), "file://con")
	var out, stderr bytes.Buffer
	play.Stdout, play.Stderr = &out, &stderr
	_ = play.Run() // killed by the context
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	video, audio := demuxCounts(t, out.Bytes())
	if video < 50 || audio < 10 {
		t.Fatalf("srt-live-transmit played %d bytes: %d video and %d audio frames (stderr %s)", out.Len(), video, audio, stderr.String())
	}
	wantH264AAC(t, "the TS srt-live-transmit played", ffprobe(t, file, 0))
}

// demuxCounts counts H.264 and AAC frames, failing on any damage.
func demuxCounts(t *testing.T, ts []byte) (video, audio int) {
	t.Helper()
	d := mpegts.NewDemuxer(bytes.NewReader(ts))
	for {
		f, err := d.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch f.StreamType {
		case mpegts.StreamTypeH264:
			video++
		case mpegts.StreamTypeAAC:
			audio++
		}
	}
	// A file cut by a kill may end in a partial packet; nothing else may be wrong.
	if st := d.Stats(); st.ContinuityErrors != 0 || st.SyncLosses != 0 || st.PSIErrors != 0 || st.TransportErrors != 0 {
		t.Errorf("damaged TS: %+v", st)
	}
	return video, audio
}

// TestSRTRefused: hooks and security refuse SRT callers before they
// connect; the caller sees the rejection (castd's 1403) and ffmpeg fails.
func TestSRTRefused(t *testing.T) {
	hs, url := startHookServer(t, hookserver.Options{Reject: []string{"on_publish"}})
	vhost := fmt.Sprintf(`http_hooks { enabled on; on_publish %s; on_play %s; }
    security { enabled on; deny play 127.0.0.1; allow publish all; }`, url, url)
	c := startCastd(t, srtConf("", vhost))

	_, err := dialSRT(c, "#!::r=live/no,m=publish", "")
	var rej *srt.RejectError
	if !errors.As(err, &rej) || rej.Reason != srt.RejectPredefinedBase+403 {
		t.Errorf("publish refused by on_publish: %v, want rejection 1403", err)
	}
	if got := hs.Actions(); len(got) != 1 || got[0] != "on_publish" {
		t.Errorf("hooks %v", got)
	}
	_, err = dialSRT(c, "#!::r=live/no,m=request", "")
	if !errors.As(err, &rej) || rej.Reason != srt.RejectPredefinedBase+403 {
		t.Errorf("play refused by security: %v, want rejection 1403", err)
	}
	if got := hs.Actions(); len(got) != 1 {
		t.Errorf("on_play was called for a player security refused: %v", got)
	}

	// ffmpeg, as a real caller, fails at once.
	start := time.Now()
	p := ffmpegPublishTS(t, c.srtURL("#!::r=live/no,m=publish"), 5*time.Second)
	if err := p.Wait(); err == nil {
		t.Error("ffmpeg published to a stream on_publish refuses")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("ffmpeg took %v to see the rejection", d)
	}
	c.waitLog(t, "reason=1403", time.Second)
}

// TestSRTReload: a reload that moves srt_server to another port closes the
// old listener and its connections and opens the new one; turning
// srt_server off closes it.
func TestSRTReload(t *testing.T) {
	c := startCastd(t, srtConf("", ""))
	pub, err := dialSRT(c, "#!::r=live/re,m=publish", "")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	c.waitLog(t, "srt: publish start", 5*time.Second)

	oldPort, newPort := c.srt, freeUDPPort(t)
	reloadSRT := func(srtServer string) {
		t.Helper()
		text := strings.NewReplacer("{{rtmp}}", strconv.Itoa(c.rtmp), "{{http}}", strconv.Itoa(c.http),
			"{{api}}", strconv.Itoa(c.api), "{{dir}}", c.dir).Replace(srtConf("", ""))
		text = strings.Replace(text, "srt_server { enabled on; listen {{srt}};  }", srtServer, 1)
		cfg, err := conf.Parse("test.conf", []byte(text), conf.Options{})
		if err != nil {
			t.Fatalf("config: %v\n%s", err, text)
		}
		c.srv.Reload(cfg)
	}
	reloadSRT(fmt.Sprintf("srt_server { enabled on; listen %d; }", newPort))
	_ = pub.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := pub.ReadMessage(make([]byte, 1500)); !errors.Is(err, io.EOF) {
		t.Errorf("the publisher on the old port reads %v, want io.EOF", err)
	}
	if got := c.srv.Addrs()["srt"]; len(got) != 1 || !strings.HasSuffix(got[0].String(), ":"+strconv.Itoa(newPort)) {
		t.Errorf("SRT listens on %v, want port %d", got, newPort)
	}
	c.srt = newPort
	p2, err := dialSRT(c, "#!::r=live/re2,m=publish", "") // the old session may still be ending
	if err != nil {
		t.Fatalf("the new port: %v", err)
	}
	p2.Close()
	o := srt.DefaultOptions()
	o.ConnectTimeout = 500 * time.Millisecond
	if _, err := srt.Dial(context.Background(), "udp", fmt.Sprintf("127.0.0.1:%d", oldPort), o); err == nil {
		t.Error("the old port still answers")
	}

	reloadSRT("srt_server { enabled off; listen 10080; }")
	if got := c.srv.Addrs()["srt"]; len(got) != 0 {
		t.Errorf("SRT still listens on %v with srt_server off", got)
	}
}
