package conf

import (
	"strings"
	"testing"
	"time"
)

func TestAsymmetricBooleans(t *testing.T) {
	tests := []struct {
		value         string
		defOff, defOn bool // what a default-off and a default-on switch read
	}{
		{"on", true, true},
		{"off", false, false},
		{"true", false, true},
		{"false", false, true},
		{"yes", false, true},
		{"ON", false, true},
		{"0", false, true},
	}
	for _, tt := range tests {
		// tcp_nodelay defaults to off, gop_cache to on.
		c := mustParse(t, base+"vhost v { tcp_nodelay "+tt.value+"; play { gop_cache "+tt.value+"; } }")
		v := c.Vhost("v")
		if v.TCPNoDelay != tt.defOff || v.Play.GopCache != tt.defOn {
			t.Errorf("%q: default-off=%v default-on=%v, want %v %v", tt.value, v.TCPNoDelay, v.Play.GopCache, tt.defOff, tt.defOn)
		}
		warned := strings.Contains(strings.Join(c.Warnings, "\n"), "is neither on nor off")
		if warned != (tt.value != "on" && tt.value != "off") {
			t.Errorf("%q: warned=%v", tt.value, warned)
		}
	}
	// An empty value keeps the default, as SRS's arg0().empty() check does.
	c := mustParse(t, base+`vhost v { tcp_nodelay ""; play { gop_cache; } }`)
	if c.Vhost("v").TCPNoDelay || !c.Vhost("v").Play.GopCache {
		t.Fatal("empty values must keep defaults")
	}
}

func TestUnits(t *testing.T) {
	c := mustParse(t, base+`pithy_print_ms 2500;
grace_start_wait 100;
heartbeat { interval 9.3; }
vhost v {
    play { queue_length 10.9; mw_latency 100; send_min_interval 2.5; }
    publish { firstpkt_timeout 3000; normal_timeout 7000; mr_latency 200; kickoff_for_idle 1.5; }
    hls { hls_fragment 2.5; hls_window 30.5; hls_td_ratio 1.5; hls_aof_ratio 2; hls_dispose 30.9; }
    dash { dash_fragment 0.5; }
    dvr { dvr_duration 60.7; }
    http_remux { fast_cache 1.5; }
    rtc { stun_timeout 10; pli_for_rtmp 0.5; }
}
srt_server { connect_timeout 4000; peer_idle_timeout 8000; latency 200; }
stream_caster { caster gb28181; sip { timeout 2.1; reinvite 1.2; } }`)
	v := c.Vhost("v")
	tests := []struct {
		name      string
		got, want time.Duration
	}{
		{"pithy_print_ms (ms)", c.PithyPrint, 2500 * time.Millisecond},
		{"grace_start_wait (ms)", c.GraceStartWait, 100 * time.Millisecond},
		{"heartbeat.interval (atoi s)", c.Heartbeat.Interval, 9 * time.Second},
		{"queue_length (atoi s)", v.Play.QueueLength, 10 * time.Second},
		{"mw_latency (ms)", v.Play.MWLatency, 100 * time.Millisecond},
		{"send_min_interval (float ms)", v.Play.SendMinInterval, 2500 * time.Microsecond},
		{"firstpkt_timeout (ms)", v.Publish.FirstPktTimeout, 3 * time.Second},
		{"normal_timeout (ms)", v.Publish.NormalTimeout, 7 * time.Second},
		{"mr_latency (ms)", v.Publish.MRLatency, 200 * time.Millisecond},
		{"kickoff_for_idle (float s)", v.Publish.KickoffForIdle, 1500 * time.Millisecond},
		{"hls_fragment (float s)", v.HLS.Fragment, 2500 * time.Millisecond},
		{"hls_window (float s)", v.HLS.Window, 30500 * time.Millisecond},
		{"hls_dispose (atoi s)", v.HLS.Dispose, 30 * time.Second},
		{"dash_fragment (float s)", v.DASH.Fragment, 500 * time.Millisecond},
		{"dvr_duration (atoi s)", v.DVR.Duration, 60 * time.Second},
		{"fast_cache (float s)", v.HTTPRemux.FastCache, 1500 * time.Millisecond},
		{"stun_timeout (s)", v.RTC.STUNTimeout, 10 * time.Second},
		{"pli_for_rtmp (float s)", v.RTC.PLIForRTMP, 500 * time.Millisecond},
		{"srt connect_timeout (ms)", c.SRTServer.ConnectTimeout, 4 * time.Second},
		{"srt peer_idle_timeout (ms)", c.SRTServer.PeerIdleTimeout, 8 * time.Second},
		{"srt latency (ms)", c.SRTServer.Latency, 200 * time.Millisecond},
		{"sip timeout (float s)", c.StreamCasters[0].SIP.Timeout, 2100 * time.Millisecond},
		{"sip reinvite (float s)", c.StreamCasters[0].SIP.Reinvite, 1200 * time.Millisecond},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if v.HLS.TDRatio != 1.5 || v.HLS.AOFRatio != 2 {
		t.Errorf("ratios %v %v", v.HLS.TDRatio, v.HLS.AOFRatio)
	}
	joined := strings.Join(c.Warnings, "\n")
	for _, w := range []string{`test.conf:4: interval "9.3" is read as 9`, `queue_length "10.9" is read as 10`, `hls_dispose "30.9" is read as 30`, `dvr_duration "60.7" is read as 60`} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings lack %q:\n%s", w, joined)
		}
	}
}

func TestParseAtoi(t *testing.T) {
	tests := []struct {
		in        string
		want      int64
		truncated bool
		ok        bool
	}{
		{"0", 0, false, true}, {"42", 42, false, true}, {"-7", -7, false, true}, {"+7", 7, false, true},
		{"9.3", 9, true, true}, {"9.0", 9, false, true}, {"9.", 9, false, true}, {".5", 0, true, true},
		{"-.5", 0, true, true}, {"", 0, false, false}, {"-", 0, false, false}, {".", 0, false, false},
		{"abc", 0, false, false}, {"1e3", 0, false, false}, {"1.2.3", 0, false, false}, {"+-1", 0, false, false},
		{"12a", 0, false, false}, {"99999999999999999999", 0, false, false}, {"0x10", 0, false, false},
	}
	for _, tt := range tests {
		n, tr, err := parseAtoi(tt.in)
		if (err == nil) != tt.ok || (tt.ok && (n != tt.want || tr != tt.truncated)) {
			t.Errorf("parseAtoi(%q) = %d, %v, %v; want %d, %v, ok=%v", tt.in, n, tr, err, tt.want, tt.truncated, tt.ok)
		}
	}
}

func TestMergedWriteRules(t *testing.T) {
	tests := []struct {
		name       string
		vhost      string
		mwMsgs     int
		mwLatency  time.Duration
		rtcMinLat  bool
		rtcMWMsgs  int
		minLatency bool
	}{
		{"defaults", "", 8, 350 * time.Millisecond, true, 0, false},
		{"min_latency on", "min_latency on;", 0, 350 * time.Millisecond, true, 0, true},
		{"min_latency off for rtc", "min_latency off;", 8, 350 * time.Millisecond, false, 1, false},
		{"configured mw_msgs wins", "min_latency on; play { mw_msgs 20; }", 20, 350 * time.Millisecond, true, 20, true},
		{"mw_msgs capped", "play { mw_msgs 1000; }", 128, 350 * time.Millisecond, true, 128, false},
		{"rtc on keeps rtmp values", "rtc { enabled on; } play { mw_latency 500; }", 8, 500 * time.Millisecond, true, 0, false},
		{"odd min_latency: rtmp off, rtc on", "min_latency yes;", 8, 350 * time.Millisecond, true, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustParse(t, base+"vhost v { "+tt.vhost+" }").Vhost("v")
			if v.Play.MWMsgs != tt.mwMsgs || v.Play.MWLatency != tt.mwLatency || v.MinLatency != tt.minLatency ||
				v.RTC.MinLatency != tt.rtcMinLat || v.RTC.MWMsgs != tt.rtcMWMsgs {
				t.Fatalf("got mw_msgs %d mw_latency %v min_latency %v rtc(min_latency %v mw_msgs %d)",
					v.Play.MWMsgs, v.Play.MWLatency, v.MinLatency, v.RTC.MinLatency, v.RTC.MWMsgs)
			}
		})
	}
}

func TestRTCClamps(t *testing.T) {
	c := mustParse(t, base+"vhost v { rtc { pli_for_rtmp 60; opus_bitrate 1000; aac_bitrate 400000; } }")
	r := c.Vhost("v").RTC
	if r.PLIForRTMP != 6*time.Second || r.OpusBitrate != 48000 || r.AACBitrate != 48000 {
		t.Fatalf("clamps: %+v", r)
	}
	if len(c.Warnings) != 3 {
		t.Fatalf("want 3 warnings, got %q", c.Warnings)
	}
	r = mustParse(t, base+"vhost v { rtc { opus_bitrate 8000; aac_bitrate 320000; pli_for_rtmp 30; } }").Vhost("v").RTC
	if r.OpusBitrate != 8000 || r.AACBitrate != 320000 || r.PLIForRTMP != 30*time.Second {
		t.Fatalf("bounds must be kept: %+v", r)
	}
}

func TestCandidateExpansion(t *testing.T) {
	tests := []struct {
		name, conf string
		env        []string
		want       string
	}{
		{"unset default", "", nil, "*"},
		{"literal", "candidate 192.168.1.10;", nil, "192.168.1.10"},
		{"literal is not an env name", "candidate eip;", []string{"EIP", "1.1.1.1"}, "eip"},
		{"var set", "candidate $CANDIDATE;", []string{"CANDIDATE", "10.0.0.1"}, "10.0.0.1"},
		{"var lower case", "candidate $candidate;", []string{"CANDIDATE", "10.0.0.2"}, "10.0.0.2"},
		{"var unset", "candidate $CANDIDATE;", nil, "*"},
		{"var empty", "candidate $CANDIDATE;", []string{"CANDIDATE", ""}, "*"},
		{"override literal", "candidate 1.1.1.1;", []string{"SRS_RTC_SERVER_CANDIDATE", "2.2.2.2"}, "2.2.2.2"},
		{"override names var", "candidate 1.1.1.1;", []string{"SRS_RTC_SERVER_CANDIDATE", "$MY_IP", "MY_IP", "3.3.3.3"}, "3.3.3.3"},
		{"override names unset var", "", []string{"SRS_RTC_SERVER_CANDIDATE", "$MY_IP"}, "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.conf", []byte(base+"rtc_server { "+tt.conf+" }"), Options{LookupEnv: envMap(tt.env...)})
			if err != nil {
				t.Fatal(err)
			}
			if c.RTCServer.Candidate != tt.want {
				t.Fatalf("candidate = %q, want %q", c.RTCServer.Candidate, tt.want)
			}
		})
	}
	c, err := Parse("t.conf", []byte(base+"stream_caster { caster gb28181; sip { candidate $GB_IP; } }"), Options{LookupEnv: envMap("GB_IP", "5.5.5.5")})
	if err != nil || c.StreamCasters[0].SIP.Candidate != "5.5.5.5" {
		t.Fatalf("sip candidate: %v %v", err, c)
	}
}

func TestDVRApplies(t *testing.T) {
	all := mustParse(t, base+"vhost v { dvr { } }").Vhost("v").DVR
	some := mustParse(t, base+"vhost v { dvr { dvr_apply live/a live/b; } }").Vhost("v").DVR
	if !all.Applies("x", "y") || !some.Applies("live", "b") || some.Applies("live", "c") {
		t.Fatal("dvr_apply filter")
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		in, addr string
		ok       bool
	}{
		{"1935", ":1935", true}, {"0.0.0.0:1935", "0.0.0.0:1935", true}, {"[::]:1935", "[::]:1935", true},
		{"[::1]:80", "[::1]:80", true}, {"127.0.0.1:65535", "127.0.0.1:65535", true},
		{"0", "", false}, {"65536", "", false}, {"abc", "", false}, {"host:1935", "", false},
		{"::1:1935", "", false}, {"[::1]", "", false}, {":1935", "", false}, {"1.2.3.4:", "", false},
	}
	for _, tt := range tests {
		got, err := ListenAddr(tt.in)
		if (err == nil) != tt.ok || got != tt.addr {
			t.Errorf("ListenAddr(%q) = %q, %v", tt.in, got, err)
		}
	}
}
