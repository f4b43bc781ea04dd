package ffengine

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/castd/castd/internal/execpub"
)

// Options configure Run.
type Options struct {
	Log      *slog.Logger
	Restart  time.Duration // 0 is execpub.DefaultRestart (3 s)
	KillWait time.Duration // 0 is execpub.DefaultKillWait
	// Started, when set, is told each new process's pid (tests).
	Started func(pid int)
}

// Run keeps argv running until ctx is done, as execpub.Supervise does. Its
// stdout and stderr are appended to logFile ("" discards them); the file is
// reopened at each start so that a removed log comes back.
func Run(ctx context.Context, argv []string, logFile string, opt Options) {
	p := execpub.Process{Name: "ffmpeg", Log: opt.Log, Restart: opt.Restart, KillWait: opt.KillWait, Started: opt.Started}
	if logFile != "" {
		p.Output = func() (io.WriteCloser, error) {
			return os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		}
	}
	execpub.Supervise(ctx, func() []string { return argv }, p)
}
