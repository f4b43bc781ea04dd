package rtc

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/castd/castd/internal/conf"
)

// resolveTimeout bounds the DNS lookup of a candidate name.
const resolveTimeout = 2 * time.Second

// candidateSource is what a session's candidates come from.
type candidateSource struct {
	eip     string // the eip= or candidate= query value
	apiHost string // the host the client reached the API at (Host header)
}

// candidates lists the addresses a client is told to reach the media port
// at, in SRS's order (docs "Config: Candidate"): the eip the client asked
// for, then the API's host (api_as_candidates, resolved when it is a name
// and resolve_api_domain is on), then rtc_server.candidate; when that is "*"
// the interfaces' addresses of ip_family (use_auto_detect_network_ip).
// Each address is offered over UDP, TCP or both, as rtc_server.protocol and
// tcp.enabled say, with the ports of the session's lease.
func (s *Server) candidates(ctx context.Context, cfg conf.RTCServer, src candidateSource, lease *portLease) []candidate {
	var hosts []candidate // ports are filled below; a set port comes from eip
	add := func(host string, port int) {
		if host == "" || slices.ContainsFunc(hosts, func(c candidate) bool { return c.host == host && c.port == port }) {
			return
		}
		hosts = append(hosts, candidate{host: host, port: port})
	}
	if src.eip != "" {
		if h, p, err := parseEIP(src.eip); err == nil {
			add(h, p)
		} else {
			s.Log.Warn("rtc: ignoring a bad eip", "eip", src.eip, "err", err)
		}
	}
	if cfg.APIAsCandidates && src.apiHost != "" {
		for _, h := range s.hostAddrs(ctx, cfg, src.apiHost, cfg.ResolveAPIDomain, cfg.KeepAPIDomain) {
			add(h, 0)
		}
	}
	if c := cfg.Candidate; c != "*" && c != "0.0.0.0" && c != "" {
		for _, h := range s.hostAddrs(ctx, cfg, c, true, false) {
			add(h, 0)
		}
	} else if cfg.UseAutoDetectNetworkIP {
		for _, a := range interfaceAddrs(cfg.IPFamily) {
			add(a, 0)
		}
	}
	if len(hosts) == 0 {
		add("127.0.0.1", 0) // nothing better is known; a local client still works
	}
	// The session's own ports: a reload may have moved the current ones
	// since the session was made.
	udpPort, tcpPort := lease.numbers()
	var out []candidate
	if cfg.Protocol != "tcp" {
		for _, h := range hosts {
			out = append(out, candidate{host: h.host, port: orPort(h.port, udpPort)})
		}
	}
	if cfg.Protocol != "udp" && tcpPort > 0 {
		for _, h := range hosts {
			out = append(out, candidate{host: h.host, port: orPort(h.port, tcpPort), tcp: true})
		}
	}
	return out
}

// orPort returns a unless it is zero.
func orPort(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// hostAddrs turns a host (an IP or a name, with or without a port) into
// the addresses to advertise: an IP as is, a name resolved (when resolve)
// and/or kept as a name (when keep).
func (s *Server) hostAddrs(ctx context.Context, cfg conf.RTCServer, hostport string, resolve, keep bool) []string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.IsUnspecified() || a.Zone() != "" {
			return nil // no client can reach 0.0.0.0 or a scoped address
		}
		return []string{a.Unmap().String()}
	}
	if validHostname(host) != nil {
		return nil
	}
	var out []string
	if keep {
		out = append(out, host)
	}
	if !resolve {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		s.Log.Warn("rtc: cannot resolve a candidate name", "host", host, "err", err)
		if !keep {
			out = append(out, host) // let the client try the name
		}
		return out
	}
	for _, a := range addrs {
		if familyOK(cfg.IPFamily, a.Unmap()) {
			out = append(out, a.Unmap().String())
		}
	}
	return out
}

// interfaceAddrs lists the addresses of the machine's interfaces that are
// up, not loopback and of the family asked for.
func interfaceAddrs(family string) []string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []string
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok || ip.IsLinkLocalUnicast() || !familyOK(family, ip.Unmap()) {
				continue
			}
			out = append(out, ip.Unmap().String())
		}
	}
	return out
}

func familyOK(family string, a netip.Addr) bool {
	switch family {
	case "ipv6":
		return a.Is6()
	case "all":
		return true
	}
	return a.Is4()
}
