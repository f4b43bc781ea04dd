package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/server"
	"github.com/castd/castd/internal/version"
)

// serve runs the server until a quit signal or ctx ends it.
func serve(ctx context.Context, env Env, cfg *conf.Config, load *loader) int {
	if cfg.WorkDir != "" && cfg.WorkDir != "./" {
		if err := os.Chdir(cfg.WorkDir); err != nil {
			fmt.Fprintf(env.Stderr, "castd: work_dir %s: %v\n", cfg.WorkDir, err)
			return 1
		}
	}
	log, out, err := newLogger(cfg, env)
	if err != nil {
		fmt.Fprintf(env.Stderr, "castd: %v\n", err)
		return 1
	}
	defer out.Close()
	if cfg.LogTank == "file" {
		// Otherwise a start with file logs is silent on the terminal.
		fmt.Fprintf(env.Stdout, "castd %s: logging to %s\n", version.Version, cfg.LogFile)
	}
	wd, _ := os.Getwd()
	log.Info("castd starting", "version", version.Version, "srs_compatible", version.SRSVersion,
		"config", load.describe(), "cwd", wd, "pid", os.Getpid())
	if cfg.Daemon {
		log.Info("daemon on: castd stays in the foreground; run it under systemd, docker or a supervisor to detach")
	}
	unlock, err := writePIDFile(cfg.PID)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	defer unlock()

	// The API's rpc=reload takes the same path as SIGHUP, in this loop.
	apiReload := make(chan struct{}, 1)
	srv := server.New(cfg, server.Options{Logger: log, Argv: strings.Join(append([]string{"castd"}, env.Args...), " "),
		RequestReload: func() {
			select {
			case apiReload <- struct{}{}:
			default: // one pending request is enough
			}
		}})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := srv.Start(runCtx); err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if cfg.User != "" {
		uid, gid, err := dropPrivileges(cfg.User, cfg.Group)
		if err != nil {
			log.Error("cannot start", "err", err)
			cancel()
			srv.Wait()
			return 1
		}
		log.Info("running as another user", "user", cfg.User, "uid", uid, "gid", gid)
	}
	log.Info("castd ready", "server_id", srv.ID())
	if env.Started != nil {
		env.Started(srv)
	}
	sigs := env.Signals
	if sigs == nil {
		ch := notifySignals()
		defer signal.Stop(ch)
		sigs = ch
	}
	auto := &autoReload{log: log, opt: env.Watch}
	auto.opt.Log = log
	defer auto.close()
	auto.follow(cfg, load)
	done := make(chan struct{})
	go func() { srv.Wait(); close(done) }()
	for {
		select {
		case <-ctx.Done():
			cancel()
			<-done
			return 0
		case <-auto.C():
			log.Info("inotify_auto_reload: the config changed, reloading")
			if cfg := reload(log, srv, load); cfg != nil {
				auto.follow(cfg, load)
			}
		case <-apiReload:
			log.Info("reload requested", "by", "http api raw_api")
			if cfg := reload(log, srv, load); cfg != nil {
				auto.follow(cfg, load)
			}
		case sig := <-sigs:
			switch signalAction(sig) {
			case actionReload:
				log.Info("reload requested", "signal", sig.String())
				if cfg := reload(log, srv, load); cfg != nil {
					auto.follow(cfg, load)
				}
			case actionReopenLog:
				if err := out.Reopen(); err != nil {
					log.Error("reopen log file", "err", err)
				} else {
					log.Info("log file reopened")
				}
			case actionGraceful:
				log.Info("graceful quit", "signal", sig.String())
				srv.Drain(ctx)
				cancel()
				<-done
				log.Info("castd stopped")
				return 0
			case actionQuit:
				log.Info("fast quit", "signal", sig.String())
				cancel()
				<-done
				log.Info("castd stopped")
				return 0
			}
		}
	}
}

// reload re-reads the config and applies it; it returns the new config,
// or nil when it did not load, which changes nothing.
func reload(log *slog.Logger, srv *server.Server, load *loader) *conf.Config {
	cfg, err := load.load()
	if err == nil {
		err = checkLimits(cfg)
	}
	if err != nil {
		log.Error("reload failed, the running config is unchanged", "err", err)
		srv.ReloadFailed(err) // for the API's reload-fetch
		return nil
	}
	ch := srv.Reload(cfg)
	log.Info("reload done", "vhosts_added", len(ch.VhostsAdded), "vhosts_removed", len(ch.VhostsRemoved),
		"vhosts_changed", len(ch.VhostsChanged), "listeners_changed", len(ch.Listeners))
	return cfg
}

// writePIDFile writes the pid and holds a lock on the file while castd
// runs, so a second castd with the same pid file refuses to start (as SRS).
func writePIDFile(path string) (release func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("pid file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pid file %s: %w", path, err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("pid file %s is locked: another castd is running with it (%w)", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pid file %s: %w", path, err)
	}
	return func() { f.Close(); os.Remove(path) }, nil
}
