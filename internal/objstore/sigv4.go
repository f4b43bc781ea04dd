package objstore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// AWS Signature Version 4, as S3 reads it: the canonical URI is the path
// encoded once (S3 neither double-encodes nor normalizes paths, unlike the
// other AWS services), and the payload's SHA-256 is part of the signature.

const (
	algorithm = "AWS4-HMAC-SHA256"
	// EmptySHA256 is the hex SHA-256 of an empty body.
	EmptySHA256   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	amzDateLayout = "20060102T150405Z"
)

// Credentials are an access key pair, plus the session token that temporary
// credentials (STS, instance roles) come with.
type Credentials struct {
	AccessKey    string
	SecretKey    string
	SessionToken string
}

// Anonymous reports credentials that sign nothing: requests go out without
// an Authorization header (a bucket policy must allow them).
func (c Credentials) Anonymous() bool { return c.AccessKey == "" && c.SecretKey == "" }

// Signer signs requests with SigV4 for one region and service ("s3").
type Signer struct {
	Credentials Credentials
	Region      string
	Service     string
}

// unsignedHeaders are left out of the signature: the HTTP client or a
// proxy on the way may add or rewrite them.
var unsignedHeaders = map[string]bool{
	"authorization": true, "user-agent": true, "expect": true, "accept-encoding": true,
	"connection": true, "content-length": true, "transfer-encoding": true, "x-amzn-trace-id": true,
}

// Sign adds X-Amz-Date, X-Amz-Security-Token (with a session token) and
// Authorization to req. payloadHash is the hex SHA-256 of the body (S3 also
// wants it in X-Amz-Content-Sha256, which the caller sets). Every header
// already on req is signed, except the few a client or proxy may change;
// Host is req.Host, or req.URL.Host when that is empty.
func (s Signer) Sign(req *http.Request, payloadHash string, at time.Time) {
	at = at.UTC()
	req.Header.Set("X-Amz-Date", at.Format(amzDateLayout))
	if s.Credentials.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", s.Credentials.SessionToken)
	}
	canonical, signed := s.canonicalRequest(req, payloadHash)
	scope := at.Format("20060102") + "/" + s.Region + "/" + s.Service + "/aws4_request"
	sig := hmacSHA256(SigningKey(s.Credentials.SecretKey, at, s.Region, s.Service), stringToSign(at, scope, canonical))
	req.Header.Set("Authorization", algorithm+" Credential="+s.Credentials.AccessKey+"/"+scope+
		", SignedHeaders="+signed+", Signature="+hex.EncodeToString(sig))
}

// SigningKey derives the key that signs one day's requests to one region
// and service.
func SigningKey(secret string, at time.Time, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), at.UTC().Format("20060102"))
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func stringToSign(at time.Time, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + at.UTC().Format(amzDateLayout) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// canonicalRequest returns SigV4's canonical request for req and the
// signed header names joined by ";".
func (s Signer) canonicalRequest(req *http.Request, payloadHash string) (canonical, signedHeaders string) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	values := map[string]string{"host": trimHeaderValue(host)}
	for name, vs := range req.Header {
		lower := strings.ToLower(name)
		if unsignedHeaders[lower] || lower == "host" {
			continue
		}
		trimmed := make([]string, len(vs))
		for i, v := range vs {
			trimmed[i] = trimHeaderValue(v)
		}
		values[lower] = strings.Join(trimmed, ",")
	}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(req.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(req.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(req.URL.RawQuery))
	b.WriteByte('\n')
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(values[n])
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	signedHeaders = strings.Join(names, ";")
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), signedHeaders
}

// canonicalURI is the decoded path encoded the S3 way; the client sends
// exactly this form (see objectURL), so both ends agree.
func canonicalURI(u *url.URL) string {
	p := u.Path
	if p == "" {
		return "/"
	}
	return EncodePath(p)
}

// canonicalQuery sorts the parameters by encoded name, then value, each
// encoded the S3 way; a parameter without a value is "name=".
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ k, v string }
	var pairs []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		pairs = append(pairs, pair{Encode(k), Encode(v)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// trimHeaderValue drops surrounding spaces and folds inner runs of spaces
// into one, as the canonical headers want.
func trimHeaderValue(v string) string {
	return strings.Join(strings.Fields(v), " ")
}

// Encode is S3's URI encoding: every byte but the unreserved characters
// (A-Z a-z 0-9 - . _ ~) becomes %XX with upper-case hex, '/' included.
func Encode(s string) string { return encode(s, false) }

// EncodePath is Encode that keeps '/', for object keys in paths.
func EncodePath(s string) string { return encode(s, true) }

func encode(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && !(keepSlash && s[i] == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (keepSlash && c == '/') {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
