//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/protocol/rtmp"
)

// freePrivilegedPort finds a free port below 1024 on loopback.
func freePrivilegedPort(t *testing.T) int {
	t.Helper()
	for p := 900; p < 1024; p++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			ln.Close()
			return p
		}
	}
	t.Fatal("no free port below 1024")
	return 0
}

// TestUserDropsPrivileges: castd started as root with `user nobody;`
// binds a port below 1024, then runs as nobody and still serves it; an
// unknown user stops the start with a clear error.
func TestUserDropsPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: castd must start as root to switch users")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	port := freePrivilegedPort(t)
	b := startBinary(t, fmt.Sprintf("listen 127.0.0.1:%d;\ndaemon off;\nsrs_log_tank console;\npid {{dir}}/castd.pid;\nuser nobody;\nvhost __defaultVhost__ {}\n", port))
	b.waitOutput(t, "running as another user", time.Second)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", b.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Uid:") && strings.Fields(line)[2] != nobody.Uid {
			t.Fatalf("castd runs with %q, want uid %s everywhere", line, nobody.Uid)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := rtmp.Dial(ctx, fmt.Sprintf("rtmp://127.0.0.1:%d/live", port), rtmp.ClientOptions{})
	if err != nil {
		t.Fatalf("the port opened as root no longer serves: %v", err)
	}
	if err := cc.Publish(ctx, "as-nobody"); err != nil {
		t.Fatal(err)
	}
	cc.Close()

	dir := t.TempDir()
	conf := filepath.Join(dir, "bad.conf")
	writeFile(t, conf, fmt.Sprintf("listen 127.0.0.1:%d;\ndaemon off;\nsrs_log_tank console;\npid %s/castd.pid;\nuser castd-no-such-user;\nvhost __defaultVhost__ {}\n", freePort(t), dir))
	code, out := runCastd(t, dir, "-c", conf)
	if code != 1 || !strings.Contains(out, "castd-no-such-user") {
		t.Errorf("unknown user: exit %d, output %q", code, out)
	}
}
