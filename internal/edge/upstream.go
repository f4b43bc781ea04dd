// Package edge makes a vhost an edge of origin servers, SRS's cluster
// mode remote: the first player of a stream starts a pull from an origin
// into the local hub and the last one leaving stops it; a stream published
// on the edge is pushed to an origin. Origins are tried round-robin, and an
// origin may answer a pull with an RTMP 302 to the origin that has the
// stream (origin clusters).
package edge

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/streamurl"
)

// Pull protocols (cluster.protocol).
const (
	ProtoRTMP = "rtmp"
	ProtoFLV  = "flv"
	ProtoFLVS = "flvs"
)

// origin is one cluster.origin entry.
type origin struct {
	host string
	port int
}

func (o origin) String() string { return net.JoinHostPort(o.host, strconv.Itoa(o.port)) }

// defaultPort is the origin port when cluster.origin names none.
func defaultPort(proto string) int {
	switch proto {
	case ProtoFLV:
		return 80
	case ProtoFLVS:
		return 443
	}
	return 1935
}

// parseOrigin reads "host", "host:port" or "[v6]:port".
func parseOrigin(s, proto string) (origin, error) {
	s = strings.TrimSpace(s)
	host, port := s, defaultPort(proto)
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, perr := strconv.Atoi(p)
		if perr != nil || n <= 0 || n > 65535 {
			return origin{}, fmt.Errorf("edge: origin %q: bad port %q", s, p)
		}
		host, port = h, n
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		if strings.Contains(host, ":") && net.ParseIP(host) == nil {
			return origin{}, fmt.Errorf("edge: origin %q: want host[:port]", s)
		}
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return origin{}, fmt.Errorf("edge: origin %q: want host[:port]", s)
	}
	return origin{host: host, port: port}, nil
}

// upstreamVhost is the vhost named toward the origin: cluster.vhost with
// [vhost] replaced by the local one.
func upstreamVhost(c conf.Cluster, vhost string) string {
	v := c.Vhost
	if v == "" {
		v = "[vhost]"
	}
	return strings.ReplaceAll(v, "[vhost]", vhost)
}

// Client is the edge client a pull or push acts for: its request decides
// the upstream URL's host, param and vhost.
type Client struct {
	ID    string // context id, for logs
	TcURL string // as the client sent it
	Param string // "?k=v" or ""
	// Protocol is how the client plays ("rtmp", "http-flv"...), for
	// cluster.follow_client.
	Protocol string
}

// rtmpURL is the URL an edge plays or publishes on o for key, built as SRS
// builds every outbound URL: rtmp://host:port/app/stream?param[&vhost=V].
func rtmpURL(o origin, key hub.Key, c conf.Cluster, cl Client) string {
	r := streamurl.Request{Host: hostOf(cl.TcURL), Vhost: upstreamVhost(c, key.Vhost), App: key.App, Stream: key.Name, Param: cl.Param}
	return r.RTMPURL(o.host, o.port)
}

// flvURL is the URL an edge pulls HTTP-FLV from:
// http(s)://host[:port]/app/stream.flv?param.
func flvURL(o origin, key hub.Key, proto string, cl Client) string {
	scheme, def := "http", 80
	if proto == ProtoFLVS {
		scheme, def = "https", 443
	}
	hostport := o.host
	if strings.Contains(hostport, ":") {
		hostport = "[" + hostport + "]"
	}
	if o.port != def {
		hostport = net.JoinHostPort(o.host, strconv.Itoa(o.port))
	}
	return scheme + "://" + hostport + "/" + key.App + "/" + key.Name + ".flv" + cl.Param
}

// hostOf is the host of a tcUrl, "" when it has none.
func hostOf(tcURL string) string {
	req, err := streamurl.DiscoverRTMP(tcURL, "_")
	if err != nil || req.Host == hub.DefaultVhost {
		return ""
	}
	return req.Host
}

// pullProtocol is the protocol a pull for cl uses: cluster.protocol, or
// with follow_client the one the player used.
func pullProtocol(c conf.Cluster, cl Client) string {
	if c.FollowClient {
		switch {
		case strings.HasPrefix(cl.Protocol, "https-flv"):
			return ProtoFLVS
		case strings.HasPrefix(cl.Protocol, "http"):
			return ProtoFLV
		case cl.Protocol == "rtmp":
			return ProtoRTMP
		}
	}
	if c.Protocol == "" {
		return ProtoRTMP
	}
	return c.Protocol
}
