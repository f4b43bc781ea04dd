//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sysinfo

import "golang.org/x/sys/unix"

// Uname returns uname(2)'s fields, for srs_node_uname_info.
func Uname() (Utsname, bool) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return Utsname{}, false
	}
	return Utsname{
		Sysname: unix.ByteSliceToString(u.Sysname[:]), Nodename: unix.ByteSliceToString(u.Nodename[:]),
		Release: unix.ByteSliceToString(u.Release[:]), Version: unix.ByteSliceToString(u.Version[:]),
		Machine: unix.ByteSliceToString(u.Machine[:]),
	}, true
}
