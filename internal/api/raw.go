package api

import (
	"net/http"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/httpx"
)

// ReloadStatus is the last reload's outcome, for rpc=reload-fetch.
type ReloadStatus struct {
	Err   int    // 0 on success, else an SRS error code (1023: the config did not load)
	Msg   string // "Success" or what failed
	State int    // one of the ReloadState values
	RID   string // the reload's id, new at each reload; "" before the first
}

// SRS's reload states (SrsReloadState).
const (
	ReloadStateInit         = 0
	ReloadStateParsing      = 10
	ReloadStateTransforming = 20
	ReloadStateApplying     = 30
	ReloadStateFinished     = 90
)

// config returns the running config, or SRS's defaults when the API runs
// without one (tests).
func (a *API) config() *conf.Config {
	if a.Config != nil {
		if c := a.Config(); c != nil {
			return c
		}
	}
	return &conf.Config{}
}

type rawAPIState struct {
	Enabled     bool `json:"enabled"`
	AllowReload bool `json:"allow_reload"`
	AllowQuery  bool `json:"allow_query"`
	AllowUpdate bool `json:"allow_update"`
}

type rawHTTPAPI struct {
	Enabled     bool        `json:"enabled"`
	Listen      string      `json:"listen"`
	Crossdomain bool        `json:"crossdomain"`
	RawAPI      rawAPIState `json:"raw_api"`
}

// raw is SRS's /api/v1/raw: rpc=raw dumps the http_api settings (always
// allowed), rpc=reload reloads as SIGHUP does when raw_api and
// allow_reload are on, rpc=reload-fetch tells how the last reload went.
// Like SRS, these answers carry no server/service/pid envelope.
func (a *API) raw(w http.ResponseWriter, r *http.Request) {
	api := a.config().HTTPAPI
	rpc := r.URL.Query().Get("rpc")
	if rpc == "raw" {
		httpx.WriteJSON(w, r, struct {
			Code    int        `json:"code"`
			HTTPAPI rawHTTPAPI `json:"http_api"`
		}{CodeSuccess, rawHTTPAPI{
			Enabled: api.Enabled, Listen: api.Listen, Crossdomain: api.Crossdomain,
			// query and update were removed in SRS v4 (#2653): always off.
			RawAPI: rawAPIState{Enabled: api.RawAPI.Enabled, AllowReload: api.RawAPI.AllowReload},
		}})
		return
	}
	if !api.RawAPI.Enabled {
		httpx.WriteJSON(w, r, codeOnly{CodeRawDisabled})
		return
	}
	switch rpc {
	case "reload":
		if !api.RawAPI.AllowReload || a.Reload == nil {
			httpx.WriteJSON(w, r, codeOnly{CodeRawDisabled})
			return
		}
		// The reload runs on its own, as SIGHUP's does: it may close the
		// listener this answer goes out on.
		a.Reload()
		httpx.WriteJSON(w, r, codeOnly{CodeSuccess})
	case "reload-fetch":
		st := ReloadStatus{Msg: "Success"}
		if a.ReloadStatus != nil {
			st = a.ReloadStatus()
		}
		type fetch struct {
			Err   int    `json:"err"`
			Msg   string `json:"msg"`
			State int    `json:"state"`
			RID   string `json:"rid"`
		}
		httpx.WriteJSON(w, r, struct {
			Code int   `json:"code"`
			Data fetch `json:"data"`
		}{CodeSuccess, fetch{st.Err, st.Msg, st.State, st.RID}})
	default:
		httpx.WriteJSON(w, r, codeOnly{CodeConfigRaw})
	}
}
