package forward

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/protocol/rtmp"
)

func TestDestinationURL(t *testing.T) {
	live := Source{Vhost: hub.DefaultVhost, App: "live", Stream: "livestream", TcURL: "rtmp://127.0.0.1/live"}
	tests := []struct {
		name string
		dest string
		src  Source
		want string
		fail bool
	}{
		{"host and port", "127.0.0.1:19350", live, "rtmp://127.0.0.1:19350/live/livestream", false},
		{"default port", "10.0.0.2", live, "rtmp://10.0.0.2:1935/live/livestream", false},
		{"param kept", "10.0.0.2:1936", Source{Vhost: hub.DefaultVhost, App: "live", Stream: "s", Param: "?token=abc", TcURL: "rtmp://127.0.0.1/live"},
			"rtmp://10.0.0.2:1936/live/s?token=abc", false},
		{"vhost added", "10.0.0.2:1936", Source{Vhost: "demo.srs.com", App: "live", Stream: "s", TcURL: "rtmp://127.0.0.1/live"},
			"rtmp://10.0.0.2:1936/live/s?vhost=demo.srs.com", false},
		{"vhost after param", "10.0.0.2:1936", Source{Vhost: "demo.srs.com", App: "live", Stream: "s", Param: "?token=1", TcURL: "rtmp://127.0.0.1/live"},
			"rtmp://10.0.0.2:1936/live/s?token=1&vhost=demo.srs.com", false},
		{"vhost already in param", "10.0.0.2", Source{Vhost: "demo.srs.com", App: "live", Stream: "s", Param: "?vhost=demo.srs.com", TcURL: "rtmp://127.0.0.1/live?vhost=demo.srs.com"},
			"rtmp://10.0.0.2:1935/live/s?vhost=demo.srs.com", false},
		// SRS names the vhost after the host the publisher asked for when
		// the default vhost took it and that host is a domain.
		{"domain host of default vhost", "10.0.0.2", Source{Vhost: hub.DefaultVhost, App: "live", Stream: "s", TcURL: "rtmp://cdn.example.com/live"},
			"rtmp://10.0.0.2:1935/live/s?vhost=cdn.example.com", false},
		{"multi-level app", "10.0.0.2", Source{Vhost: hub.DefaultVhost, App: "show/live", Stream: "s", TcURL: "rtmp://127.0.0.1/show/live"},
			"rtmp://10.0.0.2:1935/show/live/s", false},
		{"ipv6 with port", "[::1]:1936", live, "rtmp://[::1]:1936/live/livestream", false},
		{"ipv6 without port", "[::1]", live, "rtmp://[::1]:1935/live/livestream", false},
		{"empty", "", live, "", true},
		{"bad port", "10.0.0.2:http", live, "", true},
		{"port out of range", "10.0.0.2:70000", live, "", true},
		{"url without a stream", "rtmp://10.0.0.2/live", live, "", true},
		{"url with variables", "rtmp://cdn.test:1936/push/[app]_[stream]?from=[vhost]&[param]",
			Source{Vhost: hub.DefaultVhost, App: "live", Stream: "s", Param: "?token=1"},
			"rtmp://cdn.test:1936/push/live_s?from=__defaultVhost__&token=1", false},
		{"url, empty param", "rtmp://cdn.test/live/[stream]?[param]", live, "rtmp://cdn.test/live/livestream", false},
		{"url, bad host", "rtmp:///live/[stream]", live, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DestinationURL(tt.dest, tt.src)
			if (err != nil) != tt.fail || got != tt.want {
				t.Fatalf("DestinationURL(%q) = %q, %v; want %q fail=%v", tt.dest, got, err, tt.want, tt.fail)
			}
			if err == nil {
				if _, _, err := rtmp.SplitStreamURL(got); err != nil {
					t.Fatalf("the client cannot publish to %q: %v", got, err)
				}
			}
		})
	}
}

func TestDestinationsWithBackend(t *testing.T) {
	job := Job{
		Key:       hub.Key{Vhost: hub.DefaultVhost, App: "live", Name: "s"},
		Publisher: hooks.Request{ClientID: "abcd1234", TcURL: "rtmp://127.0.0.1/live", Param: "?k=v"},
		Forward:   conf.Forward{Enabled: true, Destination: []string{"127.0.0.1:1936", "bad:port:x"}, Backend: "http://backend/api"},
	}
	tests := []struct {
		name    string
		answer  []string
		err     error
		want    []string
		wantLog string
	}{
		{"backend urls appended", []string{"rtmp://10.0.0.9/live/x?token=1", "rtmp://10.0.0.10:1937/a/b/c"}, nil,
			[]string{"rtmp://127.0.0.1:1936/live/s?k=v", "rtmp://10.0.0.9/live/x?token=1", "rtmp://10.0.0.10:1937/a/b/c"}, ""},
		{"backend fails", nil, errors.New("hook on_forward: code 1"),
			[]string{"rtmp://127.0.0.1:1936/live/s?k=v"}, "forward: backend failed"},
		{"bad urls skipped", []string{"http://10.0.0.9/live/x", "rtmp://10.0.0.9/live/ok", "rtmp://nohost"}, nil,
			[]string{"rtmp://127.0.0.1:1936/live/s?k=v", "rtmp://10.0.0.9/live/ok"}, "forward: backend url skipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			log := slog.New(slog.NewTextHandler(&logs, nil))
			var asked hooks.Request
			opt := Options{Backend: func(_ context.Context, backend string, r hooks.Request) ([]string, error) {
				if backend != job.Forward.Backend {
					t.Errorf("backend %q", backend)
				}
				asked = r
				return tt.answer, tt.err
			}}
			got := destinations(context.Background(), job, opt, log)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("destinations:\n got %q\nwant %q", got, tt.want)
			}
			if asked.ClientID != "abcd1234" || asked.Param != "?k=v" {
				t.Errorf("backend asked with %+v", asked)
			}
			if !strings.Contains(logs.String(), "forward: destination skipped") {
				t.Errorf("the bad destination was not logged:\n%s", logs.String())
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs.String())
			}
		})
	}
}

func FuzzDestinationURL(f *testing.F) {
	for _, s := range []string{"127.0.0.1:1935", "host", "[::1]:19350", "[::1]", "a:b:c", ":1935", "h:0", "", "rtmp://x/y"} {
		f.Add(s, "?token=1", "demo.srs.com")
	}
	f.Fuzz(func(t *testing.T, dest, param, vhost string) {
		u, err := DestinationURL(dest, Source{Vhost: vhost, App: "live", Stream: "s", Param: param, TcURL: "rtmp://127.0.0.1/live"})
		if err != nil {
			if u != "" {
				t.Fatalf("url %q with error %v", u, err)
			}
			return
		}
		if !strings.HasPrefix(u, "rtmp://") {
			t.Fatalf("url %q", u)
		}
	})
}
