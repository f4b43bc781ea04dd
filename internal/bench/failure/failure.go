// Package failure sorts the errors of castbench's publishers and players
// into a few kinds, so a report can say "412 refused, 3 timed out" instead
// of listing thousands of messages.
package failure

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/protocol/srt"
)

// Kind is a class of failure. The values appear in castbench's JSON report.
type Kind string

const (
	// Dial: the TCP connection could not be made (refused, unreachable,
	// unknown host).
	Dial Kind = "dial"
	// Handshake: the RTMP or TLS handshake failed.
	Handshake Kind = "handshake"
	// Rejected: the server said no (an RTMP _error or an onStatus with
	// level error, such as NetStream.Publish.BadName; an SRT rejection).
	Rejected Kind = "rejected"
	// Timeout: connecting took longer than the connect timeout, or no data
	// came for the read timeout (or SRT's peer idle timeout).
	Timeout Kind = "timeout"
	// EOF: the server closed or reset the connection.
	EOF Kind = "eof"
	// HTTPStatus: an HTTP answer other than 200 (after redirects).
	HTTPStatus Kind = "http_status"
	// BadData: the server sent something that does not parse (RTMP chunks,
	// FLV framing, tag headers).
	BadData Kind = "bad_data"
	// BadPlaylist: an HLS playlist that does not parse, or a master
	// playlist whose variant is not a media playlist.
	BadPlaylist Kind = "bad_playlist"
	// BadSegment: an HLS segment that is not a well-formed transport
	// stream, or is larger than castbench reads.
	BadSegment Kind = "bad_segment"
	// Other: anything else.
	Other Kind = "other"
)

// Error is an error with its kind decided by the code that saw it fail.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Mark gives err a kind; nil stays nil.
func Mark(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// HTTPStatusError is an HTTP answer that is not 200 OK.
type HTTPStatusError struct {
	URL    string
	Status string // e.g. "404 Not Found"
	Code   int    // e.g. 404
}

func (e *HTTPStatusError) Error() string { return fmt.Sprintf("GET %s: %s", e.URL, e.Status) }

// KindOf returns the kind of err: the one it was marked with, or else the
// one its chain shows.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var status *rtmp.StatusError
	var srtReject *srt.RejectError
	var httpStatus *HTTPStatusError
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &status), errors.As(err, &srtReject):
		return Rejected
	case errors.Is(err, srt.ErrConnectTimeout), errors.Is(err, srt.ErrPeerIdle):
		return Timeout
	case errors.As(err, &httpStatus):
		return HTTPStatus
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return Timeout
	case errors.As(err, &dnsErr), errors.As(err, &opErr) && opErr.Op == "dial":
		return Dial
	case isHandshake(err):
		return Handshake
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, net.ErrClosed):
		return EOF
	case errors.Is(err, rtmp.ErrBadChunkHeader), errors.Is(err, rtmp.ErrMessageTooLarge),
		errors.Is(err, rtmp.ErrTooManyChunkStreams):
		return BadData
	}
	return Other
}

// isHandshake recognises RTMP handshake errors (package rtmp prefixes them
// with "rtmp: handshake") and TLS handshake and certificate errors.
func isHandshake(err error) bool {
	var rec tls.RecordHeaderError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.Is(err, rtmp.ErrHandshakeVersion) || strings.Contains(err.Error(), "rtmp: handshake") ||
		errors.As(err, &rec) || errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &verify) ||
		strings.Contains(err.Error(), "tls: ")
}

// Ended reports whether ctx has ended or reached its deadline: an error
// after that belongs to the end of the run, not to a player or publisher.
// (A socket deadline set from ctx can fire a moment before ctx's timer.)
func Ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// Counter counts errors by kind and keeps the first message of each kind
// as an example. Safe for concurrent use.
type Counter struct {
	mu    sync.Mutex
	kinds map[Kind]*Count
}

// Count is how often a kind of error happened, with an example.
type Count struct {
	Count   int64  `json:"count"`
	Example string `json:"example"`
}

// Add counts err under KindOf(err).
func (c *Counter) Add(err error) {
	if err == nil {
		return
	}
	k := KindOf(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kinds == nil {
		c.kinds = make(map[Kind]*Count)
	}
	n := c.kinds[k]
	if n == nil {
		n = &Count{Example: err.Error()}
		c.kinds[k] = n
	}
	n.Count++
}

// Total returns the number of errors counted.
func (c *Counter) Total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var t int64
	for _, n := range c.kinds {
		t += n.Count
	}
	return t
}

// Snapshot returns the counts by kind.
func (c *Counter) Snapshot() map[Kind]Count {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[Kind]Count, len(c.kinds))
	for k, n := range c.kinds {
		out[k] = *n
	}
	return out
}

// String lists the counts, most frequent first: "dial=3 timeout=1".
func (c *Counter) String() string {
	snap := c.Snapshot()
	kinds := make([]Kind, 0, len(snap))
	for k := range snap {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if snap[kinds[i]].Count != snap[kinds[j]].Count {
			return snap[kinds[i]].Count > snap[kinds[j]].Count
		}
		return kinds[i] < kinds[j]
	})
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, snap[k].Count)
	}
	return b.String()
}
