// Package objstore is a small client for S3-compatible object storage (AWS
// S3, MinIO, Cloudflare R2, Ceph RGW...), written on the standard library:
// SigV4 signing with the SHA-256 of every body, PutObject streamed from a
// file, multipart uploads for large files with bounded memory, path-style
// and virtual-hosted addressing, S3's XML errors as Go errors, and bounded
// retries with backoff for server and network errors.
//
// Bodies are always signed with their SHA-256, never as UNSIGNED-PAYLOAD:
// the store then refuses a body altered on the way, which matters for the
// plain-HTTP endpoints self-hosted stores often use. The price is reading
// each file (or part) twice, once to hash it and once to send it.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Defaults for Config's zero values.
const (
	DefaultMultipartThreshold = 64 << 20
	DefaultPartSize           = 16 << 20
	DefaultMaxAttempts        = 4
	DefaultRetryDelay         = 500 * time.Millisecond
	DefaultRegion             = "us-east-1"
	// MaxKeyLength is S3's limit on an object key, in bytes.
	MaxKeyLength = 1024
	maxParts     = 10000
	maxPartSize  = 5 << 30
	maxRetryWait = 10 * time.Second
)

// Config describes a bucket and how to reach it.
type Config struct {
	// Endpoint is the service's base URL: https://s3.us-east-1.amazonaws.com,
	// http://127.0.0.1:9000 (MinIO), https://ACCOUNT.r2.cloudflarestorage.com.
	Endpoint string
	Region   string // "" is us-east-1
	Bucket   string
	// PathStyle addresses objects as ENDPOINT/BUCKET/KEY (MinIO and most
	// self-hosted stores); otherwise as BUCKET.ENDPOINT-HOST/KEY
	// (virtual-hosted, AWS's default).
	PathStyle   bool
	Credentials Credentials

	// HTTPClient sends the requests; nil is a client of its own with
	// http.DefaultTransport's settings. Its Timeout should be 0: each
	// attempt gets a deadline that grows with its size (see AttemptTimeout).
	HTTPClient *http.Client
	// MultipartThreshold: objects larger than this go in several parts.
	MultipartThreshold int64
	// PartSize is the size of each part but the last; it grows for objects
	// that would need more than S3's 10,000 parts. S3 wants at least 5 MiB.
	PartSize int64
	// MaxAttempts bounds the tries of each request (1 = no retry).
	MaxAttempts int
	// RetryDelay is the wait before the first retry; it doubles with each
	// retry (with jitter), up to 10 s.
	RetryDelay time.Duration
	// AttemptTimeout returns the deadline of one attempt that sends n body
	// bytes; nil is 60 s plus 4 s per MiB (a floor of 256 KiB/s).
	AttemptTimeout func(n int64) time.Duration
	// Now is the clock for signatures; nil is time.Now.
	Now func() time.Time
}

// Client talks to one bucket. It is safe for concurrent use.
type Client struct {
	cfg    Config
	base   *url.URL // scheme and host of the endpoint (with the bucket when virtual-hosted)
	signer Signer
	http   *http.Client
}

// New checks cfg and returns a client for its bucket.
func New(cfg Config) (*Client, error) {
	base, err := ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	if err := CheckBucket(cfg.Bucket, cfg.PathStyle); err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	if cfg.Credentials.AccessKey == "" != (cfg.Credentials.SecretKey == "") {
		return nil, errors.New("objstore: set both the access key and the secret key, or neither (anonymous)")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.MultipartThreshold <= 0 {
		cfg.MultipartThreshold = DefaultMultipartThreshold
	}
	if cfg.PartSize <= 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if cfg.AttemptTimeout == nil {
		cfg.AttemptTimeout = func(n int64) time.Duration {
			return time.Minute + time.Duration(n>>20)*4*time.Second
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if !cfg.PathStyle {
		base.Host = cfg.Bucket + "." + base.Host
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return &Client{cfg: cfg, base: base, http: hc,
		signer: Signer{Credentials: cfg.Credentials, Region: cfg.Region, Service: "s3"}}, nil
}

// ParseEndpoint checks an endpoint URL: http or https, a host, no user,
// path, query or fragment. A default port is dropped, so the Host that is
// signed is the one every server sees. Its errors, like CheckBucket's, name
// no package: the config reports them at the directive's line.
func ParseEndpoint(endpoint string) (*url.URL, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("endpoint %q: want an http:// or https:// URL", endpoint)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("endpoint %q has no host", endpoint)
	case u.User != nil:
		return nil, fmt.Errorf("endpoint %q: credentials go in the access and secret keys, not the URL", endpoint)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("endpoint %q: only scheme, host and port are allowed", endpoint)
	}
	if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		u.Host = strings.TrimSuffix(u.Host, ":"+p)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// CheckBucket checks a bucket name: S3's DNS-compatible rules (3 to 63
// lower-case letters, digits, '.' and '-', starting and ending with a letter
// or digit) for virtual-hosted addressing, where it is part of the host
// name; with path style, stores are laxer, so only what would break the
// path is refused.
func CheckBucket(bucket string, pathStyle bool) error {
	if bucket == "" {
		return errors.New("no bucket")
	}
	if pathStyle {
		if len(bucket) > 255 || strings.ContainsAny(bucket, "/?#\\") || strings.IndexFunc(bucket, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return fmt.Errorf("bucket %q: not a usable bucket name", bucket)
		}
		return nil
	}
	ok := len(bucket) >= 3 && len(bucket) <= 63 && alnumLower(bucket[0]) && alnumLower(bucket[len(bucket)-1]) &&
		!strings.Contains(bucket, "..")
	for i := 0; ok && i < len(bucket); i++ {
		ok = alnumLower(bucket[i]) || bucket[i] == '.' || bucket[i] == '-'
	}
	if !ok {
		return fmt.Errorf("bucket %q is not DNS-compatible (3-63 of a-z 0-9 . -); use path-style addressing", bucket)
	}
	return nil
}

func alnumLower(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// CheckKey checks an object key: 1 to 1024 bytes of UTF-8.
func CheckKey(key string) error {
	switch {
	case key == "":
		return errors.New("objstore: empty object key")
	case len(key) > MaxKeyLength:
		return fmt.Errorf("objstore: object key of %d bytes; S3 takes at most %d", len(key), MaxKeyLength)
	case !utf8.ValidString(key):
		return fmt.Errorf("objstore: object key %q is not UTF-8", key)
	}
	return nil
}

// URL is where an object lives, e.g. for logs: s3://bucket/key.
func (c *Client) URL(key string) string { return "s3://" + c.cfg.Bucket + "/" + key }

// objectURL is the request URL of key with the given query. The path is
// encoded the S3 way and set as RawPath, so what goes on the wire is what
// was signed.
func (c *Client) objectURL(key string, query url.Values) *url.URL {
	p := "/" + key
	if c.cfg.PathStyle {
		p = "/" + c.cfg.Bucket + "/" + key
	}
	u := *c.base
	u.Path = p
	u.RawPath = EncodePath(p)
	u.RawQuery = encodeQuery(query)
	return &u
}

// encodeQuery writes a query the way canonicalQuery reads it back.
func encodeQuery(q url.Values) string {
	var parts []string
	for k, vs := range q {
		for _, v := range vs {
			if v == "" { // ?uploads, as S3 documents it
				parts = append(parts, Encode(k))
				continue
			}
			parts = append(parts, Encode(k)+"="+Encode(v))
		}
	}
	// Order does not matter to the signature, but a stable URL is easier
	// to read in logs and tests.
	slices.Sort(parts)
	return strings.Join(parts, "&")
}

// request is one S3 call: its body is produced anew for each attempt.
type request struct {
	op       string
	method   string
	key      string
	query    url.Values
	header   http.Header
	body     func() io.Reader // nil: no body
	size     int64
	sha256   string // hex SHA-256 of the body
	okStatus int    // the success status; 0 is 200
}

// response is what a successful call returned; body is read in full (S3's
// success bodies are small XML documents), up to maxResponseBody.
type response struct {
	header http.Header
	body   []byte
}

const maxResponseBody = 1 << 20

// expectContinueSize is the body size from which requests ask for
// "100 Continue" first.
const expectContinueSize = 1 << 20

// do sends r, retrying temporary failures with backoff until MaxAttempts or
// ctx ends.
func (c *Client) do(ctx context.Context, r request) (*response, error) {
	var lastErr error
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, r)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			return nil, fmt.Errorf("s3: %s %s: %w", r.op, c.URL(r.key), ctx.Err())
		}
		if attempt >= c.cfg.MaxAttempts || !retryable(err) {
			if attempt > 1 {
				return nil, fmt.Errorf("%w (after %d attempts)", lastErr, attempt)
			}
			return nil, lastErr
		}
		if err := sleepCtx(ctx, c.backoff(attempt)); err != nil {
			return nil, fmt.Errorf("s3: %s %s: %w", r.op, c.URL(r.key), err)
		}
	}
}

// backoff is the wait after attempt n: RetryDelay doubled n-1 times, capped
// at 10 s, with up to 50% of jitter so that many clients do not retry in step.
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.RetryDelay << min(n-1, 20)
	if d <= 0 || d > maxRetryWait {
		d = maxRetryWait
	}
	return d/2 + rand.N(d/2+1)
}

// retryable reports errors worth another attempt: temporary S3 errors and
// network failures; not a refusal (4xx) nor a cancelled context.
func retryable(err error) bool {
	var se *Error
	if errors.As(err, &se) {
		return se.Temporary()
	}
	return !errors.Is(err, context.Canceled)
}

func (c *Client) attempt(ctx context.Context, r request) (*response, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.AttemptTimeout(r.size))
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = r.body()
	}
	u := c.objectURL(r.key, r.query)
	req, err := http.NewRequestWithContext(actx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("s3: %s %s: %w", r.op, c.URL(r.key), err)
	}
	req.URL = u // NewRequest re-parsed it: keep the encoded path as built and signed
	req.ContentLength = r.size
	if r.body == nil || r.size == 0 {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	} else {
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(r.body()), nil }
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if r.size >= expectContinueSize {
		// Let the store refuse (bad key, no bucket) before megabytes are sent.
		req.Header.Set("Expect", "100-continue")
	}
	hash := r.sha256
	if hash == "" {
		hash = EmptySHA256
	}
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if !c.cfg.Credentials.Anonymous() {
		c.signer.Sign(req, hash, c.cfg.Now())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("s3: %s %s: %w", r.op, c.URL(r.key), err)
	}
	defer resp.Body.Close()
	ok := r.okStatus
	if ok == 0 {
		ok = http.StatusOK
	}
	if resp.StatusCode != ok {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		e := ParseError(resp.StatusCode, b)
		e.Op, e.Bucket, e.Key = r.op, c.cfg.Bucket, r.key
		return nil, e
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return nil, fmt.Errorf("s3: %s %s: read the answer: %w", r.op, c.URL(r.key), err)
	}
	if len(b) > 0 && isErrorDocument(b) {
		// CompleteMultipartUpload can fail after sending 200 OK.
		e := ParseError(resp.StatusCode, b)
		e.Op, e.Bucket, e.Key = r.op, c.cfg.Bucket, r.key
		return nil, e
	}
	return &response{header: resp.Header, body: b}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
