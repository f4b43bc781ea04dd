package hooks

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/logging"
)

// OnDVR queues on_dvr for every URL of h.OnDVR and returns at once. Hooks
// of one stream (Request.StreamURL) are sent in the order queued; failures
// are logged.
func (c *Client) OnDVR(h conf.HTTPHooks, r Request, f DVRFile) {
	if !h.Enabled || len(h.OnDVR) == 0 {
		return
	}
	c.enqueue(OnDVR, h.OnDVR, r, c.ids.dvr(r, f))
}

// OnHLS queues on_hls for every URL of h.OnHLS, as OnDVR.
func (c *Client) OnHLS(h conf.HTTPHooks, r Request, s HLSSegment) {
	if !h.Enabled || len(h.OnHLS) == 0 {
		return
	}
	c.enqueue(OnHLS, h.OnHLS, r, c.ids.hls(r, s))
}

// OnHLSNotify queues on_hls_notify for every URL of h.OnHLSNotify: a GET of
// the expanded URL template that reads at most nbNotify bytes
// (hls_nb_notify) and never fails anything. uri is the segment's URI as
// written in the playlist. Call it after OnHLS for the same segment: both
// share the stream's queue, so they go out in that order.
func (c *Client) OnHLSNotify(h conf.HTTPHooks, r Request, uri string, nbNotify int) {
	if !h.Enabled || len(h.OnHLSNotify) == 0 {
		return
	}
	urls := h.OnHLSNotify
	c.queue.push(r.streamURL(), job{event: OnHLSNotify, run: func(ctx context.Context) {
		for _, u := range urls {
			if err := c.Notify(ctx, u, r, uri, nbNotify); err != nil {
				c.log.Warn("hook: failed, ignored", logging.CID(r.ClientID), "event", OnHLSNotify, "err", err)
			}
		}
	}})
}

func (c *Client) enqueue(e Event, urls []string, r Request, v any) {
	c.queue.push(r.streamURL(), job{event: e, run: func(ctx context.Context) {
		c.notifyAll(ctx, e, urls, r.ClientID, v)
	}})
}

// Notify performs one on_hls_notify now: it expands tmpl (see
// ExpandNotifyURL), GETs it with NotifyTimeout, and reads at most nbNotify
// bytes of the answer, whose status and content are ignored as SRS does.
// The error, for logs only, says why no answer came.
func (c *Client) Notify(ctx context.Context, tmpl string, r Request, uri string, nbNotify int) error {
	target := ExpandNotifyURL(tmpl, c.ids.server, c.ids.service, r, uri)
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, NotifyTimeout)
	defer cancel()
	read, status, err := c.get(ctx, target, nbNotify)
	latency := time.Since(start)
	if err != nil {
		herr := &Error{Event: OnHLSNotify, URL: target, ClientID: r.ClientID, Err: err}
		c.observe(OnHLSNotify, latency, herr)
		return herr
	}
	c.observe(OnHLSNotify, latency, nil)
	c.log.Info("hook: ok", logging.CID(r.ClientID), "event", OnHLSNotify, "url", target, "status", status,
		"ms", latency.Milliseconds(), "read", read)
	return nil
}

// get GETs target and discards at most limit bytes of the body.
func (c *Client) get(ctx context.Context, target string, limit int) (read int64, status int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, 0, unwrapURLError(err)
	}
	defer resp.Body.Close()
	if limit < 0 {
		limit = 0
	}
	read, err = io.Copy(io.Discard, io.LimitReader(resp.Body, int64(limit)))
	if err != nil {
		return read, resp.StatusCode, fmt.Errorf("read response: %w", err)
	}
	return read, resp.StatusCode, nil
}

// ExpandNotifyURL builds an on_hls_notify URL as SRS does: when uri is
// already an absolute http(s) URL it replaces the whole template; then
// [server_id], [service_id], [app], [stream], [ts_url] and [param] are
// replaced, in that order.
func ExpandNotifyURL(tmpl, serverID, serviceID string, r Request, uri string) string {
	u := tmpl
	if isHTTPURL(uri) {
		u = uri
	}
	// One after the other, as SRS: a value may hold a later variable.
	u = strings.ReplaceAll(u, "[server_id]", serverID)
	u = strings.ReplaceAll(u, "[service_id]", serviceID)
	u = strings.ReplaceAll(u, "[app]", r.App)
	u = strings.ReplaceAll(u, "[stream]", r.stream())
	u = strings.ReplaceAll(u, "[ts_url]", uri)
	return strings.ReplaceAll(u, "[param]", r.param())
}
