package server

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
)

// listen opens a TCP listener with SO_REUSEPORT where the platform has it,
// as SRS does, so several castd processes can share a port (SRS #775).
func listen(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: reusePort}
	return lc.Listen(ctx, "tcp", addr)
}

// connLimit is max_connections: every TCP connection castd accepts, on any
// listener, counts until it is closed (SRS closes extra ones at once).
type connLimit struct {
	n   atomic.Int64
	max atomic.Int64
	log *slog.Logger
}

// limitedListener refuses connections beyond the limit and releases a slot
// when an accepted connection closes, however it is closed (hijacked HTTP
// connections included).
type limitedListener struct {
	net.Listener
	lim  *connLimit
	name string
}

func (l *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if n := l.lim.n.Add(1); n > l.lim.max.Load() {
			l.lim.n.Add(-1)
			l.lim.log.Warn("max_connections reached, connection refused", "listener", l.name,
				"remote", c.RemoteAddr().String(), "max_connections", l.lim.max.Load())
			c.Close()
			continue
		}
		return &countedConn{Conn: c, lim: l.lim}, nil
	}
}

type countedConn struct {
	net.Conn
	lim  *connLimit
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.lim.n.Add(-1) })
	return c.Conn.Close()
}

// NetConn returns the wrapped connection, so code that needs the TCP
// connection (TCP_NODELAY) can reach it.
func (c *countedConn) NetConn() net.Conn { return c.Conn }

// TransparentConn lets writers batch into one writev on the TCP connection
// (netx.Transparent): counting only needs Close.
func (c *countedConn) TransparentConn() net.Conn { return c.Conn }
