// Package cli is castd's command line: SRS's flags (-c, -t, -e, -v, -g, -h),
// config loading with SRS_* overrides, logging, work_dir, the pid file, and
// signals (SIGHUP reload, SIGTERM fast quit, SIGQUIT graceful quit, SIGUSR1
// log reopen).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/confwatch"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/server"
	"github.com/castd/castd/internal/version"
)

// Env is the process environment seen by the command.
type Env struct {
	Args      []string // without the program name
	LookupEnv func(string) (string, bool)
	Stdout    io.Writer
	Stderr    io.Writer
	// Signals delivers the signals castd handles; nil installs the real ones.
	Signals <-chan os.Signal
	// Started, when set, receives the server once it listens (tests).
	Started func(*server.Server)
	// Watch tunes inotify_auto_reload's watcher (tests shorten the
	// debounce); the zero value is the default.
	Watch confwatch.Options
}

// flags are the parsed command line.
type flags struct {
	config    string
	test      bool
	envOnly   bool
	version   bool
	signature bool
	help      bool
}

// parseFlags reads SRS's flags, which may be glued to their value
// ("-cconf/srs.conf") and combined ("-tc conf/srs.conf" is not; SRS neither).
func parseFlags(args []string) (flags, error) {
	var f flags
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-c":
			if i+1 >= len(args) {
				return f, errors.New("-c needs a config file")
			}
			i++
			f.config = args[i]
		case strings.HasPrefix(a, "-c"):
			f.config = a[2:]
		case a == "-t":
			f.test = true
		case a == "-e":
			f.envOnly = true
		case a == "-v" || a == "-V" || a == "--version":
			f.version = true
		case a == "-g" || a == "-G":
			f.signature = true
		case a == "-h" || a == "-?" || a == "--help":
			f.help = true
		default:
			return f, fmt.Errorf("unknown argument %q", a)
		}
	}
	return f, nil
}

const usage = `castd %s, a live streaming server compatible with SRS %s.

Usage: castd [-h?vVgG] [-t] [-e] [-c <filename>]

Options:
   -?, -h, --help   show this help and exit
   -v, -V           show the version and exit
   -g, -G           show the server signature and exit
   -t               test the config file and exit (0 when it is valid)
   -e               read the config from SRS_* environment variables only
   -c <filename>    use the config file, e.g. conf/srs.conf

With no -c and no -e, castd runs its embedded default config (RTMP 1935,
HTTP API 1985, HTTP server 8080 with HTTP-FLV and HLS).
SRS_CONFIG_FILE and SRS_ENV_ONLY work like -c and -e.

Examples:
   castd -c conf/srs.conf
   castd -t -c conf/srs.conf
   SRS_LISTEN=1936 SRS_HTTP_API_ENABLED=on castd -e
`

// Run executes castd and returns the process exit code.
func Run(ctx context.Context, env Env) int {
	f, err := parseFlags(env.Args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "castd: %v\n", err)
		fmt.Fprintf(env.Stderr, usage, version.Version, version.SRSVersion)
		return 2
	}
	switch {
	case f.help:
		fmt.Fprintf(env.Stdout, usage, version.Version, version.SRSVersion)
		return 0
	case f.version:
		fmt.Fprintln(env.Stdout, version.Version)
		return 0
	case f.signature:
		fmt.Fprintln(env.Stdout, version.Signature)
		return 0
	}
	path, envOnly := conf.Source(f.config, f.envOnly, env.LookupEnv)
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(env.Stderr, "castd: %v\n", err)
		return 1
	}
	load := &loader{path: path, envOnly: envOnly, lookup: env.LookupEnv, dir: wd}
	cfg, err := load.load()
	if err != nil {
		fmt.Fprintf(env.Stderr, "castd: %v\n", err)
		return 1
	}
	if err := checkLimits(cfg); err != nil {
		fmt.Fprintf(env.Stderr, "castd: %v\n", err)
		return 1
	}
	if err := checkStatsNetwork(cfg); err != nil {
		fmt.Fprintf(env.Stderr, "castd: %v\n", err)
		return 1
	}
	if f.test {
		fmt.Fprintf(env.Stdout, "castd: the config %s is valid\n", load.describe())
		return 0
	}
	return serve(ctx, env, cfg, load)
}

func (l *loader) describe() string {
	switch {
	case l.envOnly:
		return "from the environment"
	case l.path == "":
		return "embedded default"
	}
	return l.path
}

// loader reads the config the command line names: a file, the
// environment only, or the embedded default. It reads relative paths (the
// file and its includes) against the directory castd started in, so a
// reload after work_dir changed the directory reads the same files.
type loader struct {
	path    string
	envOnly bool
	lookup  func(string) (string, bool)
	dir     string // the directory castd started in

	files []string // absolute paths the last successful load read
}

// load reads the config and remembers which files it read.
func (l *loader) load() (*conf.Config, error) {
	var read []string
	opt := conf.Options{LookupEnv: l.lookup, ReadFile: func(name string) ([]byte, error) {
		abs := name
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(l.dir, abs)
		}
		read = append(read, abs)
		return os.ReadFile(abs)
	}}
	var cfg *conf.Config
	var err error
	switch {
	case l.envOnly:
		cfg, err = conf.LoadEnvOnly(opt)
	case l.path == "":
		cfg, err = conf.Default(opt)
	default:
		cfg, err = conf.Load(l.path, opt)
	}
	if err == nil {
		l.files = read
	}
	return cfg, err
}

// checkStatsNetwork is SRS's check that stats.network names one of this
// host's addresses.
func checkStatsNetwork(cfg *conf.Config) error {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil // nothing to check against
	}
	return conf.CheckStatsNetwork(cfg, len(addrs))
}

// newLogger builds the logger the config asks for.
func newLogger(cfg *conf.Config, env Env) (*slog.Logger, *logging.Output, error) {
	level, err := logLevel(cfg)
	if err != nil {
		return nil, nil, err
	}
	out := logging.ConsoleOutput(env.Stdout, env.Stderr)
	if cfg.LogTank == "file" {
		if out, err = logging.FileOutput(cfg.LogFile); err != nil {
			return nil, nil, err
		}
	}
	h := logging.NewHandler(out, logging.Options{Level: level, UTC: cfg.UTCTime})
	return slog.New(h), out, nil
}

func logLevel(cfg *conf.Config) (slog.Level, error) {
	if cfg.LogLevelV2 != "" {
		return logging.ParseLevel(cfg.LogLevelV2, true)
	}
	return logging.ParseLevel(cfg.LogLevel, false)
}
