package api

import (
	"net"
	"net/http"
	"strconv"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
)

type clusterQuery struct {
	IP     string `json:"ip"`
	Vhost  string `json:"vhost"`
	App    string `json:"app"`
	Stream string `json:"stream"`
}

// clusterOrigin tells a coworker where to send players: this server.
type clusterOrigin struct {
	IP      string   `json:"ip"`
	Port    int      `json:"port"` // the first RTMP listen port
	Vhost   string   `json:"vhost"`
	API     string   `json:"api"`     // host:port of this API
	Routers []string `json:"routers"` // the APIs the answer went through, to detect loops
}

// clusters is SRS's origin-cluster query (cow dumps): coworkers ask each
// origin whether it publishes vhost/app/stream; origin is null when not.
// Like SRS, the answer carries no server/service/pid envelope.
func (a *API) clusters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := clusterQuery{IP: q.Get("ip"), Vhost: q.Get("vhost"), App: q.Get("app"), Stream: q.Get("stream")}
	cfg := a.config()
	var origin *clusterOrigin
	// An unknown vhost is looked up in __defaultVhost__, as SRS does.
	if v := cfg.Vhost(query.Vhost); v != nil && a.Hub != nil {
		s := a.Hub.Stream(hub.Key{Vhost: v.Name, App: query.App, Name: query.Stream})
		if s != nil && s.Publishing() {
			origin = originOf(cfg, v.Name, q.Get("coworker"), localIP(r))
		}
	}
	type data struct {
		Query  clusterQuery   `json:"query"`
		Origin *clusterOrigin `json:"origin"`
	}
	httpx.WriteJSON(w, r, struct {
		Code int  `json:"code"`
		Data data `json:"data"`
	}{CodeSuccess, data{query, origin}})
}

// originOf describes this server. Its IP is the RTMP listen address unless
// that is loopback or any, then the host the coworker reached us by, then
// the address this request arrived on.
func originOf(cfg *conf.Config, vhost, coworker, local string) *clusterOrigin {
	o := &clusterOrigin{Port: 1935, Vhost: vhost}
	var listenIP string
	if len(cfg.Listen) > 0 {
		if ip, port, err := conf.SplitEndpoint(cfg.Listen[0]); err == nil {
			listenIP, o.Port = ip, port
		}
	}
	if addr := net.ParseIP(listenIP); addr != nil && !addr.IsLoopback() && !addr.IsUnspecified() {
		o.IP = listenIP
	}
	if o.IP == "" && coworker != "" {
		o.IP = coworker
		if host, _, err := net.SplitHostPort(coworker); err == nil {
			o.IP = host
		}
	}
	if o.IP == "" {
		o.IP = local
	}
	o.API = cfg.HTTPAPI.Listen
	if ip, port, err := conf.SplitEndpoint(o.API); err == nil && ip == "" {
		o.API = net.JoinHostPort(o.IP, strconv.Itoa(port))
	}
	o.Routers = []string{o.API}
	return o
}

// localIP is the address the request arrived on.
func localIP(r *http.Request) string {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return ""
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return ""
	}
	return host
}
