package api

import (
	"bytes"
	"net/http"
	"runtime"
	"sort"
	"strconv"

	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/metrics"
	"github.com/castd/castd/internal/sysinfo"
	"github.com/castd/castd/internal/version"
)

// Metrics serves Prometheus text: SRS's exporter metrics (srs_*) with
// SRS's names and meanings, then castd's own (castd_*, go_*). While the
// exporter is off it answers {"code":1090}, as SRS's API does.
func (a *API) Metrics(w http.ResponseWriter, r *http.Request) {
	exp := a.config().Exporter
	if !exp.Enabled {
		httpx.WriteJSON(w, r, codeOnly{CodeExporterOff})
		return
	}
	// Render first, so a bug (an invalid name) is a 500, not half a scrape.
	var body bytes.Buffer
	if _, err := a.collect(exp.Label, exp.Tag).WriteTo(&body); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", metrics.ContentType)
	_, _ = w.Write(body.Bytes()) // a scraper that went away retries on its own
}

func (a *API) collect(label, tag string) *metrics.Set {
	var set metrics.Set
	sm := a.Sys.Last()
	a.srsMetrics(&set, sm, label, tag)
	a.streamMetrics(&set)
	hookMetrics(&set, a.Hooks, a.HookLatency)
	runtimeMetrics(&set)
	return &set
}

// srsMetrics are SRS's exporter families (SrsGoApiMetrics).
func (a *API) srsMetrics(set *metrics.Set, sm sysinfo.Sample, label, tag string) {
	L := metrics.L
	if u, ok := sysinfo.Uname(); ok {
		set.Gauge("srs_node_uname_info", "Labeled system information as provided by the uname system call.", 1,
			L("sysname", u.Sysname), L("nodename", u.Nodename), L("release", u.Release), L("version", u.Version), L("machine", u.Machine))
	}
	build := []metrics.Label{
		L("server", a.ServerID), L("service", a.ServiceID), L("pid", strconv.Itoa(a.Pid)),
		L("build_date", buildDate()), L("major", strconv.Itoa(version.SRSMajor)),
		L("version", version.SRSVersion), L("code", "castd/"+version.Version),
	}
	if label != "" {
		build = append(build, L("label", label))
	}
	if tag != "" {
		build = append(build, L("tag", tag))
	}
	set.Gauge("srs_build_info", "A metric with a constant '1' value labeled by build_date, version from which castd was built.", 1, build...)
	set.Gauge("srs_cpu_percent", "CPU used by castd, in percent of one core.", sm.Self.CPUPercent*100)
	set.Gauge("srs_memory", "Resident memory of castd, in kB.", float64(sm.Self.RSSKByte))
	u := a.Stats.ServerUsage()
	clients, total, errs := a.Stats.Counts()
	set.Counter("srs_send_bytes_total", "Bytes sent to every client.", float64(u.SendBytes))
	set.Counter("srs_receive_bytes_total", "Bytes received from every client.", float64(u.RecvBytes))
	set.Gauge("srs_streams", "Streams now (published or played).", float64(len(publicStreams(a.Hub.Streams()))))
	set.Gauge("srs_clients", "Clients connected now.", float64(clients))
	set.Counter("srs_clients_total", "Clients that ever connected.", float64(total))
	set.Counter("srs_clients_errs_total", "Clients whose connection ended with an error.", float64(errs))
}

// streamMetrics are castd's per-stream players and slow-viewer drops.
func (a *API) streamMetrics(set *metrics.Set) {
	type key struct{ vhost, app, stream string }
	viewers := map[key]int{}
	for _, c := range a.Stats.Clients() {
		if !c.Type.IsPublish() {
			viewers[key{c.Vhost, c.App, c.Stream}]++
		}
	}
	for _, s := range publicStreams(a.Hub.Streams()) {
		k := key{s.Key.Vhost, s.Key.App, s.Key.Name}
		if _, ok := viewers[k]; !ok {
			viewers[k] = 0 // a stream without players still shows, at 0
		}
	}
	keys := make([]key, 0, len(viewers))
	for k := range viewers {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].vhost != keys[j].vhost {
			return keys[i].vhost < keys[j].vhost
		}
		if keys[i].app != keys[j].app {
			return keys[i].app < keys[j].app
		}
		return keys[i].stream < keys[j].stream
	})
	const help = "Players of a stream now, all protocols."
	if len(keys) == 0 {
		// Keep the family visible (HELP and TYPE) with no series.
		set.Family("castd_stream_viewers", help, metrics.Gauge)
	}
	for _, k := range keys {
		set.Gauge("castd_stream_viewers", help, float64(viewers[k]),
			metrics.L("vhost", k.vhost), metrics.L("app", k.app), metrics.L("stream", k.stream))
	}
	packets, skips := a.Hub.ViewerDrops()
	set.Counter("castd_viewer_drops_total", "Packets slow viewers skipped to catch up with the live stream.", float64(packets))
	set.Counter("castd_viewer_skips_total", "Times a slow viewer fell behind and skipped to the newest keyframe.", float64(skips))
}

// hookMetrics count and time HTTP hook calls per event.
func hookMetrics(set *metrics.Set, counters *hooks.Counters, latency *metrics.HistogramVec) {
	if counters != nil {
		snap := counters.Snapshot()
		for _, c := range snap {
			set.Counter("castd_hook_requests_total", "HTTP hook calls, one per URL.", float64(c.Calls), metrics.L("event", string(c.Event)))
		}
		for _, c := range snap {
			set.Counter("castd_hook_failures_total", "HTTP hook calls that failed or were rejected.", float64(c.Failures), metrics.L("event", string(c.Event)))
		}
		for _, c := range snap {
			set.Counter("castd_hook_drops_total", "Asynchronous hooks dropped on a full queue.", float64(c.Drops), metrics.L("event", string(c.Event)))
		}
	}
	if latency != nil {
		const help = "Latency of HTTP hook calls, in seconds."
		hs := latency.Snapshots()
		if len(hs) == 0 {
			set.Family("castd_hook_latency_seconds", help, metrics.Histogram)
		}
		for _, h := range hs {
			set.Histogram("castd_hook_latency_seconds", help, h)
		}
	}
}

// runtimeMetrics are the Go runtime's, with client_golang's names where it
// has them. ReadMemStats stops the world for microseconds: fine per scrape.
func runtimeMetrics(set *metrics.Set) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	set.Gauge("go_goroutines", "Goroutines that currently exist.", float64(runtime.NumGoroutine()))
	set.Gauge("go_memstats_heap_alloc_bytes", "Heap bytes allocated and still in use.", float64(ms.HeapAlloc))
	set.Gauge("go_memstats_heap_inuse_bytes", "Heap bytes in in-use spans.", float64(ms.HeapInuse))
	set.Gauge("go_memstats_sys_bytes", "Bytes obtained from the system.", float64(ms.Sys))
	set.Counter("go_gc_cycles_total", "Completed GC cycles.", float64(ms.NumGC))
	set.Counter("go_gc_pause_seconds_total", "Time the world was stopped for GC, in seconds.", float64(ms.PauseTotalNs)/1e9)
}

// buildDate is the build date SRS puts in srs_build_info.
func buildDate() string {
	date, _ := buildTime()
	return date
}
