//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sysinfo

import (
	"runtime"
	"syscall"
)

// readRusage is getrusage(RUSAGE_SELF).
func readRusage() Rusage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return Rusage{}
	}
	maxRSS := int64(ru.Maxrss)
	if runtime.GOOS == "darwin" {
		maxRSS /= 1024 // bytes there, kB everywhere else
	}
	return Rusage{
		OK: true, UTime: int64(ru.Utime.Sec), STime: int64(ru.Stime.Sec),
		MaxRSS: maxRSS, IxRSS: int64(ru.Ixrss), IdRSS: int64(ru.Idrss), IsRSS: int64(ru.Isrss),
		MinFlt: int64(ru.Minflt), MajFlt: int64(ru.Majflt), NSwap: int64(ru.Nswap),
		InBlock: int64(ru.Inblock), OuBlock: int64(ru.Oublock), MsgSnd: int64(ru.Msgsnd), MsgRcv: int64(ru.Msgrcv),
		NSignals: int64(ru.Nsignals), NVCSw: int64(ru.Nvcsw), NIVCSw: int64(ru.Nivcsw),
	}
}
