//go:build unix

package cli

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/castd/castd/internal/conf"
)

// handledSignals are SRS's: reload, log reopen, graceful and fast quit.
var handledSignals = []os.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGINT}

// signalAction maps SRS's signals: SIGHUP reloads, SIGUSR1 reopens the log,
// SIGQUIT quits gracefully, SIGTERM and SIGINT quit fast.
func signalAction(s os.Signal) action {
	switch s {
	case syscall.SIGHUP:
		return actionReload
	case syscall.SIGUSR1:
		return actionReopenLog
	case syscall.SIGQUIT:
		return actionGraceful
	case syscall.SIGTERM, syscall.SIGINT:
		return actionQuit
	}
	return actionNone
}

func lockFile(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) }

// checkLimits is SRS's check that max_connections fits the open files limit.
func checkLimits(cfg *conf.Config) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return nil // nothing to check against
	}
	return conf.CheckMaxConnections(cfg, uint64(lim.Cur)) // int64 on FreeBSD
}
