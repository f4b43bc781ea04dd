package s3test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestVerifyAWSExample checks the fake's own SigV4 verification against
// the PUT Object example of AWS's S3 API reference, independently of the
// objstore client.
func TestVerifyAWSExample(t *testing.T) {
	const (
		body = "Welcome to Amazon S3."
		auth = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
			"SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class," +
			"Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
	)
	tests := []struct {
		name, body, auth, code string
	}{
		{"the documented request", body, auth, ""},
		{"another body", "Welcome to Amazon S3!", auth, "XAmzContentSHA256Mismatch"},
		{"another signature", body, strings.Replace(auth, "98ad", "98ae", 1), "SignatureDoesNotMatch"},
		{"another key", body, strings.Replace(auth, "AKIAIOSFODNN7EXAMPLE", "AKIDOTHER", 1), "InvalidAccessKeyId"},
		{"no signature", body, "", "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
				Buckets: []string{"examplebucket"}, Domain: "s3.amazonaws.com"})
			r := httptest.NewRequest("PUT", "/test%24file.text", strings.NewReader(tt.body))
			r.Host = "examplebucket.s3.amazonaws.com"
			r.Header.Set("Date", "Fri, 24 May 2013 00:00:00 GMT")
			r.Header.Set("X-Amz-Date", "20130524T000000Z")
			r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
			r.Header.Set("X-Amz-Content-Sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
			r.Header.Set("Authorization", tt.auth)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if tt.code == "" {
				got, ok := s.Object("examplebucket", "test$file.text")
				if w.Code != http.StatusOK || !ok || string(got) != body {
					t.Fatalf("status %d %s, stored %q %v, rejected %q", w.Code, w.Body, got, ok, s.Rejected())
				}
				return
			}
			if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "<Code>"+tt.code+"</Code>") {
				t.Errorf("status %d %s, want 403 %s", w.Code, w.Body, tt.code)
			}
			if len(s.Keys("examplebucket")) != 0 {
				t.Error("a refused request stored an object")
			}
		})
	}
}

func TestPathMustBeS3Encoded(t *testing.T) {
	s := New(Options{Buckets: []string{"b"}})
	r := httptest.NewRequest("PUT", "/b/a$b", strings.NewReader(""))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "InvalidURI") {
		t.Errorf("status %d %s", w.Code, w.Body)
	}
}
