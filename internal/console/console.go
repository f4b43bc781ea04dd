// Package console serves castd's management console at /console/ on the
// HTTP API's port: a single page that polls the API (summaries, vhosts,
// streams, clients) and kicks clients. As SRS, castd serves
// <http_server.dir>/console/ instead when that directory exists, so an
// operator who copied SRS's own console there keeps it.
package console

import (
	"net/http"
	"os"
	"path/filepath"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/static"
)

// Path is where the console is mounted; the mux answers "/console" with a
// redirect to it.
const Path = "/console/"

// Mount serves the console at Path on mux for cfg. With http_api.auth on,
// every console path asks for the API's credentials (SRS leaves its
// console's files open and guards only the API calls they make).
func Mount(mux *httpx.Mux, cfg *conf.Config) {
	var h http.Handler = newHandler(cfg)
	if a := cfg.HTTPAPI.Auth; a.Enabled {
		h = httpx.RequireBasicAuth(a.Username, a.Password, h)
	}
	mux.Handle(Path, h)
}

// handler picks the operator's console on disk when there is one, else
// castd's embedded console.
type handler struct {
	disk     static.Handler // <http_server.dir>/console at Path
	embedded *embedded
}

func newHandler(cfg *conf.Config) *handler {
	return &handler{
		disk:     static.Handler{Dir: filepath.Join(cfg.HTTPServer.Dir, "console"), Mount: Path},
		embedded: newEmbedded(EndpointsFrom(cfg)),
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		httpx.MethodNotAllowed(w)
		return
	}
	// Checked per request, so a console copied in (or removed) takes
	// effect without a restart. static.Handler never serves outside its
	// dir and lists no directories.
	if st, err := os.Stat(h.disk.Dir); err == nil && st.IsDir() {
		h.disk.ServeHTTP(w, r)
		return
	}
	h.embedded.ServeHTTP(w, r)
}
