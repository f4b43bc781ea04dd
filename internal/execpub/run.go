package execpub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

const (
	// DefaultRestart is the delay before a command that exited is started
	// again, as SRS's 3 s process loop.
	DefaultRestart = 3 * time.Second
	// DefaultKillWait is how long a command has to exit after SIGTERM
	// before it gets SIGKILL.
	DefaultKillWait = 2 * time.Second
)

// Options configure Run.
type Options struct {
	Log      *slog.Logger
	Restart  time.Duration // 0 is DefaultRestart
	KillWait time.Duration // 0 is DefaultKillWait
	// Now is the clock for the date variables; nil is time.Now.
	Now func() time.Time
}

// Run runs every command (each already split into arguments) with v
// substituted, restarting those that exit, until ctx is done; then each
// gets SIGTERM, and SIGKILL after KillWait, and Run returns once all have
// exited. Variables are substituted again at each start, so date
// variables name the restart's time.
func Run(ctx context.Context, commands [][]string, v Vars, opt Options) {
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Restart <= 0 {
		opt.Restart = DefaultRestart
	}
	if opt.KillWait <= 0 {
		opt.KillWait = DefaultKillWait
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	var wg sync.WaitGroup
	for _, c := range commands {
		if len(c) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			supervise(ctx, c, v, opt)
		}()
	}
	wg.Wait()
}

// supervise keeps one command running until ctx is done.
func supervise(ctx context.Context, tmpl []string, v Vars, opt Options) {
	for {
		args := Expand(tmpl, v, opt.Now())
		log := opt.Log.With("cmd", args)
		started := time.Now()
		err := runOnce(ctx, args, opt.KillWait)
		if ctx.Err() != nil {
			log.Info("exec: stopped on unpublish", "status", exitStatus(err))
			return
		}
		log.Warn("exec: command exited; restarting", "in", opt.Restart, "ran", time.Since(started).Round(time.Millisecond),
			"status", exitStatus(err))
		t := time.NewTimer(opt.Restart)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// runOnce starts args[0] with args[1:] (no shell) and waits for it. When
// ctx ends first the process gets SIGTERM, then SIGKILL after killWait;
// where SIGTERM cannot be sent (Windows) it is killed at once.
func runOnce(ctx context.Context, args []string, killWait time.Duration) error {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = killWait
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("exec: start %s: %w", args[0], err)
	}
	return cmd.Wait()
}

// exitStatus describes how a command ended, for the log.
func exitStatus(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exit 0"
	case errors.As(err, &ee):
		return ee.ProcessState.String()
	default:
		return err.Error()
	}
}
