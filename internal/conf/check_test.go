package conf

import (
	"testing"
)

func TestCrossFieldChecks(t *testing.T) {
	tests := []struct {
		name, in, want string
		opt            Options
	}{
		{"hls with http-ts", base + "vhost v {\n hls { enabled on; }\n http_remux {\n  enabled on;\n  mount [vhost]/[app]/[stream].ts;\n }\n}",
			"test.conf:6: vhost v: hls conflicts with the http_remux .ts mount", Options{}},
		{"two http_remux", base + "vhost v {\n http_remux { }\n http_remux { }\n}", "test.conf:4: vhost v: only one http_remux is allowed, found 2", Options{}},
		{"forward and kickoff", base + "vhost v {\n forward { enabled on; destination 1.1.1.1:1935; }\n publish {\n  kickoff_for_idle 10;\n }\n}",
			"test.conf:5: vhost v: forward conflicts with publish.kickoff_for_idle", Options{}},
		{"duplicate ingest", base + "vhost v {\n ingest a { }\n ingest a { }\n}", `test.conf:4: vhost v: ingest id "a" is already used at test.conf:3`, Options{}},
		{"daemon and asprocess", base + "asprocess on;", "test.conf:2: daemon on conflicts with asprocess on", Options{}},
		{"asprocess ok without daemon", base + "daemon off;\nasprocess on;\nis_full on;", "never use full.conf", Options{}},
		{"is_full", base + "is_full on;", "test.conf:2: never use full.conf", Options{}},
		{"no listen", "vhost v {}", "test.conf: listen is required", Options{}},
		{"bad listen port", "listen 70000;", "test.conf:1: listen: endpoint \"70000\": port must be 1..65535", Options{}},
		{"bad listen ip", "listen 1935 foo:1936;", `"foo" is not an IP address`, Options{}},
		{"bare ipv6 listen", "listen ::1:1935;", "write IPv6 addresses as [addr]:port", Options{}},
		{"chunk too small", "listen 1935;\nchunk_size 127;", "test.conf:2: chunk_size 127 is outside 128..65536", Options{}},
		{"chunk too big", "listen 1935;\nchunk_size 65537;", "chunk_size 65537 is outside 128..65536", Options{}},
		{"vhost chunk", base + "vhost v {\n chunk_size 100;\n}", "test.conf:3: vhost v: chunk_size 100 is outside", Options{}},
		{"env chunk", base, "env SRS_VHOST_CHUNK_SIZE: chunk_size 50 is outside", Options{LookupEnv: envMap("SRS_VHOST_CHUNK_SIZE", "50")}},
		{"max connections", base + "max_connections 0;", "max_connections must be above 0", Options{}},
		{"int out of range", base + "max_connections 99999999999;", "test.conf:2: max_connections: 99999999999 is out of range", Options{}},
		{"duration out of range", base + "vhost v { hls { hls_fragment 1e300; } }", "hls_fragment: 1e+300 is out of range", Options{}},
		{"env listen", base, "env SRS_LISTEN: listen: endpoint", Options{LookupEnv: envMap("SRS_LISTEN", "1935 x")}},
		{"heartbeat interval", base + "heartbeat {\n interval 0.5;\n}", "test.conf:3: heartbeat.interval must be at least 1 second", Options{}},
		{"stats network", base + "stats { network -1; }", "stats.network must not be negative", Options{}},
		{"https api needs api", base + "http_api {\n https {\n  enabled on;\n }\n}", "test.conf:4: http_api.https needs http_api enabled", Options{}},
		{"https server needs server", base + "http_server { https { enabled on; } }", "http_server.https needs http_server enabled", Options{}},
		{"same http different https", base + "http_api { enabled on; listen 8080; https { listen 1990; } }\nhttp_server { enabled on; listen 8080; }",
			"share port 8080, so their HTTPS ports must match too (1990 != 8088)", Options{}},
		{"same https different http", base + "http_api { enabled on; listen 1985; https { listen 8088; } }\nhttp_server { enabled on; listen 8080; }",
			"share HTTPS port 8088, so their HTTP ports must match too (1985 != 8080)", Options{}},
		{"bad api endpoint", base + "http_api { enabled on; listen abc; }", `http_api.listen: endpoint "abc"`, Options{}},
		{"bad enum", base + "vhost v {\n play {\n  time_jitter fast;\n }\n}", `test.conf:4: time_jitter: "fast" is not one of full, zero, off`, Options{}},
		{"bad enum from env", base + "vhost v {}", `env SRS_VHOST_DVR_DVR_PLAN: "append" is not one of session, segment`, Options{LookupEnv: envMap("SRS_VHOST_DVR_DVR_PLAN", "append")}},
		{"bad number", base + "vhost v { play { queue_length ten; } }", `queue_length: "ten" is not a number`, Options{}},
		{"bad float", base + "vhost v { hls { hls_fragment 1e; } }", `hls_fragment: "1e" is not a number`, Options{}},
		{"security rule target", base + "vhost v {\n security {\n  allow play 300.1.1.1;\n }\n}", `test.conf:4: allow: "300.1.1.1" is not all, an IP or a CIDR`, Options{}},
		{"security rule scope", base + "vhost v { security { deny read all; } }", `deny: "read" is not publish or play`, Options{}},
		{"security rule arity", base + "vhost v { security { deny all; } }", "deny: want `deny publish|play all|<ip>|<cidr>;`", Options{}},
		{"remux extension", base + "vhost v { http_remux { enabled on; mount [vhost]/[app]/[stream].mp4; } }", "must end in .flv, .ts, .aac or .mp3", Options{}},
		{"edge without origin", base + "vhost v { cluster { mode remote; } }", "needs at least one origin", Options{}},
		{"srt passphrase", base + "srt_server { passphrase short; }", "must have 10 to 79 characters, not 5", Options{}},
		{"srt pbkeylen", base + "srt_server { pbkeylen 20; }", "pbkeylen must be 0, 16, 24 or 32", Options{}},
		{"caster without type", base + "stream_caster { enabled on; }", "caster is required", Options{}},
		{"vhost without name", base + "vhost {}", "vhost needs a name", Options{}},
		{"log tank", base + "srs_log_tank syslog;", `"syslog" is not one of console, file`, Options{}},
		{"log level", base + "srs_log_level debug;", `"debug" is not one of verbose, info, trace, warn, error`, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			opt.ReadFile = noFiles
			_, err := Parse("test.conf", []byte(tt.in), opt)
			wantErr(t, err, tt.want)
		})
	}
}

func TestCrossFieldChecksPass(t *testing.T) {
	for _, in := range []string{
		// HLS with FLV remux, or HTTP-TS without HLS.
		base + "vhost v { hls { enabled on; } http_remux { enabled on; mount [vhost]/[app]/[stream].flv; } }",
		base + "vhost v { http_remux { enabled on; mount [vhost]/[app]/[stream].ts; } }",
		// A disabled .ts mount does not conflict with HLS (SRS checks enabled).
		base + "vhost v { hls { enabled on; } http_remux { enabled off; mount [vhost]/[app]/[stream].ts; } }",
		// The same ingest id in two vhosts.
		base + "vhost a { ingest x {} } vhost b { ingest x {} }",
		// API on the HTTP server port; the HTTPS API follows the server's.
		base + "http_api { enabled on; listen 8080; } http_server { enabled on; listen 8080; }",
		base + "http_api { enabled on; listen 8080; https { enabled on; } } http_server { enabled on; listen 8080; https { enabled on; listen 4443; } }",
		"listen 1935 127.0.0.1:1936 [::]:1937 [::1]:1938;",
		base + "chunk_size 128; vhost v { chunk_size 65536; }",
		base + "is_full off;",
	} {
		if _, err := Parse("test.conf", []byte(in), Options{}); err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
	c := mustParse(t, base+"http_api { enabled on; listen 8080; } http_server { enabled on; listen 8080; https { listen 4443; } }")
	if c.HTTPAPI.HTTPS.Listen != "4443" || !c.SharesHTTPServer() {
		t.Fatalf("HTTPS API listen %q, shares %v", c.HTTPAPI.HTTPS.Listen, c.SharesHTTPServer())
	}
}

func TestAllowFull(t *testing.T) {
	if _, err := Parse("full.conf", []byte(base+"is_full on;"), Options{AllowFull: true}); err != nil {
		t.Fatalf("AllowFull: %v", err)
	}
}

func TestCheckMaxConnections(t *testing.T) {
	c := mustParse(t, base+"max_connections 1000;")
	if err := CheckMaxConnections(c, 1129); err != nil {
		t.Fatalf("1000+128 < 1129: %v", err)
	}
	wantErr(t, CheckMaxConnections(c, 1128), "test.conf:2: max_connections 1000 needs more than 1128 open files, but the limit is 1128; raise it with ulimit -HSn 10000")
}

func TestCheckStatsNetwork(t *testing.T) {
	c := mustParse(t, base+"stats {\n network 2;\n}")
	if err := CheckStatsNetwork(c, 3); err != nil {
		t.Fatal(err)
	}
	wantErr(t, CheckStatsNetwork(c, 2), "test.conf:3: stats.network 2 is out of range: the host has 2 local IPs")
}

func TestSecurityRules(t *testing.T) {
	c := mustParse(t, base+`vhost v { security {
    enabled on;
    deny publish 10.0.0.0/8;
    allow publish 192.168.1.7;
    allow play 2001:db8::/32;
    allow play ::ffff:1.2.3.4;
    allow play all;
} }`)
	rules := c.Vhost("v").Security.Rules
	if len(rules) != 5 {
		t.Fatalf("%d rules", len(rules))
	}
	tests := []struct {
		rule int
		ip   string
		want bool
	}{
		{0, "10.1.2.3", true}, {0, "11.0.0.1", false}, {0, "::ffff:10.9.9.9", true},
		{1, "192.168.1.7", true}, {1, "192.168.1.8", false},
		{2, "2001:db8::1", true}, {2, "2001:db9::1", false},
		{3, "1.2.3.4", true},
		{4, "8.8.8.8", true},
	}
	for _, tt := range tests {
		if got := rules[tt.rule].Matches(mustAddr(t, tt.ip)); got != tt.want {
			t.Errorf("rule %d (%+v) Matches(%s) = %v", tt.rule, rules[tt.rule], tt.ip, got)
		}
	}
	if rules[0].Action != Deny || rules[0].Scope != ScopePublish || rules[2].Action != Allow || rules[2].Scope != ScopePlay || !rules[4].All {
		t.Fatalf("rule kinds: %+v", rules)
	}
}
