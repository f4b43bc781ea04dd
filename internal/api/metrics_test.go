package api

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/metrics"
	"github.com/castd/castd/internal/metrics/metricstest"
)

func TestMetricsDisabled(t *testing.T) {
	f := newFixture(t)
	withConfig(t, f, `listen 1935; exporter { enabled off; }`)
	if rec := f.do(t, "GET", "/metrics"); rec.Body.String() != `{"code":1090}` || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("disabled exporter: %q %q", rec.Body.String(), rec.Header().Get("Content-Type"))
	}
	if rec := f.do(t, "GET", "/metrics?callback=cb"); rec.Body.String() != `cb({"code":1090})` {
		t.Errorf("JSONP: %q", rec.Body.String())
	}
}

func TestMetricsExposition(t *testing.T) {
	f := newFixture(t)
	withConfig(t, f, `listen 1935; exporter { enabled on; label cn-east; tag edge1; }`)
	counters := &hooks.Counters{}
	latency := metrics.NewHistogramVec("event", metrics.LatencyBounds)
	counters.ObserveCall(hooks.OnPublish, 20*time.Millisecond, nil)
	counters.ObserveCall(hooks.OnPublish, 3*time.Second, errors.New("refused"))
	latency.With(string(hooks.OnPublish)).Observe(0.02)
	latency.With(string(hooks.OnPublish)).Observe(3)
	f.api.Hooks, f.api.HookLatency = counters, latency

	rec := f.do(t, "GET", "/metrics")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != metrics.ContentType {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	fams := metricstest.Check(t, rec.Body.String())
	for name, typ := range map[string]metrics.Type{
		"srs_node_uname_info": metrics.Gauge, "srs_build_info": metrics.Gauge, "srs_cpu_percent": metrics.Gauge,
		"srs_memory": metrics.Gauge, "srs_send_bytes_total": metrics.Counter, "srs_receive_bytes_total": metrics.Counter,
		"srs_streams": metrics.Gauge, "srs_clients": metrics.Gauge, "srs_clients_total": metrics.Counter,
		"srs_clients_errs_total": metrics.Counter, "castd_stream_viewers": metrics.Gauge,
		"castd_viewer_drops_total": metrics.Counter, "castd_viewer_skips_total": metrics.Counter,
		"castd_hook_requests_total": metrics.Counter, "castd_hook_failures_total": metrics.Counter,
		"castd_hook_drops_total": metrics.Counter, "castd_hook_latency_seconds": metrics.Histogram,
		"go_goroutines": metrics.Gauge, "go_memstats_heap_alloc_bytes": metrics.Gauge, "go_gc_cycles_total": metrics.Counter,
	} {
		if fams[name].Type != typ {
			t.Errorf("%s: type %q, want %q", name, fams[name].Type, typ)
		}
	}
	build := map[string]string{"server": "vid-server", "service": "svc12345", "pid": "4242", "build_date": buildDate(),
		"major": "6", "version": "6.0.157", "code": fams["srs_build_info"].Samples[0].Labels["code"], "label": "cn-east", "tag": "edge1"}
	if v := metricstest.Value(t, fams, "srs_build_info", build); v != 1 {
		t.Errorf("srs_build_info %v", v)
	}
	want := map[string]float64{"srs_streams": 1, "srs_clients": 2, "srs_clients_total": 2, "srs_clients_errs_total": 0,
		"srs_send_bytes_total": 4000, "srs_receive_bytes_total": 5000, "castd_viewer_drops_total": 0}
	for name, v := range want {
		if got := metricstest.Value(t, fams, name, map[string]string{}); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if v := metricstest.Value(t, fams, "castd_stream_viewers", map[string]string{"vhost": "__defaultVhost__", "app": "live", "stream": "livestream"}); v != 1 {
		t.Errorf("viewers %v", v)
	}
	pub := map[string]string{"event": string(hooks.OnPublish)}
	if metricstest.Value(t, fams, "castd_hook_requests_total", pub) != 2 || metricstest.Value(t, fams, "castd_hook_failures_total", pub) != 1 {
		t.Error("hook counters")
	}
	pub["le"] = "0.025"
	if v := metricstest.Value(t, fams, "castd_hook_latency_seconds_bucket", pub); v != 1 {
		t.Errorf("latency bucket le=0.025: %v", v)
	}
	delete(pub, "le")
	if v := metricstest.Value(t, fams, "castd_hook_latency_seconds_count", pub); v != 2 {
		t.Errorf("latency count %v", v)
	}
	if v := metricstest.Value(t, fams, "go_goroutines", map[string]string{}); v < 1 {
		t.Errorf("goroutines %v", v)
	}
	if v := metricstest.Value(t, fams, "srs_memory", map[string]string{}); v <= 0 {
		t.Errorf("srs_memory %v", v)
	}
	// The exporter's label and tag are optional: without them, no such labels.
	withConfig(t, f, `listen 1935; exporter { enabled on; }`)
	fams = metricstest.Check(t, f.do(t, "GET", "/metrics").Body.String())
	labels := fams["srs_build_info"].Samples[0].Labels
	if _, ok := labels["label"]; ok {
		t.Errorf("empty label written: %v", labels)
	}
	if labels["pid"] != strconv.Itoa(4242) {
		t.Errorf("pid label %v", labels)
	}
}
