package rtcpub

import "testing"

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want Endpoint // URL "" is an error
	}{
		{"webrtc://127.0.0.1/live/s1", Endpoint{JSONAPI, "http://127.0.0.1:1985/rtc/v1/publish/", "webrtc://127.0.0.1/live/s1"}},
		{"webrtc://h:2000/live/s1?vhost=v&schema=https", Endpoint{JSONAPI, "https://h:2000/rtc/v1/publish/", "webrtc://h:2000/live/s1?vhost=v&schema=https"}},
		{"WebRTC://[::1]/a/b/c", Endpoint{JSONAPI, "http://[::1]:1985/rtc/v1/publish/", "WebRTC://[::1]/a/b/c"}},
		{"http://127.0.0.1:1985/rtc/v1/whip/?app=live&stream=s1", Endpoint{WHIP, "http://127.0.0.1:1985/rtc/v1/whip/?app=live&stream=s1", ""}},
		{"https://h/whip/endpoint", Endpoint{WHIP, "https://h/whip/endpoint", ""}},
		{"whip+http://h:1985/rtc/v1/whip/?app=live&stream=x", Endpoint{WHIP, "http://h:1985/rtc/v1/whip/?app=live&stream=x", ""}},
		{"WHIP+HTTPS://h/x", Endpoint{WHIP, "https://h/x", ""}},
		{"webrtc://h/livestream", Endpoint{}}, // no app
		{"webrtc://h/live/", Endpoint{}},
		{"webrtc:///live/x", Endpoint{}},
		{"webrtc://h/live/x?schema=ftp", Endpoint{}},
		{"http:///whip", Endpoint{}},
		{"rtmp://h/live/x", Endpoint{}},
		{"webrtc://h:port/live/x", Endpoint{}},
	}
	for _, tt := range tests {
		got, err := ParseURL(tt.in)
		if tt.want.URL == "" {
			if err == nil {
				t.Errorf("%s: got %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestIsURL(t *testing.T) {
	for in, want := range map[string]bool{
		"webrtc://h/live/s": true, "http://h/whip": true, "HTTPS://h/whip": true, "whip+http://h/x": true,
		"rtmp://h/live/s": false, "srt://h:1?streamid=x": false, "whep+http://h/x": false, "webrtc:/x": false, "": false,
	} {
		if got := IsURL(in); got != want {
			t.Errorf("IsURL(%q) = %v", in, got)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"webrtc://127.0.0.1/live/s1", "webrtc://h:2000/a/b/c?schema=https", "http://h:1985/rtc/v1/whip/?app=live&stream=s",
		"whip+https://h/x", "webrtc://[::1]:1/x/y", "webrtc://%zz/x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ep, err := ParseURL(s)
		if err != nil {
			return
		}
		if ep.URL == "" || (ep.Signalling == JSONAPI) != (ep.StreamURL != "") {
			t.Fatalf("%q: %+v", s, ep)
		}
		if !IsURL(s) {
			t.Fatalf("%q parses but IsURL says no", s)
		}
	})
}
