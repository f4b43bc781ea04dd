package conf

import (
	"slices"
	"strconv"
)

// Changes is what a reload would change, for the server to apply or log.
type Changes struct {
	// Vhosts that became enabled (new, or enabled again) or disabled
	// (removed, or enabled off), as SRS's reload sees them.
	VhostsAdded   []string
	VhostsRemoved []string
	// Vhosts enabled before and after whose settings differ.
	VhostsChanged []VhostChange
	// Listeners whose endpoints changed, including being turned on or off.
	Listeners      []ListenerChange
	MaxConnections bool
	// Sections lists global settings that changed: http_api, http_server,
	// rtc_server, srt_server, heartbeat, stats, exporter, stream_caster,
	// pithy_print_ms, chunk_size, ...
	Sections []string
	// NeedRestart lists changed settings SRS cannot apply without a restart
	// (pid, logging, daemon, work_dir, utc_time, ff_log_*, and per vhost
	// dvr.dvr_apply, cluster.mode, cluster.origin_cluster, cluster.coworkers).
	// Vhost entries read "vhost <name>: cluster.mode".
	NeedRestart []string
}

// VhostChange names a vhost and the sub-blocks (or vhost-level directives)
// that changed, e.g. ["play", "hls"].
type VhostChange struct {
	Name     string
	Sections []string
}

// ListenerChange is a listener whose endpoints differ; an empty list means
// the listener is off.
type ListenerChange struct {
	Name     string // rtmp, http_api, https_api, http_server, https_server, rtc, rtc_tcp, srt, exporter, stream_caster
	Old, New []string
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return len(c.VhostsAdded) == 0 && len(c.VhostsRemoved) == 0 && len(c.VhostsChanged) == 0 &&
		len(c.Listeners) == 0 && !c.MaxConnections && len(c.Sections) == 0 && len(c.NeedRestart) == 0
}

// Diff compares the running config with a freshly loaded one.
func Diff(old, cur *Config) Changes {
	var ch Changes
	for _, l := range listenerNames {
		o, n := listeners(old, l), listeners(cur, l)
		if !slices.Equal(o, n) {
			ch.Listeners = append(ch.Listeners, ListenerChange{Name: l, Old: o, New: n})
		}
	}
	ch.MaxConnections = old.MaxConnections != cur.MaxConnections

	restart := func(changed bool, what string) {
		if changed {
			ch.NeedRestart = append(ch.NeedRestart, what)
		}
	}
	restart(old.PID != cur.PID, "pid")
	restart(old.LogTank != cur.LogTank, "srs_log_tank")
	restart(old.LogFile != cur.LogFile, "srs_log_file")
	restart(old.LogLevel != cur.LogLevel, "srs_log_level")
	restart(old.LogLevelV2 != cur.LogLevelV2, "srs_log_level_v2")
	restart(old.FFLogDir != cur.FFLogDir, "ff_log_dir")
	restart(old.FFLogLevel != cur.FFLogLevel, "ff_log_level")
	restart(old.UTCTime != cur.UTCTime, "utc_time")
	restart(old.Daemon != cur.Daemon, "daemon")
	restart(old.WorkDir != cur.WorkDir, "work_dir")
	restart(old.User != cur.User || old.Group != cur.Group, "user")

	section := func(changed bool, name string) {
		if changed {
			ch.Sections = append(ch.Sections, name)
		}
	}
	section(old.ChunkSize != cur.ChunkSize, "chunk_size")
	section(old.PithyPrint != cur.PithyPrint, "pithy_print_ms")
	section(old.ServerID != cur.ServerID, "server_id")
	section(old.HTTPAPI != cur.HTTPAPI, "http_api")
	section(!httpServerEqual(old.HTTPServer, cur.HTTPServer), "http_server")
	section(old.RTCServer != cur.RTCServer, "rtc_server")
	section(old.SRTServer != cur.SRTServer, "srt_server")
	section(old.Heartbeat != cur.Heartbeat, "heartbeat")
	section(!statsEqual(old.Stats, cur.Stats), "stats")
	section(old.Exporter != cur.Exporter, "exporter")
	section(!slices.EqualFunc(old.StreamCasters, cur.StreamCasters, casterEqual), "stream_caster")

	diffVhosts(&ch, old, cur)
	return ch
}

func httpServerEqual(a, b HTTPServer) bool {
	return a.Enabled == b.Enabled && slices.Equal(a.Listens, b.Listens) && a.Dir == b.Dir &&
		a.Crossdomain == b.Crossdomain && a.HTTPS == b.HTTPS
}

func diffVhosts(ch *Changes, old, cur *Config) {
	var names []string
	for _, v := range cur.Vhosts {
		names = append(names, v.Name)
	}
	for _, v := range old.Vhosts {
		if !slices.Contains(names, v.Name) {
			names = append(names, v.Name)
		}
	}
	for _, name := range names {
		o, n := exactVhost(old, name), exactVhost(cur, name)
		oOn, nOn := o != nil && o.Enabled, n != nil && n.Enabled
		switch {
		case !oOn && nOn:
			ch.VhostsAdded = append(ch.VhostsAdded, name)
		case oOn && !nOn:
			ch.VhostsRemoved = append(ch.VhostsRemoved, name)
		case oOn && nOn:
			if s := vhostSections(o, n); len(s) > 0 {
				ch.VhostsChanged = append(ch.VhostsChanged, VhostChange{Name: name, Sections: s})
			}
			prefix := "vhost " + name + ": "
			if !slices.Equal(o.DVR.Apply, n.DVR.Apply) {
				ch.NeedRestart = append(ch.NeedRestart, prefix+"dvr.dvr_apply")
			}
			if o.Cluster.Mode != n.Cluster.Mode {
				ch.NeedRestart = append(ch.NeedRestart, prefix+"cluster.mode")
			}
			if o.Cluster.OriginCluster != n.Cluster.OriginCluster {
				ch.NeedRestart = append(ch.NeedRestart, prefix+"cluster.origin_cluster")
			}
			if !slices.Equal(o.Cluster.Coworkers, n.Cluster.Coworkers) {
				ch.NeedRestart = append(ch.NeedRestart, prefix+"cluster.coworkers")
			}
		}
	}
}

// exactVhost finds a vhost by name without the default-vhost fallback.
func exactVhost(c *Config, name string) *Vhost {
	for _, v := range c.Vhosts {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// vhostSections lists what differs between two versions of a vhost. The
// settings that need a restart are left out of their sections.
func vhostSections(o, n *Vhost) []string {
	var s []string
	add := func(changed bool, name string) {
		if changed {
			s = append(s, name)
		}
	}
	add(o.ChunkSize != n.ChunkSize, "chunk_size")
	add(o.MinLatency != n.MinLatency || o.RTC.MinLatency != n.RTC.MinLatency, "min_latency")
	add(o.TCPNoDelay != n.TCPNoDelay, "tcp_nodelay")
	add(o.InAckSize != n.InAckSize, "in_ack_size")
	add(o.OutAckSize != n.OutAckSize, "out_ack_size")
	add(o.Play != n.Play, "play")
	add(o.Publish != n.Publish, "publish")
	add(!clusterEqual(o.Cluster, n.Cluster), "cluster")
	add(o.Forward.Enabled != n.Forward.Enabled || o.Forward.Backend != n.Forward.Backend ||
		!slices.Equal(o.Forward.Destination, n.Forward.Destination), "forward")
	add(o.Security.Enabled != n.Security.Enabled || !slices.Equal(o.Security.Rules, n.Security.Rules), "security")
	add(!referEqual(o.Refer, n.Refer), "refer")
	add(!hooksEqual(o.HTTPHooks, n.HTTPHooks), "http_hooks")
	add(o.HLS != n.HLS, "hls")
	add(o.HDS != n.HDS, "hds")
	add(o.DASH != n.DASH, "dash")
	od, nd := o.DVR, n.DVR
	od.Apply, nd.Apply = nil, nil // dvr_apply needs a restart; see NeedRestart
	add(!dvrEqual(od, nd), "dvr")
	add(o.HTTPRemux != n.HTTPRemux, "http_remux")
	add(o.HTTPStatic != n.HTTPStatic, "http_static")
	add(o.Exec.Enabled != n.Exec.Enabled || !slices.EqualFunc(o.Exec.Publish, n.Exec.Publish, slices.Equal[[]string]), "exec")
	add(!slices.EqualFunc(o.Transcodes, n.Transcodes, transcodeEqual), "transcode")
	add(!slices.EqualFunc(o.Ingests, n.Ingests, ingestEqual), "ingest")
	add(o.RTC != n.RTC, "rtc")
	add(o.SRT != n.SRT, "srt")
	return s
}

var listenerNames = []string{"rtmp", "http_api", "https_api", "http_server", "https_server",
	"rtc", "rtc_tcp", "srt", "exporter", "stream_caster"}

// listeners returns the endpoints a listener binds, or nil when it is off.
// An API that shares the HTTP server's port has no listener of its own.
func listeners(c *Config, name string) []string {
	one := func(on bool, v string) []string {
		if !on {
			return nil
		}
		return []string{v}
	}
	shared := c.SharesHTTPServer()
	switch name {
	case "rtmp":
		return c.Listen
	case "http_api":
		return one(c.HTTPAPI.Enabled && !shared, c.HTTPAPI.Listen)
	case "https_api":
		return one(c.HTTPAPI.Enabled && c.HTTPAPI.HTTPS.Enabled && !shared, c.HTTPAPI.HTTPS.Listen)
	case "http_server":
		if !c.HTTPServer.Enabled {
			return nil
		}
		return c.HTTPServer.Listens
	case "https_server":
		return one(c.HTTPServer.Enabled && c.HTTPServer.HTTPS.Enabled, c.HTTPServer.HTTPS.Listen)
	case "rtc":
		return one(c.RTCServer.Enabled, strconv.Itoa(c.RTCServer.Listen))
	case "rtc_tcp":
		return one(c.RTCServer.Enabled && c.RTCServer.TCP.Enabled, strconv.Itoa(c.RTCServer.TCP.Listen))
	case "srt":
		return one(c.SRTServer.Enabled, strconv.Itoa(c.SRTServer.Listen))
	case "exporter":
		return one(c.Exporter.Enabled, c.Exporter.Listen)
	case "stream_caster":
		var out []string
		for _, sc := range c.StreamCasters {
			if sc.Enabled {
				out = append(out, sc.Caster+":"+strconv.Itoa(sc.Listen))
			}
		}
		return out
	}
	return nil
}

func statsEqual(a, b Stats) bool {
	return a.Enabled == b.Enabled && a.Network == b.Network && slices.Equal(a.Disk, b.Disk)
}

func casterEqual(a, b *StreamCaster) bool {
	return a.Enabled == b.Enabled && a.Caster == b.Caster && a.Output == b.Output &&
		a.Listen == b.Listen && a.SIP == b.SIP
}

func clusterEqual(a, b Cluster) bool {
	return a.Mode == b.Mode && slices.Equal(a.Origin, b.Origin) && a.TokenTraverse == b.TokenTraverse &&
		a.Vhost == b.Vhost && a.DebugSRSUpnode == b.DebugSRSUpnode && a.OriginCluster == b.OriginCluster &&
		slices.Equal(a.Coworkers, b.Coworkers) && a.Protocol == b.Protocol && a.FollowClient == b.FollowClient
}

func referEqual(a, b Refer) bool {
	return a.Enabled == b.Enabled && slices.Equal(a.All, b.All) &&
		slices.Equal(a.Publish, b.Publish) && slices.Equal(a.Play, b.Play)
}

func hooksEqual(a, b HTTPHooks) bool {
	return a.Enabled == b.Enabled &&
		slices.Equal(a.OnConnect, b.OnConnect) && slices.Equal(a.OnClose, b.OnClose) &&
		slices.Equal(a.OnPublish, b.OnPublish) && slices.Equal(a.OnUnpublish, b.OnUnpublish) &&
		slices.Equal(a.OnPlay, b.OnPlay) && slices.Equal(a.OnStop, b.OnStop) &&
		slices.Equal(a.OnDVR, b.OnDVR) && slices.Equal(a.OnHLS, b.OnHLS) &&
		slices.Equal(a.OnHLSNotify, b.OnHLSNotify)
}

func dvrEqual(a, b DVR) bool {
	return a.Enabled == b.Enabled && slices.Equal(a.Apply, b.Apply) && a.Plan == b.Plan && a.Path == b.Path &&
		a.Duration == b.Duration && a.WaitKeyframe == b.WaitKeyframe && a.TimeJitter == b.TimeJitter &&
		a.Upload == b.Upload
}

func transcodeEqual(a, b *Transcode) bool {
	return a.Scope == b.Scope && a.Enabled == b.Enabled && a.FFmpeg == b.FFmpeg &&
		slices.EqualFunc(a.Engines, b.Engines, engineEqual)
}

func ingestEqual(a, b *Ingest) bool {
	return a.ID == b.ID && a.Enabled == b.Enabled && a.InputType == b.InputType && a.InputURL == b.InputURL &&
		a.FFmpeg == b.FFmpeg && slices.EqualFunc(a.Engines, b.Engines, engineEqual)
}

func engineEqual(a, b *Engine) bool {
	return a.Name == b.Name && a.Enabled == b.Enabled && slices.Equal(a.Perfile, b.Perfile) &&
		a.IFormat == b.IFormat && slices.Equal(a.VFilter, b.VFilter) && a.VCodec == b.VCodec &&
		a.VBitrate == b.VBitrate && a.VFPS == b.VFPS && a.VWidth == b.VWidth && a.VHeight == b.VHeight &&
		a.VThreads == b.VThreads && a.VProfile == b.VProfile && a.VPreset == b.VPreset &&
		slices.Equal(a.VParams, b.VParams) && a.ACodec == b.ACodec && a.ABitrate == b.ABitrate &&
		a.ASampleRate == b.ASampleRate && a.AChannels == b.AChannels && slices.Equal(a.AParams, b.AParams) &&
		a.OFormat == b.OFormat && a.Output == b.Output
}
