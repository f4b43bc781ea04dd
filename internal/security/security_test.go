package security

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/castd/castd/internal/conf"
)

// vhostSecurity builds vhost.security through castd's real config parser.
func vhostSecurity(t *testing.T, rules ...string) conf.Security {
	t.Helper()
	text := "listen 1935; vhost __defaultVhost__ { security { enabled on;"
	for _, r := range rules {
		text += " " + r + ";"
	}
	text += " } }"
	cfg, err := conf.Parse("test.conf", []byte(text), conf.Options{})
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	return cfg.Vhost(conf.DefaultVhost).Security
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		rules []string
		kind  Kind
		ip    string
		code  int // 0 allows
	}{
		// SRS's utest cases (srs_utest_app.cpp, AppSecurity.CheckSecurity).
		{"no rules deny", nil, Play, "12.13.14.15", CodeSecurityAllow},
		{"deny play all", []string{"deny play all"}, Play, "12.13.14.15", CodeSecurityDeny},
		{"deny play ip", []string{"deny play 12.13.14.15"}, Play, "12.13.14.15", CodeSecurityDeny},
		{"second deny matches", []string{"deny play 11.12.13.14", "deny play 12.13.14.15"}, Play, "12.13.14.15", CodeSecurityDeny},
		{"deny publish ip", []string{"deny publish 12.13.14.15"}, Publish, "12.13.14.15", CodeSecurityDeny},
		{"deny publish all", []string{"deny publish all"}, Publish, "11.12.13.14", CodeSecurityDeny},
		{"deny play all, publish ok", []string{"deny play all"}, Publish, "12.13.14.15", 0},
		{"deny play ip, publish ok", []string{"deny play 12.13.14.15"}, Publish, "12.13.14.15", 0},
		{"deny play other ip", []string{"deny play 12.13.14.15"}, Play, "11.12.13.14", 0},
		{"deny publish ip, play ok", []string{"deny publish 12.13.14.15"}, Play, "12.13.14.15", 0},
		{"deny publish ip, unknown kind ok", []string{"deny publish 12.13.14.15"}, "", "12.13.14.15", 0},
		{"deny publish other ip", []string{"deny publish 12.13.14.15"}, Publish, "11.12.13.14", 0},
		{"allow play ip", []string{"allow play 12.13.14.15"}, Play, "12.13.14.15", 0},
		{"allow play all", []string{"allow play all"}, Play, "12.13.14.15", 0},
		{"allow publish all", []string{"allow publish all"}, Publish, "12.13.14.15", 0},
		{"allow publish ip", []string{"allow publish 12.13.14.15"}, Publish, "12.13.14.15", 0},
		{"allow play other, publish denied", []string{"allow play 11.12.13.14"}, Publish, "12.13.14.15", CodeSecurityAllow},
		{"allow play other ip", []string{"allow play 11.12.13.14"}, Play, "12.13.14.15", CodeSecurityAllow},
		{"allow publish, play denied", []string{"allow publish 12.13.14.15"}, Play, "12.13.14.15", CodeSecurityAllow},
		{"allow publish other ip", []string{"allow publish 11.12.13.14"}, Publish, "12.13.14.15", CodeSecurityAllow},
		{"allow publish, unknown kind denied", []string{"allow publish 11.12.13.14"}, "", "11.12.13.14", CodeSecurityAllow},
		{"deny wins over allow", []string{"allow play 11.12.13.14", "deny play 11.12.13.14"}, Play, "11.12.13.14", CodeSecurityDeny},
		{"deny wins whatever the order", []string{"deny play 11.12.13.14", "allow play all"}, Play, "11.12.13.14", CodeSecurityDeny},
		{"allow all except one", []string{"deny play 11.12.13.14", "allow play all"}, Play, "11.12.13.15", 0},
		// SRS's defaults with rules of both kinds: any allow rule, of either
		// kind, makes "no match" a rejection; deny rules alone never do.
		{"deny publish all, allow play all: publish", []string{"deny publish all", "allow play all"}, Publish, "1.2.3.4", CodeSecurityDeny},
		{"deny publish all, allow play all: play", []string{"deny publish all", "allow play all"}, Play, "1.2.3.4", 0},
		{"allow of the other kind forbids", []string{"allow publish 1.2.3.4", "deny play 5.6.7.8"}, Play, "9.9.9.9", CodeSecurityAllow},
		{"deny of both kinds, no match", []string{"deny publish 5.6.7.8", "deny play 5.6.7.8"}, Play, "9.9.9.9", 0},
		{"allow all then deny all", []string{"allow play all", "deny play all"}, Play, "9.9.9.9", CodeSecurityDeny},
		{"deny of the other kind does not apply", []string{"deny publish all", "allow publish all"}, Play, "9.9.9.9", CodeSecurityAllow},
		// IPv4 CIDR (#2914).
		{"deny cidr", []string{"deny publish 10.0.0.0/8"}, Publish, "10.200.1.2", CodeSecurityDeny},
		{"deny cidr miss", []string{"deny publish 10.0.0.0/8"}, Publish, "11.0.0.1", 0},
		{"allow cidr", []string{"allow play 192.168.1.0/24"}, Play, "192.168.1.254", 0},
		{"allow cidr miss", []string{"allow play 192.168.1.0/24"}, Play, "192.168.2.1", CodeSecurityAllow},
		{"cidr with host bits", []string{"allow play 192.168.1.77/24"}, Play, "192.168.1.3", 0},
		{"cidr /32", []string{"deny play 1.2.3.4/32"}, Play, "1.2.3.4", CodeSecurityDeny},
		{"cidr /0", []string{"deny play 0.0.0.0/0"}, Play, "8.8.8.8", CodeSecurityDeny},
		// IPv6 (castd; SRS has exact IPv6 addresses only).
		{"v6 exact", []string{"deny play 2001:db8::1"}, Play, "2001:db8::1", CodeSecurityDeny},
		{"v6 exact other spelling", []string{"deny play 2001:0db8:0:0::1"}, Play, "2001:db8::1", CodeSecurityDeny},
		{"v6 cidr", []string{"allow publish 2001:db8::/32"}, Publish, "2001:db8:ffff::9", 0},
		{"v6 cidr miss", []string{"allow publish 2001:db8::/32"}, Publish, "2001:db9::9", CodeSecurityAllow},
		{"v6 client, v4 rule", []string{"allow play 1.2.3.4"}, Play, "2001:db8::1", CodeSecurityAllow},
		{"v4 client, v6 rule", []string{"deny play ::/0"}, Play, "1.2.3.4", 0},
		{"mapped client, v4 ip", []string{"deny play 1.2.3.4"}, Play, "::ffff:1.2.3.4", CodeSecurityDeny},
		{"mapped client, v4 cidr", []string{"allow publish 10.0.0.0/8"}, Publish, "::ffff:10.1.2.3", 0},
		{"mapped rule ip, v4 client", []string{"deny play ::ffff:1.2.3.4"}, Play, "1.2.3.4", CodeSecurityDeny},
		{"mapped rule cidr, v4 client", []string{"deny play ::ffff:10.0.0.0/104"}, Play, "10.9.9.9", CodeSecurityDeny},
		{"mapped rule cidr, mapped client", []string{"deny play ::ffff:10.0.0.0/104"}, Play, "::ffff:10.9.9.9", CodeSecurityDeny},
		{"zoned client", []string{"deny play fe80::1"}, Play, "fe80::1%eth0", CodeSecurityDeny},
		{"loopback v6 vs v4", []string{"allow play 127.0.0.1"}, Play, "::1", CodeSecurityAllow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := vhostSecurity(t, tt.rules...)
			err := Check(s, tt.kind, netip.MustParseAddr(tt.ip))
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("%v, want allowed", err)
				}
				return
			}
			var serr *Error
			if !errors.As(err, &serr) || serr.Code != tt.code {
				t.Fatalf("%v, want code %d", err, tt.code)
			}
			if serr.Code == CodeSecurityDeny && (serr.Rule == nil || !strings.Contains(err.Error(), RuleString(*serr.Rule))) {
				t.Fatalf("%v does not name the matching rule", err)
			}
		})
	}
}

func TestCheckDisabledAndUnknownAddress(t *testing.T) {
	s := vhostSecurity(t, "deny play all")
	s.Enabled = false
	if err := Check(s, Play, netip.MustParseAddr("1.2.3.4")); err != nil {
		t.Fatalf("disabled security: %v", err)
	}
	if err := Check(conf.Security{}, Publish, netip.Addr{}); err != nil {
		t.Fatalf("zero security: %v", err)
	}
	// An address castd could not read matches only "all".
	if err := Check(vhostSecurity(t, "deny play all"), Play, netip.Addr{}); err == nil {
		t.Fatal("deny all let an unknown address play")
	}
	if err := Check(vhostSecurity(t, "deny play 1.2.3.4"), Play, netip.Addr{}); err != nil {
		t.Fatalf("an unknown address matched an IP rule: %v", err)
	}
	if err := Check(vhostSecurity(t, "allow play 0.0.0.0/0"), Play, netip.Addr{}); err == nil {
		t.Fatal("an unknown address matched a CIDR")
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		rules []string
		kind  Kind
		ip    string
		want  string
	}{
		{[]string{"deny play 10.0.0.0/8"}, Play, "10.0.0.5",
			`security: play from 10.0.0.5 denied by rule "deny play 10.0.0.0/8" (code 1053)`},
		{[]string{"allow publish 127.0.0.1", "allow publish all", "allow play all"}, Play, "10.0.0.5", ""},
		{[]string{"allow publish 127.0.0.1", "allow play 192.168.0.0/16"}, Play, "10.0.0.5",
			`security: play from 10.0.0.5 not allowed by any of 2 allow rules (code 1054)`},
		{nil, Publish, "::1", `security: publish from ::1 denied: security is enabled without allow or deny rules (code 1054)`},
	}
	for _, tt := range tests {
		err := Check(vhostSecurity(t, tt.rules...), tt.kind, netip.MustParseAddr(tt.ip))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("rules %v: %q, want %q", tt.rules, got, tt.want)
		}
	}
}

func TestRuleString(t *testing.T) {
	s := vhostSecurity(t, "allow publish all", "deny play 1.2.3.4", "deny play 10.0.0.0/8", "allow play 2001:db8::/32", "deny play ::1")
	want := []string{"allow publish all", "deny play 1.2.3.4", "deny play 10.0.0.0/8", "allow play 2001:db8::/32", "deny play ::1"}
	for i, r := range s.Rules {
		if got := RuleString(r); got != want[i] {
			t.Errorf("rule %d: %q, want %q", i, got, want[i])
		}
	}
}

func TestClientAddr(t *testing.T) {
	tests := map[string]string{
		"10.0.0.5:1935":       "10.0.0.5",
		"[2001:db8::1]:8080":  "2001:db8::1",
		"[::ffff:1.2.3.4]:1":  "::ffff:1.2.3.4",
		"[fe80::1%eth0]:1935": "fe80::1%eth0",
		"192.168.1.1":         "192.168.1.1",
		"::1":                 "::1",
		"pipe":                "invalid IP",
		"":                    "invalid IP",
		"/run/castd.sock":     "invalid IP",
		"example.com:80":      "invalid IP",
	}
	for in, want := range tests {
		if got := ClientAddr(in).String(); got != want {
			t.Errorf("ClientAddr(%q) = %s, want %s", in, got, want)
		}
	}
	// A mapped client from a dual-stack listener passes IPv4 rules.
	if err := Check(vhostSecurity(t, "allow play 1.2.3.4"), Play, ClientAddr("[::ffff:1.2.3.4]:1")); err != nil {
		t.Fatal(err)
	}
}
