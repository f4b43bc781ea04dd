package conf

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// SplitEndpoint parses a listen endpoint as SRS writes them: "1935",
// "10.0.0.1:1935" or "[::1]:1935". ip is "" when only a port is given. The
// IP must be a literal address; the port must be 1..65535.
func SplitEndpoint(s string) (ip string, port int, err error) {
	portStr := s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		ip, portStr = s[:i], s[i+1:]
		if strings.HasPrefix(ip, "[") && strings.HasSuffix(ip, "]") {
			ip = ip[1 : len(ip)-1]
		} else if strings.Contains(ip, ":") {
			return "", 0, fmt.Errorf("endpoint %q: write IPv6 addresses as [addr]:port", s)
		}
		if _, perr := netip.ParseAddr(ip); perr != nil {
			return "", 0, fmt.Errorf("endpoint %q: %q is not an IP address", s, ip)
		}
	}
	port, err = strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("endpoint %q: port must be 1..65535", s)
	}
	return ip, port, nil
}

// ListenAddr converts an endpoint into an address for net.Listen. A bare
// port listens on every address ("1935" becomes ":1935", which Go binds for
// both IPv4 and IPv6).
func ListenAddr(endpoint string) (string, error) {
	ip, port, err := SplitEndpoint(endpoint)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(ip, strconv.Itoa(port)), nil
}
