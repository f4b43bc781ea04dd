//go:build unix

package execpub

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cmd.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// lines reads a file the scripts append to, "" when missing.
func lines(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func waitFor(t *testing.T, what string, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A command that exits is started again after the restart delay, with the
// variables substituted each time.
func TestRunRestartsExitedCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "runs")
	cmd := script(t, `echo "$1" >> "$2"`+"\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, [][]string{{cmd, "[app]/[stream]", out}}, Vars{App: "live", Stream: "cam"}, Options{Restart: 50 * time.Millisecond})
	}()
	waitFor(t, "three runs", 5*time.Second, func() bool { return len(lines(t, out)) >= 3 })
	cancel()
	<-done
	for _, l := range lines(t, out) {
		if l != "live/cam" {
			t.Fatalf("a run got %q, want live/cam", l)
		}
	}
}

// On stop, a command gets SIGTERM and Run waits for it to exit.
func TestRunStopsWithSIGTERM(t *testing.T) {
	dir := t.TempDir()
	cmd := script(t, `trap 'echo term >> "$1/signals"; exit 0' TERM
echo $$ > "$1/pid"
while :; do sleep 0.05; done
`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, [][]string{{cmd, dir}}, Vars{}, Options{Restart: time.Hour, KillWait: 10 * time.Second})
	}()
	waitFor(t, "the command to start", 5*time.Second, func() bool { return len(lines(t, filepath.Join(dir, "pid"))) == 1 })
	start := time.Now()
	cancel()
	<-done
	if got := lines(t, filepath.Join(dir, "signals")); len(got) != 1 || got[0] != "term" {
		t.Fatalf("signals seen: %q, want one SIGTERM", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stopping took %v: the command was not stopped by SIGTERM", d)
	}
}

// A command that ignores SIGTERM is killed after KillWait.
func TestRunKillsStubbornCommand(t *testing.T) {
	dir := t.TempDir()
	cmd := script(t, `trap 'echo term >> "$1/signals"' TERM
echo $$ > "$1/pid"
while :; do sleep 0.05; done
`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, [][]string{{cmd, dir}}, Vars{}, Options{Restart: time.Hour, KillWait: 300 * time.Millisecond})
	}()
	pidFile := filepath.Join(dir, "pid")
	waitFor(t, "the command to start", 5*time.Second, func() bool { return len(lines(t, pidFile)) == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return: the command was never killed")
	}
	waitFor(t, "the trap to log SIGTERM", time.Second, func() bool { return len(lines(t, filepath.Join(dir, "signals"))) > 0 })
}

// A command that cannot start is retried, not fatal.
func TestRunMissingCommandRetries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	Run(ctx, [][]string{{filepath.Join(t.TempDir(), "missing")}, {}}, Vars{}, Options{Restart: 20 * time.Millisecond})
	if time.Since(start) < 250*time.Millisecond {
		t.Fatal("Run returned before its context ended")
	}
}
