package server

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
)

func casterFreeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func casterConf(blocks ...string) string {
	return "listen 127.0.0.1:{{rtmp}};\ndaemon off;\npid {{dir}}/castd.pid;\n" + strings.Join(blocks, "\n") + "\nvhost __defaultVhost__ { }\n"
}

func udpCasterBlock(port int, output string) string {
	return fmt.Sprintf("stream_caster { enabled on; caster mpegts_over_udp; output %s; listen %d; }", output, port)
}

func flvCasterBlock(port int) string {
	return fmt.Sprintf("stream_caster { enabled on; caster flv; output rtmp://127.0.0.1:{{rtmp}}/[app]/[stream]; listen %d; }", port)
}

func casterPorts(s *Server, name string) []int {
	var ports []int
	for _, a := range s.Addrs()[name] {
		switch a := a.(type) {
		case *net.UDPAddr:
			ports = append(ports, a.Port)
		case *net.TCPAddr:
			ports = append(ports, a.Port)
		}
	}
	return ports
}

// TestCastersFollowReloads: casters listen from Start; a reload restarts
// a changed block, keeps an unchanged one and stops a removed one.
func TestCastersFollowReloads(t *testing.T) {
	udp1, udp2, flvPort := casterFreeUDPPort(t), casterFreeUDPPort(t), dvrFreePort(t)
	out1, out2 := "rtmp://127.0.0.1:{{rtmp}}/live/a", "rtmp://127.0.0.1:{{rtmp}}/live/b"
	ts := startTestServer(t, casterConf(udpCasterBlock(udp1, out1), flvCasterBlock(flvPort)), Options{})
	if got := casterPorts(ts.srv, "mpegts_over_udp"); len(got) != 1 || got[0] != udp1 {
		t.Fatalf("mpegts_over_udp listens on %v, want %d", got, udp1)
	}
	if got := casterPorts(ts.srv, "flv"); len(got) != 1 || got[0] != flvPort {
		t.Fatalf("flv listens on %v, want %d", got, flvPort)
	}
	flvURL := fmt.Sprintf("http://127.0.0.1:%d/live/x.flv", flvPort)
	if status, _, _ := get(t, nil, flvURL); status != http.StatusMethodNotAllowed {
		t.Fatalf("GET on the flv caster: %d, want 405", status)
	}
	stopped := func() int { return strings.Count(ts.logs.String(), "stream caster stopped") }

	// The UDP caster's output changes: it restarts on the same port; the
	// flv caster is untouched.
	ts.srv.Reload(parseTestConfig(t, ts, casterConf(udpCasterBlock(udp1, out2), flvCasterBlock(flvPort))))
	if n := stopped(); n != 1 || !strings.Contains(ts.logs.String(), "output=rtmp://127.0.0.1:"+fmt.Sprint(ts.ports["rtmp"])+"/live/b") {
		t.Fatalf("%d casters stopped, want the UDP one restarted with its new output:\n%s", n, ts.logs.String())
	}
	if got := casterPorts(ts.srv, "mpegts_over_udp"); len(got) != 1 || got[0] != udp1 {
		t.Fatalf("after the reload mpegts_over_udp listens on %v", got)
	}

	// A new port for the UDP caster, the flv one removed.
	ts.srv.Reload(parseTestConfig(t, ts, casterConf(udpCasterBlock(udp2, out2))))
	if n := stopped(); n != 3 {
		t.Fatalf("%d casters stopped in all, want 3", n)
	}
	if got := casterPorts(ts.srv, "mpegts_over_udp"); len(got) != 1 || got[0] != udp2 {
		t.Fatalf("mpegts_over_udp listens on %v, want %d", got, udp2)
	}
	if got := casterPorts(ts.srv, "flv"); len(got) != 0 {
		t.Fatalf("the removed flv caster still listens on %v", got)
	}
	if _, err := (&http.Client{Timeout: time.Second}).Get(flvURL); err == nil {
		t.Fatal("the removed flv caster still answers")
	}
	// Its old port is free again.
	c, err := net.ListenPacket("udp", fmt.Sprintf(":%d", udp1))
	if err != nil {
		t.Fatalf("the old UDP port is still bound: %v", err)
	}
	c.Close()
}

// TestCastersStartErrors: a caster that cannot listen fails Start with an
// error naming it, and leaves nothing running.
func TestCastersStartErrors(t *testing.T) {
	busy, err := net.ListenPacket("udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.LocalAddr().(*net.UDPAddr).Port
	flvPort := dvrFreePort(t)
	cases := []struct {
		name, blocks string
		want         []string
	}{
		{"port in use", flvCasterBlock(flvPort) + "\n" + udpCasterBlock(busyPort, "rtmp://127.0.0.1/live/x"),
			[]string{"stream_caster mpegts_over_udp at test.conf:", fmt.Sprintf("udp :%d", busyPort), "address already in use"}},
		{"bad output", udpCasterBlock(casterFreeUDPPort(t), "http://127.0.0.1/live/x"),
			[]string{"stream_caster mpegts_over_udp", "not an rtmp:// url"}},
		{"no port", "stream_caster { enabled on; caster flv; output rtmp://127.0.0.1/[app]/[stream]; }",
			[]string{"stream_caster flv", "listen 0"}},
		{"one port twice", flvCasterBlock(flvPort) + "\n" + flvCasterBlock(flvPort),
			[]string{"stream_caster flv at test.conf:5", fmt.Sprintf("tcp port %d", flvPort), "test.conf:4"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			ts := &testServer{dir: t.TempDir(), ports: map[string]int{"rtmp": dvrFreePort(t)}, logs: &syncLog{}}
			cfg := parseTestConfig(t, ts, casterConf(tc.blocks))
			s := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(ts.logs, nil))})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := s.Start(ctx)
			if err == nil {
				cancel()
				s.Wait()
				t.Fatal("Start succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			// Nothing is left listening: the flv caster's and RTMP's ports are free.
			// (RTMP's listener closes in the background.)
			for _, port := range []int{flvPort, ts.ports["rtmp"]} {
				var ln net.Listener
				for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
					if ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port)); err == nil || time.Now().After(deadline) {
						break
					}
				}
				if err != nil {
					t.Errorf("port %d still bound after the failed Start: %v", port, err)
					continue
				}
				ln.Close()
			}
			deadline := time.Now().Add(5 * time.Second)
			for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if n := runtime.NumGoroutine(); n > baseline {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines left: %d, %d before\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
			}
		})
	}
}

func TestCasterKey(t *testing.T) {
	a := &conf.StreamCaster{Enabled: true, Caster: "flv", Output: "rtmp://h/[app]/[stream]", Listen: 8936}
	b := *a
	if casterKey(a) != casterKey(&b) {
		t.Fatal("equal blocks have different keys")
	}
	for _, change := range []func(c *conf.StreamCaster){
		func(c *conf.StreamCaster) { c.Output += "x" },
		func(c *conf.StreamCaster) { c.Listen++ },
		func(c *conf.StreamCaster) { c.Caster = "gb28181" },
		func(c *conf.StreamCaster) { c.SIP.Listen = 5061 },
	} {
		c := *a
		change(&c)
		if casterKey(&c) == casterKey(a) {
			t.Errorf("a changed block %+v keeps its key", c)
		}
	}
}
