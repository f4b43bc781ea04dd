package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/metrics/metricstest"
)

// shapeOf checks that got has exactly want's keys, recursively, with the
// same JSON types (values are not compared); arrays check each element
// against want's first.
func shapeOf(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: want an object, got %T", path, got)
			return
		}
		var diff []string
		for k := range w {
			if _, ok := g[k]; !ok {
				diff = append(diff, "-"+k)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				diff = append(diff, "+"+k)
			}
		}
		sort.Strings(diff)
		if len(diff) > 0 {
			t.Errorf("%s: keys differ: %v", path, diff)
		}
		for k, wv := range w {
			if gv, ok := g[k]; ok {
				shapeOf(t, path+"."+k, wv, gv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: want an array, got %T", path, got)
			return
		}
		for i, gv := range g {
			if len(w) > 0 {
				shapeOf(t, fmt.Sprintf("%s[%d]", path, i), w[0], gv)
			}
		}
	case nil:
		if got != nil {
			t.Errorf("%s: want null, got %T", path, got)
		}
	default:
		if fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) {
			t.Errorf("%s: want %T, got %T (%v)", path, want, got, got)
		}
	}
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", s, err)
	}
	return v
}

// apiGet GETs url with an optional client and basic-auth user and password.
func apiGet(t *testing.T, c *http.Client, url string, userPass ...string) (int, http.Header, []byte) {
	t.Helper()
	if c == nil {
		c = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	}
	c.Timeout = 10 * time.Second
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(userPass) == 2 {
		req.SetBasicAuth(userPass[0], userPass[1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header, body
}

const envShape = `"code":0,"server":"","service":"","pid":""`

// TestAPIMoreWithRealClients checks rusages, proc stats, meminfos,
// features, clusters, raw and /metrics while ffmpeg publishes and plays.
func TestAPIMoreWithRealClients(t *testing.T) {
	exporter := freePort(t)
	c := startCastd(t, strings.Replace(defaultConf, "http_api {\n", "exporter { enabled on; listen 127.0.0.1:"+strconv.Itoa(exporter)+"; tag e2e; }\nhttp_api {\n    raw_api { enabled on; allow_reload on; }\n", 1))
	ffmpegPublish(t, c.rtmpURL("live/more"), 30*time.Second)
	c.waitPublished(t, "more", 10*time.Second)
	startCmd(t, requireTool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error", "-i", c.httpURL("live/more.flv"), "-f", "null", "-")

	shapes := map[string]string{
		"api/v1/rusages": `{"ok":true,"sample_time":0,"ru_utime":0,"ru_stime":0,"ru_maxrss":0,"ru_ixrss":0,"ru_idrss":0,"ru_isrss":0,
			"ru_minflt":0,"ru_majflt":0,"ru_nswap":0,"ru_inblock":0,"ru_oublock":0,"ru_msgsnd":0,"ru_msgrcv":0,"ru_nsignals":0,"ru_nvcsw":0,"ru_nivcsw":0}`,
		"api/v1/self_proc_stats": `{"ok":true,"sample_time":0,"percent":0,"pid":0,"comm":"","state":"","ppid":0,"pgrp":0,"session":0,"tty_nr":0,
			"tpgid":0,"flags":0,"minflt":0,"cminflt":0,"majflt":0,"cmajflt":0,"utime":0,"stime":0,"cutime":0,"cstime":0,"priority":0,"nice":0,
			"num_threads":0,"itrealvalue":0,"starttime":0,"vsize":0,"rss":0,"rsslim":0,"startcode":0,"endcode":0,"startstack":0,"kstkesp":0,
			"kstkeip":0,"signal":0,"blocked":0,"sigignore":0,"sigcatch":0,"wchan":0,"nswap":0,"cnswap":0,"exit_signal":0,"processor":0,
			"rt_priority":0,"policy":0,"delayacct_blkio_ticks":0,"guest_time":0,"cguest_time":0}`,
		"api/v1/system_proc_stats": `{"ok":true,"sample_time":0,"percent":0,"user":0,"nice":0,"sys":0,"idle":0,"iowait":0,"irq":0,"softirq":0,"steal":0,"guest":0}`,
		"api/v1/meminfos": `{"ok":true,"sample_time":0,"percent_ram":0,"percent_swap":0,"MemActive":0,"RealInUse":0,"NotInUse":0,"MemTotal":0,
			"MemFree":0,"Buffers":0,"Cached":0,"SwapTotal":0,"SwapFree":0}`,
		"api/v1/features": `{"options":"","options2":"","build":"","build2":"","features":{"ssl":true,"hls":true,"hds":true,"callback":true,
			"api":true,"httpd":true,"dvr":true,"transcode":true,"ingest":true,"stat":true,"caster":true,"complex_send":true,"tcp_nodelay":true,
			"so_sendbuf":true,"mr":true}}`,
	}
	for path, data := range shapes {
		code, h, body := apiGet(t, nil, c.apiURL(path))
		if code != 200 || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q", path, code, h.Get("Content-Type"))
			continue
		}
		shapeOf(t, path, mustJSON(t, `{`+envShape+`,"data":`+data+`}`), mustJSON(t, string(body)))
	}
	var self struct{ Data struct{ Pid int64 } }
	getJSON(t, "GET", c.apiURL("api/v1/self_proc_stats"), &self)
	var summ struct {
		Data struct{ Self struct{ Pid int64 } }
	}
	getJSON(t, "GET", c.apiURL("api/v1/summaries"), &summ)
	if self.Data.Pid == 0 || self.Data.Pid != summ.Data.Self.Pid {
		t.Errorf("self_proc_stats pid %d, summaries pid %d", self.Data.Pid, summ.Data.Self.Pid)
	}

	// Clusters: this server is the origin of live/more, not of live/none.
	_, _, body := apiGet(t, nil, c.apiURL("api/v1/clusters?vhost=__defaultVhost__&app=live&stream=more&ip=127.0.0.1&coworker=127.0.0.1:"+strconv.Itoa(c.api)))
	shapeOf(t, "clusters", mustJSON(t, `{"code":0,"data":{"query":{"ip":"","vhost":"","app":"","stream":""},
		"origin":{"ip":"","port":0,"vhost":"","api":"","routers":[""]}}}`), mustJSON(t, string(body)))
	var cl struct {
		Data struct {
			Origin struct {
				IP   string
				Port int
				API  string
			}
		}
	}
	if err := json.Unmarshal(body, &cl); err != nil {
		t.Fatal(err)
	}
	if o := cl.Data.Origin; o.IP != "127.0.0.1" || o.Port != c.rtmp || o.API != "127.0.0.1:"+strconv.Itoa(c.api) {
		t.Errorf("clusters origin: %+v", o)
	}
	if _, _, body := apiGet(t, nil, c.apiURL("api/v1/clusters?app=live&stream=none")); !strings.Contains(string(body), `"origin":null`) {
		t.Errorf("clusters for a stream not here: %s", body)
	}
	if _, _, body := apiGet(t, nil, c.apiURL("api/v1/raw?rpc=raw")); !strings.Contains(string(body), `"raw_api":{"enabled":true,"allow_reload":true`) {
		t.Errorf("raw: %s", body)
	}
	if _, _, body := apiGet(t, nil, c.apiURL("api/v1/raw?rpc=nope")); string(body) != `{"code":1060}` {
		t.Errorf("raw bad rpc: %s", body)
	}

	// /metrics on the exporter's port, and on the API's: the stream and
	// its FLV player show.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, h, body := apiGet(t, nil, fmt.Sprintf("http://127.0.0.1:%d/metrics", exporter))
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
			t.Fatalf("exporter: %d %q", code, h.Get("Content-Type"))
		}
		fams := metricstest.Check(t, string(body))
		viewers, _ := fams["castd_stream_viewers"].Get("castd_stream_viewers", map[string]string{"vhost": "__defaultVhost__", "app": "live", "stream": "more"})
		streams := metricstest.Value(t, fams, "srs_streams", map[string]string{})
		if viewers >= 1 && streams == 1 {
			if metricstest.Value(t, fams, "srs_clients", map[string]string{}) < 2 || metricstest.Value(t, fams, "srs_receive_bytes_total", map[string]string{}) <= 0 {
				t.Errorf("clients and bytes:\n%s", body)
			}
			if fams["srs_build_info"].Samples[0].Labels["tag"] != "e2e" {
				t.Errorf("build info: %+v", fams["srs_build_info"].Samples)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed the stream and its player (streams %v, viewers %v):\n%s", streams, viewers, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, _, body := apiGet(t, nil, c.apiURL("metrics")); code != 200 || !strings.Contains(string(body), "srs_streams 1\n") {
		t.Errorf("/metrics on the API port: %d", code)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T, dir string) (cert, key string, pool *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "castd e2e"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	writeFile(t, cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, key, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(parsed)
	return cert, key, pool
}

// TestAPIAuthAndHTTPS: basic auth on the API over HTTP and HTTPS, and
// HTTP-FLV over HTTPS played by ffprobe and read by Go's TLS client.
func TestAPIAuthAndHTTPS(t *testing.T) {
	certDir := t.TempDir()
	cert, key, pool := writeCert(t, certDir)
	apis, https := freePort(t), freePort(t)
	c := startCastd(t, fmt.Sprintf(`
listen              127.0.0.1:{{rtmp}};
daemon              off;
srs_log_tank        console;
pid                 {{dir}}/castd.pid;
http_api {
    enabled         on;
    listen          127.0.0.1:{{api}};
    auth { enabled on; username admin; password s3cret; }
    https { enabled on; listen 127.0.0.1:%d; key %s; cert %s; }
}
http_server {
    enabled         on;
    listen          127.0.0.1:{{http}};
    dir             {{dir}};
    https { enabled on; listen 127.0.0.1:%d; key %s; cert %s; }
}
vhost __defaultVhost__ {
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
}
`, apis, key, cert, https, key, cert))
	tlsc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	apiHTTPS := fmt.Sprintf("https://127.0.0.1:%d/api/v1/summaries", apis)
	for _, tc := range []struct {
		name     string
		client   *http.Client
		url      string
		userPass []string
		code     int
	}{
		{"http, no credentials", nil, c.apiURL("api/v1/summaries"), nil, 401},
		{"http, wrong password", nil, c.apiURL("api/v1/summaries"), []string{"admin", "nope"}, 401},
		{"http, right credentials", nil, c.apiURL("api/v1/summaries"), []string{"admin", "s3cret"}, 200},
		{"https, no credentials", tlsc, apiHTTPS, nil, 401},
		{"https, right credentials", tlsc, apiHTTPS, []string{"admin", "s3cret"}, 200},
		{"http server versions probe, not shared", nil, c.httpURL("api/v1/versions"), nil, 200},
	} {
		code, h, body := apiGet(t, tc.client, tc.url, tc.userPass...)
		if code != tc.code {
			t.Errorf("%s: %d %s", tc.name, code, body)
		}
		if code == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s: WWW-Authenticate %q", tc.name, h.Get("WWW-Authenticate"))
		}
	}

	ffmpegPublish(t, c.rtmpURL("live/tls"), 30*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var r struct{ Streams []struct{ Name string } }
		code, _, body := apiGet(t, nil, c.apiURL("api/v1/streams/"), "admin", "s3cret")
		if code == 200 && json.Unmarshal(body, &r) == nil && len(r.Streams) == 1 && r.Streams[0].Name == "tls" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream never showed: %d %s", code, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	flvURL := fmt.Sprintf("https://127.0.0.1:%d/live/tls.flv", https)
	probe := ffprobe(t, flvURL, 20)
	if _, ok := probe.stream("video"); !ok || len(probe.Packets) < 20 {
		t.Fatalf("ffprobe over HTTPS: %+v", probe)
	}
	// Go's client verifies the certificate and reads the FLV header.
	resp, err := tlsc.Get(flvURL)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 13)
	_, err = io.ReadFull(resp.Body, head)
	resp.Body.Close()
	if err != nil || string(head[:3]) != "FLV" || resp.Header.Get("Content-Type") != "video/x-flv" {
		t.Fatalf("FLV over HTTPS: %q %v %q", head, err, resp.Header.Get("Content-Type"))
	}
}

// TestRawReloadThroughTheBinary: /api/v1/raw?rpc=reload reloads the real
// binary as SIGHUP does, and reload-fetch reports how it went.
func TestRawReloadThroughTheBinary(t *testing.T) {
	var api, second int
	confText := func(extra string) string {
		return strings.ReplaceAll(`
listen 127.0.0.1:{{rtmp}}`+extra+`;
daemon off;
srs_log_tank console;
pid {{dir}}/castd.pid;
http_api { enabled on; listen 127.0.0.1:{{api}}; raw_api { enabled on; allow_reload on; } }
vhost __defaultVhost__ { }
`, "{{api}}", strconv.Itoa(api))
	}
	api = freePort(t)
	b := startBinary(t, confText(""), &second)
	apiURL := func(path string) string { return fmt.Sprintf("http://127.0.0.1:%d/%s", api, path) }
	type fetchState struct {
		Code int
		Data struct {
			Err   int
			Msg   string
			State int
			RID   string
		}
	}
	state := func() fetchState {
		var s fetchState
		getJSON(t, "GET", apiURL("api/v1/raw?rpc=reload-fetch"), &s)
		return s
	}
	if s := state(); s.Code != 0 || s.Data.RID != "" || s.Data.State != 0 {
		t.Fatalf("before a reload: %+v", s)
	}
	b.writeConf(t, confText(" 127.0.0.1:"+strconv.Itoa(second)))
	if _, _, body := apiGet(t, nil, apiURL("api/v1/raw?rpc=reload")); string(body) != `{"code":0}` {
		t.Fatalf("rpc=reload: %s", body)
	}
	b.waitOutput(t, "reload done", 5*time.Second)
	if !strings.Contains(b.output(), fmt.Sprintf("RTMP listening addr=tcp://127.0.0.1:%d", second)) {
		t.Fatalf("the reload did not open the new port:\n%s", b.output())
	}
	ok := state()
	if ok.Data.Err != 0 || ok.Data.State != 90 || ok.Data.RID == "" || ok.Data.Msg != "Success" {
		t.Errorf("after a reload: %+v", ok)
	}
	b.writeConf(t, "listen 127.0.0.1:{{rtmp}};\nhttp_api { enabled on; listen 127.0.0.1:"+strconv.Itoa(api)+"; raw_api { enabled on; allow_reload on; } }\nvhost __defaultVhost__ { bogus on; }\n")
	if _, _, body := apiGet(t, nil, apiURL("api/v1/raw?rpc=reload")); string(body) != `{"code":0}` {
		t.Fatalf("rpc=reload: %s", body)
	}
	b.waitOutput(t, "reload failed, the running config is unchanged", 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		bad := state()
		if bad.Data.RID != ok.Data.RID {
			if bad.Data.Err != 1023 || bad.Data.State == 90 || !strings.Contains(bad.Data.Msg, "bogus") {
				t.Errorf("after a failed reload: %+v", bad)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reload-fetch never reported the failed reload: %+v", bad)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
