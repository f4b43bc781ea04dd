package security

import (
	"errors"
	"strings"
	"testing"

	"github.com/castd/castd/internal/conf"
)

func TestReferDomain(t *testing.T) {
	tests := map[string]string{
		"http://www.ossrs.net/players/srs_player.html": "www.ossrs.net",
		"https://ossrs.net:8443/a/b?c=d":               "ossrs.net",
		"ossrs.net/page":                               "ossrs.net",
		"www.ossrs.net":                                "www.ossrs.net",
		"rtmp://a.b.c":                                 "a.b.c",
		"":                                             "",
		"http://":                                      "",
		"http://user:pass@host/":                       "user", // as SRS: cut at the first ':'
		"http://[::1]:8080/":                           "[",
	}
	for url, want := range tests {
		if got := ReferDomain(url); got != want {
			t.Errorf("ReferDomain(%q) = %q, want %q", url, got, want)
		}
	}
}

func TestMatchRefer(t *testing.T) {
	tests := []struct {
		domains []string
		page    string
		want    bool
	}{
		{[]string{"ossrs.net"}, "http://ossrs.net/player.html", true},
		{[]string{"ossrs.net"}, "http://www.ossrs.net/player.html", true},
		{[]string{"github.com", "ossrs.net"}, "https://www.ossrs.net:443/", true},
		{[]string{"ossrs.net"}, "http://ossrs.net.evil.com/", false},
		{[]string{"ossrs.net"}, "http://evilossrs.net/", true}, // no dot boundary, as SRS
		{[]string{".ossrs.net"}, "http://ossrs.net/", false},
		{[]string{".ossrs.net"}, "http://www.ossrs.net/", true},
		{[]string{"OSSRS.net"}, "http://ossrs.net/", false}, // case-sensitive, as SRS
		{[]string{"a.b"}, "http://a.b.a.b/", false},         // the first occurrence decides, as SRS
		{[]string{"ossrs.net"}, "", false},                  // no pageUrl: denied
		{[]string{"www.ossrs.net"}, "http://ossrs.net/", false},
		{[]string{""}, "", true},
		{nil, "http://ossrs.net/", false},
	}
	for _, tt := range tests {
		if got := MatchRefer(tt.domains, tt.page); got != tt.want {
			t.Errorf("MatchRefer(%q, %q) = %v, want %v", tt.domains, tt.page, got, tt.want)
		}
	}
}

// vhostRefer builds vhost.refer through castd's config parser.
func vhostRefer(t *testing.T, body string) conf.Refer {
	t.Helper()
	cfg, err := conf.Parse("test.conf", []byte("listen 1935; vhost __defaultVhost__ { refer { "+body+" } }"), conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Vhost(conf.DefaultVhost).Refer
}

func TestCheckRefer(t *testing.T) {
	tests := []struct {
		name   string
		config string
		kind   Kind
		page   string
		denied bool
	}{
		{"disabled", "enabled off; all ossrs.net;", Play, "http://evil.com/", false},
		{"no lists", "enabled on;", Publish, "", false},
		{"all matches", "enabled on; all ossrs.net;", Play, "http://www.ossrs.net/p.html", false},
		{"all misses", "enabled on; all ossrs.net;", Play, "http://evil.com/p.html", true},
		{"all misses, no pageUrl", "enabled on; all ossrs.net;", Publish, "", true},
		{"play list", "enabled on; play ossrs.net;", Play, "http://evil.com/", true},
		{"play list ignores publishers", "enabled on; play ossrs.net;", Publish, "http://evil.com/", false},
		{"publish list", "enabled on; publish ossrs.net;", Publish, "http://evil.com/", true},
		{"publish list ignores players", "enabled on; publish ossrs.net;", Play, "", false},
		{"both lists must match", "enabled on; all ossrs.net; play www.ossrs.net;", Play, "http://cdn.ossrs.net/", true},
		{"both lists match", "enabled on; all ossrs.net; play www.ossrs.net;", Play, "http://www.ossrs.net/", false},
		{"all then kind", "enabled on; all a.com b.com; publish b.com;", Publish, "http://x.a.com/", true},
		{"several domains", "enabled on; all a.com b.com;", Publish, "http://x.b.com/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRefer(vhostRefer(t, tt.config), tt.kind, tt.page)
			if !tt.denied {
				if err != nil {
					t.Fatalf("%v, want allowed", err)
				}
				return
			}
			var serr *Error
			if !errors.As(err, &serr) || serr.Code != CodeReferDenied || !strings.Contains(err.Error(), "refer") {
				t.Fatalf("%v, want a refer error with code %d", err, CodeReferDenied)
			}
		})
	}
}
