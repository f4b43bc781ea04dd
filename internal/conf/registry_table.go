package conf

// registryTable lists every directive SRS v6 accepts, in the order the docs
// present them. To mark a feature as built, flip its Status here; the docs
// table (docs/config.md) and conf/full.conf are checked against this list.
func registryTable() []Entry {
	const (
		P = StatusPending
		I = StatusImplemented
		X = StatusIgnored
	)
	var t table

	// Global.
	t.leaf("listen", I, "", "", "RTMP listen endpoints: port, ip:port or [ipv6]:port; required unless -e", multi)
	t.leaf("pid", I, "./objs/srs.pid", "", "pid file; also names the server id file (.pid becomes .id)")
	t.leaf("chunk_size", I, "60000", "bytes", "RTMP output chunk size, 128..65536; vhosts inherit it")
	t.leaf("ff_log_dir", I, "./objs", "", "directory for FFmpeg logs; /dev/null turns them off")
	t.leaf("ff_log_level", I, "info", "", "FFmpeg -loglevel for transcode and ingest")
	t.leaf("srs_log_tank", I, "file", "", "log destination: console or file")
	t.leaf("srs_log_level", I, "trace", "", "log level: verbose, info, trace, warn or error")
	t.leaf("srs_log_level_v2", I, "", "", "log level in v5 names (trace, debug, info, warn, error); wins over srs_log_level")
	t.leaf("srs_log_file", I, "./objs/srs.log", "", "log file when the tank is file")
	t.leaf("max_connections", I, "1000", "", "most TCP connections at once; more are closed right away")
	t.leaf("daemon", I, "on", "", "SRS forks into the background; castd stays in the foreground and says so (run it under systemd or docker)")
	t.leaf("utc_time", I, "off", "", "log in UTC instead of local time")
	t.leaf("pithy_print_ms", I, "10000", "ms", "interval of the periodic status lines in the log")
	t.leaf("work_dir", I, "./", "", "directory to change into at startup")
	t.leaf("asprocess", X, "off", "", "exit when the parent process exits (supervisor mode)")
	t.leaf("user", I, "", "", "castd and nginx: user [group] to run as once the ports are open (castd started as root); SRS #1111", multi)
	t.leaf("server_id", I, "", "", "server id for the API and hooks; random vid-xxxxxxx kept in the .id file when unset")
	t.leaf("grace_start_wait", I, "2300", "ms", "on graceful quit, wait this long before closing listeners")
	t.leaf("grace_final_wait", I, "3200", "ms", "on graceful quit, wait this long after connections are gone")
	t.leaf("force_grace_quit", I, "off", "", "treat SIGTERM as a graceful quit")
	t.leaf("empty_ip_ok", I, "on", "", "silently drop connections without a peer IP (load balancer probes)")
	t.leaf("disable_daemon_for_docker", X, "on", "", "SRS: never daemonize inside Docker")
	t.leaf("inotify_auto_reload", I, "off", "", "reload when the config file or a file it includes changes")
	t.leaf("auto_reload_for_docker", X, "on", "", "SRS: turn on inotify_auto_reload inside Docker")
	t.leaf("tcmalloc_release_rate", X, "0.8", "", "SRS: tcmalloc tuning")
	t.leaf("query_latest_version", X, "off", "", "SRS: ask ossrs.net for the latest version")
	t.leaf("first_wait_for_qlv", X, "300", "s", "SRS: delay before the first version query")
	t.leaf("in_docker", X, "off", "", "SRS: assume the process runs in Docker")
	t.leaf("is_full", I, "off", "", "marks the reference full.conf, which must never be used to run a server")

	t.block("threads", X, "SRS: thread pool settings")
	t.leaf("threads.interval", X, "5", "s", "SRS: thread pool status interval")

	t.block("circuit_breaker", X, "SRS: drop work when the CPU is overloaded")
	t.leaf("circuit_breaker.enabled", X, "on", "", "turn the breaker on")
	t.leaf("circuit_breaker.high_threshold", X, "90", "%", "CPU percentage for the high water mark")
	t.leaf("circuit_breaker.high_pulse", X, "2", "", "samples above the threshold to trip high")
	t.leaf("circuit_breaker.critical_threshold", X, "95", "%", "CPU percentage for the critical mark")
	t.leaf("circuit_breaker.critical_pulse", X, "1", "", "samples above the threshold to trip critical")
	t.leaf("circuit_breaker.dying_threshold", X, "99", "%", "CPU percentage for the dying mark")
	t.leaf("circuit_breaker.dying_pulse", X, "5", "", "samples above the threshold to trip dying")

	t.block("tencentcloud_cls", X, "SRS: ship logs to Tencent Cloud CLS")
	t.leaf("tencentcloud_cls.enabled", X, "off", "", "turn CLS on")
	t.leaf("tencentcloud_cls.stat_heartbeat", X, "on", "", "send heartbeat stats")
	t.leaf("tencentcloud_cls.stat_streams", X, "on", "", "send stream stats")
	t.leaf("tencentcloud_cls.debug_logging", X, "off", "", "log every CLS request")
	t.leaf("tencentcloud_cls.heartbeat_ratio", X, "1", "", "send one heartbeat in N")
	t.leaf("tencentcloud_cls.streams_ratio", X, "1", "", "send stream stats every N heartbeats")
	t.leaf("tencentcloud_cls.label", X, "", "", "label attached to records")
	t.leaf("tencentcloud_cls.tag", X, "", "", "tag attached to records")
	t.leaf("tencentcloud_cls.secret_id", X, "", "", "API secret id")
	t.leaf("tencentcloud_cls.secret_key", X, "", "", "API secret key")
	t.leaf("tencentcloud_cls.endpoint", X, "", "", "CLS endpoint")
	t.leaf("tencentcloud_cls.topic_id", X, "", "", "CLS topic")

	t.block("tencentcloud_apm", X, "SRS: send traces to Tencent Cloud APM")
	t.leaf("tencentcloud_apm.enabled", X, "off", "", "turn APM on")
	t.leaf("tencentcloud_apm.team", X, "", "", "APM team")
	t.leaf("tencentcloud_apm.token", X, "", "", "APM token")
	t.leaf("tencentcloud_apm.endpoint", X, "", "", "APM endpoint")
	t.leaf("tencentcloud_apm.service_name", X, "srs-server", "", "service name in traces")
	t.leaf("tencentcloud_apm.debug_logging", X, "off", "", "log every APM request")

	t.block("heartbeat", I, "POST the server's state to a URL periodically")
	t.leaf("heartbeat.enabled", I, "off", "", "turn the heartbeat on")
	t.leaf("heartbeat.interval", I, "10", "s", "seconds between heartbeats (integer; 9.3 means 9)")
	t.leaf("heartbeat.url", I, "http://127.0.0.1:8085/api/v1/servers", "", "URL that receives the POST")
	t.leaf("heartbeat.device_id", I, "", "", "device_id field of the body")
	t.leaf("heartbeat.summaries", I, "off", "", "add the /api/v1/summaries data to the body")
	t.leaf("heartbeat.ports", I, "off", "", "add the listening ports to the body")

	t.block("stats", I, "system statistics for the API and the heartbeat")
	t.leaf("stats.enabled", X, "on", "", "collect statistics; castd always samples them (every 5 s)")
	t.leaf("stats.network", I, "0", "", "index of the local IP reported as the server IP (the heartbeat's ip)")
	t.leaf("stats.disk", X, "", "", "block devices sampled for disk I/O, e.g. sda sdb; castd samples every whole disk", multi)

	t.block("exporter", I, "Prometheus exporter")
	t.leaf("exporter.enabled", I, "off", "", "serve /metrics")
	t.leaf("exporter.listen", I, "9972", "", "exporter listen port")
	t.leaf("exporter.label", I, "", "", "label added to srs_build_info")
	t.leaf("exporter.tag", I, "", "", "tag added to srs_build_info")

	// HTTP API and server.
	t.block("http_api", I, "HTTP API server")
	t.leaf("http_api.enabled", I, "off", "", "serve the HTTP API")
	t.leaf("http_api.listen", I, "1985", "", "API listen endpoint; equal to http_server.listen shares that port")
	t.leaf("http_api.crossdomain", I, "on", "", "answer CORS requests")
	t.leaf("http_api.pprof", I, "off", "", "castd only: serve Go's profiler at /debug/pprof/ on the API port; keep it off on untrusted networks")
	t.block("http_api.raw_api", I, "raw API (/api/v1/raw)")
	t.leaf("http_api.raw_api.enabled", I, "off", "", "turn the raw API on")
	t.leaf("http_api.raw_api.allow_reload", I, "off", "", "allow ?rpc=reload")
	t.leaf("http_api.raw_api.allow_query", X, "off", "", "removed in SRS v4; always off")
	t.leaf("http_api.raw_api.allow_update", X, "off", "", "removed in SRS v4; always off")
	t.block("http_api.auth", I, "HTTP basic auth for /api/ paths")
	t.leaf("http_api.auth.enabled", I, "off", "", "require credentials")
	t.leaf("http_api.auth.username", I, "", "", "user name")
	t.leaf("http_api.auth.password", I, "", "", "password")
	t.block("http_api.https", I, "HTTPS API listener")
	t.leaf("http_api.https.enabled", I, "off", "", "serve the API over HTTPS too")
	t.leaf("http_api.https.listen", I, "1990", "", "HTTPS API endpoint (the HTTPS server's when the API shares its port)")
	t.leaf("http_api.https.key", I, "./conf/server.key", "", "TLS private key file")
	t.leaf("http_api.https.cert", I, "./conf/server.crt", "", "TLS certificate file")

	t.block("http_server", I, "HTTP server for streams and static files")
	t.leaf("http_server.enabled", I, "off", "", "serve HTTP")
	t.leaf("http_server.listen", I, "8080", "", "HTTP listen endpoints, separated by spaces (SRS takes one; castd accepts several)", multi)
	t.leaf("http_server.dir", I, "./objs/nginx/html", "", "document root")
	t.leaf("http_server.crossdomain", I, "on", "", "answer CORS requests")
	t.block("http_server.https", I, "HTTPS server listener")
	t.leaf("http_server.https.enabled", I, "off", "", "serve HTTPS too")
	t.leaf("http_server.https.listen", I, "8088", "", "HTTPS listen endpoint")
	t.leaf("http_server.https.key", I, "./conf/server.key", "", "TLS private key file")
	t.leaf("http_server.https.cert", I, "./conf/server.crt", "", "TLS certificate file")

	// WebRTC and SRT servers.
	t.block("rtc_server", I, "WebRTC media server")
	t.leaf("rtc_server.enabled", I, "off", "", "serve WebRTC")
	t.leaf("rtc_server.listen", I, "8000", "", "UDP port for media")
	t.block("rtc_server.tcp", I, "WebRTC over TCP")
	t.leaf("rtc_server.tcp.enabled", I, "off", "", "accept media over TCP")
	t.leaf("rtc_server.tcp.listen", I, "8000", "", "TCP port for media")
	t.leaf("rtc_server.protocol", I, "udp", "", "media transport: udp, tcp or all")
	t.leaf("rtc_server.candidate", I, "*", "", "advertised IP; $NAME reads the environment, * detects")
	t.leaf("rtc_server.use_auto_detect_network_ip", I, "on", "", "advertise the detected IPs when candidate is *")
	t.leaf("rtc_server.ip_family", I, "ipv4", "", "family of detected IPs: ipv4, ipv6 or all")
	t.leaf("rtc_server.api_as_candidates", I, "on", "", "also advertise the host the API was reached at")
	t.leaf("rtc_server.resolve_api_domain", I, "on", "", "resolve that host when it is a name")
	t.leaf("rtc_server.keep_api_domain", I, "off", "", "advertise the name itself")
	t.leaf("rtc_server.ecdsa", I, "on", "", "use an ECDSA DTLS certificate (RSA when off)")
	t.leaf("rtc_server.encrypt", I, "on", "", "encrypt media with SRTP; castd always does (off is logged and ignored, players asking ?encrypt=false are refused)")
	t.leaf("rtc_server.reuseport", X, "1", "", "SRS: UDP sockets bound to the port with SO_REUSEPORT; castd's one socket serves every core")
	t.leaf("rtc_server.merge_nalus", I, "off", "", "send several NALUs in one RTP packet")
	t.block("rtc_server.black_hole", I, "copy publishers' RTP, decrypted, to a UDP address for debugging")
	t.leaf("rtc_server.black_hole.enabled", I, "off", "", "turn the copy on")
	t.leaf("rtc_server.black_hole.addr", I, "", "", "ip:port receiving the copy")
	t.leaf("rtc_server.dir", X, "", "", "legacy, unused")

	t.block("srt_server", I, "SRT server")
	t.leaf("srt_server.enabled", I, "off", "", "serve SRT")
	t.leaf("srt_server.listen", I, "10080", "", "UDP port")
	t.leaf("srt_server.maxbw", I, "-1", "bytes/s", "sending rate cap; -1 and 0 are 1 Gbit/s")
	t.leaf("srt_server.mss", I, "1500", "bytes", "maximum segment size")
	t.leaf("srt_server.connect_timeout", I, "3000", "ms", "handshake timeout; also bounds the hooks run before accepting")
	t.leaf("srt_server.peer_idle_timeout", I, "10000", "ms", "close a peer silent this long")
	t.leaf("srt_server.default_app", I, "live", "", "app for stream ids without one")
	t.leaf("srt_server.peerlatency", I, "0", "ms", "latency asked of the peer")
	t.leaf("srt_server.recvlatency", I, "120", "ms", "receiver latency")
	t.leaf("srt_server.latency", I, "120", "ms", "latency for both directions, overridden by recvlatency and peerlatency as in SRS")
	t.leaf("srt_server.tsbpdmode", I, "on", "", "timestamp-based packet delivery; castd always uses it (off is logged)")
	t.leaf("srt_server.tlpktdrop", I, "on", "", "drop packets that arrive too late")
	t.leaf("srt_server.sendbuf", I, "12058624", "bytes", "send buffer")
	t.leaf("srt_server.recvbuf", I, "12058624", "bytes", "receive buffer")
	t.leaf("srt_server.payloadsize", I, "1316", "bytes", "payload per packet (7 TS packets)")
	t.leaf("srt_server.passphrase", I, "", "", "encryption passphrase, 10..79 characters")
	t.leaf("srt_server.pbkeylen", I, "0", "bytes", "key length: 0, 16, 24 or 32")
	t.leaf("srt_server.sei_filter", I, "on", "", "drop SEI NAL units from SRT publishers' H.264 and H.265 (off keeps them, e.g. for castbench's latency stamps)")
	t.leaf("srt_server.mix_correct", I, "off", "", "interleave audio and video of SRT publishers by timestamp")

	t.repeatBlock("stream_caster", I, "ingest another protocol and republish it as RTMP")
	t.leaf("stream_caster.enabled", I, "off", "", "turn the caster on")
	t.leaf("stream_caster.caster", I, "", "", "mpegts_over_udp, flv, gb28181 or rtsp")
	t.leaf("stream_caster.output", I, "", "", "RTMP URL to publish to; flv and rtsp take [app] [stream], gb28181 [stream]")
	t.leaf("stream_caster.listen", I, "", "", "port to receive on")
	t.leaf("stream_caster.rtp_port_min", I, "57200", "", "rtsp: first UDP port for RTP (RTP/AVP over UDP; each track takes two)")
	t.leaf("stream_caster.rtp_port_max", I, "57300", "", "rtsp: last UDP port for RTP")
	t.block("stream_caster.sip", I, "GB28181 SIP server, over TCP")
	t.leaf("stream_caster.sip.enabled", I, "on", "", "run the SIP server; off: only /gb/v1/publish/ makes sessions")
	t.leaf("stream_caster.sip.listen", I, "5060", "", "SIP TCP port devices register at")
	t.leaf("stream_caster.sip.timeout", I, "60", "s", "how long an invited device may take to send media before it is invited again (4 times at most)")
	t.leaf("stream_caster.sip.reinvite", I, "5", "s", "how long media may stop before the device is invited again")
	t.leaf("stream_caster.sip.candidate", I, "*", "", "media IP given to devices; * is the address the device reached SIP at; $NAME reads the environment")

	// Vhosts.
	t.repeatBlock("vhost", I, "a virtual host; __defaultVhost__ serves unmatched names")
	t.leaf("vhost.enabled", I, "on", "", "serve this vhost")
	t.leaf("vhost.chunk_size", I, "", "bytes", "RTMP chunk size; the global chunk_size when unset")
	t.leaf("vhost.min_latency", I, "off", "", "low-latency delivery (on by default for WebRTC players)")
	t.leaf("vhost.tcp_nodelay", I, "off", "", "set TCP_NODELAY on connections")
	t.leaf("vhost.in_ack_size", I, "0", "bytes", "acknowledgement window asked of publishers; 0 leaves it")
	t.leaf("vhost.out_ack_size", I, "2500000", "bytes", "acknowledgement window sent to players")

	t.block("vhost.play", I, "players of RTMP and HTTP streams")
	t.leaf("vhost.play.gop_cache", I, "on", "", "keep the last GOP so players start at once")
	t.leaf("vhost.play.gop_cache_max_frames", I, "2500", "frames", "clear the GOP cache above this many messages")
	t.leaf("vhost.play.queue_length", I, "30", "s", "player queue span before it is shrunk")
	t.leaf("vhost.play.time_jitter", I, "full", "", "timestamp correction: full, zero or off")
	t.leaf("vhost.play.mix_correct", I, "off", "", "interleave audio and video by timestamp")
	t.leaf("vhost.play.atc", I, "off", "", "pass absolute timestamps through")
	t.leaf("vhost.play.atc_auto", I, "off", "", "turn atc on when metadata has bravo_atc=true")
	t.leaf("vhost.play.mw_latency", I, "350", "ms", "merged-write delay (0 for WebRTC players)")
	t.leaf("vhost.play.mw_msgs", I, "8", "", "messages per merged write (0 with min_latency, 1 for WebRTC; at most 128)")
	t.leaf("vhost.play.send_min_interval", I, "0", "ms", "least time between two sends; 0 is off")
	t.leaf("vhost.play.reduce_sequence_header", I, "off", "", "skip repeated identical sequence headers")

	t.block("vhost.publish", I, "publishers")
	t.leaf("vhost.publish.mr", X, "off", "", "merged read; castd always reads through a buffer, so there is nothing to switch")
	t.leaf("vhost.publish.mr_latency", X, "350", "ms", "merged-read delay; no effect in castd (see mr)")
	t.leaf("vhost.publish.firstpkt_timeout", I, "20000", "ms", "time allowed for the first media packet")
	t.leaf("vhost.publish.normal_timeout", I, "5000", "ms", "longest gap allowed between packets")
	t.leaf("vhost.publish.parse_sps", X, "on", "", "parse the H.264 SPS for width and height; castd always does, off has no effect")
	t.leaf("vhost.publish.try_annexb_first", X, "on", "", "SRS: try Annex B before IBMF for SRT H.264; castd always tries Annex B, then length-prefixed NAL units")
	t.leaf("vhost.publish.kickoff_for_idle", I, "0", "s", "drop a publisher nobody watched this long; 0 is off")

	t.block("vhost.cluster", I, "origin and edge clustering")
	t.leaf("vhost.cluster.mode", I, "local", "", "local (origin) or remote (edge)")
	t.leaf("vhost.cluster.origin", I, "", "", "origins of an edge, host[:port] each", multi)
	t.leaf("vhost.cluster.token_traverse", I, "off", "", "edge checks each client's connect with the origin")
	t.leaf("vhost.cluster.vhost", I, "[vhost]", "", "vhost name used toward the origin")
	t.leaf("vhost.cluster.debug_srs_upnode", I, "on", "", "send SRS debug properties to the upstream")
	t.leaf("vhost.cluster.origin_cluster", I, "off", "", "this origin belongs to an origin cluster")
	t.leaf("vhost.cluster.coworkers", I, "", "", "API endpoints of the other origins, host:port each", multi)
	t.leaf("vhost.cluster.protocol", I, "rtmp", "", "edge pull protocol: rtmp, flv or flvs")
	t.leaf("vhost.cluster.follow_client", I, "off", "", "edge pulls with the protocol the player used")

	t.block("vhost.forward", I, "push every published stream to other servers over RTMP (docs/forward.md)")
	t.leaf("vhost.forward.enabled", I, "off", "", "turn forwarding on")
	t.leaf("vhost.forward.destination", I, "", "", "targets, host[:port] each (port 1935 by default), or castd: rtmp:// URLs with [vhost] [app] [stream] [param]", multi)
	t.leaf("vhost.forward.backend", I, "", "", "HTTP backend posted on_forward at each publish; its data.urls are extra RTMP destinations")

	t.block("vhost.security", I, "allow or deny clients by IP")
	t.leaf("vhost.security.enabled", I, "off", "", "apply the rules")
	t.leaf("vhost.security.allow", I, "", "", "allow publish|play all|<ip>|<cidr>", repeat, noEnv)
	t.leaf("vhost.security.deny", I, "", "", "deny publish|play all|<ip>|<cidr>; checked before allow", repeat, noEnv)

	t.block("vhost.refer", I, "check the page URL (Referer) of Flash clients")
	t.leaf("vhost.refer.enabled", I, "off", "", "apply the check")
	t.leaf("vhost.refer.all", I, "", "", "domains allowed to publish and play", multi)
	t.leaf("vhost.refer.publish", I, "", "", "domains allowed to publish", multi)
	t.leaf("vhost.refer.play", I, "", "", "domains allowed to play", multi)

	t.block("vhost.http_hooks", I, "HTTP callbacks on stream events")
	t.leaf("vhost.http_hooks.enabled", I, "off", "", "call the hooks")
	t.leaf("vhost.http_hooks.on_connect", I, "", "", "URLs called when an RTMP or SRT client connects; may reject", multi)
	t.leaf("vhost.http_hooks.on_close", I, "", "", "URLs called when such a client goes away", multi)
	t.leaf("vhost.http_hooks.on_publish", I, "", "", "URLs called before a publish starts; may reject", multi)
	t.leaf("vhost.http_hooks.on_unpublish", I, "", "", "URLs called when a publish ends", multi)
	t.leaf("vhost.http_hooks.on_play", I, "", "", "URLs called before a player starts; may reject", multi)
	t.leaf("vhost.http_hooks.on_stop", I, "", "", "URLs called when a player leaves", multi)
	t.leaf("vhost.http_hooks.on_dvr", I, "", "", "URLs called after a DVR file is written", multi)
	t.leaf("vhost.http_hooks.on_hls", I, "", "", "URLs called after each HLS segment", multi)
	t.leaf("vhost.http_hooks.on_hls_notify", I, "", "", "URL fetched (GET) after each HLS segment", multi)

	t.block("vhost.hls", I, "HLS output")
	t.leaf("vhost.hls.enabled", I, "off", "", "write HLS")
	t.leaf("vhost.hls.hls_fragment", I, "10", "s", "target segment duration")
	t.leaf("vhost.hls.hls_td_ratio", I, "1.0", "", "segment duration may reach fragment times this")
	t.leaf("vhost.hls.hls_aof_ratio", I, "2.1", "", "audio-only segments end at fragment times this")
	t.leaf("vhost.hls.hls_window", I, "60", "s", "playlist span")
	t.leaf("vhost.hls.hls_on_error", I, "continue", "", "on a muxing error: ignore, disconnect or continue")
	t.leaf("vhost.hls.hls_path", I, "./objs/nginx/html", "", "root directory of HLS files")
	t.leaf("vhost.hls.hls_m3u8_file", I, "[app]/[stream].m3u8", "", "playlist path under hls_path")
	t.leaf("vhost.hls.hls_ts_file", I, "[app]/[stream]-[seq].ts", "", "segment path under hls_path")
	t.leaf("vhost.hls.hls_entry_prefix", I, "", "", "URL prefix for segments in the playlist")
	t.leaf("vhost.hls.hls_acodec", I, "aac", "", "initial audio codec: aac, mp3 or an")
	t.leaf("vhost.hls.hls_vcodec", I, "h264", "", "initial video codec: h264, h265 or vn")
	t.leaf("vhost.hls.hls_cleanup", I, "on", "", "delete segments that left the window")
	t.leaf("vhost.hls.hls_dispose", I, "120", "s", "delete all files of a stream idle this long; 0 never")
	t.leaf("vhost.hls.hls_wait_keyframe", I, "on", "", "start segments at keyframes")
	t.leaf("vhost.hls.hls_ts_floor", I, "off", "", "number segments by floor(timestamp/fragment)")
	t.leaf("vhost.hls.hls_nb_notify", I, "64", "bytes", "bytes read from the on_hls_notify answer")
	t.leaf("vhost.hls.hls_ctx", I, "on", "", "track HLS players with an hls_ctx session")
	t.leaf("vhost.hls.hls_ts_ctx", I, "on", "", "add hls_ctx to segment URLs")
	t.leaf("vhost.hls.hls_keys", I, "off", "", "encrypt segments with AES-128")
	t.leaf("vhost.hls.hls_fragments_per_key", I, "5", "", "segments per key")
	t.leaf("vhost.hls.hls_key_file", I, "[app]/[stream]-[seq].key", "", "key file name")
	t.leaf("vhost.hls.hls_key_file_path", I, "", "", "directory of key files; hls_path when unset")
	t.leaf("vhost.hls.hls_key_url", I, "", "", "URL prefix of keys in the playlist; hls_path when unset")
	t.leaf("vhost.hls.hls_dts_directly", I, "on", "", "use FLV timestamps as audio DTS instead of counting samples")
	t.leaf("vhost.hls.hls_storage", X, "", "", "removed RAM mode; ignored")
	t.leaf("vhost.hls.hls_mount", X, "", "", "removed RAM mode; ignored")

	t.block("vhost.hds", X, "Adobe HDS output (Flash only)")
	t.leaf("vhost.hds.enabled", X, "off", "", "write HDS")
	t.leaf("vhost.hds.hds_path", X, "./objs/nginx/html", "", "HDS directory")
	t.leaf("vhost.hds.hds_fragment", X, "10", "s", "fragment duration")
	t.leaf("vhost.hds.hds_window", X, "60", "s", "manifest span")

	t.block("vhost.bandcheck", X, "removed Flash bandwidth test")
	t.leaf("vhost.bandcheck.enabled", X, "off", "", "turn the test on")
	t.leaf("vhost.bandcheck.key", X, "", "", "test key")
	t.leaf("vhost.bandcheck.interval", X, "30", "s", "least time between tests")
	t.leaf("vhost.bandcheck.limit_kbps", X, "4000", "kbps", "test bandwidth limit")

	t.block("vhost.dash", I, "MPEG-DASH output")
	t.leaf("vhost.dash.enabled", I, "off", "", "write DASH")
	t.leaf("vhost.dash.dash_fragment", I, "10", "s", "segment duration")
	t.leaf("vhost.dash.dash_update_period", I, "5", "s", "MPD minimumUpdatePeriod")
	t.leaf("vhost.dash.dash_timeshift", I, "300", "s", "MPD timeShiftBufferDepth")
	t.leaf("vhost.dash.dash_path", I, "./objs/nginx/html", "", "root directory of DASH files")
	t.leaf("vhost.dash.dash_mpd_file", I, "[app]/[stream].mpd", "", "MPD path under dash_path")
	t.leaf("vhost.dash.dash_window_size", I, "5", "", "segments kept in the MPD")
	t.leaf("vhost.dash.dash_cleanup", I, "on", "", "delete segments that left the window")
	t.leaf("vhost.dash.dash_dispose", I, "120", "s", "delete all files of a stream idle this long; 0 never")

	t.block("vhost.dvr", I, "record published streams to files")
	t.leaf("vhost.dvr.enabled", I, "off", "", "record")
	t.leaf("vhost.dvr.dvr_apply", I, "all", "", "streams to record: all, or app/stream each", multi)
	t.leaf("vhost.dvr.dvr_plan", I, "session", "", "session (file per publish) or segment (file per dvr_duration)")
	t.leaf("vhost.dvr.dvr_path", I, "./objs/nginx/html/[app]/[stream].[timestamp].flv", "", "file path template; .mp4 records MP4")
	t.leaf("vhost.dvr.dvr_duration", I, "30", "s", "segment plan: file duration")
	t.leaf("vhost.dvr.dvr_wait_keyframe", I, "on", "", "segment plan: start files at keyframes")
	t.leaf("vhost.dvr.time_jitter", I, "full", "", "timestamp correction for files: full, zero or off")
	t.block("vhost.dvr.dvr_upload", I, "castd only: upload each finished recording to S3-compatible object storage (docs/dvr.md)")
	t.leaf("vhost.dvr.dvr_upload.enabled", I, "off", "", "upload finished recordings")
	t.leaf("vhost.dvr.dvr_upload.endpoint", I, "", "", "the store's URL, scheme, host and port: https://s3.us-east-1.amazonaws.com, http://127.0.0.1:9000 (MinIO)")
	t.leaf("vhost.dvr.dvr_upload.region", I, "us-east-1", "", "region the requests are signed for")
	t.leaf("vhost.dvr.dvr_upload.bucket", I, "", "", "bucket to upload to")
	t.leaf("vhost.dvr.dvr_upload.path_style", I, "on", "", "on: ENDPOINT/BUCKET/KEY (MinIO, most self-hosted stores); off: BUCKET.ENDPOINT/KEY (virtual-hosted)")
	t.leaf("vhost.dvr.dvr_upload.access_key", I, "", "", "access key id; $NAME reads the environment variable NAME")
	t.leaf("vhost.dvr.dvr_upload.secret_key", I, "", "", "secret access key; $NAME reads the environment variable NAME; never logged")
	t.leaf("vhost.dvr.dvr_upload.session_token", I, "", "", "session token of temporary credentials (STS); $NAME reads the environment")
	t.leaf("vhost.dvr.dvr_upload.key", I, "", "", "object key template with dvr_path's variables and [file]; empty keeps the file's path below dvr_path's fixed directory")
	t.leaf("vhost.dvr.dvr_upload.remove_local", I, "off", "", "delete the local file once it is uploaded")

	t.block("vhost.http_remux", I, "live HTTP-FLV, HTTP-TS, AAC or MP3")
	t.leaf("vhost.http_remux.enabled", I, "off", "", "serve the live stream over HTTP")
	t.leaf("vhost.http_remux.mount", I, "[vhost]/[app]/[stream].flv", "", "URL template; .flv, .ts, .aac or .mp3 picks the format")
	t.leaf("vhost.http_remux.fast_cache", I, "0", "s", "seconds of audio a new .aac or .mp3 listener gets at once")
	t.leaf("vhost.http_remux.drop_if_not_match", I, "on", "", "drop packets of a kind missing from the FLV header")
	t.leaf("vhost.http_remux.has_audio", I, "on", "", "FLV header says there is audio")
	t.leaf("vhost.http_remux.has_video", I, "on", "", "FLV header says there is video")
	t.leaf("vhost.http_remux.guess_has_av", I, "on", "", "guess the FLV header flags from the first packets")

	t.block("vhost.http_static", I, "static files of this vhost")
	t.leaf("vhost.http_static.enabled", I, "off", "", "serve files")
	t.leaf("vhost.http_static.mount", I, "[vhost]/", "", "URL prefix")
	t.leaf("vhost.http_static.dir", I, "./objs/nginx/html", "", "directory served")

	t.block("vhost.exec", I, "run programs while a stream is published (docs/forward.md)")
	t.leaf("vhost.exec.enabled", I, "off", "", "run them")
	t.leaf("vhost.exec.publish", I, "", "", "command line run on publish, without a shell, restarted 3 s after it exits; repeatable", repeat, noEnv)

	t.repeatBlock("vhost.transcode", I, "transcode streams of an app (or app/stream) with FFmpeg")
	t.leaf("vhost.transcode.enabled", I, "off", "", "run the transcoder")
	t.leaf("vhost.transcode.ffmpeg", I, "", "", "FFmpeg binary")
	t.engine("vhost.transcode.engine")

	t.repeatBlock("vhost.ingest", I, "pull a file or stream with FFmpeg and publish it here")
	t.leaf("vhost.ingest.enabled", I, "off", "", "run the ingester")
	t.block("vhost.ingest.input", I, "what to pull")
	t.leaf("vhost.ingest.input.type", I, "file", "", "file or stream")
	t.leaf("vhost.ingest.input.url", I, "", "", "file path or stream URL")
	t.leaf("vhost.ingest.ffmpeg", I, "", "", "FFmpeg binary")
	t.engine("vhost.ingest.engine")

	t.block("vhost.rtc", I, "WebRTC for this vhost")
	t.leaf("vhost.rtc.enabled", I, "off", "", "allow WebRTC publish and play")
	t.leaf("vhost.rtc.nack", I, "on", "", "retransmit lost packets on NACK")
	t.leaf("vhost.rtc.nack_no_copy", X, "on", "", "SRS: retransmit without copying packets; castd's NACK buffer is pion's")
	t.leaf("vhost.rtc.twcc", I, "on", "", "transport-wide congestion control feedback")
	t.leaf("vhost.rtc.stun_timeout", I, "30", "s", "close a session without STUN for this long")
	t.leaf("vhost.rtc.stun_strict_check", X, "off", "", "SRS: check STUN ICE-CONTROLLING and USE-CANDIDATE; castd (pion) always checks them")
	t.leaf("vhost.rtc.dtls_role", I, "passive", "", "DTLS role: active or passive")
	t.leaf("vhost.rtc.dtls_version", I, "auto", "", "DTLS version: auto, dtls1.0 or dtls1.2; castd always does DTLS 1.2 (dtls1.0 is logged)")
	t.leaf("vhost.rtc.drop_for_pt", I, "0", "", "drop RTP with this payload type (debugging); 0 is off")
	t.leaf("vhost.rtc.rtmp_to_rtc", I, "off", "", "bridge RTMP publishes to WebRTC players")
	t.leaf("vhost.rtc.keep_bframe", I, "off", "", "keep B-frames when bridging to WebRTC")
	t.leaf("vhost.rtc.keep_avc_nalu_sei", I, "on", "", "keep SEI NALUs when bridging to WebRTC")
	t.leaf("vhost.rtc.opus_bitrate", I, "48000", "bps", "Opus bitrate when transcoding AAC, 8000..320000")
	t.leaf("vhost.rtc.rtc_to_rtmp", I, "off", "", "bridge WebRTC publishes to RTMP and HTTP players")
	t.leaf("vhost.rtc.pli_for_rtmp", I, "6.0", "s", "ask WebRTC publishers for a keyframe this often, 0.5..30")
	t.leaf("vhost.rtc.aac_bitrate", I, "48000", "bps", "AAC bitrate when transcoding Opus, 8000..320000")

	t.block("vhost.srt", I, "SRT for this vhost")
	t.leaf("vhost.srt.enabled", I, "off", "", "allow SRT")
	t.leaf("vhost.srt.srt_to_rtmp", I, "on", "", "bridge SRT publishes to RTMP, HTTP, HLS and DVR; off keeps them for SRT players")

	return t.entries
}

// table accumulates entries; the option flags keep each line short.
type table struct{ entries []Entry }

type option uint8

const (
	multi option = iota
	repeat
	noEnv
)

func (t *table) leaf(path string, s Status, def, unit, doc string, flags ...option) {
	e := Entry{Path: path, Status: s, Default: def, Unit: unit, Doc: doc}
	for _, f := range flags {
		switch f {
		case multi:
			e.Multi = true
		case repeat:
			e.Repeat = true
		case noEnv:
			e.NoEnv = true
		}
	}
	// SRS reads no environment inside blocks that repeat (other than vhost):
	// there is no way to say which stream_caster or ingest a variable means.
	for _, p := range []string{"stream_caster.", "vhost.transcode.", "vhost.ingest."} {
		if len(path) > len(p) && path[:len(p)] == p {
			e.NoEnv = true
		}
	}
	t.entries = append(t.entries, e)
}

func (t *table) block(path string, s Status, doc string) {
	t.entries = append(t.entries, Entry{Path: path, Block: true, Status: s, Doc: doc, NoEnv: true})
}

func (t *table) repeatBlock(path string, s Status, doc string) {
	t.entries = append(t.entries, Entry{Path: path, Block: true, Repeat: true, Status: s, Doc: doc, NoEnv: true})
}

func (t *table) freeBlock(path string, s Status, doc string) {
	t.entries = append(t.entries, Entry{Path: path, Block: true, FreeForm: true, Status: s, Doc: doc, NoEnv: true})
}

// engine adds the FFmpeg engine block shared by transcode and ingest.
func (t *table) engine(p string) {
	const P = StatusImplemented // the engine fields are all honoured
	t.entries = append(t.entries, Entry{Path: p, Block: true, Repeat: true, Status: P, NoEnv: true,
		Doc: "one FFmpeg output; disabled or without codecs means copy"})
	t.leaf(p+".enabled", P, "off", "", "run this engine")
	t.freeBlock(p+".perfile", P, "FFmpeg options placed before -i, one `name value;` each")
	t.leaf(p+".iformat", P, "flv", "", "input format (-f before -i)")
	t.freeBlock(p+".vfilter", P, "video filter options, one `name value;` each")
	t.leaf(p+".vcodec", P, "", "", "video codec; copy, vn or png are special")
	t.leaf(p+".vbitrate", P, "0", "kbps", "video bitrate")
	t.leaf(p+".vfps", P, "0", "", "frame rate")
	t.leaf(p+".vwidth", P, "0", "", "width in pixels")
	t.leaf(p+".vheight", P, "0", "", "height in pixels")
	t.leaf(p+".vthreads", P, "1", "", "encoder threads")
	t.leaf(p+".vprofile", P, "", "", "video profile, e.g. main")
	t.leaf(p+".vpreset", P, "", "", "encoder preset, e.g. medium")
	t.freeBlock(p+".vparams", P, "extra video options, one `name value;` each")
	t.leaf(p+".acodec", P, "", "", "audio codec; copy or an are special")
	t.leaf(p+".abitrate", P, "0", "kbps", "audio bitrate")
	t.leaf(p+".asample_rate", P, "0", "Hz", "audio sample rate")
	t.leaf(p+".achannels", P, "0", "", "audio channels")
	t.freeBlock(p+".aparams", P, "extra audio options, one `name value;` each")
	t.leaf(p+".oformat", P, "flv", "", "output format")
	t.leaf(p+".output", P, "", "", "output URL; [vhost] [port] [app] [stream] [engine] [param] are filled in")
}
