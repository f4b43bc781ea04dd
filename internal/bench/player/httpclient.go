package player

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/castd/castd/internal/bench/failure"
)

// userAgent is what castbench's HTTP players send.
const userAgent = "castbench"

// maxIdlePerHost bounds the idle connections a shared client keeps to one
// server. HLS players hold a connection only while they fetch, a small
// part of their time, so a few hundred serve thousands of players without
// reconnecting.
const maxIdlePerHost = 256

// NewHTTPClient returns an HTTP/1.1 client for HLS players: keep-alive
// connections (up to min(players, 256) idle ones per host), opt's connect
// timeout and TLS settings, no proxy, no compression, and up to 4
// redirects. Share one among the players of a run, and call its
// CloseIdleConnections once they have ended.
func NewHTTPClient(opt Options, players int) *http.Client {
	opt = opt.withDefaults()
	dialer := &net.Dialer{Timeout: opt.ConnectTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   opt.ConnectTimeout,
		ResponseHeaderTimeout: opt.ConnectTimeout,
		MaxIdleConnsPerHost:   min(max(players, 1), maxIdlePerHost),
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true, // count what the server sends, as players mostly get it
	}
	if opt.TLS != nil {
		tr.TLSClientConfig = opt.TLS.Clone()
	}
	return &http.Client{Transport: tr, CheckRedirect: checkRedirect}
}

// checkRedirect follows up to maxRedirects redirects, as HTTP-FLV players do.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return failure.Mark(failure.HTTPStatus, fmt.Errorf("GET %s: more than %d redirects", via[0].URL, maxRedirects))
	}
	return nil
}
