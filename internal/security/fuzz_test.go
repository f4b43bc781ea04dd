package security

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/castd/castd/internal/conf"
)

// fuzzRules decodes 18-byte chunks into rules: flags (bit 0 allow, bit 1
// publish, bit 2 all, bit 3 IPv4), prefix length, 16 address bytes.
func fuzzRules(data []byte) []conf.SecurityRule {
	var rules []conf.SecurityRule
	for ; len(data) >= 18; data = data[18:] {
		flags, bits, raw := data[0], int(data[1]), [16]byte(data[2:18])
		r := conf.SecurityRule{Action: conf.Deny, Scope: conf.ScopePlay, All: flags&4 != 0}
		if flags&1 != 0 {
			r.Action = conf.Allow
		}
		if flags&2 != 0 {
			r.Scope = conf.ScopePublish
		}
		addr := netip.AddrFrom16(raw)
		if flags&8 != 0 {
			addr = netip.AddrFrom4([4]byte(raw[:4]))
		}
		r.Prefix = netip.PrefixFrom(addr, bits%(addr.BitLen()+1))
		rules = append(rules, r)
	}
	return rules
}

// refMatches is rule matching by hand: an IPv4 rule (or an IPv4-mapped one
// of at least 96 bits) covers only IPv4 clients (mapped or not), an IPv6 rule
// only IPv6 clients; both sides are then compared as 16 bytes (IPv4 mapped
// to ::ffff:a.b.c.d, an IPv4 prefix length plus 96), bit by bit.
func refMatches(r conf.SecurityRule, ip netip.Addr) bool {
	if r.All {
		return true
	}
	if !ip.IsValid() || !r.Prefix.IsValid() {
		return false
	}
	bits := r.Prefix.Bits()
	ruleIs4 := r.Prefix.Addr().Is4() || (r.Prefix.Addr().Is4In6() && bits >= 96)
	if ruleIs4 != ip.Unmap().Is4() {
		return false
	}
	if r.Prefix.Addr().Is4() {
		bits += 96
	}
	a, b := r.Prefix.Addr().As16(), ip.WithZone("").As16()
	for i := 0; i < bits; i++ {
		mask := byte(0x80 >> (i % 8))
		if a[i/8]&mask != b[i/8]&mask {
			return false
		}
	}
	return true
}

// refCheck is SRS's decision written plainly.
func refCheck(s conf.Security, kind Kind, ip netip.Addr) int {
	if !s.Enabled {
		return 0
	}
	for _, r := range s.Rules {
		if r.Action == conf.Deny && r.Scope == kind && refMatches(r, ip) {
			return CodeSecurityDeny
		}
	}
	allows := 0
	for _, r := range s.Rules {
		if r.Action != conf.Allow {
			continue
		}
		allows++
		if r.Scope == kind && refMatches(r, ip) {
			return 0
		}
	}
	if allows > 0 || len(s.Rules) == 0 {
		return CodeSecurityAllow
	}
	return 0
}

func FuzzCheck(f *testing.F) {
	rule := func(flags, bits byte, addr string) []byte {
		a := netip.MustParseAddr(addr).As16()
		if netip.MustParseAddr(addr).Is4() {
			a4 := netip.MustParseAddr(addr).As4()
			copy(a[:], a4[:])
		}
		return append([]byte{flags, bits}, a[:]...)
	}
	f.Add(rule(8, 8, "10.0.0.0"), []byte{10, 1, 2, 3}, true, true)
	f.Add(rule(9, 24, "192.168.1.0"), []byte{192, 168, 1, 9}, true, true)
	f.Add(append(rule(4, 0, "0.0.0.0"), rule(1, 32, "2001:db8::")...), netip.MustParseAddr("2001:db8::1").AsSlice(), false, true)
	f.Add(rule(8, 32, "1.2.3.4"), netip.MustParseAddr("::ffff:1.2.3.4").AsSlice(), true, true)
	f.Add([]byte{}, []byte{1, 2, 3, 4}, true, true)
	f.Add(rule(0, 104, "::ffff:10.0.0.0"), []byte{10, 9, 9, 9}, true, false)
	f.Fuzz(func(t *testing.T, rules, ip []byte, play, enabled bool) {
		s := conf.Security{Enabled: enabled, Rules: fuzzRules(rules)}
		addr, _ := netip.AddrFromSlice(ip)
		kind := Publish
		if play {
			kind = Play
		}
		err := Check(s, kind, addr)
		code := 0
		if err != nil {
			code = err.(*Error).Code
		}
		if want := refCheck(s, kind, addr); code != want {
			t.Fatalf("Check(%v, %s, %v) = %v, reference code %d", s.Rules, kind, addr, err, want)
		}
	})
}

func FuzzMatchRefer(f *testing.F) {
	f.Add("http://www.ossrs.net/players/srs_player.html", "ossrs.net")
	f.Add("https://a.b.a.b:443/", "a.b")
	f.Add("", "")
	f.Add("ossrs.net", "ossrs.net")
	f.Add("http://[::1]:80/", "::1")
	f.Fuzz(func(t *testing.T, page, domain string) {
		got := MatchRefer([]string{domain}, page)
		d := ReferDomain(page)
		if strings.ContainsAny(d, "/:") || len(d) > len(page) {
			t.Fatalf("ReferDomain(%q) = %q", page, d)
		}
		if got && !strings.HasSuffix(d, domain) {
			t.Fatalf("%q matched %q but does not end with it", d, domain)
		}
		if !got && strings.HasSuffix(d, domain) && strings.Index(d, domain) == len(d)-len(domain) {
			t.Fatalf("%q does not match %q though its only occurrence ends it", d, domain)
		}
	})
}
