package player

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/protocol/rtmp"
)

func TestVideoInspector(t *testing.T) {
	m := &Metrics{}
	r := NewRecorder(m)
	r.Connecting(time.Now())
	var v videoInspector
	now := time.Now()
	stamped := frame(t, true, 100, now.Add(-20*time.Millisecond), 1)
	// Before the sequence header a frame counts but its stamp cannot be read.
	v.inspect(now, 0, stamped, r)
	if r.frames.Load() != 1 || r.stamps.Load() != 0 {
		t.Fatalf("frames %d, stamps %d", r.frames.Load(), r.stamps.Load())
	}
	v.inspect(now, 0, avcSeqHeader, r)
	if v.lengthSize != 4 || r.frames.Load() != 1 {
		t.Fatalf("length size %d, frames %d", v.lengthSize, r.frames.Load())
	}
	v.inspect(now, 40, stamped, r)
	v.inspect(now, 80, frame(t, false, 100, time.Time{}, 0), r) // unstamped
	for _, notAFrame := range [][]byte{
		{0x17, 2, 0, 0, 0},                       // end of sequence
		{0x57, 0},                                // command
		{0x80 | 0x10 | 4, 'a', 'v', '0', '1', 1}, // enhanced metadata
		{0x17},                                   // malformed
	} {
		v.inspect(now, 120, notAFrame, r)
	}
	if r.frames.Load() != 3 || r.stamps.Load() != 1 {
		t.Errorf("frames %d, stamps %d", r.frames.Load(), r.stamps.Load())
	}
	if l := m.Latency.Snapshot().Summary(1e-3); l.Count != 1 || l.P50 < 19 || l.P50 > 21 {
		t.Errorf("latency %+v", l)
	}
	// AV1 frames count, without stamps.
	v.inspect(now, 160, []byte{0x80 | 0x10 | 1, 'a', 'v', '0', '1', 0x12, 0}, r)
	if r.frames.Load() != 4 {
		t.Errorf("AV1 frame not counted")
	}
}

func TestNewPicksThePlayer(t *testing.T) {
	for url, want := range map[string]string{
		"rtmp://h/live/s":                               "*player.rtmpPlayer",
		"rtmp://h:1935/live/s?k=v":                      "*player.rtmpPlayer",
		"http://h/live/s.flv":                           "*player.httpFLVPlayer",
		"https://h:8443/live/s.flv?k=v":                 "*player.httpFLVPlayer",
		"http://h/live?app=live&stream=s":               "*player.httpFLVPlayer",
		"http://h/live/s.m3u8":                          "*player.hlsPlayer",
		"https://h/live/s.M3U8?token=1":                 "*player.hlsPlayer",
		"srt://h:10080?streamid=#!::r=live/s,m=request": "*player.srtPlayer",
		"webrtc://h/live/s":                             "*player.webrtcPlayer",
		"whep+https://h/whep/s":                         "*player.webrtcPlayer",
	} {
		p, err := New(url, Options{})
		if err != nil || fmt.Sprintf("%T", p) != want {
			t.Errorf("%s: %T %v, want %s", url, p, err, want)
		}
	}
	for _, url := range []string{"rtmp://h/live", "http://h/live/s.mpd", "http://h/live/s.ts", "http:///s.m3u8", "srt://h:10080", "webrtc://h/s", "http:///x.flv", "::"} {
		if p, err := New(url, Options{}); err == nil {
			t.Errorf("%s: got %T", url, p)
		}
	}
}

// rtmpServer serves plays: each connection gets tags, then handle decides
// how it ends.
func rtmpServer(t *testing.T, tags []flv.Tag, after func(s *rtmp.ServerConn)) string {
	return listen(t, func(c net.Conn) {
		s := rtmp.NewServerConn(c, rtmp.ServerOptions{})
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := s.Handshake(); err != nil {
			return
		}
		if _, err := s.ReadConnect(); err != nil {
			return
		}
		if err := s.AcceptConnect(); err != nil {
			return
		}
		req, err := s.Identify()
		if err != nil {
			return
		}
		if req.Name == "missing" {
			_ = s.RejectStream(rtmp.CodePlayStreamNotFound, "no such stream")
			return
		}
		if err := s.StartPlay(); err != nil {
			return
		}
		for _, tg := range tags {
			if err := s.WriteMedia([]rtmp.MediaMessage{{Type: tg.Type, Timestamp: tg.Timestamp, Payload: tg.Data}}); err != nil {
				return
			}
		}
		after(s)
	})
}

func TestRTMPPlayer(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	tags := streamTags(t, 50)
	// The server sends everything and waits for the player to leave.
	addr := rtmpServer(t, tags, func(s *rtmp.ServerConn) {
		_, _ = io.Copy(io.Discard, s.NetConn())
	})
	p, err := New("rtmp://"+addr+"/live/cam", Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := &Metrics{}
	rec := NewRecorder(m)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	rec.Connecting(time.Now())
	go func() { done <- p.Play(ctx, rec) }()
	waitFor(t, func() bool { return rec.stamps.Load() == 50 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("cancelled play: %v", err)
	}
	res := rec.Finish(time.Now(), nil)
	wantBytes := int64(0)
	for _, tg := range tags {
		wantBytes += int64(len(tg.Data))
	}
	// The server's |RtmpSampleAccess data message counts too.
	if extra := res.Bytes - wantBytes; extra < 0 || extra > 64 || res.Frames != 50 || !res.WasUp || res.TTFF <= 0 {
		t.Errorf("result %+v, want %d bytes and |RtmpSampleAccess", res, wantBytes)
	}
}

func TestRTMPPlayerFailures(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	closing := rtmpServer(t, streamTags(t, 3), func(*rtmp.ServerConn) {})
	silent := rtmpServer(t, nil, func(s *rtmp.ServerConn) {
		_, _ = io.Copy(io.Discard, s.NetConn())
	})
	mute := listen(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }) // never answers the handshake
	garbage := listen(t, func(c net.Conn) {
		_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	})
	refused := closedPort(t)
	opt := Options{ConnectTimeout: 2 * time.Second, ReadTimeout: 1500 * time.Millisecond} // a loaded CI machine still answers
	tests := []struct {
		url  string
		want failure.Kind
		up   bool
	}{
		{"rtmp://" + closing + "/live/cam", failure.EOF, true},
		{"rtmp://" + silent + "/live/cam", failure.Timeout, true},
		{"rtmp://" + closing + "/live/missing", failure.Rejected, false},
		{"rtmp://" + mute + "/live/cam", failure.Timeout, false},
		{"rtmp://" + garbage + "/live/cam", failure.Handshake, false},
		{"rtmp://" + refused + "/live/cam", failure.Dial, false},
	}
	for _, tt := range tests {
		p, err := New(tt.url, opt)
		if err != nil {
			t.Fatal(err)
		}
		rec := NewRecorder(&Metrics{})
		rec.Connecting(time.Now())
		err = p.Play(context.Background(), rec)
		res := rec.Finish(time.Now(), err)
		if res.Kind != tt.want || res.WasUp != tt.up {
			t.Errorf("%s: kind %q (up %v), want %q (up %v): %v", tt.url, res.Kind, res.WasUp, tt.want, tt.up, err)
		}
	}
}

// closedPort returns an address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// flvHandler streams tags as HTTP-FLV, then waits for the client to leave.
func flvHandler(t *testing.T, tags []flv.Tag) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/x-flv")
		fw, err := flv.NewWriter(w, flv.Header{HasAudio: true, HasVideo: true})
		if err != nil {
			return
		}
		for _, tg := range tags {
			if err := fw.WriteTag(tg); err != nil {
				return
			}
		}
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
}

func TestHTTPFLVPlayer(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	tags := streamTags(t, 50)
	mux := http.NewServeMux()
	mux.Handle("/live/cam.flv", flvHandler(t, tags))
	mux.Handle("/old/cam.flv", http.RedirectHandler("/live/cam.flv", http.StatusFound))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(mux)
	defer tlsSrv.Close()
	wantBytes := int64(0)
	for _, tg := range tags {
		wantBytes += int64(len(tg.Data))
	}
	for _, url := range []string{srv.URL + "/live/cam.flv", srv.URL + "/old/cam.flv", tlsSrv.URL + "/live/cam.flv"} {
		p, err := New(url, Options{TLS: &tls.Config{InsecureSkipVerify: true}})
		if err != nil {
			t.Fatal(err)
		}
		rec := NewRecorder(&Metrics{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		rec.Connecting(time.Now())
		go func() { done <- p.Play(ctx, rec) }()
		waitFor(t, func() bool { return rec.stamps.Load() == 50 })
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("%s: cancelled play: %v", url, err)
		}
		res := rec.Finish(time.Now(), nil)
		if res.Bytes != wantBytes || res.Frames != 50 || !res.WasUp {
			t.Errorf("%s: result %+v, want %d bytes", url, res, wantBytes)
		}
	}
}

func TestHTTPFLVPlayerFailures(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	mux := http.NewServeMux()
	mux.Handle("/ended.flv", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fw, _ := flv.NewWriter(w, flv.Header{HasVideo: true})
		_ = fw.WriteTag(flv.Tag{Type: flv.TagVideo, Data: avcSeqHeader})
	}))
	mux.Handle("/silent.flv", flvHandler(t, nil))
	mux.Handle("/garbage.flv", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html>not a video</html>")
	}))
	mux.Handle("/loop.flv", http.RedirectHandler("/loop.flv", http.StatusFound))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := httptest.NewUnstartedServer(mux)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	mute := listen(t, func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c) // reads the request, never answers, until the player hangs up
	})
	opt := Options{ConnectTimeout: 2 * time.Second, ReadTimeout: 1500 * time.Millisecond} // a loaded CI machine still answers
	tests := []struct {
		url  string
		want failure.Kind
		up   bool
	}{
		{srv.URL + "/ended.flv", failure.EOF, true},
		{srv.URL + "/silent.flv", failure.Timeout, true},
		{srv.URL + "/garbage.flv", failure.BadData, true},
		{srv.URL + "/missing.flv", failure.HTTPStatus, false},
		{srv.URL + "/loop.flv", failure.HTTPStatus, false},
		{tlsSrv.URL + "/silent.flv", failure.Handshake, false}, // self-signed
		{"http://" + mute + "/x.flv", failure.Timeout, false},
		{"http://" + closedPort(t) + "/x.flv", failure.Dial, false},
	}
	for _, tt := range tests {
		p, err := New(tt.url, opt)
		if err != nil {
			t.Fatal(err)
		}
		rec := NewRecorder(&Metrics{})
		rec.Connecting(time.Now())
		err = p.Play(context.Background(), rec)
		res := rec.Finish(time.Now(), err)
		if res.Kind != tt.want || res.WasUp != tt.up {
			t.Errorf("%s: kind %q (up %v), want %q (up %v): %v", tt.url, res.Kind, res.WasUp, tt.want, tt.up, err)
		}
		if tt.want == failure.HTTPStatus && !strings.Contains(err.Error(), "GET") {
			t.Errorf("%s: error %q does not say which request", tt.url, err)
		}
	}
}

// A player cancelled while it connects returns at once, without an error.
func TestPlayersStopWhileConnecting(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	mute := listen(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	for _, url := range []string{"rtmp://" + mute + "/live/s", "http://" + mute + "/live/s.flv", "http://" + mute + "/live/s.m3u8"} {
		p, err := New(url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		rec := NewRecorder(&Metrics{})
		rec.Connecting(time.Now())
		start := time.Now()
		err = p.Play(ctx, rec)
		cancel()
		if err != nil || time.Since(start) > 2*time.Second {
			t.Errorf("%s: %v after %v", url, err, time.Since(start))
		}
		if errors.Is(err, context.Canceled) {
			t.Errorf("%s: the end of the run is not an error", url)
		}
	}
}
