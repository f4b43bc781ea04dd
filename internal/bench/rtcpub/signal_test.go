package rtcpub

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/castd/castd/internal/bench/failure"
)

func TestNegotiateWHIP(t *testing.T) {
	var mu sync.Mutex
	var deleted []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodDelete:
			mu.Lock()
			deleted = append(deleted, r.URL.String())
			mu.Unlock()
		case r.URL.Query().Get("stream") == "refused":
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close() // SRS's and castd's way of refusing
		case r.URL.Query().Get("stream") == "missing":
			http.NotFound(w, r)
		case r.URL.Query().Get("stream") == "huge":
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, strings.Repeat("a=x\r\n", maxAnswerBytes/5+1))
		default:
			offer, _ := io.ReadAll(r.Body)
			if r.Header.Get("Content-Type") != "application/sdp" || string(offer) != "v=0 offer" {
				t.Errorf("offer %q, content type %q", offer, r.Header.Get("Content-Type"))
			}
			w.Header().Set("Location", "/rtc/v1/whip/?action=delete&session=s1")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, "v=0 answer")
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	ep, err := ParseURL(srv.URL + "/rtc/v1/whip/?app=live&stream=s")
	if err != nil {
		t.Fatal(err)
	}
	answer, loc, err := Negotiate(ctx, srv.Client(), ep, "v=0 offer", "1")
	if err != nil || answer != "v=0 answer" || loc != srv.URL+"/rtc/v1/whip/?action=delete&session=s1" {
		t.Fatalf("answer %q, location %q, %v", answer, loc, err)
	}
	Delete(ctx, srv.Client(), loc)
	if len(deleted) != 1 || deleted[0] != "/rtc/v1/whip/?action=delete&session=s1" {
		t.Errorf("DELETEs %q", deleted)
	}
	for stream, kind := range map[string]failure.Kind{"refused": failure.Rejected, "missing": failure.HTTPStatus, "huge": failure.BadData} {
		ep.URL = srv.URL + "/rtc/v1/whip/?app=live&stream=" + stream
		if _, _, err := Negotiate(ctx, srv.Client(), ep, "v=0 offer", "1"); failure.KindOf(err) != kind {
			t.Errorf("%s: %v (kind %s), want kind %s", stream, err, failure.KindOf(err), kind)
		}
	}
}

func TestNegotiateJSONAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.URL.Path != "/rtc/v1/publish/" {
			t.Errorf("%s: %v", r.URL, err)
		}
		if v, ok := req["clientip"]; !ok || v != nil || req["tid"] != "7" || req["api"] != "http://"+r.Host+"/rtc/v1/publish/" {
			t.Errorf("request %v", req)
		}
		switch req["streamurl"] {
		case "webrtc://" + r.Host + "/live/ok":
			_, _ = io.WriteString(w, `{"code":0,"server":"vid-1","sdp":"v=0 answer","sessionid":"a:b"}`)
		case "webrtc://" + r.Host + "/live/busy":
			_, _ = io.WriteString(w, `{"code":400}`)
		case "webrtc://" + r.Host + "/live/nosdp":
			_, _ = io.WriteString(w, `{"code":0}`)
		case "webrtc://" + r.Host + "/live/html":
			_, _ = io.WriteString(w, `<html>`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for stream, kind := range map[string]failure.Kind{"ok": "", "busy": failure.Rejected, "nosdp": failure.BadData,
		"html": failure.BadData, "other": failure.HTTPStatus} {
		ep, err := ParseURL("webrtc://" + host + "/live/" + stream)
		if err != nil {
			t.Fatal(err)
		}
		answer, loc, err := Negotiate(context.Background(), srv.Client(), ep, "v=0 offer", "7")
		if failure.KindOf(err) != kind || (err == nil && (answer != "v=0 answer" || loc != "")) {
			t.Errorf("%s: answer %q, location %q, %v", stream, answer, loc, err)
		}
	}
}

func FuzzParseAPIAnswer(f *testing.F) {
	for _, s := range []string{`{"code":0,"server":"vid-1","sdp":"v=0\r\n","sessionid":"a:b"}`, `{"code":400}`, `{"code":"0"}`, `null`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sdp, err := parseAPIAnswer(http.StatusOK, "200 OK", body, "http://h/rtc/v1/publish/")
		if (err == nil) == (sdp == "") {
			t.Fatalf("%q: sdp %q, err %v", body, sdp, err)
		}
	})
}
