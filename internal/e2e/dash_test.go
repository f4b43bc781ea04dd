package e2e

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// dashOptions fill dashConf's dash{} block.
type dashOptions struct {
	fragment, window, dispose, cleanup string
}

// dashConf is defaultConf with DASH written into the HTTP root.
func dashConf(o dashOptions) string {
	if o.cleanup == "" {
		o.cleanup = "on"
	}
	return strings.Replace(defaultConf, "vhost __defaultVhost__ {", `vhost __defaultVhost__ {
    dash {
        enabled             on;
        dash_fragment       `+o.fragment+`;
        dash_update_period  1;
        dash_path           {{dir}};
        dash_window_size    `+o.window+`;
        dash_cleanup        `+o.cleanup+`;
        dash_dispose        `+o.dispose+`;
    }`, 1)
}

// mpd is the part of an MPD the tests read.
type mpd struct {
	Type    string `xml:"type,attr"`
	BaseURL string `xml:"BaseURL"`
	Periods []struct {
		ID    string `xml:"id,attr"`
		Start string `xml:"start,attr"` // PTnS
		Sets  []struct {
			ContentType string `xml:"contentType,attr"`
			Rep         struct {
				ID       string `xml:"id,attr"`
				Codecs   string `xml:"codecs,attr"`
				Width    int    `xml:"width,attr"`
				Height   int    `xml:"height,attr"`
				Template struct {
					Timescale   uint64 `xml:"timescale,attr"`
					StartNumber uint64 `xml:"startNumber,attr"`
					Init        string `xml:"initialization,attr"`
					Media       string `xml:"media,attr"`
					Timeline    []struct {
						T *uint64 `xml:"t,attr"`
						D uint64  `xml:"d,attr"`
						R int     `xml:"r,attr"`
					} `xml:"SegmentTimeline>S"`
				} `xml:"SegmentTemplate"`
			} `xml:"Representation"`
		} `xml:"AdaptationSet"`
	} `xml:"Period"`
}

// segments returns how many segments the MPD lists per content type, and
// the last listed number.
func (m mpd) segments() (count map[string]int, last map[string]uint64) {
	count, last = map[string]int{}, map[string]uint64{}
	for _, p := range m.Periods {
		for _, s := range p.Sets {
			n := 0
			for _, e := range s.Rep.Template.Timeline {
				n += 1 + e.R
			}
			count[s.ContentType] += n
			if n > 0 {
				last[s.ContentType] = s.Rep.Template.StartNumber + uint64(n) - 1
			}
		}
	}
	return count, last
}

// fetchMPD reads and parses an MPD; ok is false when it is not there yet.
func fetchMPD(t *testing.T, c *castd, path string) (mpd, bool) {
	t.Helper()
	status, body := httpFetch(c.httpURL(path))
	if status != http.StatusOK {
		return mpd{}, false
	}
	var m mpd
	if err := xml.Unmarshal(body, &m); err != nil {
		t.Fatalf("MPD %s: %v\n%s", path, err, body)
	}
	return m, true
}

// httpFetch returns a URL's status and body (status 0 when unreachable).
func httpFetch(url string) (int, []byte) {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil
	}
	return resp.StatusCode, body
}

// waitMPD waits until the MPD lists at least n segments of every track.
func waitMPD(t *testing.T, c *castd, path string, n int, within time.Duration) mpd {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		m, ok := fetchMPD(t, c, path)
		if ok {
			count, _ := m.segments()
			enough := len(count) > 0
			for _, k := range count {
				enough = enough && k >= n
			}
			if enough {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the MPD %s did not list %d segments per track within %v: %+v", path, n, within, m)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dashFiles lists the files of a stream's segment directory.
func dashFiles(t *testing.T, c *castd, app, stream string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(c.dir, app, stream))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// concatListed writes a track's init segment and every segment the MPD
// lists, in order, into one file, as a player appends them.
func concatListed(t *testing.T, c *castd, m mpd, kind, out string) {
	t.Helper()
	var all []byte
	for _, p := range m.Periods {
		for _, s := range p.Sets {
			if s.ContentType != kind {
				continue
			}
			tpl := s.Rep.Template
			name := func(tmpl string, n uint64) string {
				return strings.NewReplacer("$RepresentationID$", s.Rep.ID, "$Number$", strconv.FormatUint(n, 10)).Replace(tmpl)
			}
			fetch := func(file string) []byte {
				status, body := httpFetch(c.httpURL("live/" + m.BaseURL + file))
				if status != http.StatusOK {
					t.Fatalf("%s: status %d", file, status)
				}
				return body
			}
			all = append(all, fetch(name(tpl.Init, 0))...)
			n := tpl.StartNumber
			for _, e := range tpl.Timeline {
				for range 1 + e.R {
					all = append(all, fetch(name(tpl.Media, n))...)
					n++
				}
			}
		}
	}
	if err := os.WriteFile(out, all, 0o644); err != nil {
		t.Fatal(err)
	}
}

// listedDuration is the time a track's timeline spans.
func listedDuration(m mpd, kind string) time.Duration {
	var d time.Duration
	for _, p := range m.Periods {
		for _, s := range p.Sets {
			if s.ContentType != kind {
				continue
			}
			for _, e := range s.Rep.Template.Timeline {
				d += time.Duration(e.D*uint64(1+e.R)) * time.Second / time.Duration(s.Rep.Template.Timescale)
			}
		}
	}
	return d
}

// probeDuration returns a file's streams and duration as ffprobe sees them.
func probeDuration(t *testing.T, file string) (codecs []string, dur time.Duration) {
	t.Helper()
	out, err := exec.Command(requireTool(t, "ffprobe"), "-v", "error", "-of", "json", "-show_streams", "-show_format", file).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", file, err)
	}
	var r struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Format struct {
			StartTime string `json:"start_time"`
			Duration  string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Streams {
		codecs = append(codecs, s.CodecName)
	}
	// castd's media time counts from availabilityStartTime, so the file
	// starts late; ffprobe's duration is where it ends.
	start, err1 := strconv.ParseFloat(r.Format.StartTime, 64)
	end, err2 := strconv.ParseFloat(r.Format.Duration, 64)
	if err1 != nil || err2 != nil || end <= start {
		t.Fatalf("ffprobe %s: start %q, duration %q", file, r.Format.StartTime, r.Format.Duration)
	}
	return codecs, time.Duration((end - start) * float64(time.Second))
}

// TestFFmpegPublishProbeDASH: ffprobe reads castd's live MPD of an
// ffmpeg-published stream with its codecs, and the published media, read
// back through the MPD, lasts as long as it was published.
func TestFFmpegPublishProbeDASH(t *testing.T) {
	c := startCastd(t, dashConf(dashOptions{fragment: "1", window: "30", dispose: "30"}))
	const published = 8 * time.Second
	pub := ffmpegPublish(t, c.rtmpURL("live/probe"), published)
	m := waitMPD(t, c, "live/probe.mpd", 2, 15*time.Second)
	if m.Type != "dynamic" || m.BaseURL != "probe/" {
		t.Fatalf("MPD type %q, BaseURL %q", m.Type, m.BaseURL)
	}

	// ffprobe's DASH demuxer, on the live MPD.
	p := ffprobe(t, c.httpURL("live/probe.mpd"), 0)
	var got []string
	for _, s := range p.Streams {
		got = append(got, s.CodecType+":"+s.CodecName)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"audio:aac", "video:h264"}) {
		t.Fatalf("ffprobe of the MPD: streams %v, want h264 and aac", got)
	}
	for _, s := range p.Streams {
		if s.CodecType == "video" && (s.Width != 320 || s.Height != 240) {
			t.Errorf("video %dx%d, want 320x240", s.Width, s.Height)
		}
		if s.CodecType == "audio" && (s.SampleRate != "44100" || s.Channels != 2) {
			t.Errorf("audio %s Hz, %d channels", s.SampleRate, s.Channels)
		}
	}

	// Once the publisher is gone, the MPD lists all of it.
	if err := pub.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	var final mpd
	deadline := time.Now().Add(10 * time.Second)
	for {
		final, _ = fetchMPD(t, c, "live/probe.mpd")
		if listedDuration(final, "video") >= published*9/10 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	dir := t.TempDir()
	for _, kind := range []string{"video", "audio"} {
		listed := listedDuration(final, kind)
		if listed < published*9/10 || listed > published*11/10 {
			t.Errorf("the MPD's %s timeline spans %v, published %v", kind, listed, published)
		}
		file := filepath.Join(dir, kind+".mp4")
		concatListed(t, c, final, kind, file)
		codecs, dur := probeDuration(t, file)
		want := map[string]string{"video": "h264", "audio": "aac"}[kind]
		if len(codecs) != 1 || codecs[0] != want {
			t.Errorf("%s segments: ffprobe finds %v, want %s", kind, codecs, want)
		}
		if dur < published*9/10 || dur > published*11/10 {
			t.Errorf("%s segments last %v by ffprobe, published %v", kind, dur, published)
		}
		t.Logf("%s: timeline %v, ffprobe %v", kind, listed, dur)
	}
}

// TestDASHWindowCleanupAndDispose: the MPD lists dash_window_size segments,
// older segment files are deleted as the window slides, and dash_dispose
// after the publisher left everything goes.
func TestDASHWindowCleanupAndDispose(t *testing.T) {
	c := startCastd(t, dashConf(dashOptions{fragment: "1", window: "2", dispose: "2"}))
	pub := ffmpegPublish(t, c.rtmpURL("live/win"), 9*time.Second)
	m := waitMPD(t, c, "live/win.mpd", 2, 15*time.Second)

	// Wait until the window has slid well past the first segments.
	deadline := time.Now().Add(15 * time.Second)
	for {
		count, last := m.segments()
		if last["video"] >= 7 {
			for kind, n := range count {
				if n != 2 {
					t.Fatalf("the MPD lists %d %s segments, want dash_window_size 2", n, kind)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the MPD never reached segment 7: %+v", m)
		}
		time.Sleep(200 * time.Millisecond)
		m, _ = fetchMPD(t, c, "live/win.mpd")
	}
	files := dashFiles(t, c, "live", "win")
	for _, gone := range []string{"video-1.m4s", "audio-1.m4s", "video-2.m4s", "audio-2.m4s"} {
		if slices.Contains(files, gone) {
			t.Errorf("%s is still there after the window slid: %v", gone, files)
		}
	}
	for _, kept := range []string{"video-init.mp4", "audio-init.mp4"} {
		if !slices.Contains(files, kept) {
			t.Errorf("%s is missing: %v", kept, files)
		}
	}
	// Every listed segment can be fetched with the right type.
	_, last := m.segments()
	for _, kind := range []string{"video", "audio"} {
		resp, err := http.Get(c.httpURL(fmt.Sprintf("live/win/%s-%d.m4s", kind, last[kind])))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s-%d.m4s: status %d", kind, last[kind], resp.StatusCode)
		}
	}
	resp, err := http.Get(c.httpURL("live/win.mpd"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/dash+xml" {
		t.Errorf("MPD Content-Type %q", ct)
	}

	// dash_dispose 2: the files stay for 2 s after the publisher left,
	// then go.
	if err := pub.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	left := time.Now()
	if status, _ := httpFetch(c.httpURL("live/win.mpd")); status != http.StatusOK {
		t.Fatalf("the MPD is gone at once (status %d)", status)
	}
	for {
		status, _ := httpFetch(c.httpURL("live/win.mpd"))
		if status == http.StatusNotFound && len(dashFiles(t, c, "live", "win")) == 0 {
			break
		}
		if time.Since(left) > 8*time.Second {
			t.Fatalf("files left 8 s after unpublish with dash_dispose 2: MPD %d, %v", status, dashFiles(t, c, "live", "win"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if waited := time.Since(left); waited < 1500*time.Millisecond {
		t.Errorf("files deleted %v after unpublish, before dash_dispose", waited)
	}
}

// TestDASHAudioOnly: an AAC-only stream gets an audio-only MPD that
// ffprobe reads.
func TestDASHAudioOnly(t *testing.T) {
	c := startCastd(t, dashConf(dashOptions{fragment: "1", window: "5", dispose: "5"}))
	startCmd(t, requireTool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "8",
		"-c:a", "aac", "-b:a", "64k", "-f", "flv", c.rtmpURL("live/radio"))
	m := waitMPD(t, c, "live/radio.mpd", 2, 15*time.Second)
	if len(m.Periods) != 1 || len(m.Periods[0].Sets) != 1 || m.Periods[0].Sets[0].ContentType != "audio" ||
		m.Periods[0].Sets[0].Rep.Codecs != "mp4a.40.2" {
		t.Fatalf("MPD %+v, want one AAC audio set", m)
	}
	p := ffprobe(t, c.httpURL("live/radio.mpd"), 0)
	if len(p.Streams) != 1 || p.Streams[0].CodecName != "aac" || p.Streams[0].SampleRate != "48000" {
		t.Fatalf("ffprobe of the MPD: %+v", p.Streams)
	}
	if files := dashFiles(t, c, "live", "radio"); slices.ContainsFunc(files, func(f string) bool { return strings.HasPrefix(f, "video") }) {
		t.Fatalf("video files for an audio-only stream: %v", files)
	}
}
