package streamurl

import "testing"

func TestBuildRTMPURL(t *testing.T) {
	tests := []struct {
		host                      string
		port                      int
		vhost, app, stream, param string
		want                      string
	}{
		{"127.0.0.1", 1935, DefaultVhost, "live", "livestream", "",
			"rtmp://127.0.0.1:1935/live/livestream"},
		{"127.0.0.1", 0, DefaultVhost, "live", "livestream", "",
			"rtmp://127.0.0.1:1935/live/livestream"},
		{"127.0.0.1", 19350, "demo.srs.com", "live", "livestream", "",
			"rtmp://127.0.0.1:19350/live/livestream?vhost=demo.srs.com"},
		{"127.0.0.1", 1935, "demo.srs.com", "live", "livestream", "?token=abc",
			"rtmp://127.0.0.1:1935/live/livestream?token=abc&vhost=demo.srs.com"},
		{"127.0.0.1", 1935, "demo.srs.com", "live", "livestream", "?vhost=other.com&token=1",
			"rtmp://127.0.0.1:1935/live/livestream?vhost=other.com&token=1"},
		{"127.0.0.1", 1935, "demo.srs.com", "live", "livestream", "?domain=demo.srs.com",
			"rtmp://127.0.0.1:1935/live/livestream?domain=demo.srs.com&vhost=demo.srs.com"},
		{"origin.example.com", 1935, DefaultVhost, "live", "livestream", "",
			"rtmp://origin.example.com:1935/live/livestream?vhost=origin.example.com"},
		{"::1", 1935, DefaultVhost, "live", "livestream", "?token=1",
			"rtmp://[::1]:1935/live/livestream?token=1"},
		{"10.0.0.2", 1935, "", "show/live", "s", "",
			"rtmp://10.0.0.2:1935/show/live/s"},
	}
	for _, tt := range tests {
		if got := BuildRTMPURL(tt.host, tt.port, tt.vhost, tt.app, tt.stream, tt.param); got != tt.want {
			t.Errorf("%+v:\n got %s\nwant %s", tt, got, tt.want)
		}
	}
}

func TestRequestRTMPURL(t *testing.T) {
	// An edge forwarding a client of the default vhost that asked for a
	// domain keeps that domain as the vhost upstream, as SRS does.
	r, err := DiscoverRTMP("rtmp://cdn.example.com/live", "livestream?token=1")
	if err != nil {
		t.Fatal(err)
	}
	r.Vhost = DefaultVhost
	if got, want := r.RTMPURL("10.0.0.2", 1935), "rtmp://10.0.0.2:1935/live/livestream?token=1&vhost=cdn.example.com"; got != want {
		t.Errorf("RTMPURL = %s, want %s", got, want)
	}
	// Built URLs discover back to the same stream.
	back, err := DiscoverRTMP("rtmp://10.0.0.2:1935/live", "livestream?token=1&vhost=cdn.example.com")
	if err != nil || back.App != "live" || back.Stream != "livestream" || back.Vhost != "cdn.example.com" {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func TestBuildTcURL(t *testing.T) {
	tests := []struct {
		schema, host, vhost, app string
		port                     int
		want                     string
	}{
		{"rtmp", "10.0.0.2", DefaultVhost, "live", 1935, "rtmp://10.0.0.2/live"},
		{"", "10.0.0.2", DefaultVhost, "live", 0, "rtmp://10.0.0.2/live"},
		{"rtmp", "10.0.0.2", "v.com", "live", 19350, "rtmp://v.com:19350/live"},
		{"rtmp", "::1", DefaultVhost, "live", 1935, "rtmp://[::1]/live"},
		{"rtmp", "::1", "", "live", 1936, "rtmp://[::1]:1936/live"},
		{"rtmp", "", DefaultVhost, "live", 1935, "rtmp://__defaultVhost__/live"},
	}
	for _, tt := range tests {
		if got := BuildTcURL(tt.schema, tt.host, tt.vhost, tt.app, tt.port); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt, got, tt.want)
		}
	}
}
