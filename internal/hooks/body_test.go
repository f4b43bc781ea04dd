package hooks

import (
	"context"
	"slices"
	"testing"
	"time"
)

// rtmpPublisher is an OBS-like publisher with a token, on the default vhost.
var rtmpPublisher = Request{
	ClientID: "k3j9x0a2", IP: "10.0.0.5", Vhost: "__defaultVhost__", App: "live", Stream: "livestream",
	Param: "?token=abc&salt=1", TcURL: "rtmp://192.168.1.10/live", StreamID: "vid-0x9k3a1",
}

// flvPlayer is an HTTP-FLV player on another vhost; its stream has the
// extension SRS strips and its param lacks the '?' castd adds.
var flvPlayer = Request{
	ClientID: "p0q1r2s3", IP: "2001:db8::7", Vhost: "demo.castd.io", App: "show/live", Stream: "cam1.flv",
	Param: "vhost=demo.castd.io", TcURL: "rtmp://demo.castd.io/show/live", PageURL: "https://demo.castd.io/player.html",
}

func TestBodies(t *testing.T) {
	hs := newHookServer(t, nil)
	c := newTestClient(t, Options{})
	h := allHooks(hs.URL + "/api/v1/hook")
	ctx := context.Background()

	tests := []struct {
		name  string
		event Event
		call  func() error
		want  string
		order []string
	}{
		{
			name: "on_connect", event: OnConnect,
			call: func() error { return c.OnConnect(ctx, h, rtmpPublisher) },
			want: `{"server_id":"vid-k21d7y2","service_id":"fw3zq9c1","action":"on_connect","client_id":"k3j9x0a2",
				"ip":"10.0.0.5","vhost":"__defaultVhost__","app":"live","stream":"livestream","param":"?token=abc&salt=1",
				"tcUrl":"rtmp://192.168.1.10/live","pageUrl":""}`,
			order: []string{"server_id", "service_id", "action", "client_id", "ip", "vhost", "app", "stream", "param", "tcUrl", "pageUrl"},
		},
		{
			name: "on_close", event: OnClose,
			call: func() error { c.OnClose(ctx, h, rtmpPublisher, 3456, 1234567890123); return nil },
			want: `{"server_id":"vid-k21d7y2","service_id":"fw3zq9c1","action":"on_close","client_id":"k3j9x0a2",
				"ip":"10.0.0.5","vhost":"__defaultVhost__","app":"live","send_bytes":3456,"recv_bytes":1234567890123}`,
			order: []string{"server_id", "service_id", "action", "client_id", "ip", "vhost", "app", "send_bytes", "recv_bytes"},
		},
		{
			name: "on_publish", event: OnPublish,
			call: func() error { return c.OnPublish(ctx, h, rtmpPublisher) },
			want: `{"server_id":"vid-k21d7y2","service_id":"fw3zq9c1","action":"on_publish","client_id":"k3j9x0a2",
				"ip":"10.0.0.5","vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://192.168.1.10/live",
				"stream":"livestream","param":"?token=abc&salt=1","stream_url":"/live/livestream","stream_id":"vid-0x9k3a1"}`,
			order: []string{"server_id", "service_id", "action", "client_id", "ip", "vhost", "app", "tcUrl", "stream", "param", "stream_url", "stream_id"},
		},
		{
			name: "on_unpublish", event: OnUnpublish,
			call: func() error { c.OnUnpublish(ctx, h, rtmpPublisher); return nil },
			want: `{"server_id":"vid-k21d7y2","service_id":"fw3zq9c1","action":"on_unpublish","client_id":"k3j9x0a2",
				"ip":"10.0.0.5","vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://192.168.1.10/live",
				"stream":"livestream","param":"?token=abc&salt=1","stream_url":"/live/livestream","stream_id":"vid-0x9k3a1"}`,
		},
		{
			name: "on_play", event: OnPlay,
			call: func() error { return c.OnPlay(ctx, h, flvPlayer) },
			want: `{"server_id":"vid-k21d7y2","service_id":"fw3zq9c1","action":"on_play","client_id":"p0q1r2s3",
				"ip":"2001:db8::7","vhost":"demo.castd.io","app":"show/live","stream":"cam1","tcUrl":"rtmp://demo.castd.io/show/live",
				"param":"?vhost=demo.castd.io","pageUrl":"https://demo.castd.io/player.html","stream_url":"demo.castd.io/show/live/cam1"}`,
			order: []string{"server_id", "service_id", "action", "client_id", "ip", "vhost", "app", "stream", "tcUrl", "param", "pageUrl", "stream_url"},
		},
		{
			name: "on_stop", event: OnStop,
			call: func() error { c.OnStop(ctx, h, flvPlayer); return nil },
			want: `{"server_id":"vid-k21d7y2","service_id":"fw3zq9c1","action":"on_stop","client_id":"p0q1r2s3",
				"ip":"2001:db8::7","vhost":"demo.castd.io","app":"show/live","tcUrl":"rtmp://demo.castd.io/show/live",
				"stream":"cam1","param":"?vhost=demo.castd.io","stream_url":"demo.castd.io/show/live/cam1"}`,
		},
		{
			name: "on_dvr", event: OnDVR,
			call: func() error {
				c.OnDVR(h, rtmpPublisher, DVRFile{Cwd: "/usr/local/castd", File: "./objs/nginx/html/live/livestream.1420254068776.flv"})
				return nil
			},
			want: `{"server_id":"vid-k21d7y2","service_id":"fw3zq9c1","action":"on_dvr","client_id":"k3j9x0a2",
				"ip":"10.0.0.5","vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://192.168.1.10/live",
				"stream":"livestream","param":"?token=abc&salt=1","cwd":"/usr/local/castd",
				"file":"./objs/nginx/html/live/livestream.1420254068776.flv","stream_url":"/live/livestream","stream_id":"vid-0x9k3a1"}`,
			order: []string{"server_id", "service_id", "action", "client_id", "ip", "vhost", "app", "tcUrl", "stream", "param", "cwd", "file", "stream_url", "stream_id"},
		},
		{
			name: "on_hls", event: OnHLS,
			call: func() error {
				c.OnHLS(h, rtmpPublisher, HLSSegment{Cwd: "/usr/local/castd", File: "./objs/nginx/html/live/livestream-12.ts",
					URI: "livestream-12.ts", M3U8: "./objs/nginx/html/live/livestream.m3u8", M3U8URL: "live/livestream.m3u8",
					SeqNo: 12, Duration: 9960 * time.Millisecond})
				return nil
			},
			want: `{"server_id":"vid-k21d7y2","service_id":"fw3zq9c1","action":"on_hls","client_id":"k3j9x0a2",
				"ip":"10.0.0.5","vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://192.168.1.10/live",
				"stream":"livestream","param":"?token=abc&salt=1","duration":9.960000,"cwd":"/usr/local/castd",
				"file":"./objs/nginx/html/live/livestream-12.ts","url":"live/livestream-12.ts",
				"m3u8":"./objs/nginx/html/live/livestream.m3u8","m3u8_url":"live/livestream.m3u8","seq_no":12,
				"stream_url":"/live/livestream","stream_id":"vid-0x9k3a1"}`,
			order: []string{"server_id", "service_id", "action", "client_id", "ip", "vhost", "app", "tcUrl", "stream", "param",
				"duration", "cwd", "file", "url", "m3u8", "m3u8_url", "seq_no", "stream_url", "stream_id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(hs.requests())
			if err := tt.call(); err != nil {
				t.Fatalf("%s: %v", tt.event, err)
			}
			waitFor(t, "the hook", func() bool { return len(hs.requests()) > before })
			got := hs.requests()[before]
			if got.Method != "POST" || got.Path != "/api/v1/hook" {
				t.Fatalf("%s %s, want POST /api/v1/hook", got.Method, got.Path)
			}
			if ct := got.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			if ua := got.Header.Get("User-Agent"); ua != DefaultUserAgent {
				t.Fatalf("User-Agent %q", ua)
			}
			jsonEqual(t, got.Body, tt.want)
			if tt.order != nil {
				if keys := keyOrder(t, got.Body); !slices.Equal(keys, tt.order) {
					t.Fatalf("field order %v, want %v", keys, tt.order)
				}
			}
		})
	}
	// The '&' of a param is sent as is, not as \u0026.
	for _, r := range hs.requests() {
		if string(r.Body) != "" && containsEscapedAmp(r.Body) {
			t.Fatalf("HTML-escaped body: %s", r.Body)
		}
	}
}

func containsEscapedAmp(b []byte) bool {
	for i := 0; i+6 <= len(b); i++ {
		if string(b[i:i+6]) == `\u0026` {
			return true
		}
	}
	return false
}

func TestBodyDetails(t *testing.T) {
	id := ids{server: "s", service: "v"}
	tests := []struct {
		name string
		got  any
		want string
	}{
		{"forward", id.forward(rtmpPublisher),
			`{"action":"on_forward","server_id":"s","service_id":"v","client_id":"k3j9x0a2","ip":"10.0.0.5",
			"vhost":"__defaultVhost__","app":"live","tcUrl":"rtmp://192.168.1.10/live","stream":"livestream","param":"?token=abc&salt=1"}`},
		{"no param stays empty", id.stream(OnPublish, Request{Vhost: "__defaultVhost__", App: "live", Stream: "s"}),
			`{"server_id":"s","service_id":"v","action":"on_publish","client_id":"","ip":"","vhost":"__defaultVhost__",
			"app":"live","tcUrl":"","stream":"s","param":"","stream_url":"/live/s"}`},
		{"explicit stream_url kept", id.stream(OnStop, Request{Vhost: "v", App: "a", Stream: "s", StreamURL: "/x/y"}),
			`{"server_id":"s","service_id":"v","action":"on_stop","client_id":"","ip":"","vhost":"v",
			"app":"a","tcUrl":"","stream":"s","param":"","stream_url":"/x/y"}`},
		{"absolute segment URI", id.hls(Request{}, HLSSegment{URI: "https://cdn.example/live/x-1.ts", M3U8URL: "live/x.m3u8", Duration: 10 * time.Second}),
			`{"server_id":"s","service_id":"v","action":"on_hls","client_id":"","ip":"","vhost":"","app":"","tcUrl":"","stream":"",
			"param":"","duration":10.000000,"cwd":"","file":"","url":"https://cdn.example/live/x-1.ts","m3u8":"","m3u8_url":"live/x.m3u8",
			"seq_no":0,"stream_url":"//"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := marshal(tt.got)
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, b, tt.want)
		})
	}
}

func TestSecondsFormat(t *testing.T) {
	for _, tt := range []struct {
		d    Seconds
		want string
	}{{9.96, "9.960000"}, {10, "10.000000"}, {0, "0.000000"}, {Seconds(nan()), "0.000000"}} {
		b, _ := tt.d.MarshalJSON()
		if string(b) != tt.want {
			t.Errorf("%v: %s, want %s", tt.d, b, tt.want)
		}
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}
