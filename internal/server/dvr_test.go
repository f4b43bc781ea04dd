package server

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
)

// H.264 and AAC sequence headers and frames (64x48 baseline, AAC LC mono)
// from an ffmpeg FLV, as in internal/dvr's tests.
const (
	testAVCHeader   = "17000000000142c00affe100156742c00ada11ec0440000003004000000c83c489a801000468ce0fc8"
	testAACHeader   = "af00120856e500"
	testAVCKeyframe = "170100000000000002" + "6588"
	testAVCInter    = "270100000000000002" + "419a"
	testAACFrame    = "af0121100500"
)

// dvrTestConfig is a config whose default vhost has the dvr{} directives
// dvr and the play{} directives play; listen is the RTMP port.
func dvrTestConfig(t *testing.T, dir string, listen int, dvr, play string) *conf.Config {
	t.Helper()
	text := fmt.Sprintf(`
listen 127.0.0.1:%d;
daemon off;
pid %s/castd.pid;
vhost __defaultVhost__ {
    dvr {
        %s
    }
    play {
        %s
    }
}
`, listen, dir, dvr, play)
	cfg, err := conf.Parse("test.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// dvrFreePort asks the kernel for a free loopback port.
func dvrFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func testPacket(t *testing.T, kind av.Kind, ts uint32, hexBody string) *av.Packet {
	t.Helper()
	b, err := hex.DecodeString(hexBody)
	if err != nil {
		t.Fatal(err)
	}
	p, err := av.NewPacket(kind, ts, b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// feed writes ms of 25 fps video with 1 s GOPs and AAC audio from time from.
func feed(t *testing.T, pub *hub.Publisher, from, ms uint32) {
	t.Helper()
	for ts := from; ts < from+ms; ts += 40 {
		body := testAVCInter
		if ts%1000 == 0 {
			body = testAVCKeyframe
		}
		for _, p := range []*av.Packet{testPacket(t, av.KindVideo, ts, body), testPacket(t, av.KindAudio, ts, testAACFrame)} {
			if err := pub.Write(p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// waitRecordings waits until dir holds n finished recordings and a .tmp
// when recording goes on, none when not.
func waitRecordings(t *testing.T, dir string, n int, recording bool) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var files []string
		tmp := false
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			switch {
			case err != nil || d.IsDir() || strings.HasSuffix(p, ".pid") || strings.HasSuffix(p, ".id"):
			case strings.HasSuffix(p, ".tmp"):
				tmp = true
			default:
				files = append(files, filepath.Base(p))
			}
			return nil
		})
		sort.Strings(files)
		if len(files) == n && recording == tmp {
			return files
		}
		if time.Now().After(deadline) {
			t.Fatalf("recordings %v, want %d finished", files, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDVRReload: a reload that changes dvr{} closes the current file and
// goes on with the new settings; turning DVR off finishes the file; turning
// it on records streams already live; dvr_apply keeps its startup value.
func TestDVRReload(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	port := dvrFreePort(t)
	on := func(path, apply string) *conf.Config {
		return dvrTestConfig(t, dir, port, fmt.Sprintf("enabled on; dvr_apply %s; dvr_path %s/%s;", apply, rec, path), "")
	}
	s := New(on("[stream].[timestamp].flv", "live/cam"), Options{Logger: slog.New(slog.NewTextHandler(tlog{t}, nil))})
	d := testDVR(s)
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); s.Wait() }()

	key := hub.Key{Vhost: conf.DefaultVhost, App: "live", Name: "cam"}
	pub, err := s.hub.Publish(key, hub.ClientInfo{ID: "pub1", Addr: "127.0.0.1:5000"}, hub.DefaultStreamOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*av.Packet{testPacket(t, av.KindVideo, 0, testAVCHeader), testPacket(t, av.KindAudio, 0, testAACHeader)} {
		if err := pub.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	feed(t, pub, 0, 1000)
	waitRecordings(t, rec, 0, true) // the FLV is open

	// A new dvr_path (now MP4) and a dvr_apply that no longer names the
	// stream: the file is cut, the stream still recorded.
	s.Reload(on("[stream].[timestamp].mp4", "live/other"))
	feed(t, pub, 1000, 1000)
	waitRecordings(t, rec, 1, true)

	// DVR off: the MP4 is finished and nothing more is written.
	s.Reload(dvrTestConfig(t, dir, port, "enabled off;", ""))
	files := waitRecordings(t, rec, 2, false)
	if !strings.HasSuffix(files[0], ".flv") && !strings.HasSuffix(files[1], ".flv") || !strings.HasSuffix(files[0]+files[1], ".mp4") {
		t.Errorf("recordings %v, want one FLV and one MP4", files)
	}
	feed(t, pub, 2000, 1000)

	// DVR on again: the live stream is recorded from its GOP cache.
	s.Reload(on("again-[stream].flv", "all"))
	feed(t, pub, 3000, 1000)
	pub.Close()
	files = waitRecordings(t, rec, 3, false)
	if !strings.Contains(strings.Join(files, " "), "again-cam.flv") {
		t.Errorf("recordings %v, want again-cam.flv", files)
	}
	d.Wait(context.Background())
}

// TestDVRApply: only the streams dvr_apply names are recorded.
func TestDVRApply(t *testing.T) {
	dir := t.TempDir()
	s := New(dvrTestConfig(t, dir, dvrFreePort(t), fmt.Sprintf("enabled on; dvr_apply live/a other/b; dvr_path %s/[app]-[stream].flv;", dir), ""), Options{})
	d := testDVR(s)
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); s.Wait() }()
	for _, name := range []string{"a", "b", "c"} {
		pub, err := s.hub.Publish(hub.Key{Vhost: conf.DefaultVhost, App: "live", Name: name}, hub.ClientInfo{ID: name}, hub.DefaultStreamOptions())
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Write(testPacket(t, av.KindVideo, 0, testAVCHeader)); err != nil {
			t.Fatal(err)
		}
		feed(t, pub, 0, 200)
		pub.Close()
	}
	d.Wait(context.Background())
	if files := waitRecordings(t, dir, 1, false); files[0] != "live-a.flv" {
		t.Errorf("recordings %v, want live-a.flv only", files)
	}
}

// TestReloadKeepsDVRTimeJitter: a reload that changes play{} reaches the
// players but not the DVR's viewer, which reads with dvr.time_jitter.
func TestReloadKeepsDVRTimeJitter(t *testing.T) {
	dir := t.TempDir()
	port := dvrFreePort(t)
	dvrConf := fmt.Sprintf("enabled on; time_jitter off; dvr_path %s/[stream].flv;", dir)
	s := New(dvrTestConfig(t, dir, port, dvrConf, "time_jitter full;"), Options{})
	d := testDVR(s)
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); s.Wait() }()
	key := hub.Key{Vhost: conf.DefaultVhost, App: "live", Name: "cam"}
	pub, err := s.hub.Publish(key, hub.ClientInfo{ID: "pub1", Addr: "127.0.0.1:5000"}, hub.DefaultStreamOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	player := s.hub.Play(key, hub.ClientInfo{ID: "play1", Protocol: "rtmp", Addr: "127.0.0.1:5001"}, hub.DefaultStreamOptions(), hub.ViewerOptions{Jitter: hub.JitterFull})
	defer player.Close()

	s.Reload(dvrTestConfig(t, dir, port, dvrConf, "time_jitter zero;"))
	if got := player.Options().Jitter; got != hub.JitterZero {
		t.Errorf("player jitter %v after reload, want zero", got)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.runs) != 1 {
		t.Fatalf("%d recordings, want 1", len(d.runs))
	}
	for run := range d.runs {
		if got := run.viewer.Options(); got.Jitter != hub.JitterOff || !got.StopOnUnpublish {
			t.Errorf("DVR viewer options %+v after reload, want jitter off and stop on unpublish", got)
		}
	}
}

// testDVR returns the server's DVR output, registering one when New did
// not (yet).
func testDVR(s *Server) *dvrEgress {
	for _, e := range s.egress {
		if d, ok := e.(*dvrEgress); ok {
			return d
		}
	}
	d := newDVR(s)
	s.egress = append(s.egress, d)
	return d
}

// tlog sends a server's log to the test's.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
