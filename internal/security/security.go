// Package security applies SRS's per-vhost access rules (spec §5.10): the
// allow/deny client address rules of vhost.security and the page-URL domain
// lists of vhost.refer. It reads the typed config and keeps no state.
package security

import (
	"fmt"
	"net/netip"

	"github.com/castd/castd/internal/conf"
)

// SRS error codes (spec §2.4).
const (
	// CodeSecurityDeny (ERROR_SYSTEM_SECURITY_DENY): a deny rule matched.
	CodeSecurityDeny = 1053
	// CodeSecurityAllow (ERROR_SYSTEM_SECURITY_ALLOW): no allow rule matched,
	// or security is enabled without any rule.
	CodeSecurityAllow = 1054
	// CodeReferDenied (ERROR_RTMP_ACCESS_DENIED): the page URL's domain is in
	// none of the refer domains.
	CodeReferDenied = 2015
)

// Kind is what a client does. Play covers RTMP, HTTP-FLV/TS, HLS, WebRTC
// and SRT players; Publish covers FMLE, Flash and Haivision RTMP, WebRTC
// and SRT publishers. Any other value matches no rule.
type Kind = conf.RuleScope

const (
	Publish = conf.ScopePublish
	Play    = conf.ScopePlay
)

// Error is a refused client: Code is SRS's code and Reason says which rule
// or list decided.
type Error struct {
	Code   int
	Kind   Kind
	Reason string
	// Rule is the deny rule that matched, for CodeSecurityDeny.
	Rule *conf.SecurityRule
}

func (e *Error) Error() string {
	return fmt.Sprintf("security: %s (code %d)", e.Reason, e.Code)
}

// Check applies vhost.security to a client at ip doing kind, in SRS's
// order:
//   - security disabled: allow;
//   - a deny rule of the kind that matches: deny (1053);
//   - an allow rule of the kind that matches: allow;
//   - otherwise deny (1054) when there is any allow rule, of either kind,
//     or no rule at all; allow when every rule is a deny rule.
//
// A rule matches "all", its exact address, or its CIDR. IPv4 and IPv6
// CIDRs both work (SRS matches IPv4 CIDRs only), IPv4-mapped IPv6
// addresses (::ffff:1.2.3.4) match IPv4 rules, and zones (%eth0) are
// ignored. An invalid ip matches only "all".
func Check(s conf.Security, kind Kind, ip netip.Addr) error {
	if !s.Enabled {
		return nil
	}
	allows := 0
	for i := range s.Rules {
		r := &s.Rules[i]
		if r.Action == conf.Deny && r.Scope == kind && Matches(*r, ip) {
			return &Error{Code: CodeSecurityDeny, Kind: kind, Rule: r,
				Reason: fmt.Sprintf("%s from %s denied by rule %q", kind, addrString(ip), RuleString(*r))}
		}
		if r.Action == conf.Allow {
			allows++
		}
	}
	for _, r := range s.Rules {
		if r.Action == conf.Allow && r.Scope == kind && Matches(r, ip) {
			return nil
		}
	}
	switch {
	case len(s.Rules) == 0:
		return &Error{Code: CodeSecurityAllow, Kind: kind,
			Reason: fmt.Sprintf("%s from %s denied: security is enabled without allow or deny rules", kind, addrString(ip))}
	case allows > 0:
		return &Error{Code: CodeSecurityAllow, Kind: kind,
			Reason: fmt.Sprintf("%s from %s not allowed by any of %d allow rules", kind, addrString(ip), allows)}
	}
	return nil // only deny rules, and none matched
}

// Matches reports whether rule r's target covers ip, whatever its action
// and scope.
func Matches(r conf.SecurityRule, ip netip.Addr) bool {
	if r.All {
		return true
	}
	if !r.Prefix.IsValid() || !ip.IsValid() {
		return false
	}
	return canonical(r.Prefix).Contains(ip.WithZone("").Unmap())
}

// canonical turns an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) into its
// IPv4 form (10.0.0.0/8), so that one comparison of unmapped addresses
// covers both spellings.
func canonical(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// RuleString writes a rule as in the config: "deny play 10.0.0.0/8".
func RuleString(r conf.SecurityRule) string {
	target := "all"
	if !r.All {
		target = r.Prefix.String()
		if r.Prefix.IsSingleIP() {
			target = r.Prefix.Addr().String()
		}
	}
	return fmt.Sprintf("%s %s %s", r.Action, r.Scope, target)
}

// ClientAddr parses a remote address as net.Conn.RemoteAddr().String() and
// http.Request.RemoteAddr give it ("1.2.3.4:5678", "[2001:db8::1]:5678"),
// or a bare IP. It returns the zero Addr, which matches only "all" rules,
// when the address has no IP (a Unix socket, a test pipe).
func ClientAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr()
	}
	a, _ := netip.ParseAddr(remote)
	return a
}

func addrString(ip netip.Addr) string {
	if !ip.IsValid() {
		return "an unknown address"
	}
	return ip.String()
}
