package hlstest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pl builds a playlist: seq is the media sequence, segs are "uri:ms" or
// "!uri:ms" for a discontinuity.
func pl(td int, seq int, segs ...string) string {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n")
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:" + strconv.Itoa(seq) + "\n#EXT-X-TARGETDURATION:" + strconv.Itoa(td) + "\n")
	for _, s := range segs {
		if strings.HasPrefix(s, "!") {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
			s = s[1:]
		}
		uri, ms, _ := strings.Cut(s, ":")
		b.WriteString("#EXTINF:" + ms + ", no desc\n" + uri + "\n")
	}
	return b.String()
}

func TestCheckerFindsBrokenPlaylists(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a-0.ts", "a-1.ts", "a-2.ts", "a-3.ts"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte{0x47}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		reads  []string
		want   string // "" for none
		min    time.Duration
		max    time.Duration
		noDir  bool
		discon []int64
	}{
		{name: "good window slide", reads: []string{pl(2, 0, "a-0.ts:1.000", "a-1.ts:1.500"), pl(2, 1, "a-1.ts:1.500", "a-2.ts:2.000")}},
		{name: "target duration too small", reads: []string{pl(1, 0, "a-0.ts:1.200")}, want: "over EXT-X-TARGETDURATION"},
		{name: "media sequence goes back", reads: []string{pl(2, 1, "a-1.ts:1.000"), pl(2, 0, "a-0.ts:1.000", "a-1.ts:1.000")}, want: "went back"},
		{name: "renumbered segment", reads: []string{pl(2, 0, "a-0.ts:1.000", "a-1.ts:1.000"), pl(2, 1, "a-2.ts:1.000")}, want: "segment 1 changed"},
		{name: "segment inserted in the past", reads: []string{pl(2, 5, "a-0.ts:1.000"), pl(2, 3, "a-1.ts:1.000", "a-2.ts:1.000", "a-3.ts:1.000")}, want: "went back"},
		{name: "missing file", reads: []string{pl(2, 0, "a-0.ts:1.000", "gone.ts:1.000")}, want: "listed before its file exists"},
		{name: "missing file unchecked without Dir", reads: []string{pl(2, 0, "gone.ts:1.000")}, noDir: true},
		{name: "endlist", reads: []string{pl(2, 0, "a-0.ts:1.000") + "#EXT-X-ENDLIST\n"}, want: "ENDLIST"},
		{name: "short segment", reads: []string{pl(2, 0, "a-0.ts:0.300", "a-1.ts:1.000")}, min: 900 * time.Millisecond, want: "under"},
		{name: "short newest segment is fine", reads: []string{pl(2, 0, "a-0.ts:1.000", "a-1.ts:0.300")}, min: 900 * time.Millisecond},
		{name: "short segment before a discontinuity is fine", reads: []string{pl(2, 0, "a-0.ts:0.300", "!a-1.ts:1.000")}, min: 900 * time.Millisecond, discon: []int64{1}},
		{name: "long segment", reads: []string{pl(3, 0, "a-0.ts:2.500")}, max: 2 * time.Second, want: "over 2s"},
		{name: "discontinuity appears later", reads: []string{pl(2, 0, "a-0.ts:1.000", "a-1.ts:1.000"), pl(2, 0, "a-0.ts:1.000", "!a-1.ts:1.000")}, want: "segment 1 changed"},
		{name: "not a playlist", reads: []string{"hello"}, want: "#EXTM3U"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Checker{Dir: dir, MinDuration: tc.min, MaxDuration: tc.max}
			if tc.noDir {
				c.Dir = ""
			}
			var all []string
			for _, r := range tc.reads {
				_, problems := c.Check([]byte(r))
				all = append(all, problems...)
			}
			got := strings.Join(all, "\n")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Fatalf("problems %q, want %q", got, tc.want)
			}
			if tc.discon != nil && !equal(c.Discontinuities(), tc.discon) {
				t.Fatalf("discontinuities %v, want %v", c.Discontinuities(), tc.discon)
			}
		})
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
