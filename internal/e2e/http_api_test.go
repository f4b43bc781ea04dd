package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// TestAPIWithRealClients checks the API while ffmpeg publishes and ffmpeg
// plays over RTMP, then kicks the player by its client id.
func TestAPIWithRealClients(t *testing.T) {
	c := startCastd(t, defaultConf)
	ffmpegPublish(t, c.rtmpURL("live/api"), 30*time.Second)
	sid := c.waitPublished(t, "api", 10*time.Second)
	player := startCmd(t, requireTool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error",
		"-i", c.rtmpURL("live/api"), "-f", "null", "-")

	type client struct {
		ID, Vhost, Stream, IP, TcURL, URL, Name, Type string
		Publish                                       bool
		Alive                                         float64
		SendBytes                                     int64 `json:"send_bytes"`
		RecvBytes                                     int64 `json:"recv_bytes"`
	}
	var clients struct {
		Code    int
		Pid     string
		Clients []client
	}
	var pubc, playc client
	deadline := time.Now().Add(10 * time.Second)
	for playc.ID == "" || playc.SendBytes == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the API never listed both clients: %+v", clients)
		}
		time.Sleep(200 * time.Millisecond)
		getJSON(t, "GET", c.apiURL("api/v1/clients/"), &clients)
		for _, cl := range clients.Clients {
			switch cl.Type {
			case "fmle-publish":
				pubc = cl
			case "rtmp-play":
				playc = cl
			}
		}
	}
	if clients.Code != 0 || clients.Pid == "" {
		t.Errorf("envelope: %+v", clients)
	}
	if !pubc.Publish || pubc.Stream != sid || pubc.Name != "api" || pubc.URL != "/live/api" || pubc.RecvBytes == 0 || pubc.IP != "127.0.0.1" {
		t.Errorf("publisher: %+v", pubc)
	}
	if playc.Publish || playc.Stream != sid || !strings.HasPrefix(playc.Vhost, "vid-") || !strings.HasSuffix(playc.TcURL, "/live") {
		t.Errorf("player: %+v", playc)
	}

	var one struct {
		Code   int
		Stream struct {
			ID, Name, URL string
			Clients       int
			Frames        int64
			Publish       struct {
				Active bool
				CID    string
			}
			Video struct {
				Codec         string
				Width, Height int
			}
			Audio struct {
				Codec      string
				SampleRate int `json:"sample_rate"`
				Channel    int
			}
		}
	}
	getJSON(t, "GET", c.apiURL("api/v1/streams/"+sid), &one)
	s := one.Stream
	if one.Code != 0 || s.ID != sid || s.Clients != 2 || s.Frames == 0 || !s.Publish.Active || s.Publish.CID != pubc.ID ||
		s.Video.Codec != "H264" || s.Video.Width != 320 || s.Audio.Codec != "AAC" || s.Audio.SampleRate != 44100 || s.Audio.Channel != 2 {
		t.Errorf("stream: %+v", one)
	}

	// Kick the player: its ffmpeg loses the connection.
	var kicked struct{ Code int }
	getJSON(t, "DELETE", c.apiURL("api/v1/clients/"+playc.ID), &kicked)
	if kicked.Code != 0 {
		t.Fatalf("kick answered %+v", kicked)
	}
	select {
	case <-player.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the kicked player is still connected")
	}
	c.waitLog(t, "rtmp: client kicked", 2*time.Second)
	var gone struct{ Code int }
	getJSON(t, "GET", c.apiURL("api/v1/clients/"+playc.ID), &gone)
	if gone.Code != 2049 {
		t.Errorf("a kicked client is still listed: %+v", gone)
	}
}

// TestHTTPFLVWaitsForPublisherAndEndsAtUnpublish: an HTTP-FLV player that
// comes first waits (SRS's hijack), gets the stream when it is published,
// and its response ends when the publisher leaves, while an RTMP player
// stays connected.
func TestHTTPFLVWaitsForPublisherAndEndsAtUnpublish(t *testing.T) {
	c := startCastd(t, defaultConf)
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(c.httpURL("live/wait.flv"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/x-flv" || resp.ContentLength != -1 {
		t.Fatalf("status %d type %q length %d", resp.StatusCode, resp.Header.Get("Content-Type"), resp.ContentLength)
	}
	rtmpPlayer := dialPlay(t, c, "wait")

	pub := dialPublish(t, c, "wait", rtmp.ClientOptions{})
	write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeAudio, Payload: aacSH}, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: avcSH})
	for i := 0; i < 5; i++ {
		write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: uint32(i * 40), Payload: frame(i == 0, 200, i)},
			rtmp.MediaMessage{Type: rtmp.TypeAudio, Timestamp: uint32(i*40 + 20), Payload: []byte{0xaf, 0x01, byte(i)}})
	}
	reader, err := flv.NewReader(bufio.NewReader(resp.Body))
	if err != nil {
		t.Fatal(err)
	}
	if h := reader.Header(); !h.HasAudio || !h.HasVideo {
		t.Errorf("FLV header flags %+v", h)
	}
	for i := 0; i < 12; i++ {
		if _, err := reader.ReadTag(); err != nil {
			t.Fatalf("tag %d: %v", i, err)
		}
	}
	// Unpublish: the FLV body ends; the RTMP player stays.
	pub.Close()
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := reader.ReadTag(); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("FLV response ended with %v, want a clean end", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the HTTP-FLV player was not closed at unpublish")
	}
	readMedia(t, rtmpPlayer, 12, 5*time.Second)
	_ = rtmpPlayer.NetConn().SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := rtmpPlayer.ReadMessage(); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("the RTMP player should stay connected and waiting, got %v", err)
	}
}

// TestHTTPServerStaticAndAPIShapes checks the HTTP server's static files,
// 404, CORS and the API's trailing-slash redirect on a real listener.
func TestHTTPServerStaticAndAPIShapes(t *testing.T) {
	c := startCastd(t, defaultConf)
	writeFile(t, c.dir+"/index.html", "<h1>castd</h1>")
	client := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	get := func(url string, hdr ...string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", url, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if r, b := get(c.httpURL("")); r.StatusCode != 200 || b != "<h1>castd</h1>" || !strings.HasPrefix(r.Header.Get("Server"), "castd/") {
		t.Errorf("index: %d %q %q", r.StatusCode, b, r.Header.Get("Server"))
	}
	if r, b := get(c.httpURL("nothing.txt")); r.StatusCode != 404 || b != "Not Found" {
		t.Errorf("404: %d %q", r.StatusCode, b)
	}
	if r, _ := get(c.apiURL("api/v1/streams"), "Origin", "http://page"); r.StatusCode != 302 ||
		r.Header.Get("Location") != "/api/v1/streams/" || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("redirect: %d %q %q", r.StatusCode, r.Header.Get("Location"), r.Header.Get("Access-Control-Allow-Origin"))
	}
	if r, b := get(c.httpURL("api/v1/versions")); r.StatusCode != 200 || !strings.Contains(b, `"major":6`) {
		t.Errorf("versions on the HTTP server port: %d %q", r.StatusCode, b)
	}
	if r, b := get(c.apiURL("api/v1/versions?callback=cb")); !strings.HasPrefix(b, "cb({") || r.Header.Get("Content-Type") != "text/javascript" {
		t.Errorf("JSONP: %q %q", b, r.Header.Get("Content-Type"))
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHTTPSeveralPortsAndStaticMount serves the HTTP server on two ports
// and a vhost's http_static mount.
func TestHTTPSeveralPortsAndStaticMount(t *testing.T) {
	second := freePort(t)
	mountDir := t.TempDir()
	writeFile(t, mountDir+"/clip.txt", "from the mount")
	c := startCastd(t, fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
http_server { enabled on; listen 127.0.0.1:{{http}} 127.0.0.1:%d; dir {{dir}}; }
vhost __defaultVhost__ {
    http_static { enabled on; mount [vhost]/files/; dir %s; }
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
}`, second, mountDir))
	writeFile(t, c.dir+"/index.html", "root")
	for _, port := range []int{c.http, second} {
		if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port)); got != "root" {
			t.Errorf("port %d: %q", port, got)
		}
		if got := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/files/clip.txt", port)); got != "from the mount" {
			t.Errorf("port %d mount: %q", port, got)
		}
	}
}

// TestPprofSwitch: Go's profiler is served only with http_api.pprof on.
func TestPprofSwitch(t *testing.T) {
	off := startCastd(t, defaultConf)
	if body := httpGet(t, off.apiURL("debug/pprof/")); strings.Contains(body, "goroutine") {
		t.Fatal("pprof is served while off")
	}
	on := startCastd(t, strings.Replace(defaultConf, "listen          127.0.0.1:{{api}};", "listen          127.0.0.1:{{api}};\n    pprof on;", 1))
	if body := httpGet(t, on.apiURL("debug/pprof/")); !strings.Contains(body, "goroutine") {
		t.Fatalf("pprof index not served with pprof on: %q", body)
	}
	if body := httpGet(t, on.apiURL("debug/pprof/heap?debug=1")); !strings.Contains(body, "heap profile") {
		t.Fatalf("heap profile: %.100q", body)
	}
}
