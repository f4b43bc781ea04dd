// Package confwatch tells when config files change, for SRS's
// inotify_auto_reload. On Linux it uses inotify on each file's directory
// (editors save by writing a new file and renaming it over the old one,
// which a watch on the file itself would lose); elsewhere it polls the
// files' size and modification time. Events are debounced, and a change is
// reported only when the files' content differs from the last report, so a
// touch, a save without edits or a busy log file in the same directory
// reloads nothing.
package confwatch

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Defaults.
const (
	DefaultDebounce     = 500 * time.Millisecond
	DefaultPollInterval = time.Second
)

// Options configure a Watcher; the zero value uses the defaults.
type Options struct {
	// Debounce is how long the files must stay quiet after an event before
	// their content is compared; 0 is DefaultDebounce.
	Debounce time.Duration
	// PollInterval is how often files are checked where inotify does not
	// exist (or with Poll); 0 is DefaultPollInterval.
	PollInterval time.Duration
	// Poll checks by polling even where inotify exists (tests).
	Poll bool
	Log  *slog.Logger // nil discards
}

// Watcher reports changes of a set of files on C.
type Watcher struct {
	// C receives a value once the files' content changed and stayed quiet
	// for the debounce time. Changes that happen while a value waits are
	// merged into it.
	C <-chan struct{}

	c     chan struct{}
	files []string
	opt   Options
	log   *slog.Logger
	last  [sha256.Size]byte // content of the last report (or of the start)

	wake   chan struct{} // a source saw something; capacity 1
	stop   chan struct{}
	src    source
	closed sync.Once
	wg     sync.WaitGroup
}

// source produces wake-ups: inotify events or poll ticks that saw a change.
type source interface {
	close() error
}

// Watch starts watching files (their paths should be absolute: the process
// may change directory later). The content they have now is the baseline:
// only later changes are reported.
func Watch(files []string, opt Options) (*Watcher, error) {
	if len(files) == 0 {
		return nil, errors.New("confwatch: no file to watch")
	}
	if opt.Debounce <= 0 {
		opt.Debounce = DefaultDebounce
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = DefaultPollInterval
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := make(chan struct{}, 1)
	w := &Watcher{C: c, c: c, files: dedupe(files), opt: opt, log: log,
		wake: make(chan struct{}, 1), stop: make(chan struct{})}
	sum, err := fingerprint(w.files)
	if err != nil {
		return nil, fmt.Errorf("confwatch: %w", err)
	}
	w.last = sum
	if opt.Poll {
		w.src = startPoll(w.files, opt.PollInterval, w.signal, &w.wg)
	} else if w.src, err = startNative(w.files, opt.PollInterval, w.signal, log, &w.wg); err != nil {
		return nil, fmt.Errorf("confwatch: %w", err)
	}
	w.wg.Add(1)
	go w.run()
	return w, nil
}

// Files returns the files watched.
func (w *Watcher) Files() []string { return append([]string(nil), w.files...) }

// Close stops watching and waits for the Watcher's goroutines.
func (w *Watcher) Close() error {
	var err error
	w.closed.Do(func() {
		close(w.stop)
		err = w.src.close()
		w.wg.Wait()
	})
	return err
}

// signal is called by sources; it never blocks.
func (w *Watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run debounces wake-ups and reports content changes.
func (w *Watcher) run() {
	defer w.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-w.wake:
			timer.Reset(w.opt.Debounce)
		case <-timer.C:
			w.compare()
		}
	}
}

// compare reports a change when every file can be read and the content
// differs from the last report. A missing file (deleted, or between an
// editor's delete and create) is waited for: it will cause another event.
func (w *Watcher) compare() {
	sum, err := fingerprint(w.files)
	if err != nil {
		w.log.Warn("inotify_auto_reload: cannot read the config, waiting for the next change", "err", err)
		return
	}
	if sum == w.last {
		w.log.Debug("inotify_auto_reload: config files touched but unchanged")
		return
	}
	w.last = sum
	select {
	case w.c <- struct{}{}:
	default: // a report is already waiting; it covers this change
	}
}

// fingerprint hashes the names and contents of files.
func fingerprint(files []string) ([sha256.Size]byte, error) {
	h := sha256.New()
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return [sha256.Size]byte{}, err
		}
		fmt.Fprintf(h, "%s\x00", name)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return [sha256.Size]byte{}, fmt.Errorf("read %s: %w", name, err)
		}
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum, nil
}

func dedupe(files []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		f = filepath.Clean(f)
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
