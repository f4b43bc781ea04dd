// Package s3test is a fake S3 service for tests: an http.Handler that
// checks every request's SigV4 signature and payload hash on its own
// (sharing no code with the objstore client, so a mistake there cannot
// cancel itself out here), and stores objects in memory. It serves
// PutObject, GetObject, the multipart calls and S3's XML errors, with
// path-style and virtual-hosted addressing, and can be told to fail
// chosen requests.
package s3test

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Op is one request the server received, as S3 names the call.
type Op struct {
	Name       string // PutObject, GetObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload
	Bucket     string
	Key        string
	PartNumber int  // UploadPart only
	Virtual    bool // addressed virtual-hosted style
}

// Failure is an answer forced on a request; Drop closes the connection
// without answering (a network error for the client).
type Failure struct {
	Status int
	Code   string
	Drop   bool
}

// Options configure a Server.
type Options struct {
	AccessKey, SecretKey string
	Region               string   // "" is us-east-1
	Buckets              []string // the buckets that exist
	// Domain is the endpoint's host (with port) for virtual-hosted
	// requests: "BUCKET.Domain". Requests to other hosts are path-style.
	Domain string
	// MaxBody bounds a request body; 0 is 64 MiB.
	MaxBody int64
	// Fail, when set, is asked about each authenticated request after its
	// body was read and checked; a non-nil Failure is the answer.
	Fail func(Op) *Failure
}

// Server is the fake service. Mount it on an httptest.Server.
type Server struct {
	opt Options

	mu       sync.Mutex
	objects  map[string][]byte // "bucket/key"
	uploads  map[string]*upload
	nextID   int
	ops      []Op
	rejected []string // why requests were refused, for test failures
}

type upload struct {
	bucket, key string
	parts       map[int][]byte
}

// New returns a server with no objects.
func New(opt Options) *Server {
	if opt.Region == "" {
		opt.Region = "us-east-1"
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = 64 << 20
	}
	return &Server{opt: opt, objects: map[string][]byte{}, uploads: map[string]*upload{}}
}

// Object returns a stored object.
func (s *Server) Object(bucket, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[bucket+"/"+key]
	return b, ok
}

// Keys lists the stored objects' keys in a bucket, sorted.
func (s *Server) Keys(bucket string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.objects {
		if key, ok := strings.CutPrefix(k, bucket+"/"); ok {
			out = append(out, key)
		}
	}
	slices.Sort(out)
	return out
}

// Ops returns the authenticated requests received so far, in order.
func (s *Server) Ops() []Op {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ops)
}

// PendingUploads counts multipart uploads neither completed nor aborted.
func (s *Server) PendingUploads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uploads)
}

// Rejected lists why requests were refused (bad signature, bad hash...).
func (s *Server) Rejected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejected)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, virtual, err := s.address(r)
	if err != nil {
		s.fail(w, http.StatusBadRequest, "InvalidURI", err.Error())
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.opt.MaxBody+1))
	if err != nil {
		s.fail(w, http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	if int64(len(body)) > s.opt.MaxBody {
		s.fail(w, http.StatusBadRequest, "EntityTooLarge", "body too large for the fake")
		return
	}
	if code, msg := s.verify(r, body); code != "" {
		s.fail(w, http.StatusForbidden, code, msg)
		return
	}
	q := r.URL.Query()
	op := Op{Bucket: bucket, Key: key, Virtual: virtual}
	switch {
	case r.Method == http.MethodPut && q.Has("uploadId"):
		op.Name = "UploadPart"
		op.PartNumber, _ = strconv.Atoi(q.Get("partNumber"))
	case r.Method == http.MethodPut:
		op.Name = "PutObject"
	case r.Method == http.MethodGet:
		op.Name = "GetObject"
	case r.Method == http.MethodPost && q.Has("uploads"):
		op.Name = "CreateMultipartUpload"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		op.Name = "CompleteMultipartUpload"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		op.Name = "AbortMultipartUpload"
	default:
		s.fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not served by the fake")
		return
	}
	s.mu.Lock()
	s.ops = append(s.ops, op)
	s.mu.Unlock()
	if s.opt.Fail != nil {
		if f := s.opt.Fail(op); f != nil {
			if f.Drop {
				panic(http.ErrAbortHandler) // closes the connection without an answer
			}
			s.fail(w, f.Status, f.Code, "failure injected by the test")
			return
		}
	}
	if !slices.Contains(s.opt.Buckets, bucket) {
		s.fail(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	if key == "" {
		s.fail(w, http.StatusBadRequest, "InvalidRequest", "no object key")
		return
	}
	s.serveOp(w, op, q, body)
}

func (s *Server) serveOp(w http.ResponseWriter, op Op, q url.Values, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := op.Bucket + "/" + op.Key
	switch op.Name {
	case "PutObject":
		s.objects[name] = body
		w.Header().Set("ETag", etag(body))
	case "GetObject":
		b, ok := s.objects[name]
		if !ok {
			s.fail(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		}
		w.Write(b)
	case "CreateMultipartUpload":
		s.nextID++
		id := fmt.Sprintf("upload-%d", s.nextID)
		s.uploads[id] = &upload{bucket: op.Bucket, key: op.Key, parts: map[int][]byte{}}
		writeXML(w, http.StatusOK, struct {
			XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
			Bucket   string
			Key      string
			UploadID string `xml:"UploadId"`
		}{Bucket: op.Bucket, Key: op.Key, UploadID: id})
	case "UploadPart":
		u, ok := s.uploads[q.Get("uploadId")]
		if !ok || u.bucket != op.Bucket || u.key != op.Key {
			s.fail(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
			return
		}
		if op.PartNumber < 1 || op.PartNumber > 10000 {
			s.fail(w, http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000")
			return
		}
		u.parts[op.PartNumber] = body
		w.Header().Set("ETag", etag(body))
	case "CompleteMultipartUpload":
		s.complete(w, op, q.Get("uploadId"), body)
	case "AbortMultipartUpload":
		if _, ok := s.uploads[q.Get("uploadId")]; !ok {
			s.fail(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
			return
		}
		delete(s.uploads, q.Get("uploadId"))
		w.WriteHeader(http.StatusNoContent)
	}
}

// complete assembles an upload from the parts its document lists, which
// must be in ascending order and name the ETags the parts got.
func (s *Server) complete(w http.ResponseWriter, op Op, id string, body []byte) {
	u, ok := s.uploads[id]
	if !ok || u.bucket != op.Bucket || u.key != op.Key {
		s.fail(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist.")
		return
	}
	var doc struct {
		XMLName xml.Name `xml:"CompleteMultipartUpload"`
		Parts   []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil || len(doc.Parts) == 0 {
		s.fail(w, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed")
		return
	}
	var whole []byte
	sums := md5.New()
	for i, p := range doc.Parts {
		b, ok := u.parts[p.PartNumber]
		if i > 0 && p.PartNumber <= doc.Parts[i-1].PartNumber {
			s.fail(w, http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order.")
			return
		}
		if !ok || p.ETag != etag(b) {
			s.fail(w, http.StatusBadRequest, "InvalidPart", fmt.Sprintf("part %d was not found or its ETag did not match", p.PartNumber))
			return
		}
		whole = append(whole, b...)
		sum := md5.Sum(b)
		sums.Write(sum[:])
	}
	delete(s.uploads, id)
	s.objects[op.Bucket+"/"+op.Key] = whole
	tag := fmt.Sprintf(`"%x-%d"`, sums.Sum(nil), len(doc.Parts))
	writeXML(w, http.StatusOK, struct {
		XMLName xml.Name `xml:"CompleteMultipartUploadResult"`
		Bucket  string
		Key     string
		ETag    string
	}{Bucket: op.Bucket, Key: op.Key, ETag: tag})
}

// address splits the request into bucket and key, path-style or
// virtual-hosted. The raw path must be S3's encoding of the key (every
// byte but A-Z a-z 0-9 - . _ ~ and '/' as %XX), as a signing client sends it.
func (s *Server) address(r *http.Request) (bucket, key string, virtual bool, err error) {
	rawPath, _, _ := strings.Cut(r.RequestURI, "?")
	path, err := url.PathUnescape(rawPath)
	if err != nil {
		return "", "", false, err
	}
	if want := s3Escape(path, true); rawPath != want {
		return "", "", false, fmt.Errorf("path %q is not S3-encoded (want %q)", rawPath, want)
	}
	if s.opt.Domain != "" {
		if b, ok := strings.CutSuffix(r.Host, "."+s.opt.Domain); ok {
			return b, strings.TrimPrefix(path, "/"), true, nil
		}
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return bucket, key, false, nil
}

// verify recomputes the request's SigV4 signature from what arrived and
// checks the payload hash; it returns S3's error code when they differ.
func (s *Server) verify(r *http.Request, body []byte) (code, msg string) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return s.reject("AccessDenied", "no AWS4-HMAC-SHA256 Authorization header: "+auth)
	}
	fields := map[string]string{}
	for f := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || cred[4] != "aws4_request" || cred[3] != "s3" {
		return s.reject("AuthorizationHeaderMalformed", "bad Credential "+fields["Credential"])
	}
	if cred[0] != s.opt.AccessKey {
		return s.reject("InvalidAccessKeyId", "unknown access key "+cred[0])
	}
	if cred[2] != s.opt.Region {
		return s.reject("AuthorizationHeaderMalformed", "region "+cred[2]+", want "+s.opt.Region)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	when, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || when.Format("20060102") != cred[1] {
		return s.reject("AccessDenied", "X-Amz-Date "+amzDate+" does not match the scope date "+cred[1])
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	sum := sha256.Sum256(body)
	if payload != hex.EncodeToString(sum[:]) {
		return s.reject("XAmzContentSHA256Mismatch", "x-amz-content-sha256 "+payload+" is not the body's hash")
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	for _, must := range []string{"host", "x-amz-date", "x-amz-content-sha256"} {
		if !slices.Contains(signed, must) {
			return s.reject("AccessDenied", must+" is not signed")
		}
	}
	var canon strings.Builder
	rawPath, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	fmt.Fprintf(&canon, "%s\n%s\n%s\n", r.Method, rawPath, sortedQuery(rawQuery))
	for _, h := range signed {
		v := r.Header.Values(h)
		if h == "host" {
			v = []string{r.Host}
		}
		for i := range v {
			v[i] = strings.Join(strings.Fields(v[i]), " ")
		}
		fmt.Fprintf(&canon, "%s:%s\n", h, strings.Join(v, ","))
	}
	fmt.Fprintf(&canon, "\n%s\n%s", fields["SignedHeaders"], payload)
	creqHash := sha256.Sum256([]byte(canon.String()))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + strings.Join(cred[1:], "/") + "\n" + hex.EncodeToString(creqHash[:])
	key := []byte("AWS4" + s.opt.SecretKey)
	for _, part := range cred[1:] {
		key = mac(key, part)
	}
	if want := hex.EncodeToString(mac(key, toSign)); !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return s.reject("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Canonical request:\n"+canon.String())
	}
	return "", ""
}

func (s *Server) reject(code, msg string) (string, string) {
	s.mu.Lock()
	s.rejected = append(s.rejected, code+": "+msg)
	s.mu.Unlock()
	return code, msg
}

// sortedQuery is the canonical query: decoded, re-encoded, sorted.
func sortedQuery(raw string) string {
	var pairs [][2]string
	for p := range strings.SplitSeq(raw, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		dk, _ := url.QueryUnescape(k)
		dv, _ := url.QueryUnescape(v)
		pairs = append(pairs, [2]string{s3Escape(dk, false), s3Escape(dv, false)})
	}
	slices.SortFunc(pairs, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p[0] + "=" + p[1]
	}
	return strings.Join(out, "&")
}

func s3Escape(s string, path bool) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', strings.IndexByte("-._~", c) >= 0:
			b.WriteByte(c)
		case c == '/' && path:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func mac(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	io.WriteString(m, s)
	return m.Sum(nil)
}

func etag(b []byte) string { return fmt.Sprintf(`"%x"`, md5.Sum(b)) }

func (s *Server) fail(w http.ResponseWriter, status int, code, msg string) {
	writeXML(w, status, errorDoc{Code: code, Message: msg, RequestID: "fake-request"})
}

type errorDoc struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	RequestID string `xml:"RequestId"`
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(b)
}
