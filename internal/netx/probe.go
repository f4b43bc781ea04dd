package netx

import (
	"net"
	"syscall"
)

// InputProbe tells, without blocking and without reading, whether a
// connection has bytes or an end of stream waiting. A player's writer
// checks it between batches instead of parking a second goroutine in Read
// for the rare message a player sends (pause, closeStream, an ack): at
// thousands of players that goroutine's stack is a third of the memory.
type InputProbe struct {
	rc    syscall.RawConn
	check func(fd uintptr) // p.peek, bound once so probing allocates nothing
	ready bool
	fds   pollSet // the poll(2) argument, here so probing does not allocate
}

// NewInputProbe returns a probe for c, looking through Transparent
// wrappers, or nil when c (a TLS connection, a pipe) or the platform cannot
// be probed; callers then read in a goroutine of their own.
func NewInputProbe(c net.Conn) *InputProbe {
	inner, ok := WriteTarget(c).(syscall.Conn)
	if !ok || !canPeek {
		return nil
	}
	rc, err := inner.SyscallConn()
	if err != nil {
		return nil
	}
	p := &InputProbe{rc: rc}
	p.check = p.peek
	return p
}

// Pending reports whether a read would return at once: data, the peer's
// close, or a socket error (which the read will then report).
func (p *InputProbe) Pending() (bool, error) {
	p.ready = false
	if err := p.rc.Control(p.check); err != nil {
		return false, err
	}
	return p.ready, nil
}
