package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264writer"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/hooks/hookserver"
	"github.com/castd/castd/internal/transcode"
)

// rtcConf is a WebRTC server on loopback: signalling on the API port,
// media on UDP {{rtc}} advertised as 127.0.0.1. extra goes in the vhost's
// rtc{} block; more goes in the vhost.
func rtcConf(extra, more string) string {
	return `
listen 127.0.0.1:{{rtmp}};
daemon off;
srs_log_tank console;
pid {{dir}}/castd.pid;
http_api { enabled on; listen 127.0.0.1:{{api}}; }
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
rtc_server { enabled on; listen {{rtc}}; candidate 127.0.0.1; }
vhost __defaultVhost__ {
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
    rtc { enabled on; ` + extra + ` }
    ` + more + `
}
`
}

// rtcMedia makes test media with ffmpeg: H.264 baseline without B-frames,
// an AUD before each access unit (so the file splits into frames), and
// Opus in Ogg with one 20 ms packet per page.
func rtcMedia(t *testing.T, dur time.Duration) (h264, ogg string) {
	t.Helper()
	dir := t.TempDir()
	h264, ogg = filepath.Join(dir, "v.h264"), filepath.Join(dir, "a.ogg")
	secs := fmt.Sprintf("%.1f", dur.Seconds())
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", secs, "-c:v", "libx264", "-profile:v", "baseline",
			"-preset", "ultrafast", "-bf", "0", "-g", "25", "-pix_fmt", "yuv420p", "-x264-params", "aud=1", "-f", "h264", h264},
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", secs, "-ac", "2", "-c:a", "libopus", "-b:a", "48k",
			"-page_duration", "20000", "-f", "ogg", ogg},
	} {
		out, err := exec.Command(requireTool(t, "ffmpeg"), append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
		}
	}
	return h264, ogg
}

// accessUnits splits an Annex-B file at its AUDs, each unit in Annex-B.
func accessUnits(t *testing.T, file string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	nalus, err := av.SplitAnnexB(data)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][]byte
	var cur []byte
	for _, n := range nalus {
		if av.H264NALUType(n) == av.H264NALAUD {
			if len(cur) > 0 {
				aus = append(aus, cur)
			}
			cur = nil
			continue
		}
		cur = append(append(cur, 0, 0, 0, 1), n...)
	}
	if len(cur) > 0 {
		aus = append(aus, cur)
	}
	return aus
}

// opusPackets reads the Opus packets of an Ogg file (one per page).
func opusPackets(t *testing.T, file string) [][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		payload, _, err := r.ParseNextPage()
		if err != nil {
			return out
		}
		if bytes.HasPrefix(payload, []byte("OpusTags")) || len(payload) == 0 {
			continue
		}
		out = append(out, payload)
	}
}

// rtcPC is a pion client with loopback candidates.
func rtcPC(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir)).
		NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

func rtcOffer(t *testing.T, pc *webrtc.PeerConnection) string {
	t.Helper()
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-done
	return pc.LocalDescription().SDP
}

func rtcAnswer(t *testing.T, pc *webrtc.PeerConnection, sdp string) {
	t.Helper()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		t.Fatalf("answer: %v\n%s", err, sdp)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		if time.Now().After(deadline) {
			t.Fatalf("never connected: %s", pc.ConnectionState())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// whipURL posts an offer (WHIP/WHEP) and applies the answer; it returns
// the Location to DELETE.
func whipTo(t *testing.T, pc *webrtc.PeerConnection, url string) string {
	t.Helper()
	resp, err := http.Post(url, "application/sdp", strings.NewReader(rtcOffer(t, pc)))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %s %s", url, resp.Status, body)
	}
	rtcAnswer(t, pc, string(body))
	return resp.Header.Get("Location")
}

// rtcPublish sends the media files over a new WHIP session until ctx ends
// (looping them), as a browser would: 25 fps video, 20 ms Opus packets.
// Closing the returned connection ends the session.
func rtcPublish(ctx context.Context, t *testing.T, url, h264, ogg string) *webrtc.PeerConnection {
	t.Helper()
	pc := rtcPC(t)
	video, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264}, "video", "pub")
	if err != nil {
		t.Fatal(err)
	}
	audio, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}, "audio", "pub")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []webrtc.TrackLocal{video, audio} {
		sender, err := pc.AddTrack(tr)
		if err != nil {
			t.Fatal(err)
		}
		go func() { // pion's interceptors need RTCP read
			for {
				if _, _, err := sender.ReadRTCP(); err != nil {
					return
				}
			}
		}()
	}
	aus, opus := accessUnits(t, h264), opusPackets(t, ogg)
	whipTo(t, pc, url)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			_ = audio.WriteSample(media.Sample{Data: opus[i%len(opus)], Duration: 20 * time.Millisecond})
			if i%2 == 0 {
				_ = video.WriteSample(media.Sample{Data: aus[i/2%len(aus)], Duration: 40 * time.Millisecond})
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return pc
}

// rtcRecorder plays a stream and writes what it receives to files: video
// as Annex-B, audio as Ogg Opus, for ffmpeg to decode afterwards.
type rtcRecorder struct {
	pc         *webrtc.PeerConnection
	video, ogg string
	mu         sync.Mutex
	vpackets   int
	apackets   int
	wg         sync.WaitGroup
}

func newRTCRecorder(t *testing.T) *rtcRecorder {
	t.Helper()
	dir := t.TempDir()
	r := &rtcRecorder{pc: rtcPC(t), video: filepath.Join(dir, "got.h264"), ogg: filepath.Join(dir, "got.ogg")}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := r.pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	r.pc.OnTrack(func(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		r.wg.Add(1)
		defer r.wg.Done()
		var write func(*rtp.Packet) error
		var closeFn func() error
		if track.Kind() == webrtc.RTPCodecTypeVideo {
			w, err := h264writer.New(r.video)
			if err != nil {
				return
			}
			write, closeFn = func(p *rtp.Packet) error { return w.WriteRTP(p) }, w.Close
		} else {
			w, err := oggwriter.New(r.ogg, 48000, 2)
			if err != nil {
				return
			}
			write, closeFn = func(p *rtp.Packet) error { return w.WriteRTP(p) }, w.Close
		}
		defer closeFn()
		for {
			p, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			r.mu.Lock()
			if track.Kind() == webrtc.RTPCodecTypeVideo {
				r.vpackets++
			} else {
				r.apackets++
			}
			r.mu.Unlock()
			_ = write(p)
		}
	})
	return r
}

// stop closes the connection and waits until the files are complete.
func (r *rtcRecorder) stop() {
	_ = r.pc.Close()
	r.wg.Wait()
}

func (r *rtcRecorder) counts() (video, audio int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.vpackets, r.apackets
}

// decodedFrames decodes a received file with ffmpeg and returns how many
// frames (video) or samples' worth of packets (audio) decoded; any decoder
// error fails the test.
func decodedFrames(t *testing.T, file, kind string) int {
	t.Helper()
	out, err := exec.Command(requireTool(t, "ffmpeg"), "-hide_banner", "-v", "error", "-i", file, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg cannot decode the received %s cleanly: %v\n%s", kind, err, out)
	}
	sel := "v:0"
	if kind == "audio" {
		sel = "a:0"
	}
	probe, err := exec.Command(requireTool(t, "ffprobe"), "-v", "error", "-count_frames", "-select_streams", sel,
		"-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	fields := strings.Split(strings.TrimSpace(string(probe)), ",")
	n, _ := strconv.Atoi(fields[len(fields)-1])
	want := map[string]string{"video": "h264", "audio": "opus"}[kind]
	if fields[0] != want {
		t.Fatalf("received %s is %q, want %s", kind, probe, want)
	}
	return n
}

func TestRTCWHIPPublishWHEPPlay(t *testing.T) {
	c := startCastd(t, rtcConf("", ""))
	h264, ogg := rtcMedia(t, 3*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rtcPublish(ctx, t, c.apiURL("rtc/v1/whip/?app=live&stream=cam"), h264, ogg)
	id := c.waitPublished(t, "cam", 10*time.Second)

	rec := newRTCRecorder(t)
	loc := whipTo(t, rec.pc, c.apiURL("rtc/v1/whep/?app=live&stream=cam"))
	time.Sleep(3 * time.Second)

	var clients struct {
		Clients []struct{ ID, Type, Stream string }
	}
	getJSON(t, "GET", c.apiURL("api/v1/clients/"), &clients)
	types := map[string]bool{}
	publisher := ""
	for _, cl := range clients.Clients {
		types[cl.Type] = cl.Stream == id
		if cl.Type == "rtc-publish" {
			publisher = cl.ID
		}
	}
	if !types["rtc-publish"] || !types["rtc-play"] {
		t.Fatalf("API clients %+v, want rtc-publish and rtc-play of %s", clients, id)
	}

	req, _ := http.NewRequest(http.MethodDelete, c.apiURL(strings.TrimPrefix(loc, "/")), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE %s: %v %v", loc, resp, err)
	}
	resp.Body.Close()
	c.waitLog(t, "reason=\"the client deleted the session\"", 5*time.Second)
	rec.stop()
	// Kicking the publisher through the API ends its session.
	var kicked struct{ Code int }
	getJSON(t, "DELETE", c.apiURL("api/v1/clients/"+publisher), &kicked)
	if kicked.Code != 0 {
		t.Fatalf("kick answered code %d", kicked.Code)
	}
	c.waitLog(t, "reason=\"kicked by the API\"", 5*time.Second)
	if n := decodedFrames(t, rec.video, "video"); n < 50 {
		t.Fatalf("the player decoded %d video frames in 3 s, want about 75", n)
	}
	if n := decodedFrames(t, rec.ogg, "audio"); n < 100 {
		t.Fatalf("the player decoded %d Opus packets in 3 s, want about 150", n)
	}
}

// transcodeAvailable says whether this build can transcode AAC and Opus.
func transcodeAvailable(t *testing.T) bool {
	if err := transcode.Available(); err != nil {
		t.Logf("AAC/Opus transcoding unavailable (%v): audio checks skipped", err)
		return false
	}
	return true
}

func TestRTCPublishPlayedOverRTMPAndFLV(t *testing.T) {
	c := startCastd(t, rtcConf("rtc_to_rtmp on;", ""))
	h264, ogg := rtcMedia(t, 3*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rtcPublish(ctx, t, c.apiURL("rtc/v1/whip/?app=live&stream=cam"), h264, ogg)
	c.waitPublished(t, "cam", 10*time.Second)
	withAudio := transcodeAvailable(t)
	for _, url := range []string{c.rtmpURL("live/cam"), c.httpURL("live/cam.flv")} {
		p := ffprobe(t, url, 60)
		v, ok := p.stream("video")
		if !ok || p.Streams[v].CodecName != "h264" || p.Streams[v].Width != 320 {
			t.Fatalf("%s: streams %+v", url, p.Streams)
		}
		a, ok := p.stream("audio")
		if withAudio && (!ok || p.Streams[a].CodecName != "aac" || p.Streams[a].SampleRate != "48000") {
			t.Fatalf("%s: want AAC 48 kHz transcoded from Opus, got %+v", url, p.Streams)
		}
	}
}

func TestRTMPPublishPlayedOverRTC(t *testing.T) {
	c := startCastd(t, rtcConf("rtmp_to_rtc on;", ""))
	ffmpegPublish(t, c.rtmpURL("live/cam"), 8*time.Second, "-profile:v", "baseline", "-tune", "zerolatency")
	// Main profile with B-frames (not used as references): keep_bframe off
	// drops them, and what is left still decodes.
	ffmpegPublish(t, c.rtmpURL("live/bframes"), 8*time.Second, "-profile:v", "main", "-bf", "2", "-x264-params", "b-pyramid=none")
	c.waitPublished(t, "cam", 10*time.Second)
	c.waitPublished(t, "bframes", 10*time.Second)
	rec, recB := newRTCRecorder(t), newRTCRecorder(t)
	whipTo(t, rec.pc, c.apiURL("rtc/v1/whep/?app=live&stream=cam"))
	whipTo(t, recB.pc, c.apiURL("rtc/v1/whep/?app=live&stream=bframes"))
	time.Sleep(3 * time.Second)
	rec.stop()
	recB.stop()
	if n := decodedFrames(t, rec.video, "video"); n < 25 {
		t.Fatalf("the player decoded %d video frames in 3 s", n)
	}
	if n := decodedFrames(t, recB.video, "video"); n < 8 {
		t.Fatalf("the player of a stream with B-frames decoded %d video frames in 3 s", n)
	}
	c.waitLog(t, "B-frames dropped for WebRTC players", 15*time.Second)
	if transcodeAvailable(t) {
		if n := decodedFrames(t, rec.ogg, "audio"); n < 50 {
			t.Fatalf("the player decoded %d Opus packets transcoded from AAC in 3 s", n)
		}
	}
}

func TestRTCRefusesRTMPStreamWithoutRTMPToRTC(t *testing.T) {
	c := startCastd(t, rtcConf("rtmp_to_rtc off;", ""))
	ffmpegPublish(t, c.rtmpURL("live/cam"), 6*time.Second)
	c.waitPublished(t, "cam", 10*time.Second)
	pc := rtcPC(t)
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"streamurl": "webrtc://127.0.0.1/live/cam", "sdp": rtcOffer(t, pc)})
	resp, err := http.Post(c.apiURL("rtc/v1/play/"), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != `{"code":400}` {
		t.Fatalf("JSON play of an RTMP stream with rtmp_to_rtc off: %s", got)
	}
	c.waitLog(t, "rtmp_to_rtc is off", time.Second)
}

func TestRTCJSONAPIAndHooks(t *testing.T) {
	hs, hookURL := startHookServer(t, hookserver.Options{})
	hooksConf := fmt.Sprintf("http_hooks { enabled on; on_publish %[1]s; on_unpublish %[1]s; on_play %[1]s; on_stop %[1]s; }", hookURL)
	// The API shares the HTTP server's port: signalling is there too.
	text := strings.Replace(rtcConf("", hooksConf), "listen 127.0.0.1:{{api}};", "listen 127.0.0.1:{{http}};", 1)
	c := startCastd(t, text)
	c.api = c.http
	h264, ogg := rtcMedia(t, 2*time.Second)

	// Publish through SRS's JSON API.
	pub := rtcPC(t)
	for _, mime := range []string{webrtc.MimeTypeH264, webrtc.MimeTypeOpus} {
		tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: mime}, mime, "pub")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pub.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
	}
	body, _ := json.Marshal(map[string]any{"api": c.apiURL("rtc/v1/publish/"), "tid": "0a1b2c3",
		"streamurl": "webrtc://127.0.0.1/live/hooked?secret=1", "clientip": nil, "sdp": rtcOffer(t, pub)})
	resp, err := http.Post(c.apiURL("rtc/v1/publish/"), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var ans struct {
		Code                                 int
		Server, Service, PID, SDP, SessionID string
	}
	err = json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if err != nil || ans.Code != 0 || ans.Server != c.srv.ID() || ans.PID == "" || !strings.Contains(ans.SessionID, ":") {
		t.Fatalf("publish answer %+v, %v", ans, err)
	}
	rtcAnswer(t, pub, ans.SDP)
	_ = pub.Close() // the hooks are what this test is about

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pub2 := rtcPublish(ctx, t, c.apiURL("rtc/v1/whip/?app=live&stream=hooked2"), h264, ogg)
	rec := newRTCRecorder(t)
	whipTo(t, rec.pc, c.apiURL("rtc/v1/whep/?app=live&stream=hooked2"))
	time.Sleep(500 * time.Millisecond)
	rec.stop()
	waitActions(t, hs, []string{"on_publish", "on_unpublish", "on_publish", "on_play", "on_stop"}, 10*time.Second)
	cancel()
	_ = pub2.Close()
	got := waitActions(t, hs, []string{"on_publish", "on_unpublish", "on_publish", "on_play", "on_stop", "on_unpublish"}, 10*time.Second)
	first := bodyOf(t, got[0])
	if first["param"] != "?secret=1&upstream=rtc" || first["stream"] != "hooked" || first["app"] != "live" {
		t.Errorf("on_publish body %v", first)
	}
	if play := bodyOf(t, got[3]); play["stream"] != "hooked2" || strings.Contains(fmt.Sprint(play["param"]), "upstream") {
		t.Errorf("on_play body %v", play)
	}

	// A hook that refuses a player closes the WHEP request without an answer.
	_, hookURL2 := startHookServer(t, hookserver.Options{Reject: []string{"on_play"}})
	c2 := startCastd(t, rtcConf("", fmt.Sprintf("http_hooks { enabled on; on_play %s; }", hookURL2)))
	pc := rtcPC(t)
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Post(c2.apiURL("rtc/v1/whep/?app=live&stream=x"), "application/sdp", strings.NewReader(rtcOffer(t, pc))); err == nil {
		resp.Body.Close()
		t.Fatalf("a refused WHEP player got %s", resp.Status)
	}
}
