package conf

import (
	"fmt"
	"slices"
)

// Directives older SRS versions wrote differently. transform rewrites them
// into today's form (cfg srs_config_transform_vhost) before validation, so a
// v1..v5 config keeps working. Each rewrite is reported as a warning.

var (
	// GB28181 keys SRS 5 stopped using; they are dropped (but the rtsp
	// caster's rtp_port_min and rtp_port_max are kept).
	obsoleteCasterKeys = []string{"tcp_enable", "rtp_port_min", "rtp_port_max", "wait_keyframe",
		"rtp_idle_timeout", "audio_enable", "auto_create_channel"}
	obsoleteSIPKeys = []string{"serial", "realm", "ack_timeout", "keepalive_timeout",
		"invite_port_fixed", "query_catalog_interval", "auto_play"}
	// Flat vhost directives that moved into play{} and cluster{} in SRS 3.
	legacyPlayKeys = []string{"time_jitter", "mix_correct", "atc", "atc_auto", "mw_latency",
		"gop_cache", "gop_cache_max_frames", "queue_length", "send_min_interval", "reduce_sequence_header"}
	legacyClusterKeys = []string{"mode", "origin", "token_traverse", "vhost", "debug_srs_upnode"}
)

func transform(root *Directive) (warnings []string) {
	note := func(d *Directive, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if p := d.Pos(); p != "" {
			msg = p + ": " + msg
		}
		warnings = append(warnings, msg)
	}
	for _, d := range root.Children {
		switch d.Name {
		case "http_stream":
			d.Name = "http_server"
			note(d, "http_stream is now http_server")
		case "rtc_server":
			dropChildren(d, []string{"perf_stat", "queue_length"}, func(c *Directive) {
				note(c, "rtc_server.%s was removed in SRS 4; ignored", c.Name)
			})
		case "srt_server":
			for _, c := range d.Children {
				if c.Name == "tlpkdrop" {
					c.Name = "tlpktdrop"
					note(c, "srt_server.tlpkdrop is now tlpktdrop")
				}
			}
		case "stream_caster":
			transformCaster(d, note)
		case "vhost":
			transformVhost(d, note)
		}
	}
	return warnings
}

func transformCaster(d *Directive, note func(*Directive, string, ...any)) {
	obsolete := obsoleteCasterKeys
	if d.Get("caster").Arg(0) == "rtsp" {
		obsolete = slices.DeleteFunc(slices.Clone(obsolete), func(k string) bool { return k == "rtp_port_min" || k == "rtp_port_max" })
	}
	dropChildren(d, obsolete, func(c *Directive) {
		note(c, "stream_caster.%s is not used since SRS 5; ignored", c.Name)
	})
	if sip := d.Get("sip"); sip != nil {
		dropChildren(sip, obsoleteSIPKeys, func(c *Directive) {
			note(c, "stream_caster.sip.%s is not used since SRS 5; ignored", c.Name)
		})
	}
	for _, c := range d.GetAll("host") {
		d.remove(c)
		c.Name = "candidate"
		sip := d.getOrCreate("sip", c)
		sip.Block = true
		sip.Children = append(sip.Children, c)
		note(c, "stream_caster.host is now sip.candidate")
	}
}

func transformVhost(v *Directive, note func(*Directive, string, ...any)) {
	// Walk a snapshot: rewrites remove children and add new blocks.
	for _, c := range slices.Clone(v.Children) {
		switch n := c.Name; {
		case n == "http":
			c.Name = "http_static"
			note(c, "vhost.http is now http_static")
		case n == "http_remux":
			dropChildren(c, []string{"hstrs"}, func(h *Directive) {
				note(h, "http_remux.hstrs was removed in SRS 3; ignored")
			})
		case n == "refer" && !c.Block, n == "refer_play", n == "refer_publish":
			v.remove(c)
			refer := v.getOrCreate("refer", c)
			refer.Block = true
			setArgs(refer, "enabled", []string{"on"}, c)
			key := map[string]string{"refer": "all", "refer_play": "play", "refer_publish": "publish"}[n]
			setArgs(refer, key, c.Args, c)
			note(c, "vhost.%s is now refer { %s }", n, key)
		case n == "mr":
			v.remove(c)
			publish := blockOf(v, "publish", c)
			if e := c.Get("enabled"); e != nil {
				setArgs(publish, "mr", e.Args, e)
			}
			if l := c.Get("latency"); l != nil {
				setArgs(publish, "mr_latency", l.Args, l)
			}
			note(c, "vhost.mr is now publish { mr; mr_latency; }")
		case n == "publish_1stpkt_timeout", n == "publish_normal_timeout":
			v.remove(c)
			key := map[string]string{"publish_1stpkt_timeout": "firstpkt_timeout", "publish_normal_timeout": "normal_timeout"}[n]
			setArgs(blockOf(v, "publish", c), key, c.Args, c)
			note(c, "vhost.%s is now publish.%s", n, key)
		case slices.Contains(legacyPlayKeys, n):
			v.remove(c)
			setArgs(blockOf(v, "play", c), n, c.Args, c)
			note(c, "vhost.%s is now play.%s", n, n)
		case n == "forward" && len(c.Children) == 0 && len(c.Args) > 0:
			c.Block = true
			setArgs(c, "enabled", []string{"on"}, c)
			setArgs(c, "destination", c.Args, c)
			c.Args = nil
			note(c, "vhost.forward <targets> is now forward { enabled on; destination <targets>; }")
		case slices.Contains(legacyClusterKeys, n):
			v.remove(c)
			setArgs(blockOf(v, "cluster", c), n, c.Args, c)
			note(c, "vhost.%s is now cluster.%s", n, n)
		case n == "nack", n == "twcc":
			v.remove(c)
			rtc := blockOf(v, "rtc", c)
			if e := c.Get("enabled"); e != nil {
				setArgs(rtc, n, e.Args, e)
			}
			if nc := c.Get("no_copy"); n == "nack" && nc != nil {
				setArgs(rtc, "nack_no_copy", nc.Args, nc)
			}
			note(c, "vhost.%s {} is now rtc.%s", n, n)
		case n == "rtc":
			transformRTC(c, note)
		}
	}
}

// transformRTC turns SRS 4's `aac transcode` and `bframe keep` into switches.
func transformRTC(rtc *Directive, note func(*Directive, string, ...any)) {
	if aac := rtc.Get("aac"); aac != nil {
		rtc.remove(aac)
		v := onOff(aac.Arg0() == "transcode")
		setArgs(rtc, "rtmp_to_rtc", []string{v}, aac)
		note(aac, "rtc.aac %s is now rtmp_to_rtc %s", aac.Arg0(), v)
	}
	if bf := rtc.Get("bframe"); bf != nil {
		rtc.remove(bf)
		v := onOff(bf.Arg0() == "keep")
		setArgs(rtc, "keep_bframe", []string{v}, bf)
		note(bf, "rtc.bframe %s is now keep_bframe %s", bf.Arg0(), v)
	}
}

// blockOf returns the parent's block called name, creating it at the
// position of the directive being moved into it.
func blockOf(parent *Directive, name string, at *Directive) *Directive {
	b := parent.getOrCreate(name, at)
	b.Block = true
	return b
}

// setArgs gives the child called name these args, creating it if needed;
// like SRS, a legacy value replaces a modern one already present.
func setArgs(parent *Directive, name string, args []string, at *Directive) {
	c := parent.getOrCreate(name, at)
	c.Args = append([]string(nil), args...)
}

func dropChildren(d *Directive, names []string, dropped func(*Directive)) {
	for _, c := range slices.Clone(d.Children) {
		if slices.Contains(names, c.Name) {
			d.remove(c)
			dropped(c)
		}
	}
}
