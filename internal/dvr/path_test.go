package dvr

import (
	"errors"
	"testing"
	"time"
)

func TestFilePath(t *testing.T) {
	at := time.Date(2015, time.January, 3, 4, 5, 6, 789*int(time.Millisecond), time.UTC)
	cam := Stream{Vhost: "__defaultVhost__", App: "live", Name: "livestream"}
	tests := []struct {
		name    string
		dvrPath string
		s       Stream
		want    string
		format  Format
		err     error
	}{
		{"srs default", "./objs/nginx/html/[app]/[stream].[timestamp].flv", cam,
			"./objs/nginx/html/live/livestream.1420257906789.flv", FormatFLV, nil},
		{"mp4 by extension", "/data/[vhost]/[app]/[stream]/[2006]/[01]/[02]/[15].[04].[05].[999].mp4", cam,
			"/data/__defaultVhost__/live/livestream/2015/01/03/04.05.06.789.mp4", FormatMP4, nil},
		{"a directory gets the default name", "./objs/dvr", cam, "./objs/dvr/livestream.1420257906789.flv", FormatFLV, nil},
		{"a trailing slash too", "./objs/dvr/", cam, "./objs/dvr/livestream.1420257906789.flv", FormatFLV, nil},
		{"neither .flv nor .mp4 is a directory", "./objs/[stream].ts", cam, "./objs/livestream.ts/livestream.1420257906789.flv", FormatFLV, nil},
		{"apps may hold slashes", "[app]/[stream].flv", Stream{App: "live/sub", Name: "s"}, "live/sub/s.flv", FormatFLV, nil},
		{"dots inside a name are fine", "[stream].flv", Stream{App: "a", Name: "cam..1"}, "cam..1.flv", FormatFLV, nil},
		{"climbing out is refused", "[app]/[stream].flv", Stream{App: "live", Name: "../../etc/passwd"}, "", FormatFLV, ErrUnsafeName},
		{"backslashes too", "[app]/[stream].flv", Stream{App: `..\..`, Name: "x"}, "", FormatFLV, ErrUnsafeName},
		{"NUL bytes too", "[app]/[stream].flv", Stream{App: "live", Name: "a\x00b"}, "", FormatFLV, ErrUnsafeName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FilePath(tc.dvrPath, tc.s, at)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if got != tc.want || FormatOf(got) != tc.format {
				t.Errorf("FilePath = %q (%s), want %q (%s)", got, FormatOf(got), tc.want, tc.format)
			}
		})
	}
}

func TestParsePlan(t *testing.T) {
	for in, want := range map[string]Plan{"session": PlanSession, "segment": PlanSegment, "": PlanSession} {
		if got, err := ParsePlan(in); err != nil || got != want {
			t.Errorf("ParsePlan(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParsePlan("append"); err == nil {
		t.Error("ParsePlan accepted append")
	}
}

func TestUnwrapper(t *testing.T) {
	var u unwrapper
	steps := []struct {
		in   uint32
		want int64
	}{
		{0x7fffff00, 0x7fffff00},
		{0x7fffffff, 0x7fffffff},
		{0x00000010, 0x80000010}, // wrapped: keeps going up
		{0x00000005, 0x80000005}, // a small step back stays back
		{0x7ffffff0, 0x7ffffff0}, // and back across the wrap
	}
	for i, s := range steps {
		if got := u.next(s.in); got != s.want {
			t.Errorf("step %d: next(%#x) = %#x, want %#x", i, s.in, got, s.want)
		}
	}
}
