package hls

import (
	"errors"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	at := time.Date(2006, 1, 2, 15, 4, 5, 999e6, time.UTC)
	v := pathVars{Vhost: "v.com", App: "live", Stream: "cam", Seq: 42, Time: at, Timestamp: 1136214245999}
	for _, tc := range []struct{ tmpl, want string }{
		{"[app]/[stream]-[seq].ts", "live/cam-42.ts"},
		{"[vhost]/[app]/[stream].m3u8", "v.com/live/cam.m3u8"},
		{"[2006]-[01]-[02]/[15][04][05].[999].ts", "2006-01-02/150405.999.ts"},
		{"[stream]-[timestamp].ts", "cam-1136214245999.ts"},
		{"[stream]-[duration].ts", "cam-[duration].ts"}, // filled when the segment closes
		{"[unknown]/x.ts", "[unknown]/x.ts"},
		{"", ""},
	} {
		if got := expand(tc.tmpl, v); got != tc.want {
			t.Errorf("expand(%q) = %q, want %q", tc.tmpl, got, tc.want)
		}
	}
	// Names from the publisher are never expanded again.
	v.Stream = "[seq][2006]"
	if got := expand("[stream]-[seq]", v); got != "[seq][2006]-42" {
		t.Errorf("a stream name was expanded: %q", got)
	}
	single := time.Date(2024, 3, 4, 5, 6, 7, 8e6, time.UTC)
	if got := expand("[01][02][15][04][05][999]", pathVars{Time: single}); got != "0304050607008" {
		t.Errorf("zero padding: %q", got)
	}
	if got := fillDuration("a-[duration]-[duration].ts", 1234567*time.Microsecond); got != "a-1234-1234.ts" {
		t.Errorf("fillDuration: %q", got)
	}
}

func TestCleanRel(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "live/cam.m3u8", want: "live/cam.m3u8"},
		{in: "./live//cam-0.ts", want: "live/cam-0.ts"},
		{in: "live/../cam.ts", want: "cam.ts"},
		{in: "live/../../cam.ts", bad: true},
		{in: "../x", bad: true},
		{in: "..", bad: true},
		{in: ".", bad: true},
		{in: "", bad: true},
		{in: "/etc/passwd", bad: true},
		{in: "a\x00b", bad: true},
		{in: `a\..\..\b`, bad: true},
	} {
		got, err := cleanRel(tc.in)
		if tc.bad {
			if !errors.Is(err, errEscapes) {
				t.Errorf("cleanRel(%q) = %q, %v; want an error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("cleanRel(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestRelURL(t *testing.T) {
	for _, tc := range []struct{ from, target, want string }{
		{"live", "live/cam-0.ts", "cam-0.ts"},
		{"", "live/cam-0.ts", "live/cam-0.ts"},
		{"live", "live/cam/0.ts", "cam/0.ts"},
		{"live/cam", "live/0.ts", "../0.ts"},
		{"live", "ts/live/0.ts", "../ts/live/0.ts"},
		{"a/b/c", "x.ts", "../../../x.ts"},
		{"live", "livestream/0.ts", "../livestream/0.ts"},
	} {
		if got := relURL(tc.from, tc.target); got != tc.want {
			t.Errorf("relURL(%q, %q) = %q, want %q", tc.from, tc.target, got, tc.want)
		}
	}
	for in, want := range map[string]string{"live/a.m3u8": "live", "a.m3u8": "", "x/y/z.m3u8": "x/y"} {
		if got := urlDir(in); got != want {
			t.Errorf("urlDir(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct{ dir, rel, want string }{
		{"./objs/nginx/html", "live/a.ts", "./objs/nginx/html/live/a.ts"},
		{"/srv/hls/", "live/a.ts", "/srv/hls/live/a.ts"},
		{"", "live/a.ts", "live/a.ts"},
	} {
		if got := joinPath(tc.dir, tc.rel); got != tc.want {
			t.Errorf("joinPath(%q, %q) = %q, want %q", tc.dir, tc.rel, got, tc.want)
		}
	}
}

func TestTicks(t *testing.T) {
	for _, tc := range []struct {
		d time.Duration
		t int64
	}{
		{time.Second, 90000},
		{time.Millisecond, 90},
		{1500 * time.Millisecond, 135000},
		{26 * time.Hour, 26 * 3600 * 90000},
	} {
		if got := ticks(tc.d); got != tc.t {
			t.Errorf("ticks(%v) = %d, want %d", tc.d, got, tc.t)
		}
		if got := fromTicks(tc.t); got != tc.d {
			t.Errorf("fromTicks(%d) = %v, want %v", tc.t, got, tc.d)
		}
	}
}
