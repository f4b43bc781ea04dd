package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/hooks/hookserver"
	"github.com/castd/castd/internal/protocol/rtmp"
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
	if k := keysOf(bodyOf(t, got[5])); k != "action,app,client_id,ip,recv_bytes,send_bytes,server_id,service_id,vhost" {
		t.Errorf("on_close fields: %s", k)
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
	waitActions(t, hs, []string{"on_play", "on_stop"}, 5*time.Second)
	hs.Reset()

	pub.Close()
	waitActions(t, hs, []string{"on_unpublish", "on_close"}, 5*time.Second)
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
