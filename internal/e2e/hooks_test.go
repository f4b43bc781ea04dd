package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks/hookserver"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/server"
)

// hookConf enables every hook of the default vhost to url.
func hookConf(url, extra string) string {
	return fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
http_api { enabled on; listen 127.0.0.1:{{api}}; }
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
vhost __defaultVhost__ {
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
    http_hooks {
        enabled on;
        on_connect %[1]s; on_close %[1]s; on_publish %[1]s; on_unpublish %[1]s; on_play %[1]s; on_stop %[1]s;
    }
    %[2]s
}`, url, extra)
}

func startHookServer(t *testing.T, opt hookserver.Options) (*hookserver.Server, string) {
	t.Helper()
	hs := hookserver.New(opt)
	srv := httptest.NewServer(hs)
	t.Cleanup(srv.Close)
	return hs, srv.URL + "/api/v1/hooks/events"
}

// waitHooks waits until the actions received include every one in want, in
// that order for the given client ids' events.
func waitActions(t *testing.T, hs *hookserver.Server, want []string, within time.Duration) []hookserver.Hook {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := hs.Hooks()
		var actions []string
		for _, h := range got {
			actions = append(actions, h.Action)
		}
		if strings.Join(actions, ",") == strings.Join(want, ",") {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("hooks %v, want %v", actions, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func bodyOf(t *testing.T, h hookserver.Hook) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(h.Body, &m); err != nil {
		t.Fatalf("hook body %s: %v", h.Body, err)
	}
	return m
}

func keysOf(m map[string]any) string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return strings.Join(k, ",")
}

// TestHooksLifecycle: an RTMP publisher, an RTMP player and an HTTP-FLV
// player produce SRS's events in SRS's order with SRS's fields.
func TestHooksLifecycle(t *testing.T) {
	hs, url := startHookServer(t, hookserver.Options{})
	c := startCastd(t, hookConf(url, ""))

	pub := dialPublish(t, c, "hooked?token=abc", rtmp.ClientOptions{})
	write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: avcSH})
	got := waitActions(t, hs, []string{"on_connect", "on_publish"}, 5*time.Second)
	connect, publish := bodyOf(t, got[0]), bodyOf(t, got[1])
	if k := keysOf(connect); k != "action,app,client_id,ip,pageUrl,param,server_id,service_id,stream,tcUrl,vhost" {
		t.Errorf("on_connect fields: %s", k)
	}
	if k := keysOf(publish); k != "action,app,client_id,ip,param,server_id,service_id,stream,stream_id,stream_url,tcUrl,vhost" {
		t.Errorf("on_publish fields: %s", k)
	}
	if publish["stream"] != "hooked" || publish["param"] != "?token=abc" || publish["app"] != "live" ||
		publish["vhost"] != "__defaultVhost__" || publish["stream_url"] != "/live/hooked" || publish["ip"] != "127.0.0.1" ||
		!strings.HasPrefix(publish["stream_id"].(string), "vid-") || publish["server_id"] != c.srv.ID() {
		t.Errorf("on_publish body: %v", publish)
	}
	// The client id is the one the API and the logs use.
	var cl struct{ Client struct{ ID, Type string } }
	getJSON(t, "GET", c.apiURL("api/v1/clients/"+publish["client_id"].(string)), &cl)
	if cl.Client.Type != "fmle-publish" {
		t.Errorf("client_id %v is not the publisher in the API: %+v", publish["client_id"], cl)
	}

	play := dialPlay(t, c, "hooked")
	readMedia(t, play, 1, 5*time.Second)
	waitActions(t, hs, []string{"on_connect", "on_publish", "on_connect", "on_play"}, 5*time.Second)
	play.Close()
	got = waitActions(t, hs, []string{"on_connect", "on_publish", "on_connect", "on_play", "on_stop", "on_close"}, 5*time.Second)
	checkFields(t, got)
	if b := bodyOf(t, got[5]); b["send_bytes"].(float64) <= 0 || b["recv_bytes"].(float64) <= 0 {
		t.Errorf("on_close bytes: %v", b)
	}
	hs.Reset()

	// HTTP-FLV: on_play and on_stop only, with the Referer as pageUrl.
	req, _ := http.NewRequest("GET", c.httpURL("live/hooked.flv?key=1"), nil)
	req.Header.Set("Referer", "http://page.example/player")
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got = waitActions(t, hs, []string{"on_play"}, 5*time.Second)
	flvPlay := bodyOf(t, got[0])
	if flvPlay["pageUrl"] != "http://page.example/player" || flvPlay["param"] != "?key=1" || flvPlay["stream"] != "hooked" {
		t.Errorf("HTTP-FLV on_play: %v", flvPlay)
	}
	resp.Body.Close()
	checkFields(t, waitActions(t, hs, []string{"on_play", "on_stop"}, 5*time.Second))
	hs.Reset()

	pub.Close()
	checkFields(t, waitActions(t, hs, []string{"on_unpublish", "on_close"}, 5*time.Second))
}

// TestHookRejections: a rejecting hook refuses the RTMP publisher (ffmpeg
// fails), the RTMP player and the HTTP-FLV player (closed without a
// response); security deny refuses before any stream is taken.
func TestHookRejections(t *testing.T) {
	_, url := startHookServer(t, hookserver.Options{RejectStream: "private*", Status: 500})
	c := startCastd(t, hookConf(url, "security { enabled on; deny publish 127.0.0.1; allow play all; }"))

	// Security: publishing from 127.0.0.1 is denied.
	if _, err := publishTo(t, c.rtmpURL("live"), "denied"); err == nil {
		t.Fatal("a denied publisher was accepted")
	}
	c.waitLog(t, "code 1053", 2*time.Second)

	// A hook rejection of a player (the stream name matches private*).
	ctx := t.Context()
	cc, err := rtmp.Dial(ctx, c.rtmpURL("live"), rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if err := cc.Play(ctx, "private1"); err == nil {
		_ = cc.NetConn().SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := cc.ReadMessage(); err == nil || strings.Contains(err.Error(), "timeout") {
			t.Fatal("a player rejected by on_play was kept")
		}
	}
	// HTTP-FLV: the connection closes without any HTTP response.
	_, err = (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get(c.httpURL("live/private2.flv"))
	if err == nil || !strings.Contains(err.Error(), "EOF") {
		t.Fatalf("a rejected HTTP-FLV player got %v, want the connection closed without a response", err)
	}
	// Accepted players still play.
	if _, err := (&http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get(c.httpURL("live/public.flv")); err != nil && !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("an accepted HTTP-FLV player: %v", err)
	}
}

// startCastdWith is startCastd with server options: a hook timeout short
// enough for a test to see it reject a client.
func startCastdWith(t *testing.T, text string, opt server.Options) *castd {
	t.Helper()
	baseline := runtime.NumGoroutine()
	c := &castd{rtmp: freePort(t), http: freePort(t), api: freePort(t), dir: t.TempDir(), logs: &syncBuffer{}}
	text = strings.NewReplacer("{{rtmp}}", strconv.Itoa(c.rtmp), "{{http}}", strconv.Itoa(c.http),
		"{{api}}", strconv.Itoa(c.api), "{{dir}}", c.dir).Replace(text)
	cfg, err := conf.Parse("test.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatalf("config: %v\n%s", err, text)
	}
	h := logging.NewHandler(logging.ConsoleOutput(c.logs, c.logs), logging.Options{Level: slog.LevelDebug})
	opt.Logger = slog.New(h)
	c.srv = server.New(cfg, opt)
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if err := c.srv.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("castd log:\n%s", c.logs.String())
		}
		checkGoroutines(t, baseline)
	})
	return c
}

// keyOrder returns the top-level keys of a JSON object in the order sent.
func keyOrder(t *testing.T, body []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("hook body %s is not an object", body)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("hook body %s: %v", body, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("hook body %s: %v", body, err)
		}
	}
	return keys
}

// The fields of each event in SRS's order (docs/hooks.md).
var hookFields = map[string]string{
	"on_connect":   "server_id,service_id,action,client_id,ip,vhost,app,stream,param,tcUrl,pageUrl",
	"on_close":     "server_id,service_id,action,client_id,ip,vhost,app,send_bytes,recv_bytes",
	"on_publish":   "server_id,service_id,action,client_id,ip,vhost,app,tcUrl,stream,param,stream_url,stream_id",
	"on_unpublish": "server_id,service_id,action,client_id,ip,vhost,app,tcUrl,stream,param,stream_url,stream_id",
	"on_play":      "server_id,service_id,action,client_id,ip,vhost,app,stream,tcUrl,param,pageUrl,stream_url,stream_id",
	"on_stop":      "server_id,service_id,action,client_id,ip,vhost,app,tcUrl,stream,param,stream_url,stream_id",
}

func checkFields(t *testing.T, hooks []hookserver.Hook) {
	t.Helper()
	for _, h := range hooks {
		if got := strings.Join(keyOrder(t, h.Body), ","); got != hookFields[h.Action] {
			t.Errorf("%s fields:\n got %s\nwant %s", h.Action, got, hookFields[h.Action])
		}
	}
}

// flvAnswer requests an HTTP-FLV stream over a raw connection and says
// what came back first: "closed" (no response at all, SRS's rejection),
// "200" (the live response started) or "" (nothing within the wait).
func flvAnswer(t *testing.T, c *castd, path string, within time.Duration) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.http), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET /%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path)
	_ = nc.SetReadDeadline(time.Now().Add(within))
	line, err := bufio.NewReader(nc).ReadString('\n')
	switch {
	case err == nil && strings.HasPrefix(line, "HTTP/1.1 200 "):
		return "200"
	case errors.Is(err, io.EOF) && line == "":
		return "closed"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return ""
	}
	return fmt.Sprintf("%q %v", line, err)
}

// rtmpPublishRefused publishes and reports whether castd refused it.
func rtmpPublishRefused(t *testing.T, c *castd, stream string, within time.Duration) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	cc, err := rtmp.Dial(ctx, c.rtmpURL("live"), rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	err = cc.Publish(ctx, stream)
	if ctx.Err() != nil {
		t.Fatalf("publish %s: no answer within %v", stream, within)
	}
	return err != nil
}

// TestHookAnswers: every answer form of SRS's contract, from a real HTTP
// server, decides an RTMP publish and an HTTP-FLV play: the rejections
// refuse the publisher and close the player's connection without any
// response; only 0 and {"code":0} (status 200 or 201) allow. A redirect is
// not followed, and a hook server slower than the hook timeout rejects.
func TestHookAnswers(t *testing.T) {
	var followed atomic.Int32
	redirectTarget := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		io.WriteString(w, "0")
	}))
	t.Cleanup(redirectTarget.Close)

	type answer struct {
		status int
		body   string
		delay  time.Duration
	}
	answers := map[string]answer{
		"status500": {500, "0", 0},
		"body1":     {200, "1", 0},
		"quoted0":   {200, `"0"`, 0},
		"newline0":  {200, "0\n", 0},
		"code1":     {200, `{"code":1}`, 0},
		"redirect":  {302, "0", 0},
		"timeout":   {200, "0", 3 * time.Second},
		"empty":     {200, "", 0},
		"zero":      {200, "0", 0},
		"code0":     {200, `{"code":0}`, 0},
		"created":   {201, `{"code":0,"msg":"ok"}`, 0},
	}
	hooksrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Stream string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		a, ok := answers[body.Stream]
		if !ok {
			a = answer{200, "0", 0}
		}
		if a.delay > 0 {
			select {
			case <-time.After(a.delay):
			case <-r.Context().Done():
				return
			}
		}
		if a.status == 302 {
			w.Header().Set("Location", redirectTarget.URL+"/followed")
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(hooksrv.Close)

	c := startCastdWith(t, fmt.Sprintf(`
listen 127.0.0.1:{{rtmp}};
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
vhost __defaultVhost__ {
    http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
    http_hooks { enabled on; on_publish %[1]s; on_play %[1]s; }
}`, hooksrv.URL+"/hooks"), server.Options{HookTimeout: time.Second})

	for _, tt := range []struct {
		stream string
		allow  bool
		log    string // in castd's log when the hook fails
	}{
		{"status500", false, `status 500, response "0", request {"server_id"`},
		{"body1", false, `(code 3008), status 200, response "1"`},
		{"quoted0", false, `(code 3008), status 200, response "\"0\""`},
		{"newline0", false, `(code 3008), status 200, response "0\n"`},
		{"code1", false, `code 1 (code 3064), status 200, response "{\"code\":1}"`},
		{"redirect", false, `(code 4005), status 302`},
		{"timeout", false, `context deadline exceeded, no answer, request {"server_id"`},
		{"empty", false, `empty body (code 3008)`},
		{"zero", true, ""},
		{"code0", true, ""},
		{"created", true, ""},
	} {
		t.Run(tt.stream, func(t *testing.T) {
			if refused := rtmpPublishRefused(t, c, tt.stream, 5*time.Second); refused == tt.allow {
				t.Errorf("RTMP publish: refused %v, want refused %v", refused, !tt.allow)
			}
			want := "closed"
			if tt.allow {
				want = "200"
			}
			if got := flvAnswer(t, c, "live/"+tt.stream+".flv", 5*time.Second); got != want {
				t.Errorf("HTTP-FLV play: %s, want %s", got, want)
			}
			// The error is a quoted value in castd's key=value log line.
			if quoted := strings.Trim(strconv.Quote(tt.log), `"`); tt.log != "" && !strings.Contains(c.logs.String(), quoted) {
				t.Errorf("castd's log lacks %s", quoted)
			}
		})
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("castd followed a hook's redirect %d times", n)
	}
}

// TestSlowHookDoesNotDelayOtherStreams: while on_publish of one stream
// waits for a slow hook server, another stream publishes at once and a
// third keeps playing.
func TestSlowHookDoesNotDelayOtherStreams(t *testing.T) {
	const slow = 4 * time.Second
	hs := hookserver.New(hookserver.Options{Delay: slow, DelayActions: []string{"on_publish"}, DelayStream: "slow*"})
	var arrived atomic.Bool // the hook server holds slow1's on_publish
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"action":"on_publish"`)) && bytes.Contains(body, []byte(`"stream":"slow1"`)) {
			arrived.Store(true)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		hs.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c := startCastd(t, hookConf(srv.URL+"/hooks", ""))

	live := dialPublish(t, c, "live1", rtmp.ClientOptions{})
	write(t, live, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: avcSH})
	player := dialPlay(t, c, "live1")
	readMedia(t, player, 1, 5*time.Second)

	slowDone := make(chan error, 1)
	began := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cc, err := rtmp.Dial(ctx, c.rtmpURL("live"), rtmp.ClientOptions{})
		if err != nil {
			slowDone <- err
			return
		}
		defer cc.Close()
		slowDone <- cc.Publish(ctx, "slow1")
	}()
	waitFor(t, "the slow on_publish to reach the hook server", arrived.Load)

	start := time.Now()
	dialPublish(t, c, "fast1", rtmp.ClientOptions{})
	if d := time.Since(start); d > slow/2 {
		t.Errorf("another stream's publish took %v while a slow hook was pending", d)
	}
	for i := range 5 {
		write(t, live, rtmp.MediaMessage{Type: rtmp.TypeVideo, Timestamp: uint32(40 * (i + 1)), Payload: frame(i == 0, 64, i)})
	}
	readMedia(t, player, 5, 2*time.Second)
	if err := <-slowDone; err != nil {
		t.Fatalf("the slow publish, allowed after %v: %v", slow, err)
	}
	if d := time.Since(began); d < slow {
		t.Errorf("the slow publish took %v, less than its hook's %v", d, slow)
	}
	var delayed []string
	for _, h := range hs.Hooks() {
		if h.Delayed {
			delayed = append(delayed, h.Action)
		}
	}
	if strings.Join(delayed, ",") != "on_publish" {
		t.Errorf("delayed hooks %v, want slow1's on_publish only", delayed)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHooksSeveralURLsInOrder: each event calls its URLs in the order
// configured; a rejecting event stops at the first failure, a
// notification calls every URL whatever the first answered.
func TestHooksSeveralURLsInOrder(t *testing.T) {
	var mu sync.Mutex
	var seq []string
	record := func(name string, h http.Handler) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var f struct{ Action string }
			_ = json.Unmarshal(body, &f)
			mu.Lock()
			seq = append(seq, name+":"+f.Action)
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
			h.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/" + name
	}
	sequence := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(seq, " ")
	}
	// "a" fails every on_close (a notification: "b" must still hear of
	// it) and rejects on_play of the stream "guarded".
	a := record("a", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var f struct{ Action, Stream string }
		_ = json.NewDecoder(r.Body).Decode(&f)
		switch {
		case f.Action == "on_close":
			w.WriteHeader(http.StatusInternalServerError)
		case f.Action == "on_play" && f.Stream == "guarded":
			io.WriteString(w, `{"code":403}`)
		default:
			io.WriteString(w, "0")
		}
	}))
	b := record("b", hookserver.New(hookserver.Options{}))
	c := startCastd(t, hookConf(a+" "+b, ""))

	pub := dialPublish(t, c, "open", rtmp.ClientOptions{})
	write(t, pub, rtmp.MediaMessage{Type: rtmp.TypeVideo, Payload: avcSH})
	play := dialPlay(t, c, "open")
	readMedia(t, play, 1, 5*time.Second)
	play.Close()
	want := "a:on_connect b:on_connect a:on_publish b:on_publish a:on_connect b:on_connect a:on_play b:on_play a:on_stop b:on_stop a:on_close b:on_close"
	waitFor(t, "the player's hooks", func() bool { return sequence() == want })
	pub.Close()
	want += " a:on_unpublish b:on_unpublish a:on_close b:on_close"
	waitFor(t, "the publisher's hooks", func() bool { return sequence() == want })

	c.waitLog(t, "hook: failed, ignored", 2*time.Second) // a's on_close

	// "a" rejects on_play of "guarded": "b" never hears of it.
	mu.Lock()
	seq = nil
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cc, err := rtmp.Dial(ctx, c.rtmpURL("live"), rtmp.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	_ = cc.Play(ctx, "guarded")
	want = "a:on_connect b:on_connect a:on_play a:on_close b:on_close"
	waitFor(t, "the rejected player's hooks", func() bool { return sequence() == want })
}
