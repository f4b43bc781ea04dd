package rtmp

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

func TestParseTcURL(t *testing.T) {
	tests := []struct {
		in, addr, app string
		ok            bool
	}{
		{"rtmp://127.0.0.1/live", "127.0.0.1:1935", "live", true},
		{"rtmp://example.com:19350/live", "example.com:19350", "live", true},
		{"rtmp://[::1]:1935/live", "[::1]:1935", "live", true},
		{"rtmp://[::1]/live", "[::1]:1935", "live", true},
		{"rtmp://h/live?vhost=v1", "h:1935", "live?vhost=v1", true},
		{"rtmp://h/show/live", "h:1935", "show/live", true},
		{"rtmp://h", "h:1935", "", true},
		{"http://h/live", "", "", false},
		{"rtmp:///live", "", "", false},
		{"rtmp://[::1/live", "", "", false},
	}
	for _, tt := range tests {
		u, err := parseTcURL(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v", tt.in, err)
			continue
		}
		if tt.ok && (u.addr != tt.addr || u.app != tt.app || u.tcURL != tt.in) {
			t.Errorf("%s: got %+v", tt.in, u)
		}
	}
}

func TestSplitStreamURL(t *testing.T) {
	tests := []struct {
		in, tc, stream string
		ok             bool
	}{
		{"rtmp://h/live/cam", "rtmp://h/live", "cam", true},
		{"rtmp://h:1935/live/cam?token=1&vhost=v", "rtmp://h:1935/live", "cam?token=1&vhost=v", true},
		{"rtmp://[::1]:1935/live/cam", "rtmp://[::1]:1935/live", "cam", true},
		{"rtmp://h/show/live/cam", "rtmp://h/show/live", "cam", true},
		{"rtmp://h/live", "", "", false},
		{"rtmp://h/live/", "", "", false},
		{"rtmp://h", "", "", false},
		{"srt://h/live/cam", "", "", false},
	}
	for _, tt := range tests {
		tc, stream, err := SplitStreamURL(tt.in)
		if (err == nil) != tt.ok || tc != tt.tc || stream != tt.stream {
			t.Errorf("%s: got %q %q %v", tt.in, tc, stream, err)
		}
	}
	if got := urlDir("rtmp://10.0.0.2:1935/live/cam?vhost=a/b"); got != "rtmp://10.0.0.2:1935/live" {
		t.Errorf("urlDir = %q", got)
	}
}

// TestDialHonoursContext dials a server that never answers the handshake.
func TestDialHonoursContext(t *testing.T) {
	t.Cleanup(checkGoroutines(t))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	for _, cancelEarly := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		if cancelEarly {
			time.AfterFunc(50*time.Millisecond, cancel)
		}
		start := time.Now()
		_, err = Dial(ctx, "rtmp://"+ln.Addr().String()+"/live", ClientOptions{})
		cancel()
		if err == nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want a context error", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Dial returned after %v", d)
		}
	}
	if c := <-accepted; c != nil {
		c.Close()
	}
}
