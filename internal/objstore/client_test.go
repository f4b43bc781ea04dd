package objstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/castd/castd/internal/objstore/s3test"
)

const (
	testAccess = "AKIDCASTDTEST"
	testSecret = "castd/secret+key=="
	testBucket = "recordings"
)

// fakeS3 runs the fake service on loopback.
func fakeS3(t *testing.T, opt s3test.Options) (*s3test.Server, *httptest.Server) {
	t.Helper()
	if opt.AccessKey == "" {
		opt.AccessKey, opt.SecretKey = testAccess, testSecret
	}
	if opt.Buckets == nil {
		opt.Buckets = []string{testBucket}
	}
	fake := s3test.New(opt)
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	return fake, hs
}

// testConfig is a path-style client config for hs with fast retries.
func testConfig(hs *httptest.Server) Config {
	return Config{
		Endpoint: hs.URL, Bucket: testBucket, PathStyle: true,
		Credentials: Credentials{AccessKey: testAccess, SecretKey: testSecret},
		RetryDelay:  time.Millisecond, HTTPClient: hs.Client(),
	}
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func noRejections(t *testing.T, fake *s3test.Server) {
	t.Helper()
	if r := fake.Rejected(); len(r) > 0 {
		t.Errorf("the fake refused requests: %q", r)
	}
}

func TestPutObjectPathStyle(t *testing.T) {
	fake, hs := fakeS3(t, s3test.Options{})
	c := newClient(t, testConfig(hs))
	body := []byte("FLV\x01\x05 some recording bytes")
	// A key with characters S3 wants encoded, kept as one path.
	key := "live/cam 1/ä+b$=c&d.flv"
	info, err := c.Upload(context.Background(), key, bytes.NewReader(body), int64(len(body)), PutOptions{ContentType: "video/x-flv"})
	if err != nil {
		t.Fatal(err)
	}
	noRejections(t, fake)
	if got, ok := fake.Object(testBucket, key); !ok || !bytes.Equal(got, body) {
		t.Fatalf("stored %q (%v), keys %q", got, ok, fake.Keys(testBucket))
	}
	if info.Size != int64(len(body)) || info.Parts != 0 || info.ETag == "" || info.Key != key {
		t.Errorf("info %+v", info)
	}
	if c.URL(key) != "s3://recordings/"+key {
		t.Errorf("URL %s", c.URL(key))
	}
}

func TestPutObjectLarge(t *testing.T) {
	// 3 MiB in one PutObject, sent after "100 Continue".
	fake, hs := fakeS3(t, s3test.Options{})
	c := newClient(t, testConfig(hs))
	data := bytes.Repeat([]byte("0123456789abcdef"), 3<<16)
	if _, err := c.Upload(context.Background(), "big.flv", bytes.NewReader(data), int64(len(data)), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.Object(testBucket, "big.flv"); !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes, want %d", len(got), len(data))
	}
	noRejections(t, fake)
}

func TestPutObjectVirtualHosted(t *testing.T) {
	fake, hs := fakeS3(t, s3test.Options{Domain: "s3.test:9000"})
	// Every host name dials the fake: BUCKET.s3.test is virtual-hosted.
	addr := hs.Listener.Addr().String()
	var hosts []string
	cfg := testConfig(hs)
	cfg.Endpoint, cfg.PathStyle = "http://s3.test:9000", false
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		hosts = append(hosts, a)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	c := newClient(t, cfg)
	if _, err := c.Upload(context.Background(), "a/b.mp4", strings.NewReader("mp4"), 3, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	noRejections(t, fake)
	ops := fake.Ops()
	if len(ops) != 1 || !ops[0].Virtual || ops[0].Bucket != testBucket || ops[0].Key != "a/b.mp4" {
		t.Fatalf("ops %+v", ops)
	}
	if len(hosts) != 1 || hosts[0] != "recordings.s3.test:9000" {
		t.Errorf("dialed %q", hosts)
	}
}

func TestUploadFileMultipart(t *testing.T) {
	fake, hs := fakeS3(t, s3test.Options{})
	cfg := testConfig(hs)
	cfg.MultipartThreshold, cfg.PartSize = 1000, 300
	c := newClient(t, cfg)
	data := bytes.Repeat([]byte("0123456789abcdefghij"), 125) // 2500 bytes: 9 parts, the last of 100
	path := filepath.Join(t.TempDir(), "rec.flv")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := c.UploadFile(context.Background(), "live/rec.flv", path, PutOptions{ContentType: "video/x-flv"})
	if err != nil {
		t.Fatal(err)
	}
	noRejections(t, fake)
	got, _ := fake.Object(testBucket, "live/rec.flv")
	if !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes, want %d", len(got), len(data))
	}
	if info.Parts != 9 || !strings.HasSuffix(info.ETag, `-9"`) {
		t.Errorf("info %+v", info)
	}
	var names []string
	for _, op := range fake.Ops() {
		names = append(names, op.Name)
	}
	want := "CreateMultipartUpload" + strings.Repeat(" UploadPart", 9) + " CompleteMultipartUpload"
	if strings.Join(names, " ") != want {
		t.Errorf("ops %v", names)
	}
	if fake.PendingUploads() != 0 {
		t.Errorf("%d uploads left open", fake.PendingUploads())
	}
}

func TestUploadAtThreshold(t *testing.T) {
	fake, hs := fakeS3(t, s3test.Options{})
	cfg := testConfig(hs)
	cfg.MultipartThreshold, cfg.PartSize = 10, 4
	c := newClient(t, cfg)
	for _, n := range []int{0, 10, 11} {
		data := bytes.Repeat([]byte{'x'}, n)
		info, err := c.Upload(context.Background(), "k", bytes.NewReader(data), int64(n), PutOptions{})
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, _ := fake.Object(testBucket, "k")
		wantParts := map[int]int{0: 0, 10: 0, 11: 3}[n]
		if !bytes.Equal(got, data) || info.Parts != wantParts {
			t.Errorf("%d bytes: stored %d, parts %d want %d", n, len(got), info.Parts, wantParts)
		}
	}
	noRejections(t, fake)
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		failures []*s3test.Failure // answers to the first PutObjects
		wantErr  string
		wantOps  int
	}{
		{"503 then success", []*s3test.Failure{{Status: 503, Code: "SlowDown"}}, "", 2},
		{"500 twice then success", []*s3test.Failure{{Status: 500, Code: "InternalError"}, {Status: 500, Code: "InternalError"}}, "", 3},
		{"dropped connection then success", []*s3test.Failure{{Drop: true}}, "", 2},
		{"400 RequestTimeout is retried", []*s3test.Failure{{Status: 400, Code: "RequestTimeout"}}, "", 2},
		{"403 is not retried", []*s3test.Failure{{Status: 403, Code: "AccessDenied"}}, "403 AccessDenied", 1},
		{"404 is not retried", []*s3test.Failure{{Status: 404, Code: "NoSuchBucket"}}, "404 NoSuchBucket", 1},
		{"attempts are bounded", []*s3test.Failure{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}},
			"(after 4 attempts)", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			fake, hs := fakeS3(t, s3test.Options{Fail: func(op s3test.Op) *s3test.Failure {
				if i := int(n.Add(1)) - 1; i < len(tt.failures) {
					return tt.failures[i]
				}
				return nil
			}})
			c := newClient(t, testConfig(hs))
			_, err := c.Upload(context.Background(), "k.flv", strings.NewReader("data"), 4, PutOptions{})
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			if got := len(fake.Ops()); got != tt.wantOps {
				t.Errorf("%d requests, want %d", got, tt.wantOps)
			}
			noRejections(t, fake)
		})
	}
}

func TestErrorsFromTheService(t *testing.T) {
	fake, hs := fakeS3(t, s3test.Options{})
	cfg := testConfig(hs)
	cfg.Bucket = "missing"
	c := newClient(t, cfg)
	_, err := c.Upload(context.Background(), "live/a.flv", strings.NewReader("x"), 1, PutOptions{})
	var se *Error
	if !errors.As(err, &se) || se.Code != "NoSuchBucket" || se.StatusCode != 404 || se.RequestID != "fake-request" || !IsCode(err, "NoSuchBucket") {
		t.Fatalf("err %#v", err)
	}
	want := "s3: PutObject s3://missing/live/a.flv 404 NoSuchBucket: The specified bucket does not exist (request id fake-request)"
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	noRejections(t, fake)

	// A wrong secret: the fake recomputes the signature and refuses it.
	cfg = testConfig(hs)
	cfg.Credentials.SecretKey = "wrong"
	_, err = newClient(t, cfg).Upload(context.Background(), "k", strings.NewReader("x"), 1, PutOptions{})
	if !IsCode(err, "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: %v", err)
	}
	// Anonymous requests are not signed at all.
	cfg = testConfig(hs)
	cfg.Credentials = Credentials{}
	_, err = newClient(t, cfg).Upload(context.Background(), "k", strings.NewReader("x"), 1, PutOptions{})
	if !IsCode(err, "AccessDenied") {
		t.Errorf("anonymous: %v", err)
	}
}

// changingReader serves different bytes on its second read of the same
// range, as a file rewritten during the upload would.
type changingReader struct {
	data  []byte
	reads atomic.Int32
}

func (r *changingReader) ReadAt(p []byte, off int64) (int, error) {
	n := copy(p, r.data[off:])
	if r.reads.Add(1) > 1 && n > 0 {
		p[0] ^= 0xff
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestBodyHashIsChecked(t *testing.T) {
	fake, hs := fakeS3(t, s3test.Options{})
	cfg := testConfig(hs)
	cfg.MaxAttempts = 1
	c := newClient(t, cfg)
	r := &changingReader{data: []byte("0123456789")}
	_, err := c.PutObject(context.Background(), "k", r, 10, PutOptions{})
	if !IsCode(err, "XAmzContentSHA256Mismatch") {
		t.Fatalf("err %v: the payload hash must cover the bytes sent", err)
	}
	if _, ok := fake.Object(testBucket, "k"); ok {
		t.Error("a body that does not match its hash was stored")
	}
}

func TestShortFile(t *testing.T) {
	_, hs := fakeS3(t, s3test.Options{})
	c := newClient(t, testConfig(hs))
	_, err := c.PutObject(context.Background(), "k", strings.NewReader("abc"), 10, PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "read 3 bytes at 0, want 10") {
		t.Fatalf("err %v", err)
	}
}

func TestCancel(t *testing.T) {
	// The service keeps failing; cancelling stops the backoff at once.
	_, hs := fakeS3(t, s3test.Options{Fail: func(s3test.Op) *s3test.Failure { return &s3test.Failure{Status: 503} }})
	cfg := testConfig(hs)
	cfg.RetryDelay, cfg.MaxAttempts = time.Hour, 3
	c := newClient(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Upload(ctx, "k", strings.NewReader("x"), 1, PutOptions{})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 10*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestAttemptTimeout(t *testing.T) {
	// A server that never answers: each attempt ends at its deadline and
	// is retried, within MaxAttempts.
	var calls atomic.Int32
	block := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() { close(block) })
	cfg := testConfig(hs)
	cfg.MaxAttempts = 2
	cfg.AttemptTimeout = func(int64) time.Duration { return 100 * time.Millisecond }
	_, err := newClient(t, cfg).Upload(context.Background(), "k", strings.NewReader("x"), 1, PutOptions{})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || calls.Load() != 2 {
		t.Fatalf("err %v, %d calls", err, calls.Load())
	}
}

func TestNewChecksConfig(t *testing.T) {
	base := Config{Endpoint: "http://127.0.0.1:9000", Bucket: "b-1", PathStyle: true}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"ok", func(*Config) {}, ""},
		{"ftp", func(c *Config) { c.Endpoint = "ftp://h" }, "want an http:// or https:// URL"},
		{"no scheme", func(c *Config) { c.Endpoint = "s3.amazonaws.com" }, "want an http:// or https:// URL"},
		{"no host", func(c *Config) { c.Endpoint = "https://" }, "has no host"},
		{"path", func(c *Config) { c.Endpoint = "https://h/prefix" }, "only scheme, host and port"},
		{"query", func(c *Config) { c.Endpoint = "https://h/?x=1" }, "only scheme, host and port"},
		{"user", func(c *Config) { c.Endpoint = "https://ak:sk@h" }, "not the URL"},
		{"bad url", func(c *Config) { c.Endpoint = "http://[::1" }, "endpoint"},
		{"no bucket", func(c *Config) { c.Bucket = "" }, "no bucket"},
		{"slash in bucket", func(c *Config) { c.Bucket = "a/b" }, "not a usable bucket name"},
		{"path style keeps odd buckets", func(c *Config) { c.Bucket = "My_Bucket" }, ""},
		{"virtual needs DNS names", func(c *Config) { c.Bucket, c.PathStyle = "My_Bucket", false }, "not DNS-compatible"},
		{"virtual dots", func(c *Config) { c.Bucket, c.PathStyle = "a..b", false }, "not DNS-compatible"},
		{"virtual short", func(c *Config) { c.Bucket, c.PathStyle = "ab", false }, "not DNS-compatible"},
		{"virtual ok", func(c *Config) { c.Bucket, c.PathStyle = "my.bucket-1", false }, ""},
		{"half credentials", func(c *Config) { c.Credentials.AccessKey = "AK" }, "both"},
	}
	for _, tt := range tests {
		cfg := base
		tt.edit(&cfg)
		_, err := New(cfg)
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestObjectURL(t *testing.T) {
	tests := []struct {
		endpoint  string
		pathStyle bool
		want      string
	}{
		{"http://127.0.0.1:9000", true, "http://127.0.0.1:9000/bkt/live/a%20b.flv?partNumber=1&uploadId=x%2By"},
		{"https://s3.us-east-1.amazonaws.com:443/", false, "https://bkt.s3.us-east-1.amazonaws.com/live/a%20b.flv?partNumber=1&uploadId=x%2By"},
		{"http://minio:80", true, "http://minio/bkt/live/a%20b.flv?partNumber=1&uploadId=x%2By"},
	}
	for _, tt := range tests {
		c, err := New(Config{Endpoint: tt.endpoint, Bucket: "bkt", PathStyle: tt.pathStyle})
		if err != nil {
			t.Fatal(err)
		}
		u := c.objectURL("live/a b.flv", map[string][]string{"uploadId": {"x+y"}, "partNumber": {"1"}})
		if u.String() != tt.want {
			t.Errorf("%s: %s, want %s", tt.endpoint, u, tt.want)
		}
	}
}

func TestCheckKey(t *testing.T) {
	for key, ok := range map[string]bool{"a": true, "": false, strings.Repeat("k", 1024): true, strings.Repeat("k", 1025): false, "\xff": false} {
		if err := CheckKey(key); (err == nil) != ok {
			t.Errorf("CheckKey(%.20q): %v", key, err)
		}
	}
}

func TestPartSize(t *testing.T) {
	c := &Client{cfg: Config{PartSize: 16 << 20}}
	tests := []struct{ size, want int64 }{
		{100 << 20, 16 << 20},
		{16 << 20 * 10000, 16 << 20},
		{16<<20*10000 + 1, 17 << 20},
		{1 << 40, 105 << 20},
	}
	for _, tt := range tests {
		got, err := c.partSize(tt.size)
		if err != nil || got != tt.want || (tt.size+got-1)/got > maxParts {
			t.Errorf("partSize(%d) = %d, %v; want %d", tt.size, got, err, tt.want)
		}
	}
	if _, err := c.partSize(MaxObjectSize + 1); err == nil {
		t.Error("an object over 5 TiB was accepted")
	}
}
