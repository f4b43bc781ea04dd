package execpub

import (
	"slices"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 5, 7, 123e6, time.UTC)
	def := Vars{Vhost: "__defaultVhost__", App: "live", Stream: "cam", Host: "127.0.0.1", Port: 1935, TcURL: "rtmp://127.0.0.1/live"}
	demo := Vars{Vhost: "demo.srs.com", App: "live", Stream: "cam", Param: "?token=1", Host: "10.0.0.1", Port: 19350,
		TcURL: "rtmp://10.0.0.1:19350/live", PageURL: "http://page", SwfURL: "http://swf"}
	tests := []struct {
		name string
		args []string
		v    Vars
		want []string
	}{
		{"nginx-rtmp style", []string{"./objs/ffmpeg/bin/ffmpeg", "-i", "rtmp://127.0.0.1:[port]/[app]/[stream]", "-c", "copy", "-f", "flv", "/tmp/[app]-[stream].flv"}, def,
			[]string{"./objs/ffmpeg/bin/ffmpeg", "-i", "rtmp://127.0.0.1:1935/live/cam", "-c", "copy", "-f", "flv", "/tmp/live-cam.flv"}},
		{"url default vhost", []string{"[url]"}, def, []string{"rtmp://127.0.0.1:1935/live/cam"}},
		{"url with vhost and param", []string{"-i", "[url]"}, demo, []string{"-i", "rtmp://10.0.0.1:19350/live/cam?token=1&vhost=demo.srs.com"}},
		{"client urls", []string{"[tcUrl]", "[pageUrl]", "[swfUrl]", "[vhost]"}, demo, []string{"rtmp://10.0.0.1:19350/live", "http://page", "http://swf", "demo.srs.com"}},
		{"port defaults to 1935", []string{"[port]"}, Vars{}, []string{"1935"}},
		{"engine is empty", []string{"[stream]_[engine]"}, def, []string{"cam_"}},
		{"dates", []string{"/rec/[stream]-[2006][01][02]-[15][04][05].[999].flv", "[timestamp]"}, def,
			[]string{"/rec/cam-20261124-090507.123.flv", "1795511107123"}},
		{"nothing to expand", []string{"echo", "a b"}, def, []string{"echo", "a b"}},
		{"unknown variable kept", []string{"[nope]"}, def, []string{"[nope]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.args)
			got := Expand(tt.args, tt.v, now)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Expand:\n got %q\nwant %q", got, tt.want)
			}
			if !slices.Equal(in, tt.args) {
				t.Fatalf("Expand changed its input: %q", tt.args)
			}
		})
	}
}
