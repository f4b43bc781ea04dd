package netx

import (
	"net"
	"testing"
	"time"
)

type wrapper struct{ net.Conn }

func (w wrapper) TransparentConn() net.Conn { return w.Conn }

type opaque struct{ net.Conn }

func TestWriteTarget(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if got := WriteTarget(wrapper{wrapper{a}}); got != a {
		t.Errorf("nested transparent wrappers: got %T, want the inner conn", got)
	}
	o := opaque{a}
	if got := WriteTarget(o); got != o {
		t.Errorf("opaque wrapper: got %T, want it kept", got)
	}
	if got := WriteTarget(wrapper{o}); got != o {
		t.Errorf("transparent over opaque: got %T, want the opaque one", got)
	}
}

// TestWritevThroughWrapper shows why: a batch written through the target
// of a wrapped TCP connection arrives whole.
func TestWritevThroughWrapper(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		buf := make([]byte, 64)
		n := 0
		for n < 6 {
			m, err := c.Read(buf[n:])
			if err != nil {
				break
			}
			n += m
		}
		got <- buf[:n]
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	target := WriteTarget(wrapper{c})
	if _, ok := target.(*net.TCPConn); !ok {
		t.Fatalf("target %T, want *net.TCPConn", target)
	}
	bufs := net.Buffers{[]byte("ab"), []byte("cd"), []byte("ef")}
	if _, err := bufs.WriteTo(target); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "abcdef" {
		t.Errorf("received %q", b)
	}
}

func TestInputProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	defer server.Close()
	p := NewInputProbe(wrapper{server})
	if p == nil {
		t.Skip("no input probe on this platform")
	}
	if ready, err := p.Pending(); ready || err != nil {
		t.Fatalf("idle connection: ready %v, err %v", ready, err)
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = p.Pending() }); allocs != 0 {
		t.Errorf("Pending allocates %.0f times", allocs)
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	waitPending(t, p, "data")
	b := make([]byte, 4)
	if n, err := server.Read(b); n != 1 || err != nil {
		t.Fatalf("the peeked byte is still readable: %d %v", n, err)
	}
	if ready, _ := p.Pending(); ready {
		t.Fatal("pending after the byte was read")
	}
	client.Close()
	waitPending(t, p, "the peer's close")
	if n, err := server.Read(b); n != 0 || err == nil {
		t.Fatalf("after the peer's close: %d %v", n, err)
	}
}

func waitPending(t *testing.T, p *InputProbe, what string) {
	t.Helper()
	for range 200 {
		if ready, err := p.Pending(); err != nil {
			t.Fatal(err)
		} else if ready {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s never showed as pending input", what)
}

func TestInputProbeNotForPipes(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if NewInputProbe(a) != nil {
		t.Error("a pipe has no file descriptor to probe")
	}
}
