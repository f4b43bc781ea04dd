package conf

import (
	"strings"
	"testing"
)

func TestLegacyRewrites(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"http_stream", "http_stream { enabled on; }", "http_server{enabled[on]}"},
		{"vhost http", "vhost v { http { enabled on; mount /hls; } }", "vhost[v]{http_static{enabled[on] mount[/hls]}}"},
		{"flat refer", "vhost v { refer a.com b.com; }", "vhost[v]{refer{enabled[on] all[a.com|b.com]}}"},
		{"refer_play and refer_publish", "vhost v { refer_play p.com; refer_publish q.com; }",
			"vhost[v]{refer{enabled[on] play[p.com] publish[q.com]}}"},
		{"modern refer untouched", "vhost v { refer { enabled off; all a.com; } }", "vhost[v]{refer{enabled[off] all[a.com]}}"},
		{"mr block", "vhost v { mr { enabled on; latency 500; } }", "vhost[v]{publish{mr[on] mr_latency[500]}}"},
		{"mr joins publish", "vhost v { publish { parse_sps off; } mr { enabled on; } }", "vhost[v]{publish{parse_sps[off] mr[on]}}"},
		{"publish timeouts", "vhost v { publish_1stpkt_timeout 9000; publish_normal_timeout 7000; }",
			"vhost[v]{publish{firstpkt_timeout[9000] normal_timeout[7000]}}"},
		{"play shadows", "vhost v { gop_cache off; queue_length 10; time_jitter zero; mix_correct on; atc on; atc_auto on; mw_latency 100; gop_cache_max_frames 9; send_min_interval 5; reduce_sequence_header on; }",
			"vhost[v]{play{gop_cache[off] queue_length[10] time_jitter[zero] mix_correct[on] atc[on] atc_auto[on] mw_latency[100] gop_cache_max_frames[9] send_min_interval[5] reduce_sequence_header[on]}}"},
		{"legacy value replaces modern", "vhost v { play { gop_cache on; } gop_cache off; }", "vhost[v]{play{gop_cache[off]}}"},
		{"flat forward", "vhost v { forward 127.0.0.1:1936 127.0.0.1:1937; }", "vhost[v]{forward{enabled[on] destination[127.0.0.1:1936|127.0.0.1:1937]}}"},
		{"modern forward untouched", "vhost v { forward { enabled off; } }", "vhost[v]{forward{enabled[off]}}"},
		{"cluster shadows", "vhost v { mode remote; origin a:1935 b:1935; token_traverse on; vhost up.com; debug_srs_upnode off; }",
			"vhost[v]{cluster{mode[remote] origin[a:1935|b:1935] token_traverse[on] vhost[up.com] debug_srs_upnode[off]}}"},
		{"nack and twcc", "vhost v { nack { enabled off; no_copy off; } twcc { enabled off; } }", "vhost[v]{rtc{nack[off] nack_no_copy[off] twcc[off]}}"},
		{"rtc aac transcode", "vhost v { rtc { enabled on; aac transcode; } }", "vhost[v]{rtc{enabled[on] rtmp_to_rtc[on]}}"},
		{"rtc aac discard", "vhost v { rtc { aac discard; } }", "vhost[v]{rtc{rtmp_to_rtc[off]}}"},
		{"rtc bframe", "vhost v { rtc { bframe keep; } }", "vhost[v]{rtc{keep_bframe[on]}}"},
		{"rtc bframe discard", "vhost v { rtc { bframe discard; } }", "vhost[v]{rtc{keep_bframe[off]}}"},
		{"srt tlpkdrop", "srt_server { tlpkdrop off; }", "srt_server{tlpktdrop[off]}"},
		{"gb host", "stream_caster { caster gb28181; host 1.2.3.4; }", "stream_caster{caster[gb28181] sip{candidate[1.2.3.4]}}"},
		{"gb host into sip", "stream_caster { host 1.2.3.4; sip { listen 5060; } }", "stream_caster{sip{listen[5060] candidate[1.2.3.4]}}"},
		{"gb obsolete keys", "stream_caster { caster gb28181; tcp_enable on; rtp_port_min 1; rtp_port_max 2; wait_keyframe on; rtp_idle_timeout 3; audio_enable on; auto_create_channel on; sip { serial 1; realm 2; ack_timeout 3; keepalive_timeout 4; invite_port_fixed on; query_catalog_interval 5; auto_play on; timeout 9; } }",
			"stream_caster{caster[gb28181] sip{timeout[9]}}"},
		{"rtsp rtp ports untouched", "stream_caster { caster rtsp; rtp_port_min 1; rtp_port_max 2; }",
			"stream_caster{caster[rtsp] rtp_port_min[1] rtp_port_max[2]}"},
		{"rtc_server removed", "rtc_server { enabled on; perf_stat on; queue_length 10; }", "rtc_server{enabled[on]}"},
		{"hstrs", "vhost v { http_remux { enabled on; hstrs on; } }", "vhost[v]{http_remux{enabled[on]}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := ParseTree("t.conf", []byte(tt.in), Options{})
			if err != nil {
				t.Fatal(err)
			}
			warnings := transform(root)
			if got := flat(root); got != tt.want {
				t.Fatalf("transform(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if _, err := validate(root); err != nil {
				t.Fatalf("rewritten tree does not validate: %v", err)
			}
			if !strings.Contains(tt.name, "untouched") && len(warnings) == 0 {
				t.Fatal("a rewrite must leave a warning")
			}
		})
	}
}

func TestLegacyRewritesReachTypedConfig(t *testing.T) {
	c := mustParse(t, base+`vhost v {
    gop_cache off;
    mr { enabled on; latency 500; }
    publish_1stpkt_timeout 9000;
    forward 127.0.0.1:1936;
    mode remote;
    origin 127.0.0.1:19350;
    refer a.com;
    nack { enabled off; }
}`)
	v := c.Vhost("v")
	if v.Play.GopCache || !v.Publish.MR || v.Publish.MRLatency.Milliseconds() != 500 ||
		v.Publish.FirstPktTimeout.Milliseconds() != 9000 || !v.Forward.Enabled ||
		!v.Cluster.IsEdge() || !v.Refer.Enabled || v.RTC.NACK {
		t.Fatalf("legacy values lost: %+v", v)
	}
	if len(c.Warnings) < 7 {
		t.Fatalf("want a warning per rewrite, got %q", c.Warnings)
	}
	if !strings.HasPrefix(c.Warnings[0], "test.conf:3: vhost.gop_cache is now play.gop_cache") {
		t.Fatalf("warning without position: %q", c.Warnings[0])
	}
}
