//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sysinfo

// readRusage has no getrusage to call here (Windows...): zeros, not OK.
func readRusage() Rusage { return Rusage{} }
