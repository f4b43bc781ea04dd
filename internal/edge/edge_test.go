package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/streamurl"
)

func TestParseOrigin(t *testing.T) {
	tests := []struct {
		in, proto string
		want      string
		bad       bool
	}{
		{"10.0.0.1", ProtoRTMP, "10.0.0.1:1935", false},
		{"origin.example:19350", ProtoRTMP, "origin.example:19350", false},
		{"origin.example", ProtoFLV, "origin.example:80", false},
		{"origin.example", ProtoFLVS, "origin.example:443", false},
		{"[::1]:1936", ProtoRTMP, "[::1]:1936", false},
		{"::1", ProtoRTMP, "[::1]:1935", false},
		{" host ", ProtoRTMP, "host:1935", false},
		{"host:0", ProtoRTMP, "", true},
		{"host:99999", ProtoRTMP, "", true},
		{"host:x", ProtoRTMP, "", true},
		{"", ProtoRTMP, "", true},
		{"a/b", ProtoRTMP, "", true},
		{"rtmp://host", ProtoRTMP, "", true},
		{"a:b:c", ProtoRTMP, "", true},
	}
	for _, tt := range tests {
		o, err := parseOrigin(tt.in, tt.proto)
		if (err != nil) != tt.bad || (!tt.bad && o.String() != tt.want) {
			t.Errorf("parseOrigin(%q, %s) = %v, %v; want %q (bad %v)", tt.in, tt.proto, o, err, tt.want, tt.bad)
		}
	}
}

func TestUpstreamURLs(t *testing.T) {
	key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "cam"}
	named := hub.Key{Vhost: "v.test", App: "live", Name: "cam"}
	o := origin{host: "10.0.0.1", port: 1935}
	plain := conf.Cluster{Vhost: "[vhost]"}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"default vhost, IP tcUrl", rtmpURL(o, key, plain, Client{TcURL: "rtmp://127.0.0.1/live"}), "rtmp://10.0.0.1:1935/live/cam"},
		{"param kept", rtmpURL(o, key, plain, Client{TcURL: "rtmp://127.0.0.1/live", Param: "?token=x"}), "rtmp://10.0.0.1:1935/live/cam?token=x"},
		{"domain tcUrl names the vhost", rtmpURL(o, key, plain, Client{TcURL: "rtmp://cdn.test/live"}), "rtmp://10.0.0.1:1935/live/cam?vhost=cdn.test"},
		{"named vhost", rtmpURL(o, named, plain, Client{Param: "?a=1"}), "rtmp://10.0.0.1:1935/live/cam?a=1&vhost=v.test"},
		{"vhost transform", rtmpURL(o, named, conf.Cluster{Vhost: "up.[vhost]"}, Client{}), "rtmp://10.0.0.1:1935/live/cam?vhost=up.v.test"},
		{"HTTP-FLV default port", flvURL(origin{host: "o.test", port: 80}, key, ProtoFLV, Client{Param: "?t=1"}), "http://o.test/live/cam.flv?t=1"},
		{"HTTP-FLV other port", flvURL(origin{host: "o.test", port: 8080}, key, ProtoFLV, Client{}), "http://o.test:8080/live/cam.flv"},
		{"HTTPS-FLV", flvURL(origin{host: "::1", port: 443}, key, ProtoFLVS, Client{}), "https://[::1]/live/cam.flv"},
		{"HTTPS-FLV v6 port", flvURL(origin{host: "::1", port: 8443}, key, ProtoFLVS, Client{}), "https://[::1]:8443/live/cam.flv"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestPullProtocol(t *testing.T) {
	tests := []struct {
		c    conf.Cluster
		who  string
		want string
	}{
		{conf.Cluster{}, "http-flv", ProtoRTMP},
		{conf.Cluster{Protocol: ProtoFLV}, "rtmp", ProtoFLV},
		{conf.Cluster{Protocol: ProtoRTMP, FollowClient: true}, "http-flv", ProtoFLV},
		{conf.Cluster{Protocol: ProtoFLV, FollowClient: true}, "rtmp", ProtoRTMP},
		{conf.Cluster{Protocol: ProtoFLVS, FollowClient: true}, "srt", ProtoFLVS},
	}
	for _, tt := range tests {
		if got := pullProtocol(tt.c, Client{Protocol: tt.who}); got != tt.want {
			t.Errorf("%+v for %s: %s, want %s", tt.c, tt.who, got, tt.want)
		}
	}
}

func TestIsPlayer(t *testing.T) {
	for proto, want := range map[string]bool{"rtmp": true, "http-flv": true, "http-ts": true, "rtc-relay": true, "srt": true,
		"hls": false, "dash": false, "dvr": false, "forward": false, ProtocolPull: false} {
		if got := IsPlayer(hub.ClientInfo{Protocol: proto}); got != want {
			t.Errorf("IsPlayer(%s) = %v", proto, got)
		}
	}
}

var clusterAnswers = []string{
	`{"code":0,"data":{"query":{"ip":"a","vhost":"__defaultVhost__","app":"live","stream":"s"},"origin":{"ip":"10.0.0.2","port":1935,"vhost":"__defaultVhost__","api":"10.0.0.2:1985","routers":["10.0.0.2:1985"]}}}`,
	`{"code":0,"data":{"query":{},"origin":null}}`,
	`{"code":0,"data":{}}`,
	`{"code":1,"data":{"origin":{"ip":"x","port":1}}}`,
	`{"data":{"origin":{"ip":"x","port":1}}}`,
	`{"code":0,"data":{"origin":{"ip":"","port":1935}}}`,
	`{"code":0,"data":{"origin":{"ip":"h","port":70000}}}`,
	`{"code":0,"data":{"origin":{"ip":"h","port":1935.5}}}`,
	`{"code":0,"data":{"origin":{"ip":"h/x","port":1935}}}`,
	`{"code":0,"data":{"origin":{"ip":"h","port":"1935"}}}`,
	`not json`,
	``,
}

func TestParseClusterAnswer(t *testing.T) {
	want := []struct {
		host string
		port int
		bad  bool
	}{
		{"10.0.0.2", 1935, false}, {"", 0, false}, {"", 0, false},
		{"", 0, true}, {"", 0, true}, {"", 0, true}, {"", 0, true}, {"", 0, true}, {"", 0, true}, {"", 0, true}, {"", 0, true}, {"", 0, true},
	}
	for i, body := range clusterAnswers {
		host, port, err := ParseClusterAnswer([]byte(body))
		if host != want[i].host || port != want[i].port || (err != nil) != want[i].bad {
			t.Errorf("%s: %q %d %v; want %+v", body, host, port, err, want[i])
		}
	}
	if _, _, err := ParseClusterAnswer([]byte(`{"code":0,"data":{"origin":null},"x":"` + strings.Repeat("a", maxClusterAnswer) + `"}`)); err == nil {
		t.Error("an oversized answer was accepted")
	}
}

func FuzzParseClusterAnswer(f *testing.F) {
	for _, a := range clusterAnswers {
		f.Add([]byte(a))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		host, port, err := ParseClusterAnswer(body)
		if err == nil && host != "" && (port <= 0 || port > 65535) {
			t.Fatalf("accepted port %d", port)
		}
		if err != nil && host != "" {
			t.Fatal("an error with a host")
		}
	})
}

// TestDiscover: coworkers are asked in order with SRS's query; one that
// fails or has no origin is skipped; the first origin wins.
func TestDiscover(t *testing.T) {
	var asked []string
	answer := func(body string, status int) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked = append(asked, r.Method+" "+r.URL.String())
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}))
	}
	broken := answer("oops", http.StatusInternalServerError)
	defer broken.Close()
	none := answer(clusterAnswers[1], http.StatusOK)
	defer none.Close()
	has := answer(clusterAnswers[0], http.StatusOK)
	defer has.Close()
	host := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }
	key := hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "s"}
	req := &streamurl.Request{Host: "127.0.0.1", Param: "?t=1"}
	url, err := Discover(context.Background(), http.DefaultClient, []string{host(broken), host(none), host(has)}, key, req)
	if err != nil || url != "rtmp://10.0.0.2:1935/live/s?t=1" {
		t.Fatalf("Discover: %q, %v", url, err)
	}
	if len(asked) != 3 || !strings.HasPrefix(asked[2], "POST /api/v1/clusters?") ||
		!strings.Contains(asked[2], "app=live") || !strings.Contains(asked[2], "stream=s") ||
		!strings.Contains(asked[2], "ip=127.0.0.1") || !strings.Contains(asked[2], "coworker="+host(has)) {
		t.Errorf("asked %q", asked)
	}
	_, err = Discover(context.Background(), http.DefaultClient, []string{host(broken), host(none)}, key, req)
	if !errors.Is(err, ErrNoOrigin) || !strings.Contains(err.Error(), "500") {
		t.Errorf("no origin: %v", err)
	}
}
