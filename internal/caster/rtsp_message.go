package caster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strconv"
	"strings"
)

// Limits of one RTSP request (RFC 2326 6): an encoder's requests are a few
// hundred bytes and its SDP a few kilobytes.
const (
	maxRTSPLine    = 4096
	maxRTSPHeaders = 64
	maxRTSPBody    = 64 << 10
)

// rtspError is a request the caster answers with an RTSP status: the
// parsers and handlers return one, and the connection turns it into the
// response (and, for a malformed request, closes).
type rtspError struct {
	status int
	msg    string
}

func (e *rtspError) Error() string {
	return fmt.Sprintf("rtsp %d %s: %s", e.status, rtspStatusText(e.status), e.msg)
}

func rtspErrorf(status int, format string, args ...any) error {
	return &rtspError{status: status, msg: fmt.Sprintf(format, args...)}
}

// rtspRequest is one parsed request. Header names are canonical
// (textproto.CanonicalMIMEHeaderKey: "Cseq", "Content-Length").
type rtspRequest struct {
	method  string
	url     string
	cseq    string
	headers textproto.MIMEHeader
	body    []byte
}

// readRTSPRequest reads one request from r. Errors are an *rtspError for a
// request that can be answered (400, 413, 505), or the reader's error.
func readRTSPRequest(r *bufio.Reader) (*rtspRequest, error) {
	line, err := readRTSPLine(r)
	if err != nil {
		return nil, err
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, version, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || method == "" || target == "" || strings.ContainsRune(version, ' ') {
		return nil, rtspErrorf(400, "bad request line %q", line)
	}
	if !strings.HasPrefix(version, "RTSP/") {
		return nil, rtspErrorf(400, "bad request line %q", line)
	}
	req := &rtspRequest{method: method, url: target, headers: textproto.MIMEHeader{}}
	if err := readRTSPHeaders(r, req.headers); err != nil {
		return nil, err
	}
	req.cseq = strings.TrimSpace(req.headers.Get("Cseq"))
	if version != "RTSP/1.0" {
		return req, rtspErrorf(505, "version %q", version)
	}
	if req.cseq == "" {
		return req, rtspErrorf(400, "%s without CSeq", method)
	}
	if cl := req.headers.Get("Content-Length"); cl != "" {
		n, err := strconv.Atoi(strings.TrimSpace(cl))
		switch {
		case err != nil || n < 0:
			return req, rtspErrorf(400, "bad Content-Length %q", cl)
		case n > maxRTSPBody:
			return req, rtspErrorf(413, "body of %d bytes, at most %d", n, maxRTSPBody)
		}
		req.body = make([]byte, n)
		if _, err := io.ReadFull(r, req.body); err != nil {
			return nil, fmt.Errorf("rtsp: read %s body: %w", method, err)
		}
	}
	return req, nil
}

// readRTSPHeaders reads header lines up to the empty line. Continuation
// lines (RFC 2326 inherits HTTP/1.1's folding) are joined to their header.
func readRTSPHeaders(r *bufio.Reader, h textproto.MIMEHeader) error {
	var last string
	for n := 0; ; n++ {
		line, err := readRTSPLine(r)
		if err != nil {
			return err
		}
		if line == "" {
			return nil
		}
		if n >= maxRTSPHeaders {
			return rtspErrorf(400, "more than %d header lines", maxRTSPHeaders)
		}
		if line[0] == ' ' || line[0] == '\t' {
			vs := h[last]
			if len(vs) == 0 {
				return rtspErrorf(400, "continuation line without a header")
			}
			vs[len(vs)-1] += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return rtspErrorf(400, "bad header line %q", line)
		}
		last = textproto.CanonicalMIMEHeaderKey(name)
		h[last] = append(h[last], strings.TrimSpace(value))
	}
}

// readRTSPLine reads one line without its CRLF (or bare LF, which some
// clients send), refusing lines beyond maxRTSPLine with a 400.
func readRTSPLine(r *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > maxRTSPLine {
			return "", rtspErrorf(400, "a line longer than %d bytes", maxRTSPLine)
		}
		buf = append(buf, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) && len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
	buf = bytes.TrimSuffix(buf[:len(buf)-1], []byte{'\r'})
	return string(buf), nil
}

// rtspResponse is a response being built: status, then headers in order.
type rtspResponse struct {
	status  int
	headers []string // "Name: value" lines
	body    []byte
}

func (r *rtspResponse) set(name, value string) { r.headers = append(r.headers, name+": "+value) }

// appendTo writes the response with the request's CSeq first, as RFC 2326
// 12.17 wants it echoed.
func (r *rtspResponse) appendTo(b []byte, cseq, server string) []byte {
	b = fmt.Appendf(b, "RTSP/1.0 %d %s\r\n", r.status, rtspStatusText(r.status))
	if cseq != "" {
		b = fmt.Appendf(b, "CSeq: %s\r\n", cseq)
	}
	if server != "" {
		b = fmt.Appendf(b, "Server: %s\r\n", server)
	}
	for _, h := range r.headers {
		b = append(b, h...)
		b = append(b, "\r\n"...)
	}
	if len(r.body) > 0 {
		b = fmt.Appendf(b, "Content-Length: %d\r\n", len(r.body))
	}
	b = append(b, "\r\n"...)
	return append(b, r.body...)
}

// rtspStatusText gives the reason phrases of RFC 2326 7.1.1 that the
// caster sends.
func rtspStatusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 408:
		return "Request Timeout"
	case 409:
		return "Conflict"
	case 413:
		return "Request Entity Too Large"
	case 415:
		return "Unsupported Media Type"
	case 453:
		return "Not Enough Bandwidth"
	case 454:
		return "Session Not Found"
	case 455:
		return "Method Not Valid in This State"
	case 459:
		return "Aggregate Operation Not Allowed"
	case 461:
		return "Unsupported Transport"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 505:
		return "RTSP Version Not Supported"
	}
	return "Error"
}
