package server

import (
	"bytes"
	"context"
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
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/metrics/metricstest"
)

// writeTestCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir, and returns their paths and a pool that trusts it.
func writeTestCert(t testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "castd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testServer is a started server; ports are filled into the config text's
// {{name}} placeholders.
type testServer struct {
	srv   *Server
	dir   string
	ports map[string]int
	logs  *syncLog
	opt   Options
}

func parseTestConfig(t *testing.T, ts *testServer, text string) *conf.Config {
	t.Helper()
	repl := []string{"{{dir}}", ts.dir}
	for name, port := range ts.ports {
		repl = append(repl, "{{"+name+"}}", fmt.Sprint(port))
	}
	cfg, err := conf.Parse("test.conf", []byte(strings.NewReplacer(repl...).Replace(text)), conf.Options{})
	if err != nil {
		t.Fatalf("config: %v\n%s", err, text)
	}
	return cfg
}

func startTestServer(t *testing.T, text string, opt Options, portNames ...string) *testServer {
	t.Helper()
	baseline := runtime.NumGoroutine()
	ts := &testServer{dir: t.TempDir(), ports: map[string]int{}, logs: &syncLog{}}
	for _, n := range append([]string{"rtmp"}, portNames...) {
		ts.ports[n] = dvrFreePort(t)
	}
	cfg := parseTestConfig(t, ts, text)
	opt.Logger = slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts.srv = New(cfg, opt)
	ctx, cancel := context.WithCancel(context.Background())
	if err := ts.srv.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start: %v\n%s", err, ts.logs.String())
	}
	t.Cleanup(func() {
		cancel()
		ts.srv.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > baseline {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines left: %d, %d before\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	return ts
}

func (ts *testServer) url(scheme, name, path string) string {
	return fmt.Sprintf("%s://127.0.0.1:%d%s", scheme, ts.ports[name], path)
}

// get fetches url with an optional client; it closes idle connections so
// the goroutine check at cleanup sees none.
func get(t *testing.T, c *http.Client, url string, user ...string) (int, http.Header, string) {
	t.Helper()
	if c == nil {
		c = &http.Client{}
	}
	c.Timeout = 5 * time.Second
	defer c.CloseIdleConnections()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(user) == 2 {
		req.SetBasicAuth(user[0], user[1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func tlsClient(pool *x509.CertPool) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

const httpsConf = `
listen 127.0.0.1:{{rtmp}};
daemon off;
pid {{dir}}/castd.pid;
http_api {
    enabled on;
    listen 127.0.0.1:{{api}};
    https { enabled on; listen 127.0.0.1:{{apis}}; key {{dir}}/server.key; cert {{dir}}/server.crt; }
}
http_server {
    enabled on;
    listen 127.0.0.1:{{http}};
    dir {{dir}};
    https { enabled on; listen 127.0.0.1:{{https}}; key {{dir}}/server.key; cert {{dir}}/server.crt; }
}
exporter { enabled on; listen 127.0.0.1:{{exporter}}; label lab; tag tg; }
vhost __defaultVhost__ { }
`

func TestHTTPSAndExporterListeners(t *testing.T) {
	dir := t.TempDir()
	_, _, pool := writeTestCert(t, dir)
	ts := startTestServer(t, strings.ReplaceAll(httpsConf, "{{dir}}/server", dir+"/server"), Options{}, "api", "apis", "http", "https", "exporter")
	if err := os.WriteFile(filepath.Join(ts.dir, "hello.txt"), []byte("hello over TLS"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := tlsClient(pool)
	if code, _, body := get(t, c, ts.url("https", "apis", "/api/v1/versions")); code != 200 || !strings.Contains(body, `"version":"6.0.157"`) {
		t.Errorf("HTTPS API: %d %s", code, body)
	}
	if code, h, body := get(t, c, ts.url("https", "https", "/hello.txt")); code != 200 || body != "hello over TLS" || !strings.HasPrefix(h.Get("Server"), "castd/") {
		t.Errorf("HTTPS server: %d %q", code, body)
	}
	// The HTTP server port has no API of its own here, only versions.
	if code, _, _ := get(t, c, ts.url("https", "https", "/api/v1/summaries")); code != 404 {
		t.Errorf("HTTPS server is not the API: %d", code)
	}
	// Plain HTTP still answers on the HTTP ports.
	if code, _, _ := get(t, nil, ts.url("http", "api", "/api/v1/versions")); code != 200 {
		t.Errorf("HTTP API: %d", code)
	}
	code, h, body := get(t, nil, ts.url("http", "exporter", "/metrics"))
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("exporter: %d %q", code, h.Get("Content-Type"))
	}
	fams := metricstest.Check(t, body)
	if fams["srs_build_info"].Samples[0].Labels["label"] != "lab" || fams["srs_build_info"].Samples[0].Labels["server"] != ts.srv.ID() {
		t.Errorf("build info: %+v", fams["srs_build_info"].Samples)
	}
	// The exporter serves /metrics only; the API port serves it too.
	if code, _, _ := get(t, nil, ts.url("http", "exporter", "/api/v1/versions")); code != 404 {
		t.Errorf("exporter answered the API: %d", code)
	}
	if code, _, body := get(t, nil, ts.url("http", "api", "/metrics")); code != 200 || !strings.Contains(body, "srs_streams 0") {
		t.Errorf("/metrics on the API port: %d %.80s", code, body)
	}
	addrs := ts.srv.Addrs()
	for _, name := range []string{"https_api", "https_server", "exporter"} {
		if len(addrs[name]) != 1 {
			t.Errorf("Addrs()[%s] = %v", name, addrs[name])
		}
	}
}

func TestHTTPSWithoutCertificateStartsWithoutIt(t *testing.T) {
	ts := startTestServer(t, httpsConf, Options{}, "api", "apis", "http", "https", "exporter")
	if !strings.Contains(ts.logs.String(), "HTTPS API not started: cannot load its certificate and key") ||
		!strings.Contains(ts.logs.String(), "HTTPS server not started") {
		t.Errorf("missing key pair not logged:\n%s", ts.logs.String())
	}
	addrs := ts.srv.Addrs()
	if len(addrs["https_api"])+len(addrs["https_server"]) != 0 || len(addrs["http_api"]) != 1 {
		t.Errorf("listeners: %v", addrs)
	}
	// castd must not hold the HTTPS API port: binding it ourselves proves that.
	// A dial is no proof, as another test binary may have taken the port since
	// it was picked; a failed bind is reported only when castd lists it.
	if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ts.ports["apis"])); err == nil {
		ln.Close()
	} else {
		t.Logf("port %d taken by another process: %v", ts.ports["apis"], err)
	}
}

func TestBasicAuthOnOwnAndSharedPorts(t *testing.T) {
	for _, shared := range []bool{false, true} {
		apiPort := "{{api}}"
		if shared {
			apiPort = "{{http}}"
		}
		ts := startTestServer(t, `
listen 127.0.0.1:{{rtmp}};
pid {{dir}}/castd.pid;
http_api { enabled on; listen 127.0.0.1:`+apiPort+`; auth { enabled on; username admin; password pw; } }
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
vhost __defaultVhost__ { }
`, Options{}, "api", "http")
		if err := os.WriteFile(filepath.Join(ts.dir, "index.html"), []byte("<h1>hi</h1>"), 0o644); err != nil {
			t.Fatal(err)
		}
		name := "api"
		if shared {
			name = "http"
		}
		code, h, _ := get(t, nil, ts.url("http", name, "/api/v1/summaries"))
		if code != 401 || h.Get("WWW-Authenticate") == "" {
			t.Errorf("shared=%v: no credentials: %d %q", shared, code, h.Get("WWW-Authenticate"))
		}
		if code, _, _ := get(t, nil, ts.url("http", name, "/api/v1/summaries"), "admin", "wrong"); code != 401 {
			t.Errorf("shared=%v: wrong password: %d", shared, code)
		}
		if code, _, body := get(t, nil, ts.url("http", name, "/api/v1/summaries"), "admin", "pw"); code != 200 || !strings.Contains(body, `"code":0`) {
			t.Errorf("shared=%v: right credentials: %d %.60s", shared, code, body)
		}
		// Static files on the HTTP server port never need credentials.
		if code, _, body := get(t, nil, ts.url("http", "http", "/index.html")); code != 200 || body != "<h1>hi</h1>" {
			t.Errorf("shared=%v: static file: %d %q", shared, code, body)
		}
		// CORS preflight is answered before auth, as SRS's mux chain does.
		req, _ := http.NewRequest("OPTIONS", ts.url("http", name, "/api/v1/streams/"), nil)
		req.Header.Set("Origin", "http://page.example")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("shared=%v: preflight %d %q", shared, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		http.DefaultClient.CloseIdleConnections()
	}
}

func TestReloadOpensClosesSidecarsAndReportsStatus(t *testing.T) {
	var requested atomic.Int32
	ts := startTestServer(t, `
listen 127.0.0.1:{{rtmp}};
pid {{dir}}/castd.pid;
http_api { enabled on; listen 127.0.0.1:{{api}}; raw_api { enabled on; allow_reload on; } }
vhost __defaultVhost__ { }
`, Options{RequestReload: func() { requested.Add(1) }}, "api", "exporter")
	fetch := func() (st struct {
		Err   int
		Msg   string
		State int
		RID   string
	}) {
		_, _, body := get(t, nil, ts.url("http", "api", "/api/v1/raw?rpc=reload-fetch"))
		var r struct{ Data json.RawMessage }
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(r.Data, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := fetch(); st.State != 0 || st.RID != "" || st.Msg != "Success" {
		t.Errorf("before any reload: %+v", st)
	}
	if _, _, body := get(t, nil, ts.url("http", "api", "/api/v1/raw?rpc=reload")); body != `{"code":0}` || requested.Load() != 1 {
		t.Errorf("rpc=reload: %s, requests %d", body, requested.Load())
	}
	if code, _, body := get(t, nil, ts.url("http", "api", "/metrics")); code != 200 || body != `{"code":1090}` {
		t.Errorf("metrics while the exporter is off: %s", body)
	}
	// The command line answers the request by reloading: turn the exporter on.
	ts.srv.Reload(parseTestConfig(t, ts, `
listen 127.0.0.1:{{rtmp}};
pid {{dir}}/castd.pid;
http_api { enabled on; listen 127.0.0.1:{{api}}; raw_api { enabled on; allow_reload on; } }
exporter { enabled on; listen 127.0.0.1:{{exporter}}; }
vhost __defaultVhost__ { }
`))
	if code, _, body := get(t, nil, ts.url("http", "exporter", "/metrics")); code != 200 || !strings.Contains(body, "srs_build_info") {
		t.Errorf("exporter after reload: %d", code)
	}
	st := fetch()
	if st.Err != 0 || st.State != 90 || st.RID == "" {
		t.Errorf("after a reload: %+v", st)
	}
	ts.srv.ReloadFailed(fmt.Errorf("conf: test.conf:3: unknown directive"))
	if failed := fetch(); failed.Err != 1023 || failed.State != 10 || failed.RID == st.RID || !strings.Contains(failed.Msg, "unknown directive") {
		t.Errorf("after a failed reload: %+v", failed)
	}
	// Turning it off again closes the port.
	ts.srv.Reload(parseTestConfig(t, ts, `
listen 127.0.0.1:{{rtmp}};
pid {{dir}}/castd.pid;
http_api { enabled on; listen 127.0.0.1:{{api}}; }
vhost __defaultVhost__ { }
`))
	if _, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ts.ports["exporter"]), time.Second); err == nil {
		t.Error("the exporter port is still open")
	}
	if _, _, body := get(t, nil, ts.url("http", "api", "/api/v1/raw?rpc=reload")); body != `{"code":1061}` || requested.Load() != 1 {
		t.Errorf("rpc=reload with raw_api off: %s", body)
	}
}

func TestReloadReopensHTTPSWithItsHTTPListener(t *testing.T) {
	dir := t.TempDir()
	_, _, pool := writeTestCert(t, dir)
	text := strings.ReplaceAll(httpsConf, "{{dir}}/server", dir+"/server")
	ts := startTestServer(t, text, Options{}, "api", "apis", "http", "https", "exporter", "api2")
	// Moving the HTTP API reopens its listener, so the HTTPS API must follow
	// the new handler.
	ts.srv.Reload(parseTestConfig(t, ts, strings.Replace(text, "listen 127.0.0.1:{{api}};", "listen 127.0.0.1:{{api2}};", 1)))
	if code, _, _ := get(t, tlsClient(pool), ts.url("https", "apis", "/api/v1/versions")); code != 200 {
		t.Errorf("HTTPS API after the HTTP API moved: %d", code)
	}
	if !strings.Contains(ts.logs.String(), "HTTPS API closed") {
		t.Errorf("the HTTPS API was not reopened:\n%s", ts.logs.String())
	}
}

func TestHeartbeatFromServer(t *testing.T) {
	got := make(chan map[string]any, 4)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		select {
		case got <- b:
		default:
		}
	}))
	defer rcv.Close()
	ts := startTestServer(t, `
listen 127.0.0.1:{{rtmp}};
pid {{dir}}/castd.pid;
heartbeat { enabled on; interval 1; url `+rcv.URL+`/api/v1/servers; device_id box-7; summaries on; ports on; }
vhost __defaultVhost__ { }
`, Options{})
	select {
	case b := <-got:
		if b["device_id"] != "box-7" || b["server"] != ts.srv.ID() {
			t.Errorf("heartbeat body: %v", b)
		}
		if s, ok := b["summaries"].(map[string]any)["data"].(map[string]any); !ok || s["self"] == nil {
			t.Errorf("summaries: %v", b["summaries"])
		}
		if rtmp, ok := b["rtmp"].([]any); !ok || len(rtmp) != 1 {
			t.Errorf("ports: %v", b["rtmp"])
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat")
	}
}

func TestReloadReadsRenewedCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, _, _ := writeTestCert(t, dir)
	text := strings.ReplaceAll(httpsConf, "{{dir}}/server", dir+"/server")
	ts := startTestServer(t, text, Options{}, "api", "apis", "http", "https", "exporter")
	served := func() []byte {
		conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ts.ports["https"]), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reads the served certificate
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Raw
	}
	if !bytes.Equal(served(), pemBytes(t, certFile)) {
		t.Fatal("not serving the certificate on disk")
	}
	renew(t, dir)
	// Any reload that gets to the listeners reads the renewed files.
	ts.srv.Reload(parseTestConfig(t, ts, strings.Replace(text, "tag tg;", "tag tg2;", 1)))
	if !bytes.Equal(served(), pemBytes(t, certFile)) {
		t.Error("a reload did not pick up the renewed certificate")
	}
}

// renew writes a new key pair over the old files, with a later mtime.
func renew(t *testing.T, dir string) {
	t.Helper()
	writeTestCert(t, dir)
	later := time.Now().Add(2 * time.Second)
	for _, f := range []string{"server.crt", "server.key"} {
		if err := os.Chtimes(filepath.Join(dir, f), later, later); err != nil {
			t.Fatal(err)
		}
	}
}

func pemBytes(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s is not PEM", file)
	}
	return block.Bytes
}

func TestKeyPairFollowsRenewals(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := writeTestCert(t, dir)
	logs := &syncLog{}
	k := &keyPair{certFile: certFile, keyFile: keyFile, what: "HTTPS test", every: 0,
		log: slog.New(slog.NewTextHandler(logs, nil))}
	if err := k.load(); err != nil {
		t.Fatal(err)
	}
	first, _ := k.get(nil)
	if again, _ := k.get(nil); again != first {
		t.Fatal("unchanged files were read again")
	}
	renew(t, dir)
	second, _ := k.get(nil)
	if second == first || !bytes.Equal(second.Certificate[0], pemBytes(t, certFile)) {
		t.Fatal("the renewed certificate is not served")
	}
	// A broken renewal keeps the last good pair and says so.
	later := time.Now().Add(4 * time.Second)
	if err := os.WriteFile(certFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(certFile, later, later); err != nil {
		t.Fatal(err)
	}
	if third, _ := k.get(nil); third != second || !strings.Contains(logs.String(), "keeping the current ones") {
		t.Errorf("broken renewal: same pair %v, log %q", third == second, logs.String())
	}
	if err := (&keyPair{certFile: filepath.Join(dir, "none.crt"), keyFile: keyFile}).load(); err == nil {
		t.Error("a missing certificate loaded")
	}
}
