package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/stats"
	"github.com/castd/castd/internal/sysinfo"
)

// sameShape checks that got has exactly the keys of want, recursively, with
// the same JSON types; arrays are checked element by element against want's
// first element. Values are not compared.
func sameShape(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: want object, got %T (%v)", path, got, got)
			return
		}
		var missing, extra []string
		for k := range w {
			if _, ok := g[k]; !ok {
				missing = append(missing, k)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing)+len(extra) > 0 {
			t.Errorf("%s: missing keys %v, unexpected keys %v", path, missing, extra)
		}
		for k, wv := range w {
			if gv, ok := g[k]; ok {
				sameShape(t, path+"."+k, wv, gv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: want array, got %T", path, got)
			return
		}
		// One shape for every element, or one shape per element.
		if len(w) > 1 && len(w) != len(g) {
			t.Errorf("%s: want %d elements, got %d", path, len(w), len(g))
			return
		}
		for i, gv := range g {
			if len(w) > 0 {
				sameShape(t, fmt.Sprintf("%s[%d]", path, i), w[min(i, len(w)-1)], gv)
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

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", s, err)
	}
	return v
}

type counter struct{ in, out int64 }

func (c counter) BytesIn() int64  { return c.in }
func (c counter) BytesOut() int64 { return c.out }

type fixture struct {
	api      *API
	mux      http.Handler
	hub      *hub.Hub
	stats    *stats.Registry
	streamID string
	kicked   *bool
}

// Real H.264 (High, 320x240) and AAC-LC 44.1 kHz stereo sequence headers.
var (
	avcSH = []byte{0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00,
		0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03,
		0x20, 0xf1, 0x42, 0x99, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}
	aacSH = []byte{0xaf, 0x00, 0x12, 0x10}
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	h := hub.New(hub.Options{})
	reg := stats.New(nil)
	a := &API{
		ServerID: "vid-server", ServiceID: "svc12345", Pid: 4242, Started: time.Now().Add(-time.Minute),
		Argv: "castd -c x.conf", Hub: h, Stats: reg, Sys: sysinfo.NewSampler(), OwnPort: true,
		Vhosts: func() []VhostInfo {
			return []VhostInfo{{Name: "__defaultVhost__", Enabled: true, HLS: true, HLSFragment: 10 * time.Second}, {Name: "other.com", Enabled: true}}
		},
	}
	mux := httpx.NewMux()
	a.Mount(mux)
	key := hub.Key{Vhost: "__defaultVhost__", App: "live", Name: "livestream"}
	pub, err := h.Publish(key, hub.ClientInfo{ID: "pub00001", Protocol: "rtmp", TcURL: "rtmp://127.0.0.1/live"}, hub.DefaultStreamOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{avcSH, aacSH} {
		kind := av.KindVideo
		if b[0] == 0xaf {
			kind = av.KindAudio
		}
		p, err := av.NewPacket(kind, 0, b)
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	sid := pub.Stream().ID
	kicked := false
	reg.Register(&stats.Client{ID: "pub00001", Type: stats.FMLEPublish, IP: "127.0.0.1", Vhost: "__defaultVhost__",
		App: "live", Stream: "livestream", StreamURL: key.String(), StreamID: sid, TcURL: "rtmp://127.0.0.1/live", Conn: counter{in: 5000}})
	reg.Register(&stats.Client{ID: "ply00001", Type: stats.RTMPPlay, IP: "127.0.0.1", Vhost: "__defaultVhost__",
		App: "live", Stream: "livestream", StreamURL: key.String(), StreamID: sid, Conn: counter{out: 4000}, Kick: func() { kicked = true }})
	return &fixture{api: a, mux: httpx.CORS(true, mux), hub: h, stats: reg, streamID: sid, kicked: &kicked}
}

func (f *fixture) do(t *testing.T, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

const envelopeShape = `"code":0,"server":"","service":"","pid":""`

const streamShape = `{"id":"","name":"","vhost":"","app":"","tcUrl":"","url":"","live_ms":0,"clients":0,"frames":0,
	"send_bytes":0,"recv_bytes":0,"kbps":{"recv_30s":0,"send_30s":0},"publish":{"active":true,"cid":""},
	"video":{"codec":"","profile":"","level":"","width":0,"height":0},
	"audio":{"codec":"","sample_rate":0,"channel":0,"profile":""}}`

const clientShape = `{"id":"","vhost":"","stream":"","ip":"","pageUrl":"","swfUrl":"","tcUrl":"","url":"","name":"",
	"type":"","publish":true,"alive":0,"send_bytes":0,"recv_bytes":0,"kbps":{"recv_30s":0,"send_30s":0}}`

func TestEndpointShapes(t *testing.T) {
	f := newFixture(t)
	cases := []struct{ target, shape string }{
		{"/api/v1/versions", `{` + envelopeShape + `,"data":{"major":0,"minor":0,"revision":0,"version":"","castd":""}}`},
		{"/api/v1/streams/", `{` + envelopeShape + `,"streams":[` + streamShape + `]}`},
		{"/api/v1/streams/" + f.streamID, `{` + envelopeShape + `,"stream":` + streamShape + `}`},
		{"/api/v1/clients/", `{` + envelopeShape + `,"clients":[` + clientShape + `]}`},
		{"/api/v1/clients/ply00001", `{` + envelopeShape + `,"client":` + clientShape + `}`},
		{"/api/v1/vhosts/", `{` + envelopeShape + `,"vhosts":[{"id":"","name":"","enabled":true,"clients":0,"streams":0,"send_bytes":0,"recv_bytes":0,"kbps":{"recv_30s":0,"send_30s":0},"hls":{"enabled":true,"fragment":0}},
			{"id":"","name":"","enabled":true,"clients":0,"streams":0,"send_bytes":0,"recv_bytes":0,"kbps":{"recv_30s":0,"send_30s":0},"hls":{"enabled":false}}]}`},
		{"/api/v1/summaries", `{` + envelopeShape + `,"data":{"ok":true,"now_ms":0,
			"self":{"version":"","pid":0,"ppid":0,"argv":"","cwd":"","mem_kbyte":0,"mem_percent":0,"cpu_percent":0,"srs_uptime":0},
			"system":{"cpu_percent":0,"disk_read_KBps":0,"disk_write_KBps":0,"disk_busy_percent":0,"mem_ram_kbyte":0,"mem_ram_percent":0,
			"mem_swap_kbyte":0,"mem_swap_percent":0,"cpus":0,"cpus_online":0,"uptime":0,"ilde_time":0,"load_1m":0,"load_5m":0,"load_15m":0,
			"net_sample_time":0,"net_recv_bytes":0,"net_send_bytes":0,"net_recvi_bytes":0,"net_sendi_bytes":0,"srs_sample_time":0,
			"srs_recv_bytes":0,"srs_send_bytes":0,"conn_sys":0,"conn_sys_et":0,"conn_sys_tw":0,"conn_sys_udp":0,"conn_srs":0}}}`},
		{"/", `{` + envelopeShape + `,"urls":{"api":"","rtc":{"v1":{"play":"","publish":"","nack":""}}}}`},
		{"/api/", `{` + envelopeShape + `,"urls":{"v1":""}}`},
		{"/api/v1/tests/errors", `{"code":0}`},
		{"/api/v1/streams/vid-nothere", `{"code":0}`},
	}
	for _, c := range cases {
		rec := f.do(t, "GET", c.target)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: status %d type %q", c.target, rec.Code, rec.Header().Get("Content-Type"))
			continue
		}
		ok := t.Run(strings.ReplaceAll(c.target, "/", "_"), func(t *testing.T) {
			sameShape(t, c.target, decode(t, c.shape), decode(t, rec.Body.String()))
		})
		if !ok {
			t.Logf("%s answered %s", c.target, rec.Body.String())
		}
	}
}

func TestStreamValues(t *testing.T) {
	f := newFixture(t)
	var resp struct {
		Code   int
		Pid    string
		Server string
		Stream map[string]any
	}
	if err := json.Unmarshal(f.do(t, "GET", "/api/v1/streams/"+f.streamID).Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	s := resp.Stream
	if resp.Pid != "4242" || resp.Server != "vid-server" {
		t.Errorf("envelope pid=%q server=%q", resp.Pid, resp.Server)
	}
	if s["name"] != "livestream" || s["app"] != "live" || s["url"] != "/live/livestream" || s["tcUrl"] != "rtmp://127.0.0.1/live" {
		t.Errorf("names: %v", s)
	}
	if !strings.HasPrefix(s["vhost"].(string), "vid-") || s["vhost"] != f.stats.VhostID("__defaultVhost__") {
		t.Errorf("stream.vhost must be the vhost id: %v", s["vhost"])
	}
	if s["clients"] != float64(2) || s["recv_bytes"] != float64(5000) || s["send_bytes"] != float64(4000) {
		t.Errorf("counts: clients=%v recv=%v send=%v", s["clients"], s["recv_bytes"], s["send_bytes"])
	}
	if live := int64(s["live_ms"].(float64)); time.Since(time.UnixMilli(live)) > time.Minute {
		t.Errorf("live_ms is not now: %d", live)
	}
	pub := s["publish"].(map[string]any)
	if pub["active"] != true || pub["cid"] != "pub00001" {
		t.Errorf("publish: %v", pub)
	}
	v := s["video"].(map[string]any)
	if v["codec"] != "H264" || v["profile"] != "High" || v["level"] != "1.3" || v["width"] != float64(320) || v["height"] != float64(240) {
		t.Errorf("video: %v", v)
	}
	a := s["audio"].(map[string]any)
	if a["codec"] != "AAC" || a["sample_rate"] != float64(44100) || a["channel"] != float64(2) || a["profile"] != "LC" {
		t.Errorf("audio: %v", a)
	}
}

func TestErrorsAndKick(t *testing.T) {
	f := newFixture(t)
	cases := []struct{ method, target, body string }{
		{"GET", "/api/v1/streams/vid-nothere", `{"code":2048}`},
		{"GET", "/api/v1/clients/nothere0", `{"code":2049}`},
		{"DELETE", "/api/v1/clients/nothere0", `{"code":2049}`},
		{"DELETE", "/api/v1/clients/pub00001", `{"code":400}`}, // no connection to close
		{"GET", "/api/v1/vhosts/vid-nothere", `{"code":2014}`},
		{"GET", "/api/v1/tests/errors", `{"code":100}`},
	}
	for _, c := range cases {
		rec := f.do(t, c.method, c.target)
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != c.body {
			t.Errorf("%s %s: %d %s, want 200 %s", c.method, c.target, rec.Code, rec.Body.String(), c.body)
		}
	}
	rec := f.do(t, "DELETE", "/api/v1/clients/ply00001")
	if !strings.Contains(rec.Body.String(), `"code":0`) || !*f.kicked {
		t.Fatalf("kick: %s kicked=%v", rec.Body.String(), *f.kicked)
	}
	if rec := f.do(t, "POST", "/api/v1/streams/"); rec.Code != 405 {
		t.Errorf("POST streams: %d", rec.Code)
	}
	if rec := f.do(t, "GET", "/api/v1/streams"); rec.Code != 302 || rec.Header().Get("Location") != "/api/v1/streams/" {
		t.Errorf("no trailing slash: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := f.do(t, "GET", "/api/v1/tests/redirects"); rec.Code != 301 {
		t.Errorf("redirects: %d", rec.Code)
	}
	// The catch-all answers unknown API paths with the listing and code 0.
	if rec := f.do(t, "GET", "/api/v1/perf/nothing"); !strings.Contains(rec.Body.String(), `"urls"`) {
		t.Errorf("catch-all: %s", rec.Body.String())
	}
	// JSONP with method override kicks too.
	*f.kicked = false
	rec = f.do(t, "GET", "/api/v1/clients/ply00001?callback=cb&method=DELETE")
	if !strings.HasPrefix(rec.Body.String(), "cb({") || !*f.kicked {
		t.Errorf("JSONP DELETE: %s", rec.Body.String())
	}
}

func TestPagingFloorOfTen(t *testing.T) {
	f := newFixture(t)
	for i := 0; i < 14; i++ {
		f.hub.Play(hub.Key{Vhost: "__defaultVhost__", App: "live", Name: fmt.Sprint("s", i)}, hub.ClientInfo{}, hub.DefaultStreamOptions(), hub.ViewerOptions{})
	}
	count := func(target string) int {
		var r struct{ Streams []any }
		_ = json.Unmarshal(f.do(t, "GET", target).Body.Bytes(), &r)
		return len(r.Streams)
	}
	if n := count("/api/v1/streams/"); n != 10 {
		t.Errorf("default count: %d", n)
	}
	if n := count("/api/v1/streams/?count=2"); n != 10 {
		t.Errorf("count=2 must still give 10: %d", n)
	}
	if n := count("/api/v1/streams/?count=100"); n != 15 {
		t.Errorf("count=100: %d", n)
	}
	if n := count("/api/v1/streams/?start=12&count=100"); n != 3 {
		t.Errorf("start=12: %d", n)
	}
	if n := count("/api/v1/streams/?start=99"); n != 0 {
		t.Errorf("start past end: %d", n)
	}
}

// TestClientTransport: castd's own "transport" object shows for clients
// that report one (SRT), and only for them.
func TestClientTransport(t *testing.T) {
	f := newFixture(t)
	f.stats.Register(&stats.Client{ID: "srt00001", Type: stats.SRTPublish, IP: "127.0.0.1", Vhost: "__defaultVhost__",
		App: "live", Stream: "s", Transport: func() any { return map[string]any{"protocol": "srt", "pkt_rcv_retrans": 7} }})
	var resp struct{ Client map[string]any }
	if err := json.Unmarshal(f.do(t, "GET", "/api/v1/clients/srt00001").Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	tr, ok := resp.Client["transport"].(map[string]any)
	if !ok || tr["protocol"] != "srt" || tr["pkt_rcv_retrans"] != float64(7) || resp.Client["type"] != "srt-publish" {
		t.Errorf("client %v", resp.Client)
	}
	var rtmp struct{ Client map[string]any }
	if err := json.Unmarshal(f.do(t, "GET", "/api/v1/clients/ply00001").Body.Bytes(), &rtmp); err != nil {
		t.Fatal(err)
	}
	if _, ok := rtmp.Client["transport"]; ok || rtmp.Client["id"] != "ply00001" {
		t.Errorf("an RTMP client has a transport: %v", rtmp.Client)
	}
}
