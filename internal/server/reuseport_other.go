//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package server

import "syscall"

// reusePort does nothing where SO_REUSEPORT does not exist (Windows).
func reusePort(_, _ string, _ syscall.RawConn) error { return nil }
