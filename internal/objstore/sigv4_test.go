package objstore

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The vectors below are the worked examples of AWS's SigV4 documentation:
// the IAM ListUsers request of the general signing guide, and the S3 API
// reference's GET Object, PUT Object and GET Bucket (list) examples.

func newReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// signatureOf extracts Signature= from an Authorization header.
func signatureOf(t *testing.T, r *http.Request) string {
	t.Helper()
	auth := r.Header.Get("Authorization")
	_, sig, ok := strings.Cut(auth, "Signature=")
	if !ok {
		t.Fatalf("no signature in %q", auth)
	}
	return sig
}

func TestSignIAMExample(t *testing.T) {
	at := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	s := Signer{Credentials: Credentials{AccessKey: "AKIDEXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
		Region: "us-east-1", Service: "iam"}
	r := newReq(t, "GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08")
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")

	if got := hex.EncodeToString(SigningKey(s.Credentials.SecretKey, at, "us-east-1", "iam")); got != "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9" {
		t.Errorf("signing key %s", got)
	}
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	creq, signed := s.canonicalRequest(r, EmptySHA256)
	wantCreq := "GET\n/\nAction=ListUsers&Version=2010-05-08\n" +
		"content-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n" +
		"content-type;host;x-amz-date\n" + EmptySHA256
	if creq != wantCreq || signed != "content-type;host;x-amz-date" {
		t.Errorf("canonical request\n%s\nwant\n%s", creq, wantCreq)
	}
	if sum := sha256.Sum256([]byte(creq)); hex.EncodeToString(sum[:]) != "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59" {
		t.Errorf("canonical request hash %x", sum)
	}
	s.Sign(r, EmptySHA256, at)
	want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, " +
		"SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
	if got := r.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization\n%s\nwant\n%s", got, want)
	}
}

func TestSignS3Examples(t *testing.T) {
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	s3 := Signer{Credentials: Credentials{AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		Region: "us-east-1", Service: "s3"}
	tests := []struct {
		name, method, url string
		headers           map[string]string
		payload           string
		signedHeaders     string
		signature         string
	}{
		{"GET object", "GET", "https://examplebucket.s3.amazonaws.com/test.txt",
			map[string]string{"Range": "bytes=0-9"}, EmptySHA256,
			"host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
		// The key test$file.text: '$' must be %24 in the canonical URI.
		{"PUT object", "PUT", "https://examplebucket.s3.amazonaws.com/test$file.text",
			map[string]string{"Date": "Fri, 24 May 2013 00:00:00 GMT", "X-Amz-Storage-Class": "REDUCED_REDUNDANCY"},
			sha256Hex("Welcome to Amazon S3."),
			"date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
		// Query parameters sorted: max-keys before prefix.
		{"GET bucket list", "GET", "https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2",
			nil, EmptySHA256,
			"host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReq(t, tt.method, tt.url)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			r.Header.Set("X-Amz-Content-Sha256", tt.payload)
			s3.Sign(r, tt.payload, at)
			if got := signatureOf(t, r); got != tt.signature {
				t.Errorf("signature %s, want %s", got, tt.signature)
			}
			if !strings.Contains(r.Header.Get("Authorization"), "SignedHeaders="+tt.signedHeaders+",") {
				t.Errorf("Authorization %q, want SignedHeaders=%s", r.Header.Get("Authorization"), tt.signedHeaders)
			}
			if r.Header.Get("X-Amz-Date") != "20130524T000000Z" {
				t.Errorf("X-Amz-Date %q", r.Header.Get("X-Amz-Date"))
			}
		})
	}
}

func TestSignSessionTokenIsSigned(t *testing.T) {
	s := Signer{Credentials: Credentials{AccessKey: "AK", SecretKey: "SK", SessionToken: "tok en"}, Region: "eu-west-1", Service: "s3"}
	r := newReq(t, "PUT", "http://127.0.0.1:9000/b/k")
	s.Sign(r, EmptySHA256, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	if r.Header.Get("X-Amz-Security-Token") != "tok en" ||
		!strings.Contains(r.Header.Get("Authorization"), "SignedHeaders=host;x-amz-date;x-amz-security-token,") ||
		!strings.Contains(r.Header.Get("Authorization"), "Credential=AK/20240102/eu-west-1/s3/aws4_request,") {
		t.Errorf("headers %v", r.Header)
	}
	// A different token is a different signature: it is bound to the request.
	r2 := newReq(t, "PUT", "http://127.0.0.1:9000/b/k")
	s.Credentials.SessionToken = "other"
	s.Sign(r2, EmptySHA256, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	if signatureOf(t, r) == signatureOf(t, r2) {
		t.Error("the session token does not change the signature")
	}
}

func TestCanonicalHeaderValues(t *testing.T) {
	r := newReq(t, "GET", "http://h.example:8080/b/k")
	r.Header.Set("X-Amz-Meta-Note", "  a   b  ")
	r.Header.Add("X-Amz-Meta-Multi", "one")
	r.Header.Add("X-Amz-Meta-Multi", " two ")
	r.Header.Set("User-Agent", "not signed")
	creq, signed := Signer{Region: "r", Service: "s3"}.canonicalRequest(r, "UNSIGNED")
	for _, want := range []string{"host:h.example:8080\n", "x-amz-meta-note:a b\n", "x-amz-meta-multi:one,two\n"} {
		if !strings.Contains(creq, want) {
			t.Errorf("canonical request lacks %q:\n%s", want, creq)
		}
	}
	if signed != "host;x-amz-meta-multi;x-amz-meta-note" {
		t.Errorf("signed headers %q", signed)
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"uploads", "uploads="},
		{"uploadId=abc&partNumber=2", "partNumber=2&uploadId=abc"},
		{"a=2&a=1", "a=1&a=2"},
		{"prefix=a%2Fb&delimiter=%2F", "delimiter=%2F&prefix=a%2Fb"},
		{"k=a+b", "k=a%20b"},
		{"k=%7E~", "k=~~"},
		{"&&x=1&", "x=1"},
	}
	for _, tt := range tests {
		if got := canonicalQuery(tt.raw); got != tt.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

func TestEncode(t *testing.T) {
	tests := []struct{ in, want, wantPath string }{
		{"A-z_0.9~", "A-z_0.9~", "A-z_0.9~"},
		{"live/cam 1.flv", "live%2Fcam%201.flv", "live/cam%201.flv"},
		{"a+b=c&d?e#f", "a%2Bb%3Dc%26d%3Fe%23f", "a%2Bb%3Dc%26d%3Fe%23f"},
		{"test$file.text", "test%24file.text", "test%24file.text"},
		{"100%", "100%25", "100%25"},
		{"ключ/ä", "%D0%BA%D0%BB%D1%8E%D1%87%2F%C3%A4", "%D0%BA%D0%BB%D1%8E%D1%87/%C3%A4"},
		{"*'()!:@,;", "%2A%27%28%29%21%3A%40%2C%3B", "%2A%27%28%29%21%3A%40%2C%3B"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := Encode(tt.in); got != tt.want {
			t.Errorf("Encode(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := EncodePath(tt.in); got != tt.wantPath {
			t.Errorf("EncodePath(%q) = %q, want %q", tt.in, got, tt.wantPath)
		}
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
