// Package castdtest runs castd in-process for castbench's tests.
package castdtest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/server"
)

// Castd is an in-process castd on free loopback ports.
type Castd struct {
	RTMPPort, HTTPPort int
	srv                *server.Server
	cancel             context.CancelFunc
	stop               sync.Once
}

// RTMPURL returns rtmp://127.0.0.1:port/path.
func (c *Castd) RTMPURL(path string) string {
	return fmt.Sprintf("rtmp://127.0.0.1:%d/%s", c.RTMPPort, path)
}

// HTTPURL returns http://127.0.0.1:port/path.
func (c *Castd) HTTPURL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d/%s", c.HTTPPort, path)
}

const castdConf = `
listen              127.0.0.1:{{rtmp}};
max_connections     2000;
daemon              off;
srs_log_tank        console;
pid                 {{dir}}/castd.pid;
http_server {
    enabled         on;
    listen          127.0.0.1:{{http}};
    dir             {{dir}};
}
vhost __defaultVhost__ {
    http_remux {
        enabled     on;
        mount       [vhost]/[app]/[stream].flv;
    }
}
`

// Start runs castd with RTMP and HTTP-FLV (mount
// [vhost]/[app]/[stream].flv) and no logs. It stops at cleanup.
func Start(t testing.TB) *Castd {
	t.Helper()
	c := &Castd{RTMPPort: freePort(t), HTTPPort: freePort(t)}
	text := strings.NewReplacer("{{rtmp}}", strconv.Itoa(c.RTMPPort), "{{http}}", strconv.Itoa(c.HTTPPort),
		"{{dir}}", t.TempDir()).Replace(castdConf)
	cfg, err := conf.Parse("castbench-test.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatalf("castd config: %v", err)
	}
	c.srv = server.New(cfg, server.Options{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if err := c.srv.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start castd: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

// Stop stops castd and waits for its connections to end. It may be called
// more than once.
func (c *Castd) Stop() {
	c.stop.Do(func() {
		c.cancel()
		c.srv.Wait()
	})
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
