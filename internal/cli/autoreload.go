package cli

import (
	"log/slog"
	"path/filepath"
	"slices"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/confwatch"
)

// autoReload is inotify_auto_reload: while the running config has it on
// and came from a file, it watches that file and every file it includes.
// It follows reloads: turning the directive on or off, or changing the
// includes, takes effect with the reload that brings the change.
type autoReload struct {
	log *slog.Logger
	opt confwatch.Options
	w   *confwatch.Watcher
}

// C delivers a value when the watched files changed; nil (never ready)
// when nothing is watched.
func (a *autoReload) C() <-chan struct{} {
	if a.w == nil {
		return nil
	}
	return a.w.C
}

// follow starts, stops or retargets the watcher for cfg, whose files load
// read.
func (a *autoReload) follow(cfg *conf.Config, load *loader) {
	want := cfg.InotifyAutoReload && load.path != "" && !load.envOnly
	if cfg.InotifyAutoReload && !want {
		a.log.Warn("inotify_auto_reload: no config file to watch (embedded default or -e); use SIGHUP")
	}
	if a.w != nil && want && slices.Equal(a.w.Files(), dedupe(load.files)) {
		return
	}
	if a.w != nil && !want {
		a.log.Info("inotify_auto_reload: off, no longer watching the config")
	}
	a.close()
	if !want {
		return
	}
	w, err := confwatch.Watch(load.files, a.opt)
	if err != nil {
		a.log.Error("inotify_auto_reload: cannot watch the config; reload with SIGHUP", "err", err)
		return
	}
	a.w = w
	a.log.Info("inotify_auto_reload: watching the config", "files", w.Files())
}

func (a *autoReload) close() {
	if a.w == nil {
		return
	}
	if err := a.w.Close(); err != nil {
		a.log.Warn("inotify_auto_reload: stop watching", "err", err)
	}
	a.w = nil
}

// dedupe cleans paths and keeps the first of repeated ones, as the
// watcher does.
func dedupe(files []string) []string {
	var out []string
	for _, f := range files {
		if f = filepath.Clean(f); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
