package hooks

import (
	"context"
	"errors"
	"testing"
)

// TestErrorMessage: a failed hook's message names the event, the URL, the
// client, and what castd needs to debug it: SRS's code, the status and the
// answer, and the request body it sent (also when no answer came).
func TestErrorMessage(t *testing.T) {
	req := `{"server_id":"vid-x","action":"on_publish"}`
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"answered", &Error{Event: OnPublish, URL: "http://h/api", ClientID: "k3j9x0a2", Code: CodeResponseCode,
			Status: 200, Body: `{"code":1}`, Reason: "code 1", Request: req},
			`hook on_publish http://h/api for client k3j9x0a2: code 1 (code 3064), status 200, response "{\"code\":1}", request ` + req},
		{"status", &Error{Event: OnPlay, URL: "http://h/api", Code: CodeHTTPStatus, Status: 500, Body: "oops\n",
			Reason: "status 500, want 200 or 201", Request: req},
			`hook on_play http://h/api: status 500, want 200 or 201 (code 4005), status 500, response "oops\n", request ` + req},
		{"no answer", &Error{Event: OnConnect, URL: "http://h/api", ClientID: "k3j9x0a2", Request: req, Err: context.DeadlineExceeded},
			`hook on_connect http://h/api for client k3j9x0a2: context deadline exceeded, no answer, request ` + req},
		{"notify without body", &Error{Event: OnHLSNotify, URL: "http://cdn/x.ts", Err: errors.New("connection refused")},
			`hook on_hls_notify http://cdn/x.ts: connection refused`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
	if !errors.Is(tests[2].err, context.DeadlineExceeded) {
		t.Error("a timeout does not unwrap to context.DeadlineExceeded")
	}
}
