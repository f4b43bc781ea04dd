package streamurl

import (
	"net"
	"strconv"
	"strings"
)

// BuildRTMPURL is the URL SRS uses to reach another server (forward, edge,
// RTMP 302): rtmp://host:port/app/stream?param[&vhost=V]. The vhost joins the
// query unless the param already names one; when it is the default vhost,
// host itself is used unless it is an IP address. Port 0 means 1935.
func BuildRTMPURL(host string, port int, vhost, app, stream, param string) string {
	return buildRTMPURL(host, port, host, vhost, app, stream, param)
}

// RTMPURL is BuildRTMPURL for this request sent to server:port, with the
// vhost guessed from the host the client asked for, exactly as SRS does
// (srs_generate_rtmp_url).
func (r *Request) RTMPURL(server string, port int) string {
	return buildRTMPURL(server, port, r.Host, r.Vhost, r.App, r.Stream, r.Param)
}

func buildRTMPURL(server string, port int, requestHost, vhost, app, stream, param string) string {
	if port == 0 {
		port = DefaultRTMPPort
	}
	return "rtmp://" + net.JoinHostPort(server, strconv.Itoa(port)) + "/" + app + "/" +
		streamWithQuery(requestHost, vhost, stream, param)
}

// streamWithQuery appends the param, and the vhost when the param lacks one,
// to the stream name (srs_generate_stream_with_query).
func streamWithQuery(requestHost, vhost, stream, param string) string {
	query := param
	if _, named := queryValue(param, "vhost"); !named {
		guess := ""
		switch {
		case vhost != "" && vhost != DefaultVhost:
			guess = vhost
		case requestHost != "" && net.ParseIP(requestHost) == nil:
			guess = requestHost
		}
		if guess != "" {
			query += "&vhost=" + guess
		}
	}
	query = strings.TrimLeft(query, "&?")
	if query == "" {
		return stream
	}
	return stream + "?" + query
}

// BuildTcURL is the tcUrl an RTMP client sends in connect when it plays or
// publishes app on server (srs_generate_tc_url): the vhost names the server
// unless it is the default one, and the port shows unless it is 1935.
func BuildTcURL(schema, host, vhost, app string, port int) string {
	if schema == "" {
		schema = "rtmp"
	}
	name := vhost
	if vhost == "" || vhost == DefaultVhost {
		name = host
		if name == "" {
			name = DefaultVhost
		}
	}
	if ip := net.ParseIP(name); ip != nil && ip.To4() == nil {
		name = "[" + name + "]"
	}
	if port != 0 && port != DefaultRTMPPort {
		name += ":" + strconv.Itoa(port)
	}
	return schema + "://" + name + "/" + app
}
