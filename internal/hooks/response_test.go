package hooks

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		code   int
	}{
		// Allowed.
		{"zero", 200, "0", 0},
		{"object code 0", 200, `{"code":0}`, 0},
		{"object with data", 200, `{"code":0,"data":{}}`, 0},
		{"object with msg first", 200, `{"msg":"ok","code":0}`, 0},
		{"status 201", 201, "0", 0},
		{"negative zero", 200, `{"code":-0}`, 0},
		{"object with spaces", 200, " {\"code\" : 0 }\n", 0},
		{"first code wins", 200, `{"code":0,"code":1}`, 0},
		{"escaped key", 200, `{"\u0063ode":0}`, 0},
		// Status (4005).
		{"status 500", 500, "0", CodeHTTPStatus},
		{"status 204", 204, "", CodeHTTPStatus},
		{"status 302", 302, "0", CodeHTTPStatus},
		{"status 404 json", 404, `{"code":0}`, CodeHTTPStatus},
		// Body data (3008).
		{"empty", 200, "", CodeResponseData},
		{"one", 200, "1", CodeResponseData},
		{"quoted zero", 200, `"0"`, CodeResponseData},
		{"zero newline", 200, "0\n", CodeResponseData},
		{"space zero", 200, " 0", CodeResponseData},
		{"zero float", 200, "0.0", CodeResponseData},
		{"not json", 200, "ok", CodeResponseData},
		{"truncated object", 200, `{"code":0`, CodeResponseData},
		{"trailing garbage", 200, `{"code":0}x`, CodeResponseData},
		{"array", 200, `[0]`, CodeResponseData},
		{"null", 200, `null`, CodeResponseData},
		{"true", 200, `true`, CodeResponseData},
		{"two zeros", 200, `00`, CodeResponseData},
		// Code (3064).
		{"code 1", 200, `{"code":1}`, CodeResponseCode},
		{"code -1", 200, `{"code":-1}`, CodeResponseCode},
		{"no code", 200, `{"msg":"x"}`, CodeResponseCode},
		{"empty object", 200, `{}`, CodeResponseCode},
		{"string code", 200, `{"code":"0"}`, CodeResponseCode},
		{"float code", 200, `{"code":0.0}`, CodeResponseCode},
		{"exponent code", 200, `{"code":0e0}`, CodeResponseCode},
		{"null code", 200, `{"code":null}`, CodeResponseCode},
		{"bool code", 200, `{"code":false}`, CodeResponseCode},
		{"huge code", 200, `{"code":99999999999999999999}`, CodeResponseCode},
		{"nested code only", 200, `{"data":{"code":0}}`, CodeResponseCode},
		{"first code wins, bad first", 200, `{"code":1,"code":0}`, CodeResponseCode},
		{"upper-case key", 200, `{"Code":0}`, CodeResponseCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason := ParseResponse(tt.status, []byte(tt.body))
			if code != tt.code {
				t.Fatalf("ParseResponse(%d, %q) = %d (%s), want %d", tt.status, tt.body, code, reason, tt.code)
			}
			if (code == 0) != (reason == "") {
				t.Fatalf("code %d with reason %q", code, reason)
			}
		})
	}
}

// referenceVerdict is the contract written the plain way: a map decode, in
// which a repeated "code" key keeps the last value (SRS keeps the first).
func referenceVerdict(status int, body []byte) int {
	if status != 200 && status != 201 {
		return CodeHTTPStatus
	}
	if len(body) == 0 || !json.Valid(body) {
		return CodeResponseData
	}
	if string(body) == "0" {
		return 0
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return CodeResponseData
	}
	raw, ok := obj["code"]
	if !ok {
		return CodeResponseCode
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return CodeResponseCode
	}
	n, ok := v.(json.Number)
	if !ok || strings.ContainsAny(n.String(), ".eE") {
		return CodeResponseCode
	}
	if i, err := n.Int64(); err != nil || i != 0 {
		return CodeResponseCode
	}
	return 0
}

// topLevelCodes counts the "code" keys of a JSON object's top level.
func topLevelCodes(body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0
	}
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		if tok == "code" {
			n++
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return n
		}
	}
	return n
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"0", "1", `"0"`, "0\n", "", `{"code":0}`, `{"code":1}`, `{"msg":"x"}`,
		`{"code":0,"data":{}}`, `{"code":0.0}`, `{"code":-0}`, `{"code":"0"}`, `{"code":1,"code":0}`,
		`{"code":0,"code":1}`, ` {"code":0} `, `[0]`, `{"code":1e400}`, `{"code":99999999999999999999}`} {
		f.Add(200, []byte(s))
	}
	f.Add(201, []byte("0"))
	f.Add(500, []byte("0"))
	f.Add(302, []byte(`{"code":0}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		code, reason := ParseResponse(status, body)
		switch code {
		case 0, CodeHTTPStatus, CodeResponseData, CodeResponseCode:
		default:
			t.Fatalf("unknown code %d", code)
		}
		if (code == 0) != (reason == "") {
			t.Fatalf("code %d with reason %q", code, reason)
		}
		want := referenceVerdict(status, body)
		if code != want && topLevelCodes(body) < 2 {
			t.Fatalf("ParseResponse(%d, %q) = %d (%s), reference %d", status, body, code, reason, want)
		}
	})
}
