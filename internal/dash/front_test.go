package dash

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writtenMPD is an MPD as the packager writes it, at time written.
func writtenMPD(written time.Time) string {
	return render(manifest{
		AvailabilityStart: t0, Published: written, UpdatePeriod: time.Second, Timeshift: time.Minute, BaseURL: "s/",
		Periods: []manifestPeriod{{ID: "0", Sets: []adaptationSet{{
			Kind: audio, Codecs: "mp4a.40.2", Bandwidth: 1, SampleRate: 8000, Channels: 1, Timescale: 8000,
			Init: "$RepresentationID$-init.mp4", StartNumber: 1, Timeline: []timelineEntry{{T: 0, HasT: true, D: 8000}},
		}}}},
	})
}

func TestRefreshUTCTiming(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 34, 56, 789e6, time.UTC)
	mpd := writtenMPD(t0)
	cases := []struct {
		name string
		in   string
		ok   bool
		want string
	}{
		{"castd's MPD", mpd, true, strings.Replace(mpd, `direct:2014" value="2025-03-01T12:00:00.000Z"`, `direct:2014" value="2025-03-01T12:34:56.789Z"`, 1)},
		{"no UTCTiming", `<MPD></MPD>`, false, ""},
		{"another scheme", `<UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-xsdate:2014" value="https://time"/>`, false, ""},
		{"a value of another width", `<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2025-03-01T12:00:00Z"/>`, false, ""},
		{"cut short", `<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2025-03-01T12:00:00.000Z`, false, ""},
		{"empty", ``, false, ""},
	}
	for _, c := range cases {
		got, ok := refreshUTCTiming([]byte(c.in), now)
		if ok != c.ok || (ok && string(got) != c.want) {
			t.Errorf("%s: ok %v\n%s\nwant ok %v\n%s", c.name, ok, got, c.ok, c.want)
		}
	}
	// The publishTime keeps the time the file was written.
	if got, _ := refreshUTCTiming([]byte(mpd), now); !bytes.Contains(got, []byte(`publishTime="2025-03-01T12:00:00.000Z"`)) {
		t.Errorf("publishTime changed:\n%s", got)
	}
}

func TestFront(t *testing.T) {
	dir := t.TempDir()
	mpd := writtenMPD(t0)
	if err := os.WriteFile(filepath.Join(dir, "s.mpd"), []byte(mpd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "other.mpd"), []byte("<MPD/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), maxMPDSize+10)
	big = append(big, mpd...)
	if err := os.WriteFile(filepath.Join(dir, "big.mpd"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.m4s"), []byte(mpd), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 13, 0, 0, 0, time.UTC)
	files := http.FileServer(http.Dir(dir))
	etagged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"abc"`)
		files.ServeHTTP(w, r)
	})
	front := Front(etagged, func() time.Time { return now })
	fresh := `value="2025-03-01T13:00:00.000Z"`
	stale := `value="2025-03-01T12:00:00.000Z"`

	cases := []struct {
		name, method, path string
		header             map[string]string
		status             int
		has, lacks         string
	}{
		{"the MPD gets the time it is served", "GET", "/s.mpd", nil, 200, fresh, stale},
		{"a conditional GET still gets the whole MPD", "GET", "/s.mpd", map[string]string{
			"If-Modified-Since": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), "If-None-Match": `"abc"`}, 200, fresh, stale},
		{"an MPD castd did not write is unchanged", "GET", "/other.mpd", nil, 200, "<MPD/>", ""},
		{"other files are unchanged", "GET", "/a.m4s", nil, 200, stale, fresh},
		{"a range is served as asked", "GET", "/s.mpd", map[string]string{"Range": "bytes=0-9"}, 206, "<?xml vers", ""},
		{"HEAD is passed on", "HEAD", "/s.mpd", nil, 200, "", ""},
		{"a missing MPD is a 404", "GET", "/none.mpd", nil, 404, "not found", ""},
		{"a huge MPD is passed on unchanged", "GET", "/big.mpd", nil, 200, stale, fresh},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.path, nil)
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			front.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != c.status || !strings.Contains(body, c.has) || (c.lacks != "" && strings.Contains(body, c.lacks)) {
				t.Fatalf("status %d, body %.300q", rec.Code, body)
			}
			if c.status == 200 && c.method == "GET" && rec.Header().Get("Content-Length") != "" &&
				rec.Header().Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Fatalf("Content-Length %s for %d bytes", rec.Header().Get("Content-Length"), len(body))
			}
			if strings.Contains(body, fresh) {
				if rec.Header().Get("Cache-Control") != "no-cache" || rec.Header().Get("ETag") != "" {
					t.Fatalf("headers %v", rec.Header())
				}
			}
			if c.header["If-None-Match"] != "" && req.Header.Get("If-None-Match") == "" {
				t.Fatal("the front changed the caller's request")
			}
		})
	}
}
