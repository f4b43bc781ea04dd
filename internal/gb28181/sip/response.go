package sip

import "strings"

// Status codes castd sends.
const (
	StatusTrying             = 100
	StatusOK                 = 200
	StatusBadRequest         = 400
	StatusForbidden          = 403
	StatusCallDoesNotExist   = 481
	StatusNotImplemented     = 501
	StatusServiceUnavailable = 503
)

// StatusText is the usual reason phrase of a code.
func StatusText(code int) string {
	switch code {
	case StatusTrying:
		return "Trying"
	case StatusOK:
		return "OK"
	case StatusBadRequest:
		return "Bad Request"
	case StatusForbidden:
		return "Forbidden"
	case StatusCallDoesNotExist:
		return "Call/Transaction Does Not Exist"
	case StatusNotImplemented:
		return "Not Implemented"
	case StatusServiceUnavailable:
		return "Service Unavailable"
	}
	return "Unknown"
}

// NewResponse makes the response to req that RFC 3261 §8.2.6.2 asks for:
// its Via headers in order, From, To, Call-ID and CSeq. When toTag is set
// and the To header has no tag, the tag is added, as a UAS must.
func NewResponse(req *Message, code int, toTag string) *Message {
	res := &Message{StatusCode: code, Reason: StatusText(code)}
	for _, h := range req.Headers {
		if strings.EqualFold(h.Name, "Via") {
			res.Add("Via", h.Value)
		}
	}
	to := req.Get("To")
	if toTag != "" && code > StatusTrying {
		if a, err := ParseAddress(to); err == nil && a.Tag() == "" {
			to += ";tag=" + toTag
		}
	}
	res.Add("From", req.Get("From"))
	res.Add("To", to)
	res.Add("Call-ID", req.Get("Call-ID"))
	res.Add("CSeq", req.Get("CSeq"))
	return res
}
