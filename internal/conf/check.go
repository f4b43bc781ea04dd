package conf

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Limits of the RTMP chunk size (SRS_CONSTS_RTMP_MIN/MAX_CHUNK_SIZE).
const (
	MinChunkSize = 128
	MaxChunkSize = 65536
)

// check runs the cross-field rules of SRS's check_normal_config on a built
// config. Errors point at the directive involved when there is one.
func check(c *Config, opt Options) error {
	var errs []error
	// fail reports a problem with the setting at path: at the environment
	// variable that set it, else at directive d, else at the file.
	fail := func(d *Directive, path, format string, args ...any) {
		if name := c.envSource(path); name != "" {
			errs = append(errs, &Error{Msg: "env " + name + ": " + fmt.Sprintf(format, args...)})
			return
		}
		e := errorAt(d, format, args...)
		if d == nil {
			e.File = c.File
		}
		errs = append(errs, e)
	}
	root := c.Root

	if c.IsFull && !opt.AllowFull {
		fail(root.Get("is_full"), "is_full", "never use full.conf: it lists every directive for reference and is not a runnable config")
	}
	if len(c.Listen) == 0 && !c.EnvOnly {
		fail(nil, "listen", "listen is required, e.g. `listen 1935;`")
	}
	for _, l := range c.Listen {
		if _, _, err := SplitEndpoint(l); err != nil {
			fail(root.Get("listen"), "listen", "listen: %v", err)
		}
	}
	if c.MaxConnections <= 0 {
		fail(root.Get("max_connections"), "max_connections", "max_connections must be above 0, not %d", c.MaxConnections)
	}
	if c.ChunkSize < MinChunkSize || c.ChunkSize > MaxChunkSize {
		fail(root.Get("chunk_size"), "chunk_size", "chunk_size %d is outside %d..%d", c.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	if c.Daemon && c.AsProcess {
		fail(firstOf(root.Get("asprocess"), root.Get("daemon")), "asprocess", "daemon on conflicts with asprocess on")
	}
	if c.Heartbeat.Interval <= 0 {
		fail(root.Get("heartbeat").Get("interval"), "heartbeat.interval", "heartbeat.interval must be at least 1 second")
	}
	if c.Stats.Network < 0 {
		fail(root.Get("stats").Get("network"), "stats.network", "stats.network must not be negative")
	}
	checkHTTP(c, fail)
	for _, v := range c.Vhosts {
		checkVhost(v, fail)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// checkHTTP applies the port sharing rules (§1.1 "Sharing one port"): the
// API may share the HTTP server's port only if their HTTPS ports match too,
// and HTTPS needs HTTP.
func checkHTTP(c *Config, fail func(*Directive, string, string, ...any)) {
	api, srv := c.Root.Get("http_api"), c.Root.Get("http_server")
	a, s := c.HTTPAPI, c.HTTPServer
	for _, l := range []struct {
		on   bool
		val  string
		d    *Directive
		name string
	}{
		{a.Enabled, a.Listen, api.Get("listen"), "http_api.listen"},
		{a.HTTPS.Enabled, a.HTTPS.Listen, api.Get("https").Get("listen"), "http_api.https.listen"},
		{s.HTTPS.Enabled, s.HTTPS.Listen, srv.Get("https").Get("listen"), "http_server.https.listen"},
	} {
		if !l.on {
			continue
		}
		if _, _, err := SplitEndpoint(l.val); err != nil {
			fail(firstOf(l.d, api, srv), l.name, "%s: %v", l.name, err)
		}
	}
	for _, l := range s.Listens {
		if _, _, err := SplitEndpoint(l); s.Enabled && err != nil {
			fail(firstOf(srv.Get("listen"), srv), "http_server.listen", "http_server.listen: %v", err)
		}
	}
	shared := slices.Contains(s.Listens, a.Listen)
	if shared && a.HTTPS.Listen != s.HTTPS.Listen {
		fail(firstOf(api.Get("https").Get("listen"), srv.Get("https").Get("listen"), api.Get("listen")), "http_api.https.listen",
			"http_api and http_server share port %s, so their HTTPS ports must match too (%s != %s)",
			a.Listen, a.HTTPS.Listen, s.HTTPS.Listen)
	}
	if a.HTTPS.Listen == s.HTTPS.Listen && !shared {
		fail(firstOf(api.Get("listen"), srv.Get("listen"), api.Get("https").Get("listen")), "http_api.listen",
			"http_api and http_server share HTTPS port %s, so their HTTP ports must match too (%s != %s)",
			a.HTTPS.Listen, a.Listen, s.Listen)
	}
	if a.HTTPS.Enabled && !a.Enabled {
		fail(firstOf(api.Get("https").Get("enabled"), api), "http_api.https.enabled", "http_api.https needs http_api enabled")
	}
	if s.HTTPS.Enabled && !s.Enabled {
		fail(firstOf(srv.Get("https").Get("enabled"), srv), "http_server.https.enabled", "http_server.https needs http_server enabled")
	}
}

func checkVhost(v *Vhost, fail func(*Directive, string, string, ...any)) {
	d := v.Directive
	if v.ChunkSize < MinChunkSize || v.ChunkSize > MaxChunkSize {
		fail(firstOf(d.Get("chunk_size"), d), "vhost.chunk_size", "vhost %s: chunk_size %d is outside %d..%d", v.Name, v.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	if remuxes := d.GetAll("http_remux"); len(remuxes) > 1 {
		fail(remuxes[1], "", "vhost %s: only one http_remux is allowed, found %d", v.Name, len(remuxes))
	}
	if v.HLS.Enabled && v.HTTPRemux.Enabled && strings.HasSuffix(v.HTTPRemux.Mount, ".ts") {
		fail(firstOf(d.Get("http_remux").Get("mount"), d), "vhost.http_remux.mount", "vhost %s: hls conflicts with the http_remux .ts mount %s", v.Name, v.HTTPRemux.Mount)
	}
	if v.Forward.Enabled && v.Publish.KickoffForIdle > 0 {
		fail(firstOf(d.Get("publish").Get("kickoff_for_idle"), d), "vhost.publish.kickoff_for_idle", "vhost %s: forward conflicts with publish.kickoff_for_idle", v.Name)
	}
	seen := map[string]*Directive{}
	for _, in := range v.Ingests {
		if prev, dup := seen[in.ID]; dup {
			fail(in.Directive, "", "vhost %s: ingest id %q is already used at %s", v.Name, in.ID, posOrName(prev))
			continue
		}
		seen[in.ID] = in.Directive
	}
}

// envSource returns the environment variable that set path, or "".
func (c *Config) envSource(path string) string {
	for _, name := range registry().env[path] {
		for _, e := range c.Env {
			if e.Name == name {
				return name
			}
		}
	}
	return ""
}

// firstOf returns the first non-nil directive, for errors that can be
// caused by either of two settings.
func firstOf(ds ...*Directive) *Directive {
	for _, d := range ds {
		if d != nil {
			return d
		}
	}
	return nil
}

// CheckMaxConnections applies SRS's check_number_connections: the process
// needs max_connections plus 128 spare descriptors below its open files
// limit (ulimit -n), which the caller passes in.
func CheckMaxConnections(c *Config, openFilesLimit uint64) error {
	need := uint64(c.MaxConnections) + 128
	if need >= openFilesLimit {
		return errorAt(c.Root.Get("max_connections"),
			"max_connections %d needs more than %d open files, but the limit is %d; raise it with ulimit -HSn %d",
			c.MaxConnections, need, openFilesLimit, max(10000, c.MaxConnections*10))
	}
	return nil
}

// CheckStatsNetwork checks that stats.network indexes one of the host's
// localIPs addresses, as SRS does at startup.
func CheckStatsNetwork(c *Config, localIPs int) error {
	if c.Stats.Network >= localIPs {
		return errorAt(c.Root.Get("stats").Get("network"),
			"stats.network %d is out of range: the host has %d local IPs", c.Stats.Network, localIPs)
	}
	return nil
}
