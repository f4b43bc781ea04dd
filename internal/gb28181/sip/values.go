package sip

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Address is a From, To or Contact value: an optional display name, a URI
// in angle brackets or bare, and header parameters.
type Address struct {
	URI    string // "sip:34020000001320000001@3402000000"
	User   string // the URI's user part: a GB28181 device id
	Host   string // the URI's host[:port]
	Params string // the header parameters after the URI, with their ";"
}

// ParseAddress reads a name-addr or addr-spec (RFC 3261 §20.10).
func ParseAddress(v string) (Address, error) {
	v = strings.TrimSpace(v)
	var a Address
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return a, fmt.Errorf("sip: address %q has no closing '>'", clip(v))
		}
		a.URI, a.Params = v[i+1:i+j], v[i+j+1:]
	} else {
		// Without brackets, parameters belong to the header, not the URI.
		a.URI, a.Params, _ = strings.Cut(v, ";")
		if a.Params != "" {
			a.Params = ";" + a.Params
		}
	}
	scheme, rest, ok := strings.Cut(a.URI, ":")
	if !ok || (!strings.EqualFold(scheme, "sip") && !strings.EqualFold(scheme, "sips")) {
		return a, fmt.Errorf("sip: address %q is not a sip: URI", clip(v))
	}
	rest, _, _ = strings.Cut(rest, ";") // URI parameters
	rest, _, _ = strings.Cut(rest, "?") // URI headers
	if user, host, ok := strings.Cut(rest, "@"); ok {
		user, _, _ = strings.Cut(user, ":") // a password
		a.User, a.Host = user, host
	} else {
		a.Host = rest
	}
	if a.Host == "" {
		return a, fmt.Errorf("sip: address %q has no host", clip(v))
	}
	return a, nil
}

// Tag is the address's tag parameter, or "".
func (a Address) Tag() string { return Param(a.Params, "tag") }

// Param returns the value of parameter name in a ";a=1;b" list ("" when
// it is absent or has no value).
func Param(params, name string) string {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// CSeq is a CSeq value.
type CSeq struct {
	Seq    uint32
	Method string
}

func (c CSeq) String() string { return strconv.FormatUint(uint64(c.Seq), 10) + " " + c.Method }

// ParseCSeq reads "<number> <method>" (RFC 3261 §20.16).
func ParseCSeq(v string) (CSeq, error) {
	f := strings.Fields(v)
	if len(f) != 2 || !isToken(f[1]) {
		return CSeq{}, fmt.Errorf("sip: bad CSeq %q", clip(v))
	}
	n, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return CSeq{}, fmt.Errorf("sip: bad CSeq number in %q", clip(v))
	}
	return CSeq{Seq: uint32(n), Method: f[1]}, nil
}

// Via is the first value of a Via header.
type Via struct {
	Transport string // "TCP", "UDP"...
	SentBy    string // host[:port]
	Branch    string
	Params    string
}

// ParseVia reads the first Via value: "SIP/2.0/TCP host:port;branch=...".
func ParseVia(v string) (Via, error) {
	first, _, _ := strings.Cut(v, ",")
	proto, rest, ok := strings.Cut(strings.TrimSpace(first), " ")
	parts := strings.Split(proto, "/")
	if !ok || len(parts) != 3 || !strings.EqualFold(parts[0]+"/"+parts[1], Version) {
		return Via{}, fmt.Errorf("sip: bad Via %q", clip(v))
	}
	sentBy, params, _ := strings.Cut(strings.TrimSpace(rest), ";")
	via := Via{Transport: strings.ToUpper(parts[2]), SentBy: strings.TrimSpace(sentBy)}
	if params != "" {
		via.Params = ";" + params
	}
	via.Branch = Param(via.Params, "branch")
	if via.SentBy == "" {
		return Via{}, fmt.Errorf("sip: Via %q has no sent-by", clip(v))
	}
	return via, nil
}

// HostPort splits a "host[:port]" (IPv6 in brackets) and defaults the
// port to 5060.
func HostPort(v string) (host string, port int) {
	if h, p, err := net.SplitHostPort(v); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			return h, n
		}
		return h, 5060
	}
	return strings.Trim(v, "[]"), 5060
}
