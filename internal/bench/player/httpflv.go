package player

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/flvscan"
	"github.com/castd/castd/internal/format/flv"
)

// maxRedirects bounds the redirects an HTTP-FLV player follows.
const maxRedirects = 4

// httpReadBuffer is the buffer between the socket and the FLV scanner.
const httpReadBuffer = 32 << 10

// httpFLVPlayer plays an HTTP-FLV stream. It speaks HTTP/1.1 itself over one
// connection (net/http's Transport would add two goroutines per player) and
// parses the response with net/http.
type httpFLVPlayer struct {
	url *url.URL
	opt Options
}

func newHTTPFLV(u *url.URL, opt Options) (*httpFLVPlayer, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("player: %s: no host", u)
	}
	return &httpFLVPlayer{url: u, opt: opt}, nil
}

func (p *httpFLVPlayer) Play(ctx context.Context, rec *Recorder) error {
	cctx, cancel := context.WithTimeout(ctx, p.opt.ConnectTimeout)
	defer cancel()
	conn, body, err := p.open(cctx)
	if err != nil {
		return ended(ctx, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	cancel()
	rec.Up(time.Now())
	dl := &deadliner{set: conn.SetReadDeadline, timeout: p.opt.ReadTimeout}
	return ended(ctx, readFLV(body, dl, rec))
}

// open connects and sends the request, following redirects, and returns
// the connection and the body of a 200 answer.
func (p *httpFLVPlayer) open(ctx context.Context) (net.Conn, io.Reader, error) {
	u := p.url
	for range maxRedirects + 1 {
		conn, resp, err := p.get(ctx, u)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode == http.StatusOK {
			return conn, resp.Body, nil
		}
		conn.Close()
		loc, lerr := resp.Location()
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			if lerr == nil {
				u = loc
				continue
			}
		}
		return nil, nil, &failure.HTTPStatusError{URL: u.String(), Status: resp.Status, Code: resp.StatusCode}
	}
	return nil, nil, failure.Mark(failure.HTTPStatus, fmt.Errorf("GET %s: more than %d redirects", p.url, maxRedirects))
}

// get sends GET u on a new connection and reads the response header. The
// connection is closed when ctx ends before that.
func (p *httpFLVPlayer) get(ctx context.Context, u *url.URL) (net.Conn, *http.Response, error) {
	conn, err := p.dial(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: castbench\r\nAccept: */*\r\nConnection: close\r\n\r\n",
		u.RequestURI(), u.Host)
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("GET %s: %w", u, err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, httpReadBuffer), &http.Request{Method: http.MethodGet, URL: u})
	if err == nil {
		err = conn.SetDeadline(time.Time{})
	}
	if !stop() && err == nil {
		err = ctx.Err() // the connection was closed under the response
	}
	if err != nil {
		conn.Close()
		if cerr := ctx.Err(); cerr != nil {
			err = fmt.Errorf("%w (%w)", cerr, err)
		}
		return nil, nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return conn, resp, nil
}

// dial opens a TCP, or TLS for https, connection to u's host.
func (p *httpFLVPlayer) dial(ctx context.Context, u *url.URL) (net.Conn, error) {
	host, port := u.Hostname(), u.Port()
	https := u.Scheme == "https"
	if port == "" {
		port = "80"
		if https {
			port = "443"
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if !https {
		return conn, nil
	}
	cfg := &tls.Config{}
	if p.opt.TLS != nil {
		cfg = p.opt.TLS.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		// "tls:" makes it a handshake failure, unless it was a timeout.
		return nil, fmt.Errorf("GET %s: tls: %w", u, err)
	}
	return tc, nil
}

// readFLV scans FLV tags until the connection fails or is closed.
func readFLV(body io.Reader, dl *deadliner, rec *Recorder) error {
	sc := flvscan.New(body)
	var video videoInspector
	for now := time.Now(); ; {
		if err := dl.refresh(now); err != nil {
			return err
		}
		tag, err := sc.Next()
		if err != nil {
			if errors.Is(err, flvscan.ErrBadHeader) || errors.Is(err, flvscan.ErrPreviousTagSize) || errors.Is(err, flvscan.ErrTagTooLarge) {
				return failure.Mark(failure.BadData, err)
			}
			return err
		}
		now = time.Now()
		switch tag.Type {
		case flv.TagVideo:
			rec.Media(now, len(tag.Data))
			video.inspect(now, tag.Timestamp, tag.Data, rec)
		case flv.TagAudio:
			rec.Media(now, len(tag.Data))
			rec.AudioFrame()
		case flv.TagScript:
			rec.Media(now, len(tag.Data))
		}
	}
}
