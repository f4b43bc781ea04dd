// Package api answers SRS's HTTP API (/api/v1/...) with SRS's JSON: the
// envelope with server, service and a string pid, "vid-" ids, HTTP 200 with
// {"code":N} for errors, start/count paging with a floor of 10, and the
// catch-all listings that answer unknown paths with code 0.
package api

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/metrics"
	"github.com/castd/castd/internal/stats"
	"github.com/castd/castd/internal/sysinfo"
)

// SRS error codes the API returns (spec §2.4).
const (
	CodeSuccess        = 0
	CodeTestError      = 100
	CodeBadRequest     = 400
	CodeConfigInvalid  = 1023
	CodeConfigRaw      = 1060 // raw API: unknown rpc
	CodeRawDisabled    = 1061 // raw API or its reload is off
	CodeExporterOff    = 1090 // /metrics while the exporter is disabled
	CodeNoVhost        = 2014
	CodeStreamNotFound = 2048
	CodeClientNotFound = 2049
)

// VhostInfo is what the API shows of a configured vhost.
type VhostInfo struct {
	Name        string
	Enabled     bool
	HLS         bool
	HLSFragment time.Duration
}

// API holds what the handlers read. Every field is set by the server.
type API struct {
	ServerID  string // persisted "vid-..." id
	ServiceID string // random per process start
	Pid       int
	Started   time.Time
	Argv      string
	Cwd       string
	Hub       *hub.Hub
	Stats     *stats.Registry
	Sys       *sysinfo.Sampler
	Vhosts    func() []VhostInfo // the current config's vhosts
	// OwnPort is true when the API listens on its own port; only then does
	// it answer "/" (when it shares the HTTP server's port, "/" is static files).
	OwnPort bool

	// Config returns the running config (raw, clusters, metrics read it).
	Config func() *conf.Config
	// Reload asks for a reload of the config as SIGHUP does, for
	// /api/v1/raw?rpc=reload (nil: that call answers 1061); ReloadStatus
	// reports the last reload for rpc=reload-fetch (nil: none yet).
	Reload       func()
	ReloadStatus func() ReloadStatus
	// Hooks counts hook calls and HookLatency times them, for /metrics;
	// either may be nil.
	Hooks       *hooks.Counters
	HookLatency *metrics.HistogramVec
}

// envelope is the header of most answers.
type envelope struct {
	Code    int    `json:"code"`
	Server  string `json:"server"`
	Service string `json:"service"`
	Pid     string `json:"pid"`
}

func (a *API) ok() envelope {
	return envelope{Server: a.ServerID, Service: a.ServiceID, Pid: strconv.Itoa(a.Pid)}
}

type codeOnly struct {
	Code int `json:"code"`
}

// Mount registers the API handlers on mux, each answering JSONP too.
func (a *API) Mount(mux *httpx.Mux) {
	handle := func(pattern string, f http.HandlerFunc) { mux.Handle(pattern, httpx.JSONP(f)) }
	if a.OwnPort {
		handle("/", a.root)
	}
	handle("/api/", a.apiRoot)
	handle("/api/v1/", a.v1)
	handle("/api/v1/versions", a.Versions)
	handle("/api/v1/summaries", a.summaries)
	handle("/api/v1/authors", a.authors)
	handle("/api/v1/rusages", a.rusages)
	handle("/api/v1/self_proc_stats", a.selfProcStats)
	handle("/api/v1/system_proc_stats", a.systemProcStats)
	handle("/api/v1/meminfos", a.meminfos)
	handle("/api/v1/features", a.features)
	handle("/api/v1/raw", a.raw)
	handle("/api/v1/clusters", a.clusters)
	handle("/api/v1/vhosts/", a.vhosts)
	handle("/api/v1/streams/", a.streams)
	handle("/api/v1/clients/", a.clients)
	handle("/api/v1/tests/requests", a.testRequests)
	handle("/api/v1/tests/errors", a.testErrors)
	handle("/api/v1/tests/redirects", a.testRedirects)
	// SRS mounts /metrics on the API too; it answers {"code":1090} while
	// the exporter is off. Prometheus text is never wrapped in JSONP.
	mux.Handle("/metrics", http.HandlerFunc(a.Metrics))
}

func (a *API) root(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, r, struct {
		envelope
		URLs any `json:"urls"`
	}{a.ok(), map[string]any{
		"api": "the HTTP API root; see /api/v1/",
		"rtc": map[string]any{"v1": map[string]string{
			"play":    "play a stream by WebRTC: POST /rtc/v1/play/",
			"publish": "publish a stream by WebRTC: POST /rtc/v1/publish/",
			"nack":    "simulate NACK loss: GET /rtc/v1/nack/",
		}},
	}})
}

func (a *API) apiRoot(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, r, struct {
		envelope
		URLs map[string]string `json:"urls"`
	}{a.ok(), map[string]string{"v1": "version 1 of the API, see /api/v1/"}})
}

func (a *API) v1(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, r, struct {
		envelope
		URLs  map[string]string `json:"urls"`
		Tests map[string]string `json:"tests"`
	}{a.ok(), map[string]string{
		"versions":          "the SRS version castd is compatible with, and castd's own",
		"summaries":         "process and machine summary: CPU, memory, network, uptime",
		"rusages":           "getrusage(2) of the process",
		"self_proc_stats":   "/proc/self/stat of the process",
		"system_proc_stats": "/proc/stat of the machine",
		"meminfos":          "/proc/meminfo of the machine",
		"authors":           "license and authors",
		"features":          "features this build supports",
		"requests":          "echo of the request, at /api/v1/tests/requests",
		"vhosts":            "configured vhosts with traffic, GET /api/v1/vhosts/[id]",
		"streams":           "live streams, GET /api/v1/streams/[id]",
		"clients":           "connected clients, GET /api/v1/clients/[id], DELETE to kick",
		"raw":               "raw config API: rpc=raw|reload|reload-fetch",
		"clusters":          "origin cluster query for coworkers",
		"perf":              "performance statistics",
		"tcmalloc":          "not applicable to castd",
	}, map[string]string{
		"requests":  "echo the request",
		"errors":    "always answers an error code",
		"redirects": "always redirects to /api/v1/tests/errors",
		"[vhost]":   "requests whose Host is a vhost name are matched as that vhost",
	}})
}

// Versions answers /api/v1/versions; the server also mounts it on the HTTP
// server port, as SRS does, for readiness probes.
func (a *API) Versions(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, r, struct {
		envelope
		Data versionData `json:"data"`
	}{a.ok(), currentVersion()})
}

func (a *API) authors(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, r, struct {
		envelope
		Data map[string]string `json:"data"`
	}{a.ok(), map[string]string{"license": "MIT", "contributors": "the castd authors"}})
}

func (a *API) testRequests(w http.ResponseWriter, r *http.Request) {
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[k] = strings.Join(v, ",")
	}
	httpx.WriteJSON(w, r, struct {
		envelope
		Data any `json:"data"`
	}{a.ok(), map[string]any{"uri": r.URL.RequestURI(), "path": r.URL.Path, "METHOD": r.Method, "headers": headers}})
}

func (a *API) testErrors(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, r, codeOnly{CodeTestError})
}

func (a *API) testRedirects(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/api/v1/tests/errors", http.StatusMovedPermanently)
}

// paging reads SRS's start and count: start defaults to 0, count to 10 and
// is never below 10.
func paging(r *http.Request) (start, count int) {
	q := r.URL.Query()
	start, _ = strconv.Atoi(q.Get("start"))
	count, _ = strconv.Atoi(q.Get("count"))
	return max(start, 0), max(count, 10)
}

func page[T any](all []T, start, count int) []T {
	if start >= len(all) {
		return []T{}
	}
	return all[start:min(len(all), start+count)]
}

// idFrom returns the path element after prefix ("" for the list).
func idFrom(r *http.Request, prefix string) string {
	return strings.Trim(strings.TrimPrefix(r.URL.Path, prefix), "/")
}

func (a *API) wd() string {
	if a.Cwd != "" {
		return a.Cwd
	}
	wd, _ := os.Getwd()
	return wd
}
