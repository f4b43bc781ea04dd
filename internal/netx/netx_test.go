package netx

import (
	"net"
	"testing"
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
