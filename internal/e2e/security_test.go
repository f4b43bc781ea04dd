package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// hasIPv6Loopback reports whether ::1 can be listened on here.
func hasIPv6Loopback() bool {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// securityConf listens on 127.0.0.1, and on ::1 when v6 is set, with the
// default vhost's security block.
func securityConf(v6 bool, security string) string {
	rtmpEP, httpEP := "127.0.0.1:{{rtmp}}", "127.0.0.1:{{http}}"
	if v6 {
		rtmpEP += " [::1]:{{rtmp}}"
		httpEP += " [::1]:{{http}}"
	}
	return fmt.Sprintf(`
listen %s;
http_server { enabled on; listen %s; dir {{dir}}; }
vhost __defaultVhost__ {
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
    security { %s }
}`, rtmpEP, httpEP, security)
}

// rtmpAllowed publishes or plays stream from host and reports whether
// castd accepted; a refusal must come as an RTMP error status.
func rtmpAllowed(t *testing.T, c *castd, host, stream string, publish bool) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tcURL := "rtmp://" + net.JoinHostPort(host, strconv.Itoa(c.rtmp)) + "/live"
	cc, err := rtmp.Dial(ctx, tcURL, rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if publish {
		err = cc.Publish(ctx, stream)
	} else {
		err = cc.Play(ctx, stream)
	}
	if err == nil {
		return true
	}
	if _, ok := rtmp.IsStatusError(err); !ok {
		t.Fatalf("%s: %v, want acceptance or an RTMP error status", tcURL, err)
	}
	return false
}

// flvAllowed plays an HTTP-FLV stream from host: a refused player has its
// connection closed without any response.
func flvAllowed(t *testing.T, c *castd, host, stream string) bool {
	t.Helper()
	addr := net.JoinHostPort(host, strconv.Itoa(c.http))
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET /live/%s.flv HTTP/1.1\r\nHost: %s\r\n\r\n", stream, addr)
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(nc).ReadString('\n')
	switch {
	case err == nil && strings.HasPrefix(line, "HTTP/1.1 200 "):
		return true
	case errors.Is(err, io.EOF) && line == "":
		return false
	}
	t.Fatalf("HTTP-FLV from %s: %q %v, want 200 or the connection closed without a response", host, line, err)
	return false
}

// TestSecurityEndToEnd applies SRS's security rules to real RTMP and
// HTTP-FLV clients from 127.0.0.1 and ::1: defaults, deny before allow,
// "any allow rule forbids the rest", single addresses, IPv4 and IPv6 CIDRs.
func TestSecurityEndToEnd(t *testing.T) {
	v6 := hasIPv6Loopback()
	if !v6 {
		t.Log("no IPv6 loopback here: the ::1 columns are skipped")
	}
	type access struct{ publish, play bool }
	yes, no := access{true, true}, access{false, false}
	tests := []struct {
		name     string
		security string
		v4, v6   access
	}{
		{"disabled", "enabled off; deny publish all; deny play all;", yes, yes},
		{"enabled without rules denies all", "enabled on;", no, no},
		{"deny publish one ip", "enabled on; deny publish 127.0.0.1;", access{false, true}, yes},
		{"allow play only forbids publish", "enabled on; allow play all;", access{false, true}, access{false, true}},
		{"deny before allow", "enabled on; allow play all; allow publish all; deny play 127.0.0.0/8;",
			access{true, false}, yes},
		{"deny all then allow one: deny wins", "enabled on; deny publish all; allow publish 127.0.0.1;", no, no},
		{"allow the v4 loopback", "enabled on; allow publish 127.0.0.1; allow play 127.0.0.1;", yes, no},
		{"allow v4 cidr miss", "enabled on; allow publish 10.0.0.0/8; allow play all;", access{false, true}, access{false, true}},
		{"allow v6 only", "enabled on; allow publish ::1; allow play ::/0;", no, yes},
		{"deny v6 cidr", "enabled on; deny play ::1/128;", yes, access{true, false}},
		{"v6 cidr covers no v4 client", "enabled on; deny publish ::/0; deny play ::/0;", yes, no},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startCastd(t, securityConf(v6, tt.security))
			clients := []struct {
				host string
				want access
			}{{"127.0.0.1", tt.v4}}
			if v6 {
				clients = append(clients, struct {
					host string
					want access
				}{"::1", tt.v6})
			}
			for i, cl := range clients {
				stream := fmt.Sprintf("s%d", i)
				if got := rtmpAllowed(t, c, cl.host, stream, true); got != cl.want.publish {
					t.Errorf("RTMP publish from %s: allowed %v, want %v", cl.host, got, cl.want.publish)
				}
				if got := rtmpAllowed(t, c, cl.host, stream, false); got != cl.want.play {
					t.Errorf("RTMP play from %s: allowed %v, want %v", cl.host, got, cl.want.play)
				}
				if got := flvAllowed(t, c, cl.host, stream); got != cl.want.play {
					t.Errorf("HTTP-FLV play from %s: allowed %v, want %v", cl.host, got, cl.want.play)
				}
			}
			if !tt.v4.publish && !strings.Contains(c.logs.String(), "security: publish from 127.0.0.1") {
				t.Errorf("the refused publisher's log line does not say why")
			}
		})
	}
}

// TestSecurityWithFFmpeg: ffmpeg publishes where publish is allowed, and
// is refused where it is denied; ffprobe cannot play a denied stream over
// RTMP or HTTP-FLV.
func TestSecurityWithFFmpeg(t *testing.T) {
	c := startCastd(t, securityConf(false, "enabled on; allow publish all; deny play 127.0.0.1; allow play all;"))
	ffmpegPublish(t, c.rtmpURL("live/cam"), 20*time.Second)
	key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "cam"}
	deadline := time.Now().Add(10 * time.Second)
	for st := c.srv.Hub().Stream(key); st == nil || !st.Publishing(); st = c.srv.Hub().Stream(key) {
		if time.Now().After(deadline) {
			t.Fatal("ffmpeg never published")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, url := range []string{c.rtmpURL("live/cam"), c.httpURL("live/cam.flv")} {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		out, err := exec.CommandContext(ctx, requireTool(t, "ffprobe"), "-v", "error", "-rw_timeout", "5000000", "-show_streams", url).CombinedOutput()
		cancel()
		if err == nil || strings.Contains(string(out), "codec_type=video") {
			t.Errorf("ffprobe played %s although play from 127.0.0.1 is denied:\n%s", url, out)
		}
	}
	c.waitLog(t, `denied by rule \"deny play 127.0.0.1\" (code 1053)`, 2*time.Second)

	denied := startCastd(t, securityConf(false, "enabled on; deny publish 127.0.0.1;"))
	p := ffmpegPublish(t, denied.rtmpURL("live/cam"), 20*time.Second)
	select {
	case <-p.done:
		if p.err == nil {
			t.Fatal("ffmpeg exited 0 although publishing from 127.0.0.1 is denied")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("ffmpeg kept publishing although publishing from 127.0.0.1 is denied")
	}
	if st := denied.srv.Hub().Stream(key); st != nil && st.Publishing() {
		t.Fatal("the denied stream is published")
	}
}
