package confwatch

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

const (
	testDebounce = 50 * time.Millisecond
	testPoll     = 40 * time.Millisecond
	// quiet is how long a test waits to be sure nothing is reported: well
	// beyond a debounce plus a poll interval.
	quiet = 400 * time.Millisecond
)

// write saves text to path. It first waits a little, longer than the
// coarse clock file systems stamp files with (a jiffy on Linux), so that
// polling, which compares sizes and times, sees two quick saves of the
// same size as different.
func write(t *testing.T, path, text string) {
	t.Helper()
	time.Sleep(15 * time.Millisecond)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func watch(t *testing.T, poll bool, files ...string) *Watcher {
	t.Helper()
	w, err := Watch(files, Options{Debounce: testDebounce, PollInterval: testPoll, Poll: poll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return w
}

func expectChange(t *testing.T, w *Watcher, what string) {
	t.Helper()
	select {
	case <-w.C:
	case <-time.After(3 * time.Second):
		t.Fatalf("%s: no change reported", what)
	}
}

func expectNone(t *testing.T, w *Watcher, what string) {
	t.Helper()
	select {
	case <-w.C:
		t.Fatalf("%s: a change was reported", what)
	case <-time.After(quiet):
	}
}

// modes runs a test with inotify (where the platform has it) and with polling.
func modes(t *testing.T, f func(t *testing.T, poll bool)) {
	t.Run("native", func(t *testing.T) { t.Parallel(); f(t, false) })
	t.Run("poll", func(t *testing.T) { t.Parallel(); f(t, true) })
}

// TestReportsEveryWayOfSaving: the ways editors and tools replace a file
// are all seen, once each.
func TestReportsEveryWayOfSaving(t *testing.T) {
	t.Parallel()
	saves := []struct {
		name string
		save func(t *testing.T, path, text string)
	}{
		{"write in place", write},
		{"rename over (vim, sed -i)", func(t *testing.T, path, text string) {
			tmp := path + ".swp"
			write(t, tmp, text)
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}},
		{"delete and create", func(t *testing.T, path, text string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			write(t, path, text)
		}},
		{"truncate then write", func(t *testing.T, path, text string) {
			write(t, path, "")
			time.Sleep(5 * time.Millisecond)
			write(t, path, text)
		}},
	}
	modes(t, func(t *testing.T, poll bool) {
		for _, s := range saves {
			t.Run(s.name, func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(t.TempDir(), "castd.conf")
				write(t, path, "listen 1935;\n")
				w := watch(t, poll, path)
				s.save(t, path, "listen 1936;\n")
				expectChange(t, w, s.name)
				expectNone(t, w, s.name+" (reported twice)")
				s.save(t, path, "listen 1937;\n")
				expectChange(t, w, s.name+", again")
			})
		}
	})
}

// TestSymlinkSwap: a ConfigMap-style update replaces a symlink in the
// file's directory without naming the file.
func TestSymlinkSwap(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	modes(t, func(t *testing.T, poll bool) {
		dir := t.TempDir()
		for _, v := range []string{"v1", "v2"} {
			if err := os.Mkdir(filepath.Join(dir, v), 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, v, "castd.conf"), "listen "+v+";\n")
		}
		if err := os.Symlink("v1", filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, "castd.conf")
		if err := os.Symlink("..data/castd.conf", link); err != nil {
			t.Fatal(err)
		}
		w := watch(t, poll, link)
		// Edit the target in place.
		write(t, filepath.Join(dir, "v1", "castd.conf"), "listen edited;\n")
		expectChange(t, w, "target edited")
		// Swap the directory the link resolves through.
		if err := os.Symlink("v2", filepath.Join(dir, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		expectChange(t, w, "symlink swapped")
	})
}

// TestIgnoresWhatIsNotAChange: the same content saved again, other files
// in the directory (a log next to the config) and a file briefly missing
// report nothing.
func TestIgnoresWhatIsNotAChange(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, poll bool) {
		dir := t.TempDir()
		path := filepath.Join(dir, "castd.conf")
		write(t, path, "listen 1935;\n")
		w := watch(t, poll, path)

		write(t, path, "listen 1935;\n")
		now := time.Now().Add(time.Second)
		if err := os.Chtimes(path, now, now); err != nil {
			t.Fatal(err)
		}
		expectNone(t, w, "same content saved again")

		for i := range 5 {
			write(t, filepath.Join(dir, "castd.log"), "line "+string(rune('a'+i))+"\n")
			time.Sleep(10 * time.Millisecond)
		}
		expectNone(t, w, "another file in the directory")

		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		expectNone(t, w, "file deleted")
		write(t, path, "listen 1935;\n")
		expectNone(t, w, "file back with the same content")
		write(t, path, "listen 1936;\n")
		expectChange(t, w, "a real change after all that")
	})
}

// TestDebounceMergesABurst: a burst of writes is one report, with the
// final content.
func TestDebounceMergesABurst(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, poll bool) {
		path := filepath.Join(t.TempDir(), "castd.conf")
		write(t, path, "listen 0;\n")
		w := watch(t, poll, path)
		for i := 1; i <= 10; i++ {
			write(t, path, fmt.Sprintf("listen %d;\n", i))
			time.Sleep(5 * time.Millisecond)
		}
		expectChange(t, w, "burst")
		expectNone(t, w, "burst reported more than once")
	})
}

// TestSeveralFiles: an included file in another directory is watched too.
func TestSeveralFiles(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, poll bool) {
		main := filepath.Join(t.TempDir(), "castd.conf")
		inc := filepath.Join(t.TempDir(), "vhost.conf")
		write(t, main, "include "+inc+";\n")
		write(t, inc, "vhost a {}\n")
		w := watch(t, poll, main, inc, main)
		if got := len(w.Files()); got != 2 {
			t.Errorf("files %v, want the two distinct ones", w.Files())
		}
		write(t, inc, "vhost b {}\n")
		expectChange(t, w, "included file")
	})
}

func TestWatchErrors(t *testing.T) {
	if _, err := Watch(nil, Options{}); err == nil {
		t.Error("no files: no error")
	}
	missing := filepath.Join(t.TempDir(), "nope", "castd.conf")
	for _, poll := range []bool{false, true} {
		if _, err := Watch([]string{missing}, Options{Poll: poll}); err == nil {
			t.Errorf("poll=%v: a missing file was accepted", poll)
		}
	}
}

// TestCloseEndsGoroutines: Close returns once the Watcher's goroutines
// ended, and a second Close is harmless.
func TestCloseEndsGoroutines(t *testing.T) {
	modes(t, func(t *testing.T, poll bool) {
		before := runtime.NumGoroutine()
		path := filepath.Join(t.TempDir(), "castd.conf")
		write(t, path, "x;\n")
		w, err := Watch([]string{path}, Options{Debounce: testDebounce, PollInterval: testPoll, Poll: poll})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_ = w.Close()
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines after Close, %d before Watch", runtime.NumGoroutine(), before)
			}
			time.Sleep(10 * time.Millisecond)
		}
		write(t, path, "y;\n")
		select {
		case <-w.C:
			t.Fatal("a change was reported after Close")
		case <-time.After(quiet):
		}
	})
}
