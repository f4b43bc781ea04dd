package httpx

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/netx"
)

// WriteTimeout bounds one write to a live HTTP viewer, like SRS's 30 s send
// timeout: a viewer that accepts nothing for that long is dropped.
const WriteTimeout = 30 * time.Second

// LiveResponse is a live HTTP response (HTTP-FLV, HTTP-TS...) written on the
// hijacked connection: castd frames the chunked encoding itself so a batch of
// packets goes out as one HTTP chunk in one writev, without copying payloads.
type LiveResponse struct {
	conn    net.Conn
	w       io.Writer // conn, or the TCP connection under it (netx.WriteTarget)
	chunked bool
	vec     [][]byte             // reused backing array for net.Buffers
	bufs    net.Buffers          // kept in the struct: a local would escape to the heap on every write
	head    [18 + smallPart]byte // chunk size line and a small first part
	tail    [smallPart + 2]byte  // a small last part and the chunk's CRLF
	sent    atomic.Int64
	gone    chan struct{} // closed when the client closes its side
	once    sync.Once
	mu      sync.Mutex
	isGone  bool
	onGone  func()
	// probe is set when no goroutine reads the connection: the writer
	// calls PollGone between writes instead (see StartLive).
	probe   *netx.InputProbe
	scratch [64]byte // what the client sends after its request, dropped
}

// pollReadTimeout bounds a read that the probe said would not block.
const pollReadTimeout = time.Second

// StartLive answers r with 200 and header, without Content-Length, and
// returns the response to stream into. HTTP/1.1 clients get chunked
// encoding; HTTP/1.0 clients get the raw body until the connection closes.
func StartLive(w http.ResponseWriter, r *http.Request, header http.Header) (*LiveResponse, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, errors.New("httpx: response cannot be hijacked for live streaming")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, fmt.Errorf("httpx: hijack: %w", err)
	}
	l := NewLiveResponse(conn, r.ProtoAtLeast(1, 1))
	head := make([]byte, 0, 512)
	head = append(head, "HTTP/1.1 200 OK\r\n"...)
	keys := make([]string, 0, len(header))
	for k := range header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range header[k] {
			head = append(append(append(append(head, k...), ": "...), v...), "\r\n"...)
		}
	}
	if l.chunked {
		head = append(head, "Transfer-Encoding: chunked\r\n"...)
	}
	head = append(head, "Connection: close\r\n\r\n"...)
	_ = conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
	if _, err := conn.Write(head); err != nil {
		conn.Close()
		return nil, fmt.Errorf("httpx: write live response header: %w", err)
	}
	// A live response never ends on its own, so the only way to notice a
	// client that went away while nothing is being written is to read.
	// On a plain TCP connection the writer polls for it (PollGone): a
	// goroutine parked in Read per player would cost its stack. Otherwise
	// (TLS) a goroutine reads, with a small buffer of its own: io.Discard
	// would hold a pooled 8 KB one for the whole session.
	if l.probe = netx.NewInputProbe(conn); l.probe != nil {
		return l, nil
	}
	go func() {
		var scratch [64]byte
		for {
			if _, err := brw.Reader.Read(scratch[:]); err != nil {
				break
			}
		}
		l.goneOnce()
	}()
	return l, nil
}

// NewLiveResponse streams on conn, whose response header the caller has
// written (StartLive does both). Gone is only closed by StartLive's reader.
func NewLiveResponse(conn net.Conn, chunked bool) *LiveResponse {
	return &LiveResponse{conn: conn, w: netx.WriteTarget(conn), chunked: chunked, gone: make(chan struct{})}
}

// Gone is closed when the client closed the connection: noticed by
// StartLive's reader, or by PollGone when the response is polled.
func (l *LiveResponse) Gone() <-chan struct{} { return l.gone }

// Polled reports whether nothing watches the connection but PollGone,
// which the writer must then call at least every few hundred milliseconds.
func (l *LiveResponse) Polled() bool { return l.probe != nil }

// PollGone reports, without blocking, whether the client has closed the
// connection (closing Gone and calling the CancelOnGone function when it
// has). Bytes the client sends meanwhile are read and dropped. Call it from
// the writing goroutine of a polled response.
func (l *LiveResponse) PollGone() bool {
	if l.probe == nil {
		select {
		case <-l.gone:
			return true
		default:
			return false
		}
	}
	for {
		ready, err := l.probe.Pending()
		if err == nil && !ready {
			return false
		}
		if err == nil {
			_ = l.conn.SetReadDeadline(time.Now().Add(pollReadTimeout))
			_, err = l.conn.Read(l.scratch[:])
		}
		if err != nil {
			l.goneOnce()
			return true
		}
	}
}

// CancelOnGone calls cancel when the client closes the connection (at
// once if it has), saving the caller a goroutine that waits on Gone.
func (l *LiveResponse) CancelOnGone(cancel func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.isGone {
		cancel()
		return
	}
	l.onGone = cancel
}

func (l *LiveResponse) goneOnce() {
	l.mu.Lock()
	if l.isGone {
		l.mu.Unlock()
		return
	}
	l.isGone = true
	cancel := l.onGone
	l.mu.Unlock()
	close(l.gone)
	if cancel != nil {
		cancel()
	}
}

// BytesOut is what has been written, headers and framing included.
func (l *LiveResponse) BytesOut() int64 { return l.sent.Load() }

// BytesIn is always 0: live viewers send nothing after the request.
func (l *LiveResponse) BytesIn() int64 { return 0 }

// Write sends parts as one chunk (or raw for HTTP/1.0) in a single writev.
// The parts are not retained or modified. A small first or last part is
// copied next to the chunk's size line or its closing CRLF, so the chunk
// framing adds no iovec of its own: the kernel's writev costs by iovec.
func (l *LiveResponse) Write(parts [][]byte) error {
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	if total == 0 {
		return nil
	}
	head, tail := l.head[:0], l.tail[:0]
	if l.chunked {
		head = strconv.AppendInt(head, int64(total), 16)
		head = append(head, '\r', '\n')
	}
	first, last := 0, len(parts)
	if len(parts[0]) <= smallPart {
		head = append(head, parts[0]...)
		first = 1
	}
	if last > first && len(parts[last-1]) <= smallPart {
		tail = append(tail, parts[last-1]...)
		last--
	}
	if l.chunked {
		tail = append(tail, crlf...)
	}
	vec := l.vec[:0]
	if len(head) > 0 {
		vec = append(vec, head)
	}
	vec = append(vec, parts[first:last]...)
	if len(tail) > 0 {
		vec = append(vec, tail)
	}
	l.vec = vec
	l.bufs = vec
	_ = l.conn.SetWriteDeadline(time.Now().Add(WriteTimeout))
	n, err := l.bufs.WriteTo(l.w)
	l.sent.Add(n)
	clear(l.vec) // drop references to shared payloads
	if err != nil {
		return fmt.Errorf("httpx: write live response: %w", err)
	}
	return nil
}

// smallPart is the largest first or last part Write copies rather than
// giving it an iovec of its own (FLV tag framing is 11 to 15 bytes).
const smallPart = 32

var (
	crlf         = []byte("\r\n")
	lastChunkCRL = []byte("0\r\n\r\n")
)

// Close ends the response (the last chunk when chunked) and closes the
// connection. It is safe to call more than once.
func (l *LiveResponse) Close() error {
	var err error
	l.once.Do(func() {
		if l.chunked {
			_ = l.conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = l.conn.Write(lastChunkCRL) // best effort: the client may be gone
		}
		err = l.conn.Close()
	})
	return err
}

// Abort closes the connection without ending the response (SRS closes a
// rejected HTTP-FLV request without any reply).
func (l *LiveResponse) Abort() { l.once.Do(func() { _ = l.conn.Close() }) }

// CloseWithoutResponse closes the request's connection without answering,
// which is how SRS rejects HTTP players that hooks or security refuse.
func CloseWithoutResponse(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http closes the connection quietly
}
