//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sysinfo

// Uname has no uname(2) to call here; SRS omits the metric too.
func Uname() (Utsname, bool) { return Utsname{}, false }
