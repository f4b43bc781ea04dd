package hooks

import (
	"fmt"
	"strconv"
)

// maxLoggedBody bounds the response body an Error keeps, so a hook server
// answering megabytes cannot bloat logs.
const maxLoggedBody = 512

// Error is a failed hook call: what (Event, URL), for whom (ClientID, the
// request body) and why (Code and Status and Body, or Err when no answer
// came). Callers log it as is; its message names all of these.
type Error struct {
	Event    Event
	URL      string
	ClientID string
	// Code is SRS's error code: CodeHTTPStatus, CodeResponseData or
	// CodeResponseCode when the hook server answered, 0 when it did not
	// (then Err says why: refused, timeout, cancelled...).
	Code    int
	Status  int    // the HTTP status, 0 without an answer
	Body    string // the response body, cut to 512 bytes
	Reason  string // what the contract check found, e.g. "code 1"
	Request string // the JSON body castd sent
	Err     error
}

func (e *Error) Error() string {
	who := ""
	if e.ClientID != "" {
		who = " for client " + e.ClientID
	}
	if e.Err != nil {
		if e.Request == "" { // on_hls_notify is a GET
			return fmt.Sprintf("hook %s %s%s: %v", e.Event, e.URL, who, e.Err)
		}
		return fmt.Sprintf("hook %s %s%s: %v, no answer, request %s", e.Event, e.URL, who, e.Err, e.Request)
	}
	return fmt.Sprintf("hook %s %s%s: %s (code %d), status %d, response %s, request %s",
		e.Event, e.URL, who, e.Reason, e.Code, e.Status, strconv.Quote(e.Body), e.Request)
}

// Unwrap returns the transport error, if any, so errors.Is finds
// context.DeadlineExceeded or context.Canceled.
func (e *Error) Unwrap() error { return e.Err }

func cutBody(b []byte) string {
	if len(b) > maxLoggedBody {
		return string(b[:maxLoggedBody]) + "..."
	}
	return string(b)
}
