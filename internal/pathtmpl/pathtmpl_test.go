package pathtmpl

import (
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	at := time.Date(2024, time.March, 5, 7, 8, 9, 42*int(time.Millisecond), time.UTC)
	tests := []struct {
		name, tmpl, want string
	}{
		{"srs default dvr", "./objs/nginx/html/[app]/[stream].[timestamp].flv", "./objs/nginx/html/live/cam.1709622489042.flv"},
		{"every date variable, zero padded", "/data/[vhost]/[app]/[stream]/[2006]/[01]/[02]/[15].[04].[05].[999].flv",
			"/data/v.example.com/live/cam/2024/03/05/07.08.09.042.flv"},
		{"no variables", "/tmp/x.mp4", "/tmp/x.mp4"},
		{"repeated variables", "[stream]-[stream]", "cam-cam"},
		{"unknown variables stay", "[seq]/[duration]/[stream]", "[seq]/[duration]/cam"},
		{"stream name holding a time variable", "[stream]", "cam"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Expand(tc.tmpl, "v.example.com", "live", "cam", at); got != tc.want {
				t.Errorf("Expand(%q) = %q, want %q", tc.tmpl, got, tc.want)
			}
		})
	}
}

func TestTimeUsesLocation(t *testing.T) {
	loc := time.FixedZone("UTC+8", 8*3600)
	at := time.Date(2024, time.December, 31, 20, 0, 0, 0, time.UTC)
	if got := Time("[2006]-[01]-[02] [15]", at.In(loc)); got != "2025-01-01 04" {
		t.Errorf("local time: %q", got)
	}
	if got := Time("[2006]-[01]-[02] [15]", at); got != "2024-12-31 20" {
		t.Errorf("utc: %q", got)
	}
}

func TestStreamNameWithTimeVariable(t *testing.T) {
	at := time.Date(2001, time.January, 1, 0, 0, 0, 0, time.UTC)
	// SRS expands stream variables first, then time variables.
	if got := Expand("[stream].flv", "v", "a", "rec-[2006]", at); got != "rec-2001.flv" {
		t.Errorf("got %q", got)
	}
}
