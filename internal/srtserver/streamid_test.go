package srtserver

import (
	"strings"
	"testing"
)

// TestParseStreamID has a row for every form spec §4.5 lists, and the
// edges of SRS's parser.
func TestParseStreamID(t *testing.T) {
	tests := []struct {
		sid        string
		defaultApp string
		want       StreamID
		err        string
	}{
		// Full form (#2893).
		{"#!::r=live/livestream,m=publish", "live", StreamID{Mode: ModePublish, App: "live", Stream: "livestream"}, ""},
		{"#!::r=live/livestream,m=request", "live", StreamID{Mode: ModePlay, App: "live", Stream: "livestream"}, ""},
		{"#!::r=live/livestream", "live", StreamID{Mode: ModePlay, App: "live", Stream: "livestream"}, ""},
		{"#!::m=publish,r=live/cam", "live", StreamID{Mode: ModePublish, App: "live", Stream: "cam"}, ""},
		{"#!::r=live/livestream,m=PUBLISH", "live", StreamID{Mode: ModePublish, App: "live", Stream: "livestream"}, ""},
		{"#!::h=srs.srt.com.cn,r=live/livestream,m=publish", "live",
			StreamID{Mode: ModePublish, Vhost: "srs.srt.com.cn", App: "live", Stream: "livestream", Param: "?vhost=srs.srt.com.cn"}, ""},
		// Unknown keys become the param, in key order, joined with &.
		{"#!::r=live/livestream,token=abc,secret=xyz,m=publish", "live",
			StreamID{Mode: ModePublish, App: "live", Stream: "livestream", Param: "?secret=xyz&token=abc"}, ""},
		{"#!::h=v.com,r=live/s,secret=1", "live", StreamID{Vhost: "v.com", App: "live", Stream: "s", Param: "?vhost=v.com&secret=1"}, ""},
		// Older style: h holds app/stream or vhost/app/stream; '?' is ','.
		{"#!::h=live/livestream?secret=xxx,m=publish", "live",
			StreamID{Mode: ModePublish, App: "live", Stream: "livestream", Param: "?secret=xxx"}, ""},
		{"#!::h=live/livestream,m=request", "live", StreamID{App: "live", Stream: "livestream"}, ""},
		{"#!::h=srs.srt.com.cn/live/livestream,m=publish", "live",
			StreamID{Mode: ModePublish, Vhost: "srs.srt.com.cn", App: "live", Stream: "livestream", Param: "?vhost=srs.srt.com.cn"}, ""},
		// r wins over an h=app/stream (SRS reads h first, then r).
		{"#!::h=a/b,r=live/c", "live", StreamID{App: "live", Stream: "c"}, ""},
		// A resource without an app takes the default app.
		{"#!::r=livestream,m=publish", "live", StreamID{Mode: ModePublish, App: "live", Stream: "livestream"}, ""},
		{"#!::r=live/a/b", "live", StreamID{App: "live", Stream: "a/b"}, ""},
		{"#!::r=live/x;m=publish&k=v", "live", StreamID{Mode: ModePublish, App: "live", Stream: "x", Param: "?k=v"}, ""},
		{"#!::r=live/x,m=publish,m=request", "live", StreamID{App: "live", Stream: "x"}, ""},
		// Rejected.
		{"#!::r=live/livestream,m=push", "live", StreamID{}, "unknown stream id mode"},
		{"#!::r=live/livestream,m=", "live", StreamID{}, "unknown stream id mode"},
		{"#!::m=publish", "live", StreamID{}, "names no stream"},
		{"#!::", "live", StreamID{}, "names no stream"},
		{"#!::r=live/,m=publish", "live", StreamID{}, "empty app or stream"},
		{"#!::r=/s", "live", StreamID{}, "empty app or stream"},
		// Short form: always played, default app without a '/' (vMix, #1615).
		{"live/livestream", "live", StreamID{App: "live", Stream: "livestream"}, ""},
		{"live/livestream?token=1&m=publish", "live", StreamID{App: "live", Stream: "livestream", Param: "?token=1&m=publish"}, ""},
		{"livestream", "live", StreamID{App: "live", Stream: "livestream"}, ""},
		{"cam1", "vmix", StreamID{App: "vmix", Stream: "cam1"}, ""},
		{"x#!::r=live/s", "live", StreamID{App: "x#!::r=live", Stream: "s"}, ""},
		{"live/", "live", StreamID{}, "empty app or stream"},
		// No stream id: publish live/livestream.
		{"", "live", StreamID{Mode: ModePublish, App: "live", Stream: "livestream"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.sid, func(t *testing.T) {
			got, err := ParseStreamID(tt.sid, tt.defaultApp)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %+v, %v; want an error with %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// FuzzParseStreamID: any stream id parses or fails cleanly; what parses
// names a stream, and parses the same again written in the full form.
func FuzzParseStreamID(f *testing.F) {
	for _, s := range []string{
		"", "#!::r=live/livestream,m=publish", "#!::h=srs.srt.com.cn,r=live/livestream,m=publish",
		"#!::h=live/livestream?secret=xxx,m=publish", "#!::h=v/live/s,m=request,k=v", "live/livestream?token=1",
		"livestream", "#!::r=live/x;m=publish&k=v", "#!::m=push",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sid string) {
		id, err := ParseStreamID(sid, "live")
		if err != nil {
			return
		}
		if id.App == "" || id.Stream == "" || (id.Param != "" && id.Param[0] != '?') || id.Mode > ModePublish {
			t.Fatalf("%q parsed to %+v", sid, id)
		}
		if strings.ContainsAny(id.App+id.Stream, ",&;?=") || strings.Contains(id.App, "/") {
			return // these names cannot be written back unchanged
		}
		again, err := ParseStreamID("#!::r="+id.App+"/"+id.Stream+",m=publish", "other")
		if err != nil || again.App != id.App || again.Stream != id.Stream || again.Mode != ModePublish {
			t.Fatalf("%+v written back parses to %+v, %v", id, again, err)
		}
	})
}
