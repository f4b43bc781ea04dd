// Package hooks calls SRS's HTTP hooks (vhost.http_hooks, spec §3): it posts
// SRS's JSON bodies, applies SRS's response contract, calls every URL of an
// event in order, and queues the asynchronous ones (on_dvr, on_hls,
// on_hls_notify) per stream.
//
// Every synchronous call runs on the caller's goroutine under the caller's
// context and its own timeout, and no lock is held during I/O, so a slow
// hook server delays only the client whose hook it answers.
package hooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/version"
)

// Defaults, as SRS where SRS has one.
const (
	DefaultTimeout          = 30 * time.Second // SRS_HTTP_CLIENT_TIMEOUT
	NotifyTimeout           = 10 * time.Second // on_hls_notify, SRS_HLS_NOTIFY_TIMEOUT
	DefaultMaxResponseBytes = 1 << 20
	DefaultQueuePerStream   = 64
	DefaultQueueTotal       = 4096
)

// DefaultUserAgent keeps SRS's "SRS/<version>(<code>)" shape, so hook
// servers that check for an "SRS/" prefix keep working, and names castd in
// the place of SRS's release code name.
const DefaultUserAgent = "SRS/" + version.SRSVersion + "(castd/" + version.Version + ")"

// Options configure a Client; the zero value works with SRS's defaults.
type Options struct {
	ServerID  string // the server id ("vid-..."), in every body
	ServiceID string // the id of this process run, in every body

	Timeout   time.Duration // per URL call; 0 is DefaultTimeout
	UserAgent string        // "" is DefaultUserAgent
	// Transport carries the requests; nil is a private transport that
	// ignores proxy environment variables and verifies TLS certificates.
	// Redirects are never followed whatever the transport.
	Transport http.RoundTripper
	// InsecureSkipVerify accepts any TLS certificate from hook servers, as
	// SRS does; it applies only to the default transport.
	InsecureSkipVerify bool
	// MaxResponseBytes bounds the response body read; a longer answer
	// fails with CodeResponseData. 0 is DefaultMaxResponseBytes.
	MaxResponseBytes int64

	// QueuePerStream and QueueTotal bound the asynchronous hooks waiting
	// per stream and in all; beyond them hooks are dropped, counted and
	// logged. 0 is the default.
	QueuePerStream int
	QueueTotal     int

	// Metrics also receives every observation the Client's own Counters
	// get; nil is none.
	Metrics Metrics
	Log     *slog.Logger // nil discards
}

// Client calls hooks. It is safe for concurrent use; create one per server
// and Close it on shutdown.
type Client struct {
	ids      ids
	timeout  time.Duration
	ua       string
	http     *http.Client
	maxBody  int64
	log      *slog.Logger
	counters Counters
	metrics  Metrics
	queue    *queue

	// base ends with the Client: asynchronous hooks and the detached
	// notifications (on_close, on_unpublish, on_stop) stop with it.
	base   context.Context
	cancel context.CancelFunc
}

// New returns a Client.
func New(opt Options) *Client {
	c := &Client{
		ids:     ids{server: opt.ServerID, service: opt.ServiceID},
		timeout: opt.Timeout,
		ua:      opt.UserAgent,
		maxBody: opt.MaxResponseBytes,
		log:     opt.Log,
		metrics: opt.Metrics,
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.ua == "" {
		c.ua = DefaultUserAgent
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	transport := opt.Transport
	if transport == nil {
		transport = newTransport(opt.InsecureSkipVerify)
	}
	c.http = &http.Client{
		Transport: transport,
		// A redirect is an answer like any other: its status is not 200 or
		// 201, so the hook fails (SRS #995, #1716).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.base, c.cancel = context.WithCancel(context.Background())
	c.queue = newQueue(c.base, opt.QueuePerStream, opt.QueueTotal, c.drop)
	return c
}

func newTransport(insecure bool) *http.Transport {
	t := &http.Transport{
		// Hooks usually go to a local service: HTTP_PROXY must not divert them.
		Proxy:               nil,
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // opt-in, as SRS
	}
	return t
}

// Counters returns the Client's counters of calls, failures, drops and latency.
func (c *Client) Counters() *Counters { return &c.counters }

// Shutdown stops accepting asynchronous hooks and waits for the queued ones
// to be sent until ctx ends; then it cancels what is left (counted as
// drops) and every detached call, and returns ctx's error.
func (c *Client) Shutdown(ctx context.Context) error {
	err := c.queue.drain(ctx)
	c.cancel()
	c.queue.wait()
	// Keep-alive connections to hook servers would otherwise outlive castd's
	// shutdown, each with its reading goroutine.
	c.http.CloseIdleConnections()
	return err
}

// Close cancels everything at once and waits for the queue's goroutines.
func (c *Client) Close() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = c.Shutdown(ctx)
}

// post sends one body to one URL and checks the answer against the contract.
func (c *Client) post(ctx context.Context, e Event, rawURL, clientID string, body []byte) ([]byte, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	status, resp, err := c.do(ctx, http.MethodPost, rawURL, body, c.maxBody+1)
	herr := func() *Error {
		if err != nil {
			return &Error{Event: e, URL: rawURL, ClientID: clientID, Request: string(body), Err: err}
		}
		if int64(len(resp)) > c.maxBody {
			return &Error{Event: e, URL: rawURL, ClientID: clientID, Request: string(body), Code: CodeResponseData,
				Status: status, Body: cutBody(resp), Reason: fmt.Sprintf("response longer than %d bytes", c.maxBody)}
		}
		if code, reason := ParseResponse(status, resp); code != 0 {
			return &Error{Event: e, URL: rawURL, ClientID: clientID, Request: string(body), Code: code,
				Status: status, Body: cutBody(resp), Reason: reason}
		}
		return nil
	}()
	latency := time.Since(start)
	if herr != nil {
		c.observe(e, latency, herr)
		return resp, herr
	}
	c.observe(e, latency, nil)
	c.log.Info("hook: ok", logging.CID(clientID), "event", e, "url", rawURL, "ms", latency.Milliseconds(),
		"request", string(body), "response", cutBody(resp))
	return resp, nil
}

// do makes one request and reads at most limit bytes of the answer.
func (c *Client) do(ctx context.Context, method, rawURL string, body []byte, limit int64) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, unwrapURLError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return resp.StatusCode, data, fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, data, nil
}

// unwrapURLError drops net/http's "Post URL:" prefix: the URL is already
// in our Error.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Client) observe(e Event, latency time.Duration, err *Error) {
	var failure error
	if err != nil {
		failure = err
	}
	c.counters.ObserveCall(e, latency, failure)
	if c.metrics != nil {
		c.metrics.ObserveCall(e, latency, failure)
	}
}

func (c *Client) drop(e Event, stream string, queued int) {
	c.counters.ObserveDrop(e)
	if c.metrics != nil {
		c.metrics.ObserveDrop(e)
	}
	c.log.Warn("hook: queue full, dropped", "event", e, "stream", stream, "queued", queued)
}
