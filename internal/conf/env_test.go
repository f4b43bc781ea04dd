package conf

import (
	"slices"
	"testing"
	"time"
)

func TestEnvNames(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"listen", []string{"SRS_LISTEN"}},
		{"max_connections", []string{"SRS_MAX_CONNECTIONS"}},
		{"vhost.hls.hls_fragment", []string{"SRS_VHOST_HLS_HLS_FRAGMENT"}},
		{"vhost.play.gop_cache", []string{"SRS_VHOST_PLAY_GOP_CACHE"}},
		{"http_api.https.listen", []string{"SRS_HTTP_API_HTTPS_LISTEN"}},
		{"rtc_server.tcp.listen", []string{"SRS_RTC_SERVER_TCP_LISTEN"}},
		{"vhost.http_hooks.on_publish", []string{"SRS_VHOST_HTTP_HOOKS_ON_PUBLISH"}},
		{"srs_log_tank", []string{"SRS_SRS_LOG_TANK", "SRS_LOG_TANK"}},
		{"srs_log_level", []string{"SRS_SRS_LOG_LEVEL", "SRS_LOG_LEVEL"}},
		{"srs_log_level_v2", []string{"SRS_SRS_LOG_LEVEL_V2", "SRS_LOG_LEVEL_V2"}},
		{"srs_log_file", []string{"SRS_SRS_LOG_FILE", "SRS_LOG_FILE"}},
		{"chunk_size", []string{"SRS_VHOST_CHUNK_SIZE"}},
		{"vhost.chunk_size", []string{"SRS_VHOST_CHUNK_SIZE"}},
		{"vhost.srt.srt_to_rtmp", []string{"SRS_VHOST_SRT_SRT_TO_RTMP", "SRS_VHOST_SRT_TO_RTMP"}},
		{"srt_server.mss", []string{"SRS_SRT_SERVER_MSS", "SRS_SRT_SERVER_MMS"}},
		{"vhost", nil},
		{"vhost.hls", nil},
		{"vhost.security.allow", nil},
		{"vhost.exec.publish", nil},
		{"stream_caster.listen", nil},
		{"stream_caster.sip.candidate", nil},
		{"vhost.ingest.input.url", nil},
		{"vhost.transcode.engine.vcodec", nil},
		{"no.such.path", nil},
	}
	for _, tt := range tests {
		if got := EnvNames(tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("EnvNames(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	env := envMap(
		"SRS_LISTEN", "1935 1936",
		"SRS_MAX_CONNECTIONS", "3000",
		"SRS_VHOST_PLAY_GOP_CACHE", "off",
		"SRS_VHOST_HLS_HLS_FRAGMENT", "2.5",
		"SRS_VHOST_HTTP_HOOKS_ON_PUBLISH", "http://a/hook  http://b/hook",
		"SRS_HTTP_API_ENABLED", "on",
		"SRS_DAEMON", "false", // not exactly "off": daemon stays on
		"SRS_UTC_TIME", "", // empty values are ignored
		"SRS_VHOST_CHUNK_SIZE", "4096",
		"SRS_SERVER_ID", "srv-1",
		"SRS_VHOST_SRT_TO_RTMP", "off",
		"SRS_STREAM_CASTER_LISTEN", "1", // repeatable block: no env
		"SRS_WORK_DIR", "/tmp/castd",
	)
	c, err := Parse("t.conf", []byte(`listen 1;
max_connections 10;
utc_time on;
chunk_size 8192;
vhost a { play { gop_cache on; } }
vhost b { chunk_size 256; http_hooks { on_publish http://file/hook; } }
stream_caster { caster flv; listen 8936; }`), Options{LookupEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Listen, []string{"1935", "1936"}) || c.MaxConnections != 3000 || !c.Daemon || !c.UTCTime ||
		!c.HTTPAPI.Enabled || c.ChunkSize != 4096 || c.ServerID != "srv-1" || c.WorkDir != "/tmp/castd" {
		t.Fatalf("globals: listen %v max %d daemon %v utc %v api %v chunk %d id %q",
			c.Listen, c.MaxConnections, c.Daemon, c.UTCTime, c.HTTPAPI.Enabled, c.ChunkSize, c.ServerID)
	}
	for _, name := range []string{"a", "b"} {
		v := c.Vhost(name)
		if v.Play.GopCache || v.HLS.Fragment != 2500*time.Millisecond || v.ChunkSize != 4096 || v.SRT.SRTToRTMP ||
			!slices.Equal(v.HTTPHooks.OnPublish, []string{"http://a/hook", "http://b/hook"}) {
			t.Fatalf("vhost %s: %+v", name, v)
		}
	}
	if c.StreamCasters[0].Listen != 8936 {
		t.Fatal("stream_caster must not read the environment")
	}
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	want := []string{"SRS_DAEMON", "SRS_HTTP_API_ENABLED", "SRS_LISTEN", "SRS_MAX_CONNECTIONS", "SRS_SERVER_ID",
		"SRS_VHOST_CHUNK_SIZE", "SRS_VHOST_HLS_HLS_FRAGMENT", "SRS_VHOST_HTTP_HOOKS_ON_PUBLISH",
		"SRS_VHOST_PLAY_GOP_CACHE", "SRS_VHOST_SRT_TO_RTMP", "SRS_WORK_DIR"}
	if !slices.Equal(names, want) {
		t.Fatalf("Env = %v\nwant %v", names, want)
	}
}

func TestEnvLogForms(t *testing.T) {
	tests := []struct {
		env  []string
		tank string
	}{
		{nil, "file"},
		{[]string{"SRS_LOG_TANK", "console"}, "console"},
		{[]string{"SRS_SRS_LOG_TANK", "console"}, "console"},
		{[]string{"SRS_SRS_LOG_TANK", "console", "SRS_LOG_TANK", "file"}, "console"}, // the doubled form is read first
	}
	for _, tt := range tests {
		c, err := Parse("t.conf", []byte(base), Options{LookupEnv: envMap(tt.env...)})
		if err != nil || c.LogTank != tt.tank {
			t.Errorf("env %v: tank %q err %v, want %q", tt.env, c.LogTank, err, tt.tank)
		}
	}
	c, err := Parse("t.conf", []byte(base), Options{LookupEnv: envMap("SRS_LOG_LEVEL_V2", "debug", "SRS_LOG_FILE", "/var/log/castd.log", "SRS_SRS_LOG_LEVEL", "warn")})
	if err != nil || c.LogLevelV2 != "debug" || c.LogFile != "/var/log/castd.log" || c.LogLevel != "warn" {
		t.Fatalf("log env: %v %+v", err, c)
	}
}

func TestEnvOnly(t *testing.T) {
	c, err := LoadEnvOnly(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Daemon || c.LogTank != "console" || !c.EnvOnly || len(c.Listen) != 0 || c.File != "" {
		t.Fatalf("env-only defaults: daemon %v tank %q listen %v", c.Daemon, c.LogTank, c.Listen)
	}
	if v := c.Vhost("any.host"); v == nil || v.Name != DefaultVhost || !v.Enabled {
		t.Fatal("env-only mode must create __defaultVhost__")
	}

	c, err = LoadEnvOnly(Options{LookupEnv: envMap(
		"SRS_LISTEN", "19350", "SRS_DAEMON", "on", "SRS_LOG_TANK", "file",
		"SRS_HTTP_API_ENABLED", "on", "SRS_HTTP_API_LISTEN", "19850",
		"SRS_VHOST_HLS_ENABLED", "on", "SRS_VHOST_DVR_DVR_PATH", "./objs/dvr/[stream].flv")})
	if err != nil {
		t.Fatal(err)
	}
	v := c.Vhost(DefaultVhost)
	if !c.Daemon || c.LogTank != "file" || !slices.Equal(c.Listen, []string{"19350"}) || c.HTTPAPI.Listen != "19850" ||
		!v.HLS.Enabled || v.DVR.Path != "./objs/dvr/[stream].flv" {
		t.Fatalf("env-only overrides: %+v", c)
	}

	// Checks still apply to environment values.
	_, err = LoadEnvOnly(Options{LookupEnv: envMap("SRS_LISTEN", "99999")})
	wantErr(t, err, `env SRS_LISTEN: listen: endpoint "99999": port must be 1..65535`)
}

func TestSource(t *testing.T) {
	tests := []struct {
		cli     string
		cliE    bool
		env     []string
		path    string
		envOnly bool
	}{
		{"conf/srs.conf", false, nil, "conf/srs.conf", false},
		{"conf/srs.conf", true, nil, "", true},
		{"conf/srs.conf", false, []string{"SRS_ENV_ONLY", ""}, "", true}, // set, even empty
		{"conf/srs.conf", false, []string{"SRS_CONFIG_FILE", "conf/rtc.conf"}, "conf/rtc.conf", false},
		{"conf/srs.conf", false, []string{"SRS_CONFIG_FILE", ""}, "conf/srs.conf", false},
		{"conf/srs.conf", false, []string{"SRS_CONFIG_FILE", "x.conf", "SRS_ENV_ONLY", "1"}, "", true},
	}
	for _, tt := range tests {
		path, envOnly := Source(tt.cli, tt.cliE, envMap(tt.env...))
		if path != tt.path || envOnly != tt.envOnly {
			t.Errorf("Source(%q, %v, %v) = %q, %v; want %q, %v", tt.cli, tt.cliE, tt.env, path, envOnly, tt.path, tt.envOnly)
		}
	}
	if p, e := Source("a.conf", false, nil); p != "a.conf" || e {
		t.Fatal("nil env")
	}
}
