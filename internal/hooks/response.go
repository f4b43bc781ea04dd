package hooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// SRS error codes a failed hook carries (spec §2.4).
const (
	// CodeResponseData (ERROR_HTTP_DATA_INVALID): the body is empty, is not
	// JSON, or is JSON but neither an object nor exactly the characters "0".
	CodeResponseData = 3008
	// CodeResponseCode (ERROR_RESPONSE_CODE): a JSON object without an
	// integer "code", or with a code other than 0.
	CodeResponseCode = 3064
	// CodeHTTPStatus (ERROR_HTTP_STATUS_INVALID): a status other than 200
	// or 201, redirects included.
	CodeHTTPStatus = 4005
)

// ParseResponse applies SRS's response contract (spec §3.3) to a hook's
// answer: it returns code 0 when the hook allows, otherwise the SRS code and
// a short reason.
//
// The rules, in SRS's order: the status must be 200 or 201; the body must not
// be empty; it must be one JSON document (RFC 8259; surrounding whitespace is
// allowed, as SRS's parser allows it); a document that is not an object must
// be exactly the one byte "0", so `"0"` and "0\n" reject; an object must hold
// an integer "code" equal to 0. An integer is a JSON number without fraction
// or exponent, as SRS's json-parser types it: 0 and -0 allow, 0.0 and 0e0 do
// not. When "code" repeats, the first one counts, as SRS looks properties up
// in order. Other fields ("msg", "data") are ignored.
func ParseResponse(status int, body []byte) (code int, reason string) {
	if status != http.StatusOK && status != http.StatusCreated {
		return CodeHTTPStatus, fmt.Sprintf("status %d, want 200 or 201", status)
	}
	if len(body) == 0 {
		return CodeResponseData, "empty body"
	}
	if !json.Valid(body) {
		return CodeResponseData, "body is not JSON"
	}
	if len(body) == 1 && body[0] == '0' {
		return 0, ""
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return CodeResponseData, "body is neither exactly 0 nor a JSON object"
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return CodeResponseData, "body is not JSON"
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return CodeResponseData, "body is not JSON"
		}
		if key, _ := tok.(string); key == "code" {
			return checkCode(bytes.TrimSpace(value))
		}
	}
	return CodeResponseCode, "no integer code in the JSON object"
}

// checkCode accepts a JSON integer equal to 0.
func checkCode(raw []byte) (int, string) {
	if !isJSONInteger(raw) {
		return CodeResponseCode, fmt.Sprintf("code %s is not an integer", raw)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		// Out of int64 range: SRS's parser makes it a double, so not an integer.
		return CodeResponseCode, fmt.Sprintf("code %s is not an integer", raw)
	}
	if n != 0 {
		return CodeResponseCode, fmt.Sprintf("code %d", n)
	}
	return 0, ""
}

// isJSONInteger reports whether raw, a valid JSON value, is a number with no
// fraction and no exponent.
func isJSONInteger(raw []byte) bool {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return false
	}
	return bytes.IndexAny(raw, ".eE") < 0
}
