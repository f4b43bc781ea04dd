package conf

import (
	"math"
	"net/netip"
	"strings"
	"time"
)

// maxMWMsgs caps merged writes, as SRS_PERF_MW_MSGS does.
const maxMWMsgs = 128

func (b *builder) vhost(d *Directive, globalChunk int) *Vhost {
	v := &Vhost{Name: d.Arg0(), Directive: d}
	v.Enabled = b.flag(d, "vhost.enabled", true)
	v.ChunkSize = b.int(d, "vhost.chunk_size", globalChunk)
	v.MinLatency = b.flag(d, "vhost.min_latency", false)
	v.TCPNoDelay = b.flag(d, "vhost.tcp_nodelay", false)
	v.InAckSize = b.int(d, "vhost.in_ack_size", 0)
	v.OutAckSize = b.int(d, "vhost.out_ack_size", 2500000)

	b.play(&v.Play, d.Get("play"), v.MinLatency)
	b.publish(&v.Publish, d.Get("publish"))
	b.cluster(&v.Cluster, d.Get("cluster"))
	b.forward(&v.Forward, d.Get("forward"))
	b.security(&v.Security, d.Get("security"))
	b.refer(&v.Refer, d.Get("refer"))
	b.hooks(&v.HTTPHooks, d.Get("http_hooks"))
	b.hls(&v.HLS, d.Get("hls"))
	b.hds(&v.HDS, d.Get("hds"))
	b.bandcheck(d.Get("bandcheck"))
	b.dash(&v.DASH, d.Get("dash"))
	b.dvr(&v.DVR, d.Get("dvr"))
	b.httpRemux(&v.HTTPRemux, d.Get("http_remux"))
	b.httpStatic(&v.HTTPStatic, d.Get("http_static"))
	b.exec(&v.Exec, d.Get("exec"))
	for _, t := range d.GetAll("transcode") {
		v.Transcodes = append(v.Transcodes, b.transcode(t))
	}
	for _, in := range d.GetAll("ingest") {
		v.Ingests = append(v.Ingests, b.ingest(in))
	}
	b.rtc(&v.RTC, d)
	v.SRT.Enabled = b.flag(d.Get("srt"), "vhost.srt.enabled", false)
	v.SRT.SRTToRTMP = b.flag(d.Get("srt"), "vhost.srt.srt_to_rtmp", true)
	return v
}

// mwMsgs resolves play.mw_msgs for one kind of player (cfg get_mw_msgs):
// a configured value is capped at 128; otherwise 0 for low-latency
// players, 1 for WebRTC and 8 for the rest.
func (b *builder) mwMsgs(play *Directive, realtime, rtc bool) int {
	n, ok := b.integer(play, "vhost.play.mw_msgs", math.MinInt32, math.MaxInt32)
	switch {
	case ok:
		return int(min(n, maxMWMsgs))
	case realtime:
		return 0
	case rtc:
		return 1
	}
	return 8
}

func (b *builder) play(p *Play, d *Directive, minLatency bool) {
	p.GopCache = b.flag(d, "vhost.play.gop_cache", true)
	p.GopCacheMaxFrames = b.int(d, "vhost.play.gop_cache_max_frames", 2500)
	p.QueueLength = b.seconds(d, "vhost.play.queue_length", 30*time.Second)
	p.TimeJitter = b.jitter(d, "vhost.play.time_jitter")
	p.MixCorrect = b.flag(d, "vhost.play.mix_correct", false)
	p.ATC = b.flag(d, "vhost.play.atc", false)
	p.ATCAuto = b.flag(d, "vhost.play.atc_auto", false)
	p.MWLatency = b.millis(d, "vhost.play.mw_latency", 350*time.Millisecond)
	p.MWMsgs = b.mwMsgs(d, minLatency, false)
	p.SendMinInterval = b.fmillis(d, "vhost.play.send_min_interval", 0)
	p.ReduceSequenceHeader = b.flag(d, "vhost.play.reduce_sequence_header", false)
}

func (b *builder) publish(p *Publish, d *Directive) {
	p.MR = b.flag(d, "vhost.publish.mr", false)
	p.MRLatency = b.millis(d, "vhost.publish.mr_latency", 350*time.Millisecond)
	p.FirstPktTimeout = b.millis(d, "vhost.publish.firstpkt_timeout", 20*time.Second)
	p.NormalTimeout = b.millis(d, "vhost.publish.normal_timeout", 5*time.Second)
	p.ParseSPS = b.flag(d, "vhost.publish.parse_sps", true)
	p.TryAnnexbFirst = b.flag(d, "vhost.publish.try_annexb_first", true)
	p.KickoffForIdle = b.fseconds(d, "vhost.publish.kickoff_for_idle", 0)
}

func (b *builder) cluster(c *Cluster, d *Directive) {
	c.Mode = b.enum(d, "vhost.cluster.mode", "local", "local", "remote")
	c.Origin = b.list(d, "vhost.cluster.origin")
	c.TokenTraverse = b.flag(d, "vhost.cluster.token_traverse", false)
	c.Vhost = b.str(d, "vhost.cluster.vhost", "[vhost]")
	c.DebugSRSUpnode = b.flag(d, "vhost.cluster.debug_srs_upnode", true)
	c.OriginCluster = b.flag(d, "vhost.cluster.origin_cluster", false)
	c.Coworkers = b.list(d, "vhost.cluster.coworkers")
	c.Protocol = b.enum(d, "vhost.cluster.protocol", "rtmp", "rtmp", "flv", "flvs")
	c.FollowClient = b.flag(d, "vhost.cluster.follow_client", false)
	if c.IsEdge() && len(c.Origin) == 0 {
		b.fail(errorAt(d.Get("mode"), "cluster: mode remote (edge) needs at least one origin"))
	}
}

func (b *builder) forward(f *Forward, d *Directive) {
	f.Enabled = b.flag(d, "vhost.forward.enabled", false)
	f.Destination = b.list(d, "vhost.forward.destination")
	f.Backend = b.str(d, "vhost.forward.backend", "")
}

func (b *builder) security(s *Security, d *Directive) {
	s.Enabled = b.flag(d, "vhost.security.enabled", false)
	// Read through lookup only to record coverage; rules have no env form.
	b.lookup(d, "vhost.security.allow")
	b.lookup(d, "vhost.security.deny")
	if d == nil {
		return
	}
	for _, r := range d.Children {
		if r.Name != "allow" && r.Name != "deny" {
			continue
		}
		rule, err := parseRule(r)
		if err != nil {
			b.fail(err)
			continue
		}
		s.Rules = append(s.Rules, rule)
	}
}

// parseRule reads `allow|deny publish|play all|<ip>|<cidr>;`.
func parseRule(r *Directive) (SecurityRule, error) {
	if len(r.Args) != 2 {
		return SecurityRule{}, errorAt(r, "%s: want `%s publish|play all|<ip>|<cidr>;`", r.Name, r.Name)
	}
	rule := SecurityRule{Action: RuleAction(r.Name), Scope: RuleScope(r.Args[0])}
	if rule.Scope != ScopePublish && rule.Scope != ScopePlay {
		return SecurityRule{}, errorAt(r, "%s: %q is not publish or play", r.Name, r.Args[0])
	}
	target := r.Args[1]
	if target == "all" {
		rule.All = true
		return rule, nil
	}
	if strings.Contains(target, "/") {
		p, err := netip.ParsePrefix(target)
		if err != nil {
			return SecurityRule{}, errorAt(r, "%s: %q is not all, an IP or a CIDR", r.Name, target)
		}
		rule.Prefix = p.Masked()
		return rule, nil
	}
	a, err := netip.ParseAddr(target)
	if err != nil {
		return SecurityRule{}, errorAt(r, "%s: %q is not all, an IP or a CIDR", r.Name, target)
	}
	a = a.Unmap()
	rule.Prefix = netip.PrefixFrom(a, a.BitLen())
	return rule, nil
}

func (b *builder) refer(r *Refer, d *Directive) {
	r.Enabled = b.flag(d, "vhost.refer.enabled", false)
	r.All = b.list(d, "vhost.refer.all")
	r.Publish = b.list(d, "vhost.refer.publish")
	r.Play = b.list(d, "vhost.refer.play")
}

func (b *builder) hooks(h *HTTPHooks, d *Directive) {
	const p = "vhost.http_hooks."
	h.Enabled = b.flag(d, p+"enabled", false)
	h.OnConnect = b.list(d, p+"on_connect")
	h.OnClose = b.list(d, p+"on_close")
	h.OnPublish = b.list(d, p+"on_publish")
	h.OnUnpublish = b.list(d, p+"on_unpublish")
	h.OnPlay = b.list(d, p+"on_play")
	h.OnStop = b.list(d, p+"on_stop")
	h.OnDVR = b.list(d, p+"on_dvr")
	h.OnHLS = b.list(d, p+"on_hls")
	h.OnHLSNotify = b.list(d, p+"on_hls_notify")
}

func (b *builder) hls(h *HLS, d *Directive) {
	const p = "vhost.hls."
	h.Enabled = b.flag(d, p+"enabled", false)
	h.Fragment = b.fseconds(d, p+"hls_fragment", 10*time.Second)
	h.TDRatio = b.float(d, p+"hls_td_ratio", 1.0)
	h.AOFRatio = b.float(d, p+"hls_aof_ratio", 2.1)
	h.Window = b.fseconds(d, p+"hls_window", 60*time.Second)
	h.OnError = b.enum(d, p+"hls_on_error", "continue", "ignore", "disconnect", "continue")
	h.Path = b.str(d, p+"hls_path", "./objs/nginx/html")
	h.M3U8File = b.str(d, p+"hls_m3u8_file", "[app]/[stream].m3u8")
	h.TSFile = b.str(d, p+"hls_ts_file", "[app]/[stream]-[seq].ts")
	h.EntryPrefix = b.str(d, p+"hls_entry_prefix", "")
	h.ACodec = b.enum(d, p+"hls_acodec", "aac", "aac", "mp3", "an")
	h.VCodec = b.enum(d, p+"hls_vcodec", "h264", "h264", "h265", "vn")
	h.Cleanup = b.flag(d, p+"hls_cleanup", true)
	h.Dispose = b.seconds(d, p+"hls_dispose", 120*time.Second)
	h.WaitKeyframe = b.flag(d, p+"hls_wait_keyframe", true)
	h.TSFloor = b.flag(d, p+"hls_ts_floor", false)
	h.NbNotify = b.int(d, p+"hls_nb_notify", 64)
	h.Ctx = b.flag(d, p+"hls_ctx", true)
	h.TSCtx = b.flag(d, p+"hls_ts_ctx", true)
	h.Keys = b.flag(d, p+"hls_keys", false)
	h.FragmentsPerKey = b.int(d, p+"hls_fragments_per_key", 5)
	h.KeyFile = b.str(d, p+"hls_key_file", "[app]/[stream]-[seq].key")
	h.KeyFilePath = b.str(d, p+"hls_key_file_path", h.Path)
	h.KeyURL = b.str(d, p+"hls_key_url", h.Path)
	h.DTSDirectly = b.flag(d, p+"hls_dts_directly", true)
	b.str(d, p+"hls_storage", "")
	b.str(d, p+"hls_mount", "")
	if h.Enabled && h.Fragment <= 0 {
		b.fail(errorAt(d.Get("hls_fragment"), "hls_fragment must be above 0"))
	}
}

func (b *builder) hds(h *HDS, d *Directive) {
	h.Enabled = b.flag(d, "vhost.hds.enabled", false)
	h.Path = b.str(d, "vhost.hds.hds_path", "./objs/nginx/html")
	h.Fragment = b.fseconds(d, "vhost.hds.hds_fragment", 10*time.Second)
	h.Window = b.fseconds(d, "vhost.hds.hds_window", 60*time.Second)
}

// bandcheck is read for coverage only; SRS removed the feature.
func (b *builder) bandcheck(d *Directive) {
	b.flag(d, "vhost.bandcheck.enabled", false)
	b.str(d, "vhost.bandcheck.key", "")
	b.seconds(d, "vhost.bandcheck.interval", 30*time.Second)
	b.int(d, "vhost.bandcheck.limit_kbps", 4000)
}

func (b *builder) dash(h *DASH, d *Directive) {
	const p = "vhost.dash."
	h.Enabled = b.flag(d, p+"enabled", false)
	h.Fragment = b.fseconds(d, p+"dash_fragment", 10*time.Second)
	h.UpdatePeriod = b.fseconds(d, p+"dash_update_period", 5*time.Second)
	h.Timeshift = b.fseconds(d, p+"dash_timeshift", 300*time.Second)
	h.Path = b.str(d, p+"dash_path", "./objs/nginx/html")
	h.MPDFile = b.str(d, p+"dash_mpd_file", "[app]/[stream].mpd")
	h.WindowSize = b.int(d, p+"dash_window_size", 5)
	h.Cleanup = b.flag(d, p+"dash_cleanup", true)
	h.Dispose = b.seconds(d, p+"dash_dispose", 120*time.Second)
}

func (b *builder) dvr(v *DVR, d *Directive) {
	const p = "vhost.dvr."
	v.Enabled = b.flag(d, p+"enabled", false)
	v.Apply = b.list(d, p+"dvr_apply")
	if len(v.Apply) == 0 {
		v.Apply = []string{"all"}
	}
	v.Plan = b.enum(d, p+"dvr_plan", "session", "session", "segment")
	v.Path = b.str(d, p+"dvr_path", "./objs/nginx/html/[app]/[stream].[timestamp].flv")
	v.Duration = b.seconds(d, p+"dvr_duration", 30*time.Second)
	v.WaitKeyframe = b.flag(d, p+"dvr_wait_keyframe", true)
	v.TimeJitter = b.jitter(d, p+"time_jitter")
	b.dvrUpload(&v.Upload, d.Get("dvr_upload"))
}

// remuxExts are the mount extensions that pick an HTTP live muxer.
var remuxExts = []string{".flv", ".ts", ".aac", ".mp3"}

func (b *builder) httpRemux(r *HTTPRemux, d *Directive) {
	const p = "vhost.http_remux."
	r.Enabled = b.flag(d, p+"enabled", false)
	r.Mount = b.str(d, p+"mount", "[vhost]/[app]/[stream].flv")
	r.FastCache = b.fseconds(d, p+"fast_cache", 0)
	r.DropIfNotMatch = b.flag(d, p+"drop_if_not_match", true)
	r.HasAudio = b.flag(d, p+"has_audio", true)
	r.HasVideo = b.flag(d, p+"has_video", true)
	r.GuessHasAV = b.flag(d, p+"guess_has_av", true)
	if !r.Enabled {
		return
	}
	for _, ext := range remuxExts {
		if strings.HasSuffix(r.Mount, ext) {
			return
		}
	}
	b.fail(errorAt(d.Get("mount"), "http_remux: mount %q must end in .flv, .ts, .aac or .mp3", r.Mount))
}

func (b *builder) httpStatic(s *HTTPStatic, d *Directive) {
	s.Enabled = b.flag(d, "vhost.http_static.enabled", false)
	s.Mount = b.str(d, "vhost.http_static.mount", "[vhost]/")
	s.Dir = b.str(d, "vhost.http_static.dir", "./objs/nginx/html")
}

func (b *builder) exec(e *Exec, d *Directive) {
	e.Enabled = b.flag(d, "vhost.exec.enabled", false)
	b.lookup(d, "vhost.exec.publish") // coverage; commands have no env form
	for _, p := range d.GetAll("publish") {
		if len(p.Args) == 0 {
			b.fail(errorAt(p, "exec: publish needs a command line"))
			continue
		}
		e.Publish = append(e.Publish, append([]string(nil), p.Args...))
	}
}

func (b *builder) rtc(r *VhostRTC, vhost *Directive) {
	const p = "vhost.rtc."
	d := vhost.Get("rtc")
	r.Enabled = b.flag(d, p+"enabled", false)
	r.NACK = b.flag(d, p+"nack", true)
	r.NACKNoCopy = b.flag(d, p+"nack_no_copy", true)
	r.TWCC = b.flag(d, p+"twcc", true)
	r.STUNTimeout = b.seconds(d, p+"stun_timeout", 30*time.Second)
	r.STUNStrictCheck = b.flag(d, p+"stun_strict_check", false)
	r.DTLSRole = b.enum(d, p+"dtls_role", "passive", "active", "passive")
	r.DTLSVersion = b.enum(d, p+"dtls_version", "auto", "auto", "dtls1.0", "dtls1.2")
	r.DropForPT = b.int(d, p+"drop_for_pt", 0)
	r.RTMPToRTC = b.flag(d, p+"rtmp_to_rtc", false)
	r.KeepBframe = b.flag(d, p+"keep_bframe", false)
	r.KeepAVCNaluSEI = b.flag(d, p+"keep_avc_nalu_sei", true)
	r.OpusBitrate = b.bitrate(d, p+"opus_bitrate")
	r.RTCToRTMP = b.flag(d, p+"rtc_to_rtmp", false)
	r.AACBitrate = b.bitrate(d, p+"aac_bitrate")

	// SRS resets a PLI interval outside 0.5..30 s to the default.
	r.PLIForRTMP = b.fseconds(d, p+"pli_for_rtmp", 6*time.Second)
	if r.PLIForRTMP < 500*time.Millisecond || r.PLIForRTMP > 30*time.Second {
		b.warnf("vhost %s: rtc.pli_for_rtmp %v is outside 0.5s..30s; using 6s", vhost.Arg0(), r.PLIForRTMP)
		r.PLIForRTMP = 6 * time.Second
	}

	// WebRTC players: min_latency defaults to on (and only "off" turns it
	// off), and merged writes default to 0 or 1 message.
	r.MinLatency = b.flag(vhost, "vhost.min_latency", true)
	r.MWMsgs = b.mwMsgs(vhost.Get("play"), r.MinLatency, true)
}

// bitrate reads an RTC audio bitrate; SRS resets values outside
// 8000..320000 to 48000.
func (b *builder) bitrate(d *Directive, path string) int {
	const def = 48000
	n := b.int(d, path, def)
	if n < 8000 || n > 320000 {
		b.warnf("%s %d is outside 8000..320000; using %d", path, n, def)
		return def
	}
	return n
}
