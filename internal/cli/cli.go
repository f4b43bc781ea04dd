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
	"strings"

	"github.com/castd/castd/internal/conf"
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
	load := func() (*conf.Config, error) { return loadConfig(path, envOnly, env.LookupEnv) }
	cfg, err := load()
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
		fmt.Fprintf(env.Stdout, "castd: the config %s is valid\n", describeSource(path, envOnly))
		return 0
	}
	return serve(ctx, env, cfg, path, envOnly, load)
}

func describeSource(path string, envOnly bool) string {
	switch {
	case envOnly:
		return "from the environment"
	case path == "":
		return "embedded default"
	}
	return path
}

// loadConfig reads the file, the environment only, or the embedded default.
func loadConfig(path string, envOnly bool, lookup func(string) (string, bool)) (*conf.Config, error) {
	opt := conf.Options{LookupEnv: lookup}
	switch {
	case envOnly:
		return conf.LoadEnvOnly(opt)
	case path == "":
		return conf.Default(opt)
	}
	return conf.Load(path, opt)
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
