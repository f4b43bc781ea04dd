//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package netx

import "golang.org/x/sys/unix"

const canPeek = true

type pollSet [1]unix.PollFd

// peek polls with a zero timeout: readable means data or the peer's close,
// and an error or hang-up is left for the read to report.
func (p *InputProbe) peek(fd uintptr) {
	p.fds[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	n, err := unix.Poll(p.fds[:], 0)
	p.ready = err == nil && n > 0 && p.fds[0].Revents != 0
}
