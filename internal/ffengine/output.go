package ffengine

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/castd/castd/internal/pathtmpl"
	"github.com/castd/castd/internal/streamurl"
)

// Vars are the values an engine's output variables take.
type Vars struct {
	Vhost, App, Stream string
	Engine             string
	Param              string // "?k=v" with its '?', for [param]; "" when none
	Port               int    // castd's RTMP port, for [port]
}

// OutputURL fills in an engine's output: [vhost] [port] [app] [stream]
// [engine] [param] and the date variables. As SRS, a "vhost=" naming the
// default vhost is dropped (with the '?' or '&' it leaves dangling), so
// the URL names the stream the way players will ask for it.
func OutputURL(tmpl string, v Vars, now time.Time) string {
	r := strings.NewReplacer("[vhost]", v.Vhost, "[port]", strconv.Itoa(v.Port), "[app]", v.App,
		"[stream]", v.Stream, "[engine]", v.Engine, "[param]", v.Param)
	out := pathtmpl.Time(r.Replace(tmpl), now)
	out = strings.ReplaceAll(out, "vhost="+streamurl.DefaultVhost, "")
	out = strings.ReplaceAll(out, "?&", "?")
	out = strings.ReplaceAll(out, "?/", "/") // "app?vhost=/stream"
	out = strings.ReplaceAll(out, "&&", "&")
	return strings.TrimRight(out, "?&")
}

// LocalInput is the URL a transcoder reads its stream from: castd itself
// at host:port, the vhost in the app's query as SRS writes it
// (rtmp://127.0.0.1:1935/live?vhost=v/stream), left out for the default
// vhost.
func LocalInput(host string, port int, vhost, app, stream string) string {
	u := "rtmp://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/" + app
	if vhost != "" && vhost != streamurl.DefaultVhost {
		u += "?vhost=" + vhost
	}
	return u + "/" + stream
}

// NullLog is the ff_log_dir value that turns FFmpeg logs off.
const NullLog = "/dev/null"

// LogFile is where one ffmpeg writes its output: dir/<kind>-<parts joined
// by '-'>.log, or "" when dir is /dev/null (or empty): logging off. kind
// is "ffmpeg-encoder" (transcode) or "ffmpeg-ingest".
func LogFile(dir, kind string, parts ...string) string {
	if dir == "" || dir == NullLog {
		return ""
	}
	name := kind
	for _, p := range parts {
		// A stream name must not climb out of the log directory.
		name += "-" + strings.NewReplacer("/", "_", "\\", "_").Replace(p)
	}
	return filepath.Join(dir, name+".log")
}
