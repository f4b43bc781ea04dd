package security

import (
	"fmt"
	"strings"

	"github.com/castd/castd/internal/conf"
)

// CheckRefer applies vhost.refer to a client's page URL (RTMP connect's
// pageUrl): when refer is enabled, the domain must match the "all" list,
// and then the list of its kind ("publish" or "play"). A list that is not
// configured passes. A client that sends no pageUrl (ffmpeg, OBS) has an
// empty domain, which matches no domain, so it is denied by any list.
//
// SRS checks "all" before on_connect and the kind's list later, after
// on_connect and the security rules; calling CheckRefer once before
// on_connect denies the same clients, only earlier.
func CheckRefer(r conf.Refer, kind Kind, pageURL string) error {
	if !r.Enabled {
		return nil
	}
	if err := checkList(r.All, "all", kind, pageURL); err != nil {
		return err
	}
	switch kind {
	case Publish:
		return checkList(r.Publish, "publish", kind, pageURL)
	case Play:
		return checkList(r.Play, "play", kind, pageURL)
	}
	return nil
}

func checkList(domains []string, list string, kind Kind, pageURL string) error {
	if len(domains) == 0 || MatchRefer(domains, pageURL) {
		return nil
	}
	return &Error{Code: CodeReferDenied, Kind: kind, Reason: fmt.Sprintf(
		"%s with page URL %q (domain %q) denied: refer %s allows only %s",
		kind, pageURL, ReferDomain(pageURL), list, strings.Join(domains, " "))}
}

// MatchRefer reports whether pageURL's domain matches one of domains.
func MatchRefer(domains []string, pageURL string) bool {
	domain := ReferDomain(pageURL)
	for _, d := range domains {
		if matchDomain(domain, d) {
			return true
		}
	}
	return false
}

// ReferDomain extracts a page URL's domain as SRS does: what follows "://"
// (if any), up to the first '/', then up to the first ':'.
func ReferDomain(pageURL string) string {
	d := pageURL
	if i := strings.Index(d, "://"); i >= 0 {
		d = d[i+3:]
	}
	if i := strings.IndexByte(d, '/'); i >= 0 {
		d = d[:i]
	}
	if i := strings.IndexByte(d, ':'); i >= 0 {
		d = d[:i]
	}
	return d
}

// matchDomain is SRS's suffix test: the first occurrence of want in domain
// must end the domain. It is case-sensitive and has no dot boundary, so
// "ossrs.net" matches "www.ossrs.net" and also "evilossrs.net"; and when
// want occurs twice ("a.b.a.b" for "a.b") the first occurrence decides, so
// it does not match.
func matchDomain(domain, want string) bool {
	i := strings.Index(domain, want)
	return i >= 0 && i == len(domain)-len(want)
}
