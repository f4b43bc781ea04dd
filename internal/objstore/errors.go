package objstore

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxErrorBody bounds how much of an error answer is read: S3's are a few
// hundred bytes, and a proxy's HTML page needs no more to be recognized.
const maxErrorBody = 64 << 10

// Error is an answer S3 (or a store speaking its API) refused a request
// with: the HTTP status and, when the body was S3's XML error document,
// its Code, Message and request id.
type Error struct {
	Op         string // PutObject, UploadPart, ...
	Bucket     string
	Key        string
	StatusCode int
	Code       string // e.g. NoSuchBucket, AccessDenied, SignatureDoesNotMatch
	Message    string
	RequestID  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("s3: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteByte(' ')
	}
	if e.Bucket != "" || e.Key != "" {
		b.WriteString("s3://" + e.Bucket + "/" + e.Key + " ")
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d ", e.StatusCode)
	}
	switch {
	case e.Code != "" && e.Message != "":
		b.WriteString(e.Code + ": " + e.Message)
	case e.Code != "":
		b.WriteString(e.Code)
	case e.Message != "":
		b.WriteString(e.Message)
	default:
		b.WriteString(http.StatusText(e.StatusCode))
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Temporary reports an error worth retrying: a server error, throttling
// (503 SlowDown, 429) or S3's RequestTimeout (the connection was idle too
// long, a 400).
func (e *Error) Temporary() bool {
	switch {
	case e.StatusCode >= 500, e.StatusCode == http.StatusTooManyRequests, e.StatusCode == http.StatusRequestTimeout:
		return true
	}
	switch e.Code {
	case "RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable":
		return true
	}
	return false
}

// errorDocument is S3's <Error> body.
type errorDocument struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
}

// ParseError builds the Error for an answer with the given status and
// (the start of) its body. A body that is not S3's XML error document, such
// as a proxy's HTML page or nothing at all (HEAD), still gives an error
// that says the status, with a short, printable excerpt of the body.
func ParseError(status int, body []byte) *Error {
	e := &Error{StatusCode: status}
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	var doc errorDocument
	if err := xml.Unmarshal(body, &doc); err == nil {
		e.Code = oneLine(doc.Code, 100)
		e.Message = oneLine(doc.Message, 300)
		e.RequestID = oneLine(doc.RequestID, 100)
		return e
	}
	if text := oneLine(string(bytes.TrimSpace(body)), 120); text != "" {
		e.Message = text
	}
	return e
}

// isErrorDocument reports whether a 200 answer's body is in fact an
// <Error>: CompleteMultipartUpload can fail after its status line was sent.
func isErrorDocument(body []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local == "Error"
		}
	}
}

// oneLine makes text from a server safe for one log line: valid UTF-8,
// control characters as spaces, runs of spaces folded, at most max runes.
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "..."
	}
	return s
}

// IsCode reports whether err is an S3 Error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
