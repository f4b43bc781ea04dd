package caster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// flvBodyBuffer is the read buffer over a POST body.
const flvBodyBuffer = 64 << 10

// flvHandler publishes each POST's FLV body to the output.
type flvHandler struct {
	output   string
	opt      Options
	stopped  <-chan struct{} // closed when the caster stops
	dial     dialFunc
	requests requestGroup
}

func (h *flvHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.requests.add() {
		http.Error(w, "caster flv: stopping", http.StatusServiceUnavailable)
		return
	}
	defer h.requests.done()
	cid := ids.NewCID()
	log := h.opt.Log.With(logging.CID(cid), "client", r.RemoteAddr, "path", r.URL.Path)
	rc := http.NewResponseController(w)
	reply := func(status int, err error) { replyError(w, rc, log, status, err) }
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(http.StatusMethodNotAllowed, fmt.Errorf("caster flv: method %s: %w", r.Method, ErrNotFLVPath))
		return
	}
	app, stream, err := ParseFLVPath(r.URL.Path)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrNotFLVPath) {
			status = http.StatusNotFound
		}
		reply(status, err)
		return
	}
	// The FLV header is read before publishing, so that a body that is not
	// FLV never reaches the target (nor its on_publish hook).
	body := &idleReader{r: r.Body, rc: rc, idle: h.opt.IdleTimeout}
	fr, err := flv.NewReader(bufio.NewReaderSize(body, flvBodyBuffer))
	if err != nil {
		reply(bodyStatus(err), fmt.Errorf("caster flv: the body is not an FLV stream: %w", err))
		return
	}
	url := FLVOutputURL(h.output, app, stream)
	p, err := h.dial(r.Context(), url, cid, h.opt)
	if err != nil {
		reply(publishStatus(err), fmt.Errorf("caster flv: publish to %s: %w", url, err))
		return
	}
	log.Info("caster: publishing", "output", url)
	start := time.Now()
	c, err := copyTags(fr, p)
	p.close()
	reason := flvEndReason(err, h.opt.IdleTimeout)
	select {
	case <-h.stopped:
		reason = "caster stopped (reload or shutdown)"
	default:
	}
	log.Info("caster: stream ended", "reason", reason, "duration", time.Since(start).Round(time.Millisecond),
		"tags", c.tags, "skipped", c.skipped, "bytes", fr.Offset())
	switch {
	case err == nil:
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, errOutputClosed):
		reply(http.StatusBadGateway, err)
	default:
		reply(bodyStatus(err), err)
	}
}

// tagCounts counts what copyTags did.
type tagCounts struct{ tags, skipped int }

// copyTags publishes the body's audio, video and script tags until it ends;
// other tag types are skipped. A clean end of the body is a nil error.
func copyTags(fr *flv.Reader, p mediaOutput) (tagCounts, error) {
	var c tagCounts
	msg := make([]rtmp.MediaMessage, 1)
	for {
		t, err := fr.ReadTag()
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return c, err
		}
		switch t.Type {
		case flv.TagAudio, flv.TagVideo, flv.TagScript:
		default:
			c.skipped++
			continue
		}
		msg[0] = rtmp.MediaMessage{Type: t.Type, Timestamp: t.Timestamp, Payload: t.Data}
		if err := p.write(msg); err != nil {
			return c, err
		}
		c.tags++
	}
}

// replyError answers a request that failed, logged with its status. The
// rest of the body is not read: net/http would otherwise read up to 256 KB
// of a live body before it sends the answer.
func replyError(w http.ResponseWriter, rc *http.ResponseController, log *slog.Logger, status int, err error) {
	log.Warn("caster: request failed", "status", status, "err", err)
	_ = rc.SetReadDeadline(time.Now()) // ErrNotSupported only where there is no connection
	w.Header().Set("Connection", "close")
	http.Error(w, err.Error(), status)
}

// bodyStatus is the HTTP status for a body that went wrong: too slow
// (408) or malformed (400).
func bodyStatus(err error) int {
	if isTimeout(err) {
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}

func isTimeout(err error) bool {
	ne := net.Error(nil)
	return errors.As(err, &ne) && ne.Timeout()
}

func flvEndReason(err error, idle time.Duration) string {
	switch {
	case err == nil:
		return "the body ended"
	case isTimeout(err):
		return "input idle: no data for " + idle.String()
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the client left in the middle of a tag"
	}
	return err.Error()
}

// idleReader reads a request body with a deadline that moves with each
// read, so a client that goes silent ends the publish.
type idleReader struct {
	r           io.Reader
	rc          *http.ResponseController
	idle        time.Duration
	deadlineSet time.Time
	noDeadline  bool // the connection cannot take one (tests' recorders)
}

func (b *idleReader) Read(p []byte) (int, error) {
	if now := time.Now(); !b.noDeadline && now.Sub(b.deadlineSet) > deadlineRefresh {
		if err := b.rc.SetReadDeadline(now.Add(b.idle)); err != nil {
			if !errors.Is(err, http.ErrNotSupported) {
				return 0, fmt.Errorf("caster flv: set read deadline: %w", err)
			}
			b.noDeadline = true
		}
		b.deadlineSet = now
	}
	return b.r.Read(p)
}
