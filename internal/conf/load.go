// Package conf reads SRS-compatible configuration: the nginx-like grammar
// with include, SRS's legacy rewrites, a registry of every directive SRS v6
// accepts (unknown ones are fatal, as in SRS), SRS_* environment overrides,
// cross-field checks with file:line errors, and a typed snapshot with SRS's
// defaults. Diff compares two snapshots for a reload.
package conf

import (
	"errors"
	"fmt"
	"os"
	"sort"
)

// Options control loading. The zero value reads files from disk, sees an
// empty environment and rejects full.conf.
type Options struct {
	// LookupEnv reads the environment; pass os.LookupEnv in the server.
	// nil means an empty environment, which keeps tests hermetic.
	LookupEnv func(string) (string, bool)
	// ReadFile reads the config file and included files; nil is os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// AllowFull accepts a config with `is_full on` (the reference
	// full.conf), which SRS refuses to run.
	AllowFull bool
}

func (o Options) readFile() func(string) ([]byte, error) {
	if o.ReadFile != nil {
		return o.ReadFile
	}
	return os.ReadFile
}

// Load reads, validates and builds the config file at path. Relative
// include paths resolve against the process working directory.
func Load(path string, opt Options) (*Config, error) {
	data, err := opt.readFile()(path)
	if err != nil {
		return nil, fmt.Errorf("conf: read %s: %w", path, err)
	}
	return Parse(path, data, opt)
}

// Parse builds a config from text; name is used in errors (e.g. the file
// name). Included files are read with opt.ReadFile.
func Parse(name string, data []byte, opt Options) (*Config, error) {
	root, err := ParseTree(name, data, opt)
	if err != nil {
		return nil, err
	}
	return fromTree(root, name, false, opt)
}

// LoadEnvOnly builds a config from the environment alone (SRS's -e): the
// daemon is off and logs go to the console unless SRS_DAEMON or
// SRS_LOG_TANK say otherwise, and a __defaultVhost__ exists.
func LoadEnvOnly(opt Options) (*Config, error) {
	root := &Directive{Children: []*Directive{{Name: "vhost", Args: []string{DefaultVhost}, Block: true}}}
	return fromTree(root, "", true, opt)
}

// ParseTree parses text into a directive tree, expanding includes, without
// rewriting or validating it.
func ParseTree(name string, data []byte, opt Options) (*Directive, error) {
	return parseTree(name, data, opt.readFile())
}

// Source decides where the config comes from, as SRS's command line does:
// -e, or SRS_ENV_ONLY being set at all (even empty), means environment
// only; otherwise a non-empty SRS_CONFIG_FILE replaces the -c path.
func Source(cliPath string, cliEnvOnly bool, lookupEnv func(string) (string, bool)) (path string, envOnly bool) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	if _, set := lookupEnv("SRS_ENV_ONLY"); set || cliEnvOnly {
		return "", true
	}
	if p, _ := lookupEnv("SRS_CONFIG_FILE"); p != "" {
		return p, false
	}
	return cliPath, false
}

func fromTree(root *Directive, name string, envOnly bool, opt Options) (*Config, error) {
	if !envOnly && len(root.Children) == 0 {
		return nil, &Error{File: name, Msg: "config is empty"}
	}
	warnings := transform(root)
	more, err := validate(root)
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, more...)

	b := &builder{env: opt.LookupEnv, envOnly: envOnly}
	c, err := b.build(root, name, envOnly)
	if err != nil {
		return nil, err
	}
	c.Warnings = append(warnings, c.Warnings...)
	if err := check(c, opt); err != nil {
		return nil, err
	}
	return c, nil
}

// build fills a Config from a validated tree.
func (b *builder) build(root *Directive, name string, envOnly bool) (*Config, error) {
	c := &Config{Root: root, File: name, EnvOnly: envOnly}
	b.global(c, root)
	seen := map[string]*Directive{}
	for _, d := range root.GetAll("vhost") {
		if d.Arg0() == "" {
			b.fail(errorAt(d, "vhost needs a name, e.g. `vhost %s {}`", DefaultVhost))
			continue
		}
		if prev, dup := seen[d.Arg0()]; dup {
			b.warnf("%s: duplicate vhost %s ignored; the one at %s is used", posOrName(d), d.Arg0(), posOrName(prev))
			continue
		}
		seen[d.Arg0()] = d
		c.Vhosts = append(c.Vhosts, b.vhost(d, c.ChunkSize))
	}
	if len(b.errs) == 1 {
		return nil, b.errs[0]
	}
	if len(b.errs) > 1 {
		return nil, errors.Join(b.errs...)
	}
	for _, e := range b.envs {
		c.Env = append(c.Env, e)
	}
	sort.Slice(c.Env, func(i, j int) bool { return c.Env[i].Name < c.Env[j].Name })
	c.Warnings = b.warns
	return c, nil
}
