// Package netx holds small helpers around net.Conn that several adapters
// share.
package netx

import (
	"io"
	"net"
)

// Transparent is implemented by net.Conn wrappers whose writes reach an
// inner connection unchanged, such as the server's connection counting.
// Writers unwrap them because net.Buffers only turns a batch into one
// writev on the net package's own connection types: through a wrapper it
// makes one write(2) per buffer, several times the CPU for live fan-out.
type Transparent interface {
	TransparentConn() net.Conn
}

// WriteTarget returns where writes to w should go: the innermost
// connection under Transparent wrappers, or w itself. A TLS connection is
// not transparent, so it is kept.
func WriteTarget(w io.Writer) io.Writer {
	for {
		t, ok := w.(Transparent)
		if !ok {
			return w
		}
		w = t.TransparentConn()
	}
}
