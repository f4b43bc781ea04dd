//go:build unix

package ffengine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestRunRestartsAndLogs: a command that exits is started again after
// Restart, its output lands in the log file, and cancelling stops it.
func TestRunRestartsAndLogs(t *testing.T) {
	log := filepath.Join(t.TempDir(), "ff.log")
	var mu sync.Mutex
	var pids []int
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, []string{"/bin/sh", "-c", "echo run"}, log, Options{Restart: 50 * time.Millisecond,
			Started: func(pid int) { mu.Lock(); pids = append(pids, pid); mu.Unlock() }})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(pids)
		mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("started %d times, want 3 restarts", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(string(b), "run\n"); c < 3 {
		t.Errorf("log holds %d runs, want >= 3: %q", c, b)
	}
}

// TestRunStopsWithSIGKILL: a process that ignores SIGTERM is killed after
// KillWait and Run returns.
func TestRunStopsWithSIGKILL(t *testing.T) {
	pid := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, []string{"/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.05; done"}, "",
			Options{KillWait: 200 * time.Millisecond, Started: func(p int) { pid <- p }})
	}()
	p := <-pid
	time.Sleep(100 * time.Millisecond) // let the shell install its trap
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if err := syscall.Kill(p, 0); err == nil {
		t.Errorf("pid %d still alive after Run returned", p)
	}
}
