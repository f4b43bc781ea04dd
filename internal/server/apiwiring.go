package server

import (
	"context"
	"sync"
	"time"

	"github.com/castd/castd/internal/api"
	"github.com/castd/castd/internal/heartbeat"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/metrics"
)

// reloadStatus is the last reload's outcome, for /api/v1/raw?rpc=reload-fetch.
type reloadStatus struct {
	mu sync.Mutex
	st api.ReloadStatus
}

// noteReload records a reload: applied when err is nil, else refused
// because the config did not load (the running one is unchanged).
func (s *Server) noteReload(err error) {
	st := api.ReloadStatus{Msg: "Success", State: api.ReloadStateFinished, RID: ids.NewCID()}
	if err != nil {
		st = api.ReloadStatus{Err: api.CodeConfigInvalid, Msg: err.Error(), State: api.ReloadStateParsing, RID: st.RID}
	}
	s.reloads.mu.Lock()
	s.reloads.st = st
	s.reloads.mu.Unlock()
}

// ReloadFailed records a reload whose config did not load, so the API's
// reload-fetch reports it; Reload records the ones it applies.
func (s *Server) ReloadFailed(err error) { s.noteReload(err) }

func (s *Server) reloadState() api.ReloadStatus {
	s.reloads.mu.Lock()
	defer s.reloads.mu.Unlock()
	if s.reloads.st.RID == "" {
		return api.ReloadStatus{Msg: "Success", State: api.ReloadStateInit}
	}
	return s.reloads.st
}

// hookLatency times hook calls for /metrics (castd_hook_latency_seconds);
// the hook client's own Counters count them.
type hookLatency struct{ vec *metrics.HistogramVec }

func (h hookLatency) ObserveCall(e hooks.Event, latency time.Duration, _ error) {
	h.vec.With(string(e)).Observe(latency.Seconds())
}

func (h hookLatency) ObserveDrop(hooks.Event) {}

// startHeartbeat runs the heartbeat until ctx ends. It reads the config at
// every beat, so a reload turns it on or off.
func (s *Server) startHeartbeat(ctx context.Context) {
	hb := &heartbeat.Sender{
		Config: s.config, ServerID: s.id, ServiceID: s.service, Pid: s.api.Pid,
		Summaries: s.api.SummariesData, Log: s.log,
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		hb.Run(ctx)
	}()
}
