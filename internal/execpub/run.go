package execpub

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	Supervise(ctx, func() []string { return Expand(tmpl, v, opt.Now()) }, Process{
		Name: "exec", Log: opt.Log, Restart: opt.Restart, KillWait: opt.KillWait,
	})
}

// Process is how Supervise runs a program.
type Process struct {
	Name     string // the log's prefix: "exec", "ffmpeg"
	Log      *slog.Logger
	Restart  time.Duration // 0 is DefaultRestart
	KillWait time.Duration // 0 is DefaultKillWait
	// Output, when set, opens where the program's stdout and stderr go,
	// before each start (a log file that was removed comes back); nil
	// discards them.
	Output func() (io.WriteCloser, error)
	// Started, when set, is told each new process's pid (tests).
	Started func(pid int)
}

// Supervise keeps one program running until ctx is done: argv is asked
// for the command line before each start (date variables), a program that
// exits is started again Restart later, and when ctx ends it gets SIGTERM,
// then SIGKILL after KillWait (killed at once where SIGTERM cannot be
// sent, on Windows). It returns once the program has exited.
func Supervise(ctx context.Context, argv func() []string, p Process) {
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Restart <= 0 {
		p.Restart = DefaultRestart
	}
	if p.KillWait <= 0 {
		p.KillWait = DefaultKillWait
	}
	for {
		args := argv()
		log := p.Log.With("cmd", args)
		started := time.Now()
		err := runOnce(ctx, args, p)
		if ctx.Err() != nil {
			log.Info(p.Name+": stopped", "status", exitStatus(err))
			return
		}
		log.Warn(p.Name+": exited; restarting", "in", p.Restart, "ran", time.Since(started).Round(time.Millisecond),
			"status", exitStatus(err))
		t := time.NewTimer(p.Restart)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// runOnce starts args[0] with args[1:] (no shell) and waits for it.
func runOnce(ctx context.Context, args []string, p Process) error {
	if len(args) == 0 {
		return errors.New(p.Name + ": empty command")
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if p.Output != nil {
		out, err := p.Output()
		if err != nil {
			return fmt.Errorf("%s: output of %s: %w", p.Name, args[0], err)
		}
		defer out.Close()
		cmd.Stdout, cmd.Stderr = out, out
	}
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = p.KillWait
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start %s: %w", p.Name, args[0], err)
	}
	if p.Started != nil {
		p.Started(cmd.Process.Pid)
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
