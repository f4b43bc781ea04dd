package conf

import (
	"math"
	"slices"
	"strings"
	"time"
)

// global fills the root-level settings.
func (b *builder) global(c *Config, root *Directive) {
	c.Listen = b.list(root, "listen")
	c.PID = b.str(root, "pid", "./objs/srs.pid")
	c.ChunkSize = b.int(root, "chunk_size", 60000)
	c.FFLogDir = b.str(root, "ff_log_dir", "./objs")
	c.FFLogLevel = b.enum(root, "ff_log_level", "info",
		"quiet", "panic", "fatal", "error", "warning", "info", "verbose", "debug", "trace")

	// In env-only mode SRS defaults to the console and no daemon, so a
	// container started with -e logs to stdout.
	defTank, defDaemon := "file", true
	if b.envOnly {
		defTank, defDaemon = "console", false
	}
	c.LogTank = b.enum(root, "srs_log_tank", defTank, "console", "file")
	c.LogLevel = b.enum(root, "srs_log_level", "trace", "verbose", "info", "trace", "warn", "error")
	c.LogLevelV2 = b.enum(root, "srs_log_level_v2", "", "trace", "debug", "info", "warn", "error")
	c.LogFile = b.str(root, "srs_log_file", "./objs/srs.log")
	c.MaxConnections = b.int(root, "max_connections", 1000)
	c.Daemon = b.flag(root, "daemon", defDaemon)
	c.UTCTime = b.flag(root, "utc_time", false)
	c.PithyPrint = b.millis(root, "pithy_print_ms", 10*time.Second)
	c.WorkDir = b.str(root, "work_dir", "./")
	c.AsProcess = b.flag(root, "asprocess", false)
	c.ServerID = b.str(root, "server_id", "")
	if u := b.list(root, "user"); len(u) > 0 {
		c.User = u[0]
		if len(u) > 1 {
			c.Group = u[1]
		}
		if len(u) > 2 || c.User == "" {
			b.fail(errorAt(root.Get("user"), "user: want a user name and at most a group name, as nginx's user directive"))
		}
	}
	c.GraceStartWait = b.millis(root, "grace_start_wait", 2300*time.Millisecond)
	c.GraceFinalWait = b.millis(root, "grace_final_wait", 3200*time.Millisecond)
	c.ForceGraceQuit = b.flag(root, "force_grace_quit", false)
	c.EmptyIPOK = b.flag(root, "empty_ip_ok", true)
	c.DisableDaemonForDocker = b.flag(root, "disable_daemon_for_docker", true)
	c.InotifyAutoReload = b.flag(root, "inotify_auto_reload", false)
	c.AutoReloadForDocker = b.flag(root, "auto_reload_for_docker", true)
	c.TCMallocReleaseRate = min(10, max(0, b.float(root, "tcmalloc_release_rate", 0.8)))
	c.QueryLatestVersion = b.flag(root, "query_latest_version", false)
	c.FirstWaitForQLV = b.seconds(root, "first_wait_for_qlv", 5*time.Minute)
	c.InDocker = b.flag(root, "in_docker", false)
	c.IsFull = b.flag(root, "is_full", false)
	c.ThreadsInterval = b.seconds(root.Get("threads"), "threads.interval", 5*time.Second)
	b.ignoredBlocks(root)

	b.httpAPI(&c.HTTPAPI, root)
	b.httpServer(&c.HTTPServer, root.Get("http_server"))
	// The HTTPS API follows the HTTPS server's port when the API shares the
	// HTTP server's port (cfg get_https_api_listen).
	if slices.Contains(c.HTTPServer.Listens, c.HTTPAPI.Listen) && !b.has(root.Get("http_api").Get("https"), "http_api.https.listen") {
		c.HTTPAPI.HTTPS.Listen = c.HTTPServer.HTTPS.Listen
	}
	b.rtcServer(&c.RTCServer, root.Get("rtc_server"))
	b.srtServer(&c.SRTServer, root.Get("srt_server"))
	b.heartbeat(&c.Heartbeat, root.Get("heartbeat"))
	b.stats(&c.Stats, root.Get("stats"))
	b.exporter(&c.Exporter, root.Get("exporter"))
	for _, d := range root.GetAll("stream_caster") {
		c.StreamCasters = append(c.StreamCasters, b.streamCaster(d))
	}
}

// has reports whether a leaf is set in the file or the environment.
func (b *builder) has(parent *Directive, path string) bool {
	_, ok := b.lookup(parent, path)
	return ok
}

// ignoredBlocks reads the vendor blocks castd accepts without effect, so
// bad values still get the usual warnings and the registry stays covered.
func (b *builder) ignoredBlocks(root *Directive) {
	cb := root.Get("circuit_breaker")
	b.flag(cb, "circuit_breaker.enabled", true)
	for _, n := range []string{"high_threshold", "high_pulse", "critical_threshold", "critical_pulse", "dying_threshold", "dying_pulse"} {
		b.int(cb, "circuit_breaker."+n, 0)
	}
	cls := root.Get("tencentcloud_cls")
	b.flag(cls, "tencentcloud_cls.enabled", false)
	b.flag(cls, "tencentcloud_cls.stat_heartbeat", true)
	b.flag(cls, "tencentcloud_cls.stat_streams", true)
	b.flag(cls, "tencentcloud_cls.debug_logging", false)
	b.int(cls, "tencentcloud_cls.heartbeat_ratio", 1)
	b.int(cls, "tencentcloud_cls.streams_ratio", 1)
	for _, n := range []string{"label", "tag", "secret_id", "secret_key", "endpoint", "topic_id"} {
		b.str(cls, "tencentcloud_cls."+n, "")
	}
	apm := root.Get("tencentcloud_apm")
	b.flag(apm, "tencentcloud_apm.enabled", false)
	b.flag(apm, "tencentcloud_apm.debug_logging", false)
	for _, n := range []string{"team", "token", "endpoint", "service_name"} {
		b.str(apm, "tencentcloud_apm."+n, "")
	}
}

func (b *builder) httpAPI(a *HTTPAPI, root *Directive) {
	d := root.Get("http_api")
	a.Enabled = b.flag(d, "http_api.enabled", false)
	a.Listen = b.str(d, "http_api.listen", "1985")
	a.Crossdomain = b.flag(d, "http_api.crossdomain", true)
	a.Pprof = b.flag(d, "http_api.pprof", false)
	raw := d.Get("raw_api")
	a.RawAPI.Enabled = b.flag(raw, "http_api.raw_api.enabled", false)
	a.RawAPI.AllowReload = b.flag(raw, "http_api.raw_api.allow_reload", false)
	// Read for warnings only: SRS removed query and update in v4 (#2653).
	b.flag(raw, "http_api.raw_api.allow_query", false)
	b.flag(raw, "http_api.raw_api.allow_update", false)
	auth := d.Get("auth")
	a.Auth.Enabled = b.flag(auth, "http_api.auth.enabled", false)
	a.Auth.Username = b.str(auth, "http_api.auth.username", "")
	a.Auth.Password = b.str(auth, "http_api.auth.password", "")
	a.HTTPS = b.https(d.Get("https"), "http_api.https", "1990")
}

func (b *builder) httpServer(s *HTTPServer, d *Directive) {
	s.Enabled = b.flag(d, "http_server.enabled", false)
	s.Listens = b.list(d, "http_server.listen")
	if len(s.Listens) == 0 {
		s.Listens = []string{"8080"}
	}
	s.Listen = s.Listens[0]
	s.Dir = b.str(d, "http_server.dir", "./objs/nginx/html")
	s.Crossdomain = b.flag(d, "http_server.crossdomain", true)
	s.HTTPS = b.https(d.Get("https"), "http_server.https", "8088")
}

func (b *builder) https(d *Directive, path, listen string) HTTPS {
	return HTTPS{
		Enabled: b.flag(d, path+".enabled", false),
		Listen:  b.str(d, path+".listen", listen),
		Key:     b.str(d, path+".key", "./conf/server.key"),
		Cert:    b.str(d, path+".cert", "./conf/server.crt"),
	}
}

func (b *builder) rtcServer(r *RTCServer, d *Directive) {
	r.Enabled = b.flag(d, "rtc_server.enabled", false)
	r.Listen = b.int(d, "rtc_server.listen", 8000)
	tcp := d.Get("tcp")
	r.TCP.Enabled = b.flag(tcp, "rtc_server.tcp.enabled", false)
	r.TCP.Listen = b.int(tcp, "rtc_server.tcp.listen", 8000)
	r.Protocol = b.enum(d, "rtc_server.protocol", "udp", "udp", "tcp", "all")
	r.Candidate = b.candidate(d, "rtc_server.candidate")
	r.UseAutoDetectNetworkIP = b.flag(d, "rtc_server.use_auto_detect_network_ip", true)
	r.IPFamily = b.enum(d, "rtc_server.ip_family", "ipv4", "ipv4", "ipv6", "all")
	r.APIAsCandidates = b.flag(d, "rtc_server.api_as_candidates", true)
	r.ResolveAPIDomain = b.flag(d, "rtc_server.resolve_api_domain", true)
	r.KeepAPIDomain = b.flag(d, "rtc_server.keep_api_domain", false)
	r.ECDSA = b.flag(d, "rtc_server.ecdsa", true)
	r.Encrypt = b.flag(d, "rtc_server.encrypt", true)
	r.ReusePort = b.int(d, "rtc_server.reuseport", 1)
	r.MergeNalus = b.flag(d, "rtc_server.merge_nalus", false)
	bh := d.Get("black_hole")
	r.BlackHole.Enabled = b.flag(bh, "rtc_server.black_hole.enabled", false)
	r.BlackHole.Addr = b.str(bh, "rtc_server.black_hole.addr", "")
	b.str(d, "rtc_server.dir", "")
}

// candidate reads a candidate and expands a "$NAME" value from the
// environment, falling back to "*" (detect) when NAME is unset. The override
// variable itself may also hold "$NAME" (cfg get_rtc_server_candidates).
func (b *builder) candidate(d *Directive, path string) string {
	v := b.str(d, path, "*")
	name, isVar := strings.CutPrefix(v, "$")
	if !isVar {
		return v
	}
	if s, ok := b.getenv(strings.ToUpper(strings.ReplaceAll(name, ".", "_"))); ok {
		return s
	}
	return "*"
}

func (b *builder) srtServer(s *SRTServer, d *Directive) {
	s.Enabled = b.flag(d, "srt_server.enabled", false)
	s.Listen = b.int(d, "srt_server.listen", 10080)
	s.MaxBW = -1
	if n, ok := b.integer(d, "srt_server.maxbw", math.MinInt64, math.MaxInt64); ok {
		s.MaxBW = n
	}
	s.MSS = b.int(d, "srt_server.mss", 1500)
	s.ConnectTimeout = b.millis(d, "srt_server.connect_timeout", 3*time.Second)
	s.PeerIdleTimeout = b.millis(d, "srt_server.peer_idle_timeout", 10*time.Second)
	s.DefaultApp = b.str(d, "srt_server.default_app", "live")
	s.PeerLatency = b.millis(d, "srt_server.peerlatency", 0)
	s.RecvLatency = b.millis(d, "srt_server.recvlatency", 120*time.Millisecond)
	s.Latency = b.millis(d, "srt_server.latency", 120*time.Millisecond)
	s.TSBPDMode = b.flag(d, "srt_server.tsbpdmode", true)
	s.TLPktDrop = b.flag(d, "srt_server.tlpktdrop", true)
	s.SendBuf = b.int(d, "srt_server.sendbuf", 8192*1472)
	s.RecvBuf = b.int(d, "srt_server.recvbuf", 8192*1472)
	s.PayloadSize = b.int(d, "srt_server.payloadsize", 1316)
	s.Passphrase = b.str(d, "srt_server.passphrase", "")
	s.PBKeyLen = b.int(d, "srt_server.pbkeylen", 0)
	s.SEIFilter = b.flag(d, "srt_server.sei_filter", true)
	s.MixCorrect = b.flag(d, "srt_server.mix_correct", false)

	if n := len(s.Passphrase); n > 0 && (n < 10 || n > 79) {
		b.fail(errorAt(d.Get("passphrase"), "srt_server.passphrase must have 10 to 79 characters, not %d", n))
	}
	switch s.PBKeyLen {
	case 0, 16, 24, 32:
	default:
		b.fail(errorAt(d.Get("pbkeylen"), "srt_server.pbkeylen must be 0, 16, 24 or 32, not %d", s.PBKeyLen))
	}
}

func (b *builder) heartbeat(h *Heartbeat, d *Directive) {
	h.Enabled = b.flag(d, "heartbeat.enabled", false)
	h.Interval = b.seconds(d, "heartbeat.interval", 10*time.Second)
	h.URL = b.str(d, "heartbeat.url", "http://127.0.0.1:8085/api/v1/servers")
	h.DeviceID = b.str(d, "heartbeat.device_id", "")
	h.Summaries = b.flag(d, "heartbeat.summaries", false)
	h.Ports = b.flag(d, "heartbeat.ports", false)
}

func (b *builder) stats(s *Stats, d *Directive) {
	s.Enabled = b.flag(d, "stats.enabled", true)
	s.Network = b.int(d, "stats.network", 0)
	s.Disk = b.list(d, "stats.disk")
}

func (b *builder) exporter(e *Exporter, d *Directive) {
	e.Enabled = b.flag(d, "exporter.enabled", false)
	e.Listen = b.str(d, "exporter.listen", "9972")
	e.Label = b.str(d, "exporter.label", "")
	e.Tag = b.str(d, "exporter.tag", "")
}

func (b *builder) streamCaster(d *Directive) *StreamCaster {
	sc := &StreamCaster{Directive: d}
	sc.Enabled = b.flag(d, "stream_caster.enabled", false)
	sc.Caster = b.enum(d, "stream_caster.caster", "", "mpegts_over_udp", "flv", "gb28181", "rtsp")
	sc.Output = b.str(d, "stream_caster.output", "")
	sc.Listen = b.int(d, "stream_caster.listen", 0)
	sc.RTPPortMin = b.int(d, "stream_caster.rtp_port_min", 57200)
	sc.RTPPortMax = b.int(d, "stream_caster.rtp_port_max", 57300)
	sip := d.Get("sip")
	sc.SIP.Enabled = b.flag(sip, "stream_caster.sip.enabled", true)
	sc.SIP.Listen = b.int(sip, "stream_caster.sip.listen", 5060)
	sc.SIP.Timeout = b.fseconds(sip, "stream_caster.sip.timeout", 60*time.Second)
	sc.SIP.Reinvite = b.fseconds(sip, "stream_caster.sip.reinvite", 5*time.Second)
	sc.SIP.Candidate = b.candidate(sip, "stream_caster.sip.candidate")
	if sc.Enabled && sc.Caster == "" {
		b.fail(errorAt(d, "stream_caster: caster is required (mpegts_over_udp, flv, gb28181 or rtsp)"))
	}
	return sc
}
