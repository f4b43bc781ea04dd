package caster

import (
	"errors"
	"net/url"
	"testing"

	"github.com/castd/castd/internal/protocol/rtmp"
)

func TestParseFLVPath(t *testing.T) {
	cases := []struct {
		path, app, stream string
		err               error
	}{
		{"/live/livestream.flv", "live", "livestream", nil},
		{"/a/b/cam.flv", "a/b", "cam", nil},
		{"/live/cam.1.flv", "live", "cam.1", nil},
		{"/live/摄像头.flv", "live", "摄像头", nil},
		{"/live/a-b_c~d@e:f.flv", "live", "a-b_c~d@e:f", nil},
		{"/live/x.flv.flv", "live", "x.flv", nil},
		{"/live/livestream", "", "", ErrNotFLVPath},
		{"/live/livestream.FLV", "", "", ErrNotFLVPath},
		{"/live/livestream.ts", "", "", ErrNotFLVPath},
		{"live/livestream.flv", "", "", ErrNotFLVPath},
		{"", "", "", ErrNotFLVPath},
		{"/", "", "", ErrNotFLVPath},
		{"/.flv", "", "", ErrBadFLVPath},
		{"/livestream.flv", "", "", ErrBadFLVPath},
		{"/live/.flv", "", "", ErrBadFLVPath},
		{"//x.flv", "", "", ErrBadFLVPath},
		{"/a//x.flv", "", "", ErrBadFLVPath},
		{"/../x.flv", "", "", ErrBadFLVPath},
		{"/live/...flv", "", "", ErrBadFLVPath},
		{"/live/a?b.flv", "", "", ErrBadFLVPath},
		{"/live/a#b.flv", "", "", ErrBadFLVPath},
		{"/live/a%41.flv", "", "", ErrBadFLVPath},
		{"/live/[stream].flv", "", "", ErrBadFLVPath},
		{"/[app]/x.flv", "", "", ErrBadFLVPath},
		{"/live/a b.flv", "", "", ErrBadFLVPath},
		{"/live/a\\b.flv", "", "", ErrBadFLVPath},
		{"/live/a\x00b.flv", "", "", ErrBadFLVPath},
		{"/live/a\x7fb.flv", "", "", ErrBadFLVPath},
		{"/live/a\xffb.flv", "", "", ErrBadFLVPath},
		{"/live/" + string(make([]byte, maxFLVPath)) + ".flv", "", "", ErrBadFLVPath},
	}
	for _, tc := range cases {
		app, stream, err := ParseFLVPath(tc.path)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%q: err %v, want %v", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || app != tc.app || stream != tc.stream {
			t.Errorf("%q: %q %q %v, want %q %q", tc.path, app, stream, err, tc.app, tc.stream)
		}
	}
}

func TestFLVOutputURL(t *testing.T) {
	cases := []struct{ tmpl, app, stream, want string }{
		{"rtmp://127.0.0.1/[app]/[stream]", "live", "cam", "rtmp://127.0.0.1/live/cam"},
		{"rtmp://127.0.0.1:1936/[app]/[stream]?vhost=v", "a/b", "cam", "rtmp://127.0.0.1:1936/a/b/cam?vhost=v"},
		{"rtmp://127.0.0.1/live/[stream]", "ignored", "cam", "rtmp://127.0.0.1/live/cam"},
		{"rtmp://127.0.0.1/live/fixed", "a", "b", "rtmp://127.0.0.1/live/fixed"},
		{"rtmp://127.0.0.1/[app]/[stream]_[stream]", "live", "c", "rtmp://127.0.0.1/live/c_c"},
	}
	for _, tc := range cases {
		if got := FLVOutputURL(tc.tmpl, tc.app, tc.stream); got != tc.want {
			t.Errorf("%q with %q %q: %q, want %q", tc.tmpl, tc.app, tc.stream, got, tc.want)
		}
	}
}

// FuzzParseFLVPath: whatever the path, a name it accepts makes the RTMP URL
// it means: the app in the tcUrl and the stream as the stream, no more.
func FuzzParseFLVPath(f *testing.F) {
	for _, s := range []string{"/live/livestream.flv", "/a/b/cam.flv", "/live/a?b.flv", "/live/../x.flv",
		"/live/[app].flv", "/x.flv", "/live/摄像头.flv", "/live/a%20b.flv", "//.flv", "/a/.flv.flv"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		app, stream, err := ParseFLVPath(path)
		if err != nil {
			if !errors.Is(err, ErrNotFLVPath) && !errors.Is(err, ErrBadFLVPath) {
				t.Fatalf("%q: untyped error %v", path, err)
			}
			return
		}
		if "/"+app+"/"+stream+".flv" != path {
			t.Fatalf("%q split into %q and %q", path, app, stream)
		}
		tcURL, name, err := rtmp.SplitStreamURL(FLVOutputURL("rtmp://127.0.0.1/[app]/[stream]", app, stream))
		if err != nil {
			t.Fatalf("%q: the output URL does not split: %v", path, err)
		}
		if tcURL != "rtmp://127.0.0.1/"+app || name != stream {
			t.Fatalf("%q: published as %q %q, want app %q stream %q", path, tcURL, name, app, stream)
		}
		// rtmp.Dial parses the tcUrl with net/url: the app must survive it.
		u, err := url.Parse(tcURL)
		if err != nil || u.Host != "127.0.0.1" || u.Path != "/"+app || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("%q: tcUrl %q parses as %+v, %v", path, tcURL, u, err)
		}
	})
}
