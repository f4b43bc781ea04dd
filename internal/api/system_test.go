package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/httpx"
)

const rusageShape = `{"ok":true,"sample_time":0,"ru_utime":0,"ru_stime":0,"ru_maxrss":0,"ru_ixrss":0,"ru_idrss":0,
	"ru_isrss":0,"ru_minflt":0,"ru_majflt":0,"ru_nswap":0,"ru_inblock":0,"ru_oublock":0,"ru_msgsnd":0,"ru_msgrcv":0,
	"ru_nsignals":0,"ru_nvcsw":0,"ru_nivcsw":0}`

const selfProcShape = `{"ok":true,"sample_time":0,"percent":0,"pid":0,"comm":"","state":"","ppid":0,"pgrp":0,"session":0,
	"tty_nr":0,"tpgid":0,"flags":0,"minflt":0,"cminflt":0,"majflt":0,"cmajflt":0,"utime":0,"stime":0,"cutime":0,
	"cstime":0,"priority":0,"nice":0,"num_threads":0,"itrealvalue":0,"starttime":0,"vsize":0,"rss":0,"rsslim":0,
	"startcode":0,"endcode":0,"startstack":0,"kstkesp":0,"kstkeip":0,"signal":0,"blocked":0,"sigignore":0,
	"sigcatch":0,"wchan":0,"nswap":0,"cnswap":0,"exit_signal":0,"processor":0,"rt_priority":0,"policy":0,
	"delayacct_blkio_ticks":0,"guest_time":0,"cguest_time":0}`

const systemProcShape = `{"ok":true,"sample_time":0,"percent":0,"user":0,"nice":0,"sys":0,"idle":0,"iowait":0,"irq":0,
	"softirq":0,"steal":0,"guest":0}`

const meminfoShape = `{"ok":true,"sample_time":0,"percent_ram":0,"percent_swap":0,"MemActive":0,"RealInUse":0,
	"NotInUse":0,"MemTotal":0,"MemFree":0,"Buffers":0,"Cached":0,"SwapTotal":0,"SwapFree":0}`

const featuresShape = `{"options":"","options2":"","build":"","build2":"","features":{"ssl":true,"hls":true,"hds":true,
	"callback":true,"api":true,"httpd":true,"dvr":true,"transcode":true,"ingest":true,"stat":true,"caster":true,
	"complex_send":true,"tcp_nodelay":true,"so_sendbuf":true,"mr":true}}`

func TestSystemEndpointShapes(t *testing.T) {
	f := newFixture(t)
	cases := []struct{ target, data string }{
		{"/api/v1/rusages", rusageShape},
		{"/api/v1/self_proc_stats", selfProcShape},
		{"/api/v1/system_proc_stats", systemProcShape},
		{"/api/v1/meminfos", meminfoShape},
		{"/api/v1/features", featuresShape},
	}
	for _, c := range cases {
		rec := f.do(t, "GET", c.target)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q", c.target, rec.Code, rec.Header().Get("Content-Type"))
			continue
		}
		sameShape(t, c.target, decode(t, `{`+envelopeShape+`,"data":`+c.data+`}`), decode(t, rec.Body.String()))
	}
}

func TestSystemEndpointValues(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	f := newFixture(t)
	var self struct {
		Pid  string
		Data struct {
			OK         bool
			Pid        int64
			Comm       string
			State      string
			NumThreads int64 `json:"num_threads"`
			RSS        int64
		}
	}
	if err := json.Unmarshal(f.do(t, "GET", "/api/v1/self_proc_stats").Body.Bytes(), &self); err != nil {
		t.Fatal(err)
	}
	d := self.Data
	if !d.OK || d.Pid <= 0 || d.Comm == "" || len(d.State) != 1 || d.NumThreads <= 0 || d.RSS <= 0 {
		t.Errorf("self_proc_stats: %+v", d)
	}
	var mem struct {
		Data struct {
			OK       bool
			MemTotal int64
			Percent  float64 `json:"percent_ram"`
		}
	}
	_ = json.Unmarshal(f.do(t, "GET", "/api/v1/meminfos").Body.Bytes(), &mem)
	if !mem.Data.OK || mem.Data.MemTotal <= 0 || mem.Data.Percent <= 0 || mem.Data.Percent > 1 {
		t.Errorf("meminfos: %+v", mem.Data)
	}
	var ru struct {
		Data struct {
			OK     bool
			MaxRSS int64 `json:"ru_maxrss"`
			Sample int64 `json:"sample_time"`
		}
	}
	_ = json.Unmarshal(f.do(t, "GET", "/api/v1/rusages").Body.Bytes(), &ru)
	if !ru.Data.OK || ru.Data.MaxRSS <= 0 || ru.Data.Sample <= 0 {
		t.Errorf("rusages: %+v", ru.Data)
	}
	var cpu struct {
		Data struct {
			OK         bool
			User, Idle int64
		}
	}
	_ = json.Unmarshal(f.do(t, "GET", "/api/v1/system_proc_stats").Body.Bytes(), &cpu)
	if !cpu.Data.OK || cpu.Data.User <= 0 || cpu.Data.Idle <= 0 {
		t.Errorf("system_proc_stats: %+v", cpu.Data)
	}
}

func TestFeaturesFollowTheRegistry(t *testing.T) {
	got := builtFeatures()
	for _, c := range []struct {
		name, path string
		flag       bool
	}{
		{"hls", "vhost.hls.enabled", got.HLS},
		{"dvr", "vhost.dvr.enabled", got.DVR},
		{"transcode", "vhost.transcode.enabled", got.Transcode},
		{"ingest", "vhost.ingest.enabled", got.Ingest},
		{"caster", "stream_caster.enabled", got.Caster},
	} {
		e, ok := conf.Lookup(c.path)
		if !ok {
			t.Fatalf("%s: no directive %s", c.name, c.path)
		}
		if c.flag != (e.Status == conf.StatusImplemented) {
			t.Errorf("%s is %v but %s has status %v", c.name, c.flag, c.path, e.Status)
		}
	}
	if !got.SSL || !got.API || !got.HTTPD || !got.Callback || got.HDS || got.SoSendBuf {
		t.Errorf("fixed features: %+v", got)
	}
}

// withConfig gives the fixture's API a config parsed from text.
func withConfig(t *testing.T, f *fixture, text string) {
	t.Helper()
	cfg, err := conf.Parse("test.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.api.Config = func() *conf.Config { return cfg }
}

func TestRaw(t *testing.T) {
	const on = `listen 1935; http_api { enabled on; listen 1985; crossdomain off; raw_api { enabled on; allow_reload on; } }`
	const noReload = `listen 1935; http_api { enabled on; listen 127.0.0.1:1985; raw_api { enabled on; allow_reload off; } }`
	const off = `listen 1935; http_api { enabled on; raw_api { enabled off; allow_reload on; } }`
	cases := []struct {
		name, conf, rpc, body string
		reloads               int
	}{
		{"raw dump", on, "raw", `{"code":0,"http_api":{"enabled":true,"listen":"1985","crossdomain":false,"raw_api":{"enabled":true,"allow_reload":true,"allow_query":false,"allow_update":false}}}`, 0},
		{"raw dump with the raw API off", off, "raw", `{"code":0,"http_api":{"enabled":true,"listen":"1985","crossdomain":true,"raw_api":{"enabled":false,"allow_reload":true,"allow_query":false,"allow_update":false}}}`, 0},
		{"reload", on, "reload", `{"code":0}`, 1},
		{"reload not allowed", noReload, "reload", `{"code":1061}`, 0},
		{"reload with the raw API off", off, "reload", `{"code":1061}`, 0},
		{"bad rpc", on, "query", `{"code":1060}`, 0},
		{"no rpc", on, "", `{"code":1060}`, 0},
		{"bad rpc with the raw API off", off, "nope", `{"code":1061}`, 0},
		{"fetch", on, "reload-fetch", `{"code":0,"data":{"err":1023,"msg":"conf: bad","state":10,"rid":"r1"}}`, 0},
	}
	for _, c := range cases {
		f := newFixture(t)
		withConfig(t, f, c.conf)
		reloads := 0
		f.api.Reload = func() { reloads++ }
		f.api.ReloadStatus = func() ReloadStatus {
			return ReloadStatus{Err: CodeConfigInvalid, Msg: "conf: bad", State: ReloadStateParsing, RID: "r1"}
		}
		rec := f.do(t, "GET", "/api/v1/raw?rpc="+c.rpc)
		if rec.Code != 200 || rec.Body.String() != c.body || reloads != c.reloads {
			t.Errorf("%s: %d %s (reloads %d), want %s (reloads %d)", c.name, rec.Code, rec.Body.String(), reloads, c.body, c.reloads)
		}
	}
	// Before any reload, and with no status callback: success, state 0.
	f := newFixture(t)
	withConfig(t, f, on)
	if got := f.do(t, "GET", "/api/v1/raw?rpc=reload-fetch").Body.String(); got != `{"code":0,"data":{"err":0,"msg":"Success","state":0,"rid":""}}` {
		t.Errorf("fetch before a reload: %s", got)
	}
	// No reload entry point: reload is refused rather than faked.
	if got := f.do(t, "GET", "/api/v1/raw?rpc=reload").Body.String(); got != `{"code":1061}` {
		t.Errorf("reload without an entry point: %s", got)
	}
}

func TestClusters(t *testing.T) {
	const shapeNull = `{"code":0,"data":{"query":{"ip":"","vhost":"","app":"","stream":""},"origin":null}}`
	const shapeOrigin = `{"code":0,"data":{"query":{"ip":"","vhost":"","app":"","stream":""},
		"origin":{"ip":"","port":0,"vhost":"","api":"","routers":[""]}}}`
	cases := []struct {
		name, conf, query string
		origin            string // "" for null, else the origin's JSON
	}{
		{"published, listen with an IP", `listen 10.1.2.3:1936; http_api { enabled on; listen 1985; } vhost __defaultVhost__ {}`,
			"vhost=__defaultVhost__&app=live&stream=livestream&ip=10.0.0.9&coworker=10.9.9.9:1985",
			`{"ip":"10.1.2.3","port":1936,"vhost":"__defaultVhost__","api":"10.1.2.3:1985","routers":["10.1.2.3:1985"]}`},
		{"loopback listen uses the coworker host", `listen 127.0.0.1:1935; http_api { enabled on; listen 1985; } vhost __defaultVhost__ {}`,
			"vhost=__defaultVhost__&app=live&stream=livestream&coworker=192.168.1.5:1985",
			`{"ip":"192.168.1.5","port":1935,"vhost":"__defaultVhost__","api":"192.168.1.5:1985","routers":["192.168.1.5:1985"]}`},
		{"unknown vhost falls back to the default", `listen 1935; http_api { enabled on; listen 10.0.0.1:1990; } vhost __defaultVhost__ {}`,
			"vhost=other.com&app=live&stream=livestream&coworker=h.example",
			`{"ip":"h.example","port":1935,"vhost":"__defaultVhost__","api":"10.0.0.1:1990","routers":["10.0.0.1:1990"]}`},
		{"any-address listen without coworker uses the local address", `listen 0.0.0.0:1935; http_api { enabled on; } vhost __defaultVhost__ {}`,
			"app=live&stream=livestream",
			`{"ip":"10.0.0.7","port":1935,"vhost":"__defaultVhost__","api":"10.0.0.7:1985","routers":["10.0.0.7:1985"]}`},
		{"not published here", `listen 1935; vhost __defaultVhost__ {}`, "vhost=__defaultVhost__&app=live&stream=other", ""},
		{"no such vhost and no default", `listen 1935; vhost a.com {}`, "vhost=b.com&app=live&stream=livestream", ""},
	}
	for _, c := range cases {
		f := newFixture(t)
		withConfig(t, f, c.conf)
		req := httptest.NewRequest("GET", "/api/v1/clusters?"+c.query, nil)
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 1985}))
		rec := httptest.NewRecorder()
		f.mux.ServeHTTP(rec, req)
		got := decode(t, rec.Body.String())
		shape := shapeNull
		if c.origin != "" {
			shape = shapeOrigin
		}
		sameShape(t, c.name, decode(t, shape), got)
		origin := got.(map[string]any)["data"].(map[string]any)["origin"]
		want := c.origin
		if want == "" {
			want = "null"
		}
		if !reflect.DeepEqual(origin, decode(t, want)) {
			t.Errorf("%s: origin %v, want %s", c.name, origin, want)
		}
	}
	// The query is echoed back.
	f := newFixture(t)
	withConfig(t, f, `listen 1935; vhost __defaultVhost__ {}`)
	if body := f.do(t, "GET", "/api/v1/clusters?ip=1.2.3.4&vhost=v&app=a&stream=s").Body.String(); !strings.Contains(body,
		`"query":{"ip":"1.2.3.4","vhost":"v","app":"a","stream":"s"}`) {
		t.Errorf("query echo: %s", body)
	}
}

func TestCORSAndMethodsOnTheAPI(t *testing.T) {
	for _, crossdomain := range []bool{true, false} {
		f := newFixture(t)
		mux := httpx.NewMux()
		f.api.Mount(mux)
		f.mux = httpx.CORS(crossdomain, mux)
		rec := f.do(t, "OPTIONS", "/api/v1/streams/")
		if crossdomain && (rec.Code != 200 || rec.Body.Len() != 0) {
			t.Errorf("OPTIONS with crossdomain on: %d %q", rec.Code, rec.Body.String())
		}
		if !crossdomain && rec.Code != 405 {
			t.Errorf("OPTIONS with crossdomain off: %d", rec.Code)
		}
	}
	f := newFixture(t)
	req := httptest.NewRequest("GET", "/api/v1/versions", nil)
	req.Header.Set("Origin", "http://player.example")
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	for k, v := range map[string]string{
		"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*", "Access-Control-Allow-Methods": "*",
		"Access-Control-Expose-Headers": "*", "Access-Control-Allow-Credentials": "false",
		"Access-Control-Request-Private-Network": "true",
	} {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, target := range []string{"/api/v1/streams/", "/api/v1/vhosts/", "/api/v1/clients/"} {
		rec := f.do(t, "PUT", target)
		if rec.Code != 405 || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("PUT %s: %d %q", target, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}
