package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/streamurl"
)

// maxClusterAnswer bounds a coworker's answer; SRS's is a few hundred bytes.
const maxClusterAnswer = 64 << 10

// ErrNoOrigin says no coworker publishes the stream.
var ErrNoOrigin = errors.New("no coworker publishes the stream")

// Discover asks each coworker ("host:apiport") in order whether it
// publishes key, SRS's origin cluster: POST
// /api/v1/clusters?vhost=&ip=&app=&stream=&coworker=. It returns the RTMP
// URL of the first origin that does, for an RTMP 302; req is the player's
// request (its host and param carry over). Coworkers that fail to answer
// are skipped, as SRS does; the error lists them when nobody answered yes.
func Discover(ctx context.Context, client *http.Client, coworkers []string, key hub.Key, req *streamurl.Request) (string, error) {
	var failed []error
	for _, cw := range coworkers {
		host, port, err := askCoworker(ctx, client, cw, key, req.Host)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		if host == "" {
			continue
		}
		r := streamurl.Request{Host: req.Host, Vhost: key.Vhost, App: key.App, Stream: key.Name, Param: req.Param}
		return r.RTMPURL(host, port), nil
	}
	return "", errors.Join(append([]error{ErrNoOrigin}, failed...)...)
}

// askCoworker returns the origin a coworker names, "" when it has none.
func askCoworker(ctx context.Context, client *http.Client, coworker string, key hub.Key, reqHost string) (string, int, error) {
	// SRS's order, and host:port left readable as SRS sends it.
	esc := func(v string) string { return strings.ReplaceAll(url.QueryEscape(v), "%3A", ":") }
	u := "http://" + coworker + "/api/v1/clusters?vhost=" + esc(key.Vhost) + "&ip=" + esc(reqHost) +
		"&app=" + esc(key.App) + "&stream=" + esc(key.Name) + "&coworker=" + esc(coworker)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(""))
	if err != nil {
		return "", 0, fmt.Errorf("coworker %s: %w", coworker, err)
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return "", 0, fmt.Errorf("coworker %s: %w", coworker, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxClusterAnswer+1))
	if err != nil {
		return "", 0, fmt.Errorf("coworker %s: read answer: %w", coworker, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("coworker %s: %s", coworker, resp.Status)
	}
	host, port, err := ParseClusterAnswer(body)
	if err != nil {
		return "", 0, fmt.Errorf("coworker %s: %w", coworker, err)
	}
	return host, port, nil
}

// ParseClusterAnswer reads a /api/v1/clusters answer:
// {"code":0,"data":{"origin":{"ip":..,"port":..}}}, or origin null when
// the coworker does not publish the stream (host "" then).
func ParseClusterAnswer(body []byte) (host string, port int, err error) {
	if len(body) > maxClusterAnswer {
		return "", 0, fmt.Errorf("clusters answer larger than %d bytes", maxClusterAnswer)
	}
	var a struct {
		Code *int `json:"code"`
		Data struct {
			Origin *struct {
				IP   string  `json:"ip"`
				Port float64 `json:"port"`
			} `json:"origin"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return "", 0, fmt.Errorf("clusters answer: %w", err)
	}
	if a.Code == nil || *a.Code != 0 {
		return "", 0, fmt.Errorf("clusters answer: code is not 0: %.100s", body)
	}
	o := a.Data.Origin
	if o == nil {
		return "", 0, nil
	}
	if o.IP == "" || strings.ContainsAny(o.IP, "/?#@ ") {
		return "", 0, fmt.Errorf("clusters answer: bad origin ip %q", o.IP)
	}
	if o.Port <= 0 || o.Port > 65535 || o.Port != float64(int(o.Port)) {
		return "", 0, fmt.Errorf("clusters answer: bad origin port %v", o.Port)
	}
	return o.IP, int(o.Port), nil
}
