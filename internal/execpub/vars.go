// Package execpub runs vhost exec{} programs: on publish, each `publish`
// command line is started (no shell) with SRS's variables substituted,
// restarted 3 s after it exits, and stopped with SIGTERM, then SIGKILL,
// when the stream is unpublished (like nginx-rtmp's exec_publish).
package execpub

import (
	"strconv"
	"strings"
	"time"

	"github.com/castd/castd/internal/pathtmpl"
	"github.com/castd/castd/internal/streamurl"
)

// Vars are the values a command line's variables take for one publish.
type Vars struct {
	Vhost, App, Stream string
	Param              string // "?k=v" with its leading '?', "" when none
	Host               string // the host the publisher connected to
	Port               int    // its port; 0 is 1935
	TcURL              string
	SwfURL, PageURL    string
}

// url is the stream's RTMP URL as SRS builds outbound URLs, for [url].
func (v Vars) url() string {
	r := streamurl.Request{Host: v.Host, Vhost: v.Vhost, App: v.App, Stream: v.Stream, Param: v.Param}
	return r.RTMPURL(v.Host, v.port())
}

func (v Vars) port() int {
	if v.Port == 0 {
		return streamurl.DefaultRTMPPort
	}
	return v.Port
}

// Expand substitutes the variables in each argument: [vhost] [port] [app]
// [stream] [tcUrl] [swfUrl] [pageUrl] [url], [engine] (empty: exec has no
// transcode engine) and the date variables ([2006] [01] [02] [15] [04]
// [05] [999] [timestamp]) with now. A value with spaces stays one argument:
// the command line was split before substitution.
func Expand(args []string, v Vars, now time.Time) []string {
	r := strings.NewReplacer(
		"[vhost]", v.Vhost, "[port]", strconv.Itoa(v.port()), "[app]", v.App, "[stream]", v.Stream,
		"[tcUrl]", v.TcURL, "[swfUrl]", v.SwfURL, "[pageUrl]", v.PageURL, "[engine]", "",
	)
	out := make([]string, len(args))
	for i, a := range args {
		if !strings.Contains(a, "[") {
			out[i] = a
			continue
		}
		a = pathtmpl.Time(r.Replace(a), now)
		if strings.Contains(a, "[url]") {
			a = strings.ReplaceAll(a, "[url]", v.url())
		}
		out[i] = a
	}
	return out
}
