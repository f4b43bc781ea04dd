package objstore

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/castd/castd/internal/objstore/s3test"
)

// multipartClient uploads anything over 100 bytes in parts of 40.
func multipartClient(t *testing.T, fail func(s3test.Op) *s3test.Failure) (*s3test.Server, *Client) {
	t.Helper()
	fake, hs := fakeS3(t, s3test.Options{Fail: fail})
	cfg := testConfig(hs)
	cfg.MultipartThreshold, cfg.PartSize = 100, 40
	return fake, newClient(t, cfg)
}

var multipartData = bytes.Repeat([]byte("castd-dvr/"), 25) // 250 bytes: 7 parts

func opNames(fake *s3test.Server) string {
	var names []string
	for _, op := range fake.Ops() {
		n := op.Name
		if op.PartNumber > 0 {
			n += "#" + string(rune('0'+op.PartNumber))
		}
		names = append(names, n)
	}
	return strings.Join(names, " ")
}

func TestMultipartPartRetried(t *testing.T) {
	var failed atomic.Bool
	fake, c := multipartClient(t, func(op s3test.Op) *s3test.Failure {
		if op.Name == "UploadPart" && op.PartNumber == 3 && failed.CompareAndSwap(false, true) {
			return &s3test.Failure{Status: 500, Code: "InternalError"}
		}
		return nil
	})
	info, err := c.Upload(context.Background(), "seg.flv", bytes.NewReader(multipartData), int64(len(multipartData)), PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := fake.Object(testBucket, "seg.flv")
	if !bytes.Equal(got, multipartData) || info.Parts != 7 {
		t.Fatalf("stored %d bytes in %d parts", len(got), info.Parts)
	}
	want := "CreateMultipartUpload UploadPart#1 UploadPart#2 UploadPart#3 UploadPart#3 UploadPart#4 UploadPart#5 UploadPart#6 UploadPart#7 CompleteMultipartUpload"
	if got := opNames(fake); got != want {
		t.Errorf("ops %s\nwant %s", got, want)
	}
	noRejections(t, fake)
}

func TestMultipartAbortOnFailure(t *testing.T) {
	tests := []struct {
		name, failOp string
		part         int
		status       int
		code         string
		wantErr      string
		wantOps      string
	}{
		{"a part refused", "UploadPart", 2, 403, "AccessDenied", "UploadPart 2 s3://recordings/seg.flv 403 AccessDenied",
			"CreateMultipartUpload UploadPart#1 UploadPart#2 AbortMultipartUpload"},
		{"a part failing every time", "UploadPart", 4, 503, "SlowDown", "(after 4 attempts)",
			"CreateMultipartUpload UploadPart#1 UploadPart#2 UploadPart#3" + strings.Repeat(" UploadPart#4", 4) + " AbortMultipartUpload"},
		{"complete refused", "CompleteMultipartUpload", 0, 400, "InvalidPart", "CompleteMultipartUpload s3://recordings/seg.flv 400 InvalidPart",
			"CreateMultipartUpload UploadPart#1 UploadPart#2 UploadPart#3 UploadPart#4 UploadPart#5 UploadPart#6 UploadPart#7 CompleteMultipartUpload AbortMultipartUpload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := multipartClient(t, func(op s3test.Op) *s3test.Failure {
				if op.Name == tt.failOp && op.PartNumber == tt.part {
					return &s3test.Failure{Status: tt.status, Code: tt.code}
				}
				return nil
			})
			_, err := c.Upload(context.Background(), "seg.flv", bytes.NewReader(multipartData), int64(len(multipartData)), PutOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			if got := opNames(fake); got != tt.wantOps {
				t.Errorf("ops %s\nwant %s", got, tt.wantOps)
			}
			if fake.PendingUploads() != 0 {
				t.Errorf("the failed upload was not aborted: %d pending", fake.PendingUploads())
			}
			if _, ok := fake.Object(testBucket, "seg.flv"); ok {
				t.Error("a failed upload left an object")
			}
			noRejections(t, fake)
		})
	}
}

func TestMultipartAbortAfterCancel(t *testing.T) {
	// The upload's context is cancelled while part 2 is being sent: the
	// abort still goes out, on a context of its own.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake, c := multipartClient(t, func(op s3test.Op) *s3test.Failure {
		if op.Name == "UploadPart" && op.PartNumber == 2 {
			cancel()
			return &s3test.Failure{Status: 503}
		}
		return nil
	})
	_, err := c.Upload(ctx, "seg.flv", bytes.NewReader(multipartData), int64(len(multipartData)), PutOptions{})
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("err %v", err)
	}
	if fake.PendingUploads() != 0 || !strings.HasSuffix(opNames(fake), "AbortMultipartUpload") {
		t.Errorf("not aborted: %s", opNames(fake))
	}
}

func TestCompleteErrorIn200(t *testing.T) {
	// CompleteMultipartUpload may answer 200 OK with an <Error> body; an
	// InternalError there is retried like a 500.
	fake, hs := fakeS3(t, s3test.Options{})
	var once atomic.Bool
	wrap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") && once.CompareAndSwap(false, true) {
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`))
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(wrap.Close)
	_ = hs
	cfg := testConfig(wrap)
	cfg.MultipartThreshold, cfg.PartSize = 100, 40
	c := newClient(t, cfg)
	if _, err := c.Upload(context.Background(), "seg.flv", bytes.NewReader(multipartData), int64(len(multipartData)), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.Object(testBucket, "seg.flv"); !bytes.Equal(got, multipartData) {
		t.Fatalf("stored %d bytes", len(got))
	}
}
