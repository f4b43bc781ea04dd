// Package pathtmpl expands SRS's file path templates (dvr_path, hls_path,
// hls_ts_file, hls_m3u8_file...): stream variables [vhost] [app] [stream],
// and time variables [2006] [01] [02] [15] [04] [05] [999] [timestamp],
// named after Go's reference time as SRS names them.
//
// Outputs that add their own variables ([seq], [duration] for HLS) replace
// them before or after calling Expand.
package pathtmpl

import (
	"strconv"
	"strings"
	"time"
)

// Stream replaces [vhost], [app] and [stream].
func Stream(tmpl, vhost, app, stream string) string {
	if !strings.Contains(tmpl, "[") {
		return tmpl
	}
	return strings.NewReplacer("[vhost]", vhost, "[app]", app, "[stream]", stream).Replace(tmpl)
}

// Time replaces the time variables with t, in t's location (SRS uses local
// time, or UTC with utc_time on): [2006] year, [01] month, [02] day, [15]
// hour, [04] minute, [05] second (all zero-padded), [999] milliseconds and
// [timestamp] Unix milliseconds.
func Time(tmpl string, t time.Time) string {
	if !strings.Contains(tmpl, "[") {
		return tmpl
	}
	pad := func(v, width int) string {
		s := strconv.Itoa(v)
		for len(s) < width {
			s = "0" + s
		}
		return s
	}
	return strings.NewReplacer(
		"[2006]", pad(t.Year(), 4),
		"[01]", pad(int(t.Month()), 2),
		"[02]", pad(t.Day(), 2),
		"[15]", pad(t.Hour(), 2),
		"[04]", pad(t.Minute(), 2),
		"[05]", pad(t.Second(), 2),
		"[999]", pad(t.Nanosecond()/int(time.Millisecond), 3),
		"[timestamp]", strconv.FormatInt(t.UnixMilli(), 10),
	).Replace(tmpl)
}

// Expand replaces the stream variables, then the time variables, in SRS's
// order: a stream name that itself holds a time variable gets it replaced.
func Expand(tmpl, vhost, app, stream string, t time.Time) string {
	return Time(Stream(tmpl, vhost, app, stream), t)
}

// Variables lists every variable Expand knows, for callers that need to
// find the fixed part of a template (the directory before the first one).
func Variables() []string {
	return []string{"[vhost]", "[app]", "[stream]", "[2006]", "[01]", "[02]", "[15]", "[04]", "[05]", "[999]", "[timestamp]"}
}
