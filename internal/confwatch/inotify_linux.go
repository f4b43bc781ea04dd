//go:build linux

package confwatch

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// watchMask: writes in place (echo >, most editors' "backupcopy yes"),
// files renamed or created over the config (vim, sed -i, Kubernetes'
// ConfigMap symlink swap), deletions, and the directory going away.
const watchMask = unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM |
	unix.IN_CREATE | unix.IN_DELETE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// inotifySource watches the directories of the files.
type inotifySource struct {
	f *os.File // non-blocking, so Close wakes the reader through the runtime poller
}

// startNative watches with inotify: one watch per directory holding a
// watched file (or, for a symlink, its target), each with the names that
// matter in it.
func startNative(files []string, _ time.Duration, signal func(), log *slog.Logger, wg *sync.WaitGroup) (source, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	f := os.NewFile(uintptr(fd), "inotify")
	names := map[int32]map[string]bool{} // by watch descriptor
	dirs := map[int32]string{}
	for _, dir := range watchedDirs(files) {
		wd, err := unix.InotifyAddWatch(fd, dir.path, watchMask)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("inotify watch %s: %w", dir.path, err)
		}
		if names[int32(wd)] == nil {
			names[int32(wd)] = map[string]bool{}
		}
		for n := range dir.names {
			names[int32(wd)][n] = true
		}
		dirs[int32(wd)] = dir.path
	}
	s := &inotifySource{f: f}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.read(names, dirs, signal, log)
	}()
	return s, nil
}

// read wakes the Watcher on every event that may concern a watched file,
// until the descriptor is closed.
func (s *inotifySource) read(names map[int32]map[string]bool, dirs map[int32]string, signal func(), log *slog.Logger) {
	buf := make([]byte, 64<<10)
	for {
		n, err := s.f.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				log.Error("inotify_auto_reload: read inotify events; config changes are no longer seen", "err", err)
			}
			return
		}
		events, err := parseEvents(buf[:n])
		if err != nil {
			log.Warn("inotify_auto_reload: bad inotify events", "err", err)
			signal() // whatever it was, compare the files
			continue
		}
		for _, e := range events {
			if e.mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0 && e.name == "" {
				// Also normal when a symlink's target directory is swapped
				// (Kubernetes ConfigMaps): the link's directory is still watched.
				log.Info("inotify_auto_reload: a watched directory was removed or moved", "dir", dirs[e.wd])
			}
			if relevant(e, names[e.wd]) {
				signal()
			}
		}
	}
}

// relevant says whether an event may have changed a watched file: it names
// one, or creates or renames something in its directory (a symlink swap
// replaces the file without naming it), or events were lost.
func relevant(e event, names map[string]bool) bool {
	switch {
	case e.mask&unix.IN_Q_OVERFLOW != 0:
		return true
	case e.name == "":
		return e.mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0
	case names[e.name]:
		return true
	}
	return e.mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0
}

func (s *inotifySource) close() error { return s.f.Close() }

// watchDir is a directory and the file names that matter in it.
type watchDir struct {
	path  string
	names map[string]bool
}

// watchedDirs lists the directories of files, and of their symlink targets,
// since an edit of the target changes the file without an event in the
// link's directory.
func watchedDirs(files []string) []watchDir {
	var out []watchDir
	index := map[string]int{}
	add := func(p string) {
		dir, name := filepath.Dir(p), filepath.Base(p)
		i, ok := index[dir]
		if !ok {
			i = len(out)
			index[dir] = i
			out = append(out, watchDir{path: dir, names: map[string]bool{}})
		}
		out[i].names[name] = true
	}
	for _, f := range files {
		add(f)
		if real, err := filepath.EvalSymlinks(f); err == nil && real != f {
			add(real)
		}
	}
	return out
}
