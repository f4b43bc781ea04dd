package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

// MaxObjectSize is S3's limit on one object (5 TiB).
const MaxObjectSize = 5 << 40

// PutOptions are the object's metadata.
type PutOptions struct {
	ContentType string // "" is application/octet-stream
}

// UploadInfo describes a stored object.
type UploadInfo struct {
	Bucket, Key string
	Size        int64
	ETag        string
	Parts       int // 0 for a single PutObject
}

// UploadFile uploads the file at path as key: one PutObject up to
// MultipartThreshold, a multipart upload above it. The file is read from
// disk twice (once for the SHA-256 each request is signed with, once to
// send it) and never held in memory, so it must not change meanwhile.
func (c *Client) UploadFile(ctx context.Context, key, path string, opt PutOptions) (UploadInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return UploadInfo{}, fmt.Errorf("s3: upload %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return UploadInfo{}, fmt.Errorf("s3: upload %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return UploadInfo{}, fmt.Errorf("s3: upload %s: not a regular file", path)
	}
	return c.Upload(ctx, key, f, st.Size(), opt)
}

// Upload stores size bytes of r as key, as UploadFile does.
func (c *Client) Upload(ctx context.Context, key string, r io.ReaderAt, size int64, opt PutOptions) (UploadInfo, error) {
	if size > c.cfg.MultipartThreshold {
		return c.MultipartUpload(ctx, key, r, size, opt)
	}
	return c.PutObject(ctx, key, r, size, opt)
}

// PutObject stores size bytes of r as key in one request (S3 takes up to
// 5 GiB this way).
func (c *Client) PutObject(ctx context.Context, key string, r io.ReaderAt, size int64, opt PutOptions) (UploadInfo, error) {
	if err := CheckKey(key); err != nil {
		return UploadInfo{}, err
	}
	if size < 0 || size > maxPartSize {
		return UploadInfo{}, fmt.Errorf("s3: PutObject %s: %d bytes; one request takes 0 to 5 GiB", c.URL(key), size)
	}
	sum, err := hashSection(ctx, r, 0, size)
	if err != nil {
		return UploadInfo{}, fmt.Errorf("s3: PutObject %s: %w", c.URL(key), err)
	}
	resp, err := c.do(ctx, request{
		op: "PutObject", method: http.MethodPut, key: key, header: contentType(opt),
		body: section(r, 0, size), size: size, sha256: sum,
	})
	if err != nil {
		return UploadInfo{}, err
	}
	return UploadInfo{Bucket: c.cfg.Bucket, Key: key, Size: size, ETag: resp.header.Get("ETag")}, nil
}

// MultipartUpload stores size bytes of r as key in parts of PartSize, one
// at a time (memory stays bounded by the copy buffers). Each part is retried
// on its own; when the upload fails for good, it is aborted so the store
// frees the parts already sent.
func (c *Client) MultipartUpload(ctx context.Context, key string, r io.ReaderAt, size int64, opt PutOptions) (UploadInfo, error) {
	if err := CheckKey(key); err != nil {
		return UploadInfo{}, err
	}
	partSize, err := c.partSize(size)
	if err != nil {
		return UploadInfo{}, fmt.Errorf("s3: multipart upload %s: %w", c.URL(key), err)
	}
	id, err := c.createMultipart(ctx, key, opt)
	if err != nil {
		return UploadInfo{}, err
	}
	etag, parts, err := c.sendParts(ctx, key, id, r, size, partSize)
	if err == nil {
		return UploadInfo{Bucket: c.cfg.Bucket, Key: key, Size: size, ETag: etag, Parts: parts}, nil
	}
	if aerr := c.abortDetached(ctx, key, id); aerr != nil {
		err = fmt.Errorf("%w; abort failed too, the parts stay until a lifecycle rule removes them: %w", err, aerr)
	}
	return UploadInfo{}, err
}

// partSize is Config.PartSize, grown for objects that would need more
// than S3's 10,000 parts.
func (c *Client) partSize(size int64) (int64, error) {
	if size < 0 || size > MaxObjectSize {
		return 0, fmt.Errorf("%d bytes; S3 objects take 0 to 5 TiB", size)
	}
	ps := c.cfg.PartSize
	if (size+ps-1)/ps > maxParts {
		const mib = 1 << 20
		ps = ((size+maxParts-1)/maxParts + mib - 1) / mib * mib
	}
	return min(ps, maxPartSize), nil
}

type initiateResult struct {
	UploadID string `xml:"UploadId"`
}

type completedPart struct {
	PartNumber int    `xml:"PartNumber"`
	ETag       string `xml:"ETag"`
}

type completeRequest struct {
	XMLName xml.Name        `xml:"CompleteMultipartUpload"`
	Parts   []completedPart `xml:"Part"`
}

type completeResult struct {
	ETag string `xml:"ETag"`
}

func (c *Client) createMultipart(ctx context.Context, key string, opt PutOptions) (string, error) {
	resp, err := c.do(ctx, request{
		op: "CreateMultipartUpload", method: http.MethodPost, key: key,
		query: url.Values{"uploads": {""}}, header: contentType(opt),
	})
	if err != nil {
		return "", err
	}
	var res initiateResult
	if err := xml.Unmarshal(resp.body, &res); err != nil || res.UploadID == "" {
		return "", fmt.Errorf("s3: CreateMultipartUpload %s: no UploadId in the answer (%v)", c.URL(key), err)
	}
	return res.UploadID, nil
}

// sendParts uploads every part, then completes the upload; it returns the
// object's ETag and the number of parts.
func (c *Client) sendParts(ctx context.Context, key, id string, r io.ReaderAt, size, partSize int64) (string, int, error) {
	var parts []completedPart
	for off, n := int64(0), 1; off < size || n == 1; off, n = off+partSize, n+1 {
		length := min(partSize, size-off)
		sum, err := hashSection(ctx, r, off, length)
		if err != nil {
			return "", 0, fmt.Errorf("s3: UploadPart %d of %s: %w", n, c.URL(key), err)
		}
		resp, err := c.do(ctx, request{
			op: "UploadPart " + strconv.Itoa(n), method: http.MethodPut, key: key,
			query: url.Values{"partNumber": {strconv.Itoa(n)}, "uploadId": {id}},
			body:  section(r, off, length), size: length, sha256: sum,
		})
		if err != nil {
			return "", 0, err
		}
		etag := resp.header.Get("ETag")
		if etag == "" {
			return "", 0, fmt.Errorf("s3: UploadPart %d of %s: no ETag in the answer", n, c.URL(key))
		}
		parts = append(parts, completedPart{PartNumber: n, ETag: etag})
		if length == 0 {
			break // an empty object is one empty part
		}
	}
	doc, err := xml.Marshal(completeRequest{Parts: parts})
	if err != nil {
		return "", 0, fmt.Errorf("s3: CompleteMultipartUpload %s: %w", c.URL(key), err)
	}
	sum := sha256.Sum256(doc)
	resp, err := c.do(ctx, request{
		op: "CompleteMultipartUpload", method: http.MethodPost, key: key,
		query:  url.Values{"uploadId": {id}},
		header: http.Header{"Content-Type": {"application/xml"}},
		body:   func() io.Reader { return bytes.NewReader(doc) }, size: int64(len(doc)), sha256: hex.EncodeToString(sum[:]),
	})
	if err != nil {
		return "", 0, err
	}
	var res completeResult
	if err := xml.Unmarshal(resp.body, &res); err != nil {
		return "", 0, fmt.Errorf("s3: CompleteMultipartUpload %s: unreadable answer: %w", c.URL(key), err)
	}
	return res.ETag, len(parts), nil
}

// abortTimeout bounds AbortMultipartUpload, which runs even when the
// upload's context was cancelled (a fast quit), so it must be short.
const abortTimeout = 3 * time.Second

// abortDetached aborts an upload with a context of its own: the caller's
// may be the reason the upload failed.
func (c *Client) abortDetached(ctx context.Context, key, id string) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	return c.AbortMultipartUpload(actx, key, id)
}

// AbortMultipartUpload drops an unfinished multipart upload and its parts.
func (c *Client) AbortMultipartUpload(ctx context.Context, key, uploadID string) error {
	_, err := c.do(ctx, request{
		op: "AbortMultipartUpload", method: http.MethodDelete, key: key,
		query: url.Values{"uploadId": {uploadID}}, okStatus: http.StatusNoContent,
	})
	if IsCode(err, "NoSuchUpload") {
		return nil // already gone
	}
	return err
}

// hashSection returns the hex SHA-256 of n bytes of r at off; a reader
// with fewer bytes is an error (the file shrank since it was measured).
func hashSection(ctx context.Context, r io.ReaderAt, off, n int64) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	h := sha256.New()
	got, err := io.Copy(h, io.NewSectionReader(r, off, n))
	if err != nil {
		return "", fmt.Errorf("read: %w", err)
	}
	if got != n {
		return "", fmt.Errorf("read %d bytes at %d, want %d: %w", got, off, n, io.ErrUnexpectedEOF)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func section(r io.ReaderAt, off, n int64) func() io.Reader {
	return func() io.Reader { return io.NewSectionReader(r, off, n) }
}

func contentType(opt PutOptions) http.Header {
	ct := opt.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	return http.Header{"Content-Type": {ct}}
}
