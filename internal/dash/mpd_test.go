package dash

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMPDDescribesTheStream(t *testing.T) {
	cases := []struct {
		name       string
		s          stream
		videoCodec string
	}{
		{"H.264 and AAC", stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 20000}, "avc1.42C00A"},
		{"H.265 and AAC", stream{video: hevc64x48, hevc: true, audio: aacLC44k, gop: 25, duration: 20000}, "hvc1.1.6.L30.90"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{
				Fragment: 2 * time.Second, UpdatePeriod: 3 * time.Second, Timeshift: 40 * time.Second,
				WindowSize: 4, Cleanup: true, Dispose: time.Minute,
			}
			h := newHarness(t, cfg)
			h.pk.Publish()
			h.feed(c.s.packets(t)) // no Flush: the MPD as it is live
			m := h.mpd()

			ast := t0.Add(-anchorBase * time.Millisecond)
			wantAttrs := map[string][2]string{
				"type":                  {m.Type, "dynamic"},
				"profiles":              {m.Profiles, "urn:mpeg:dash:profile:isoff-live:2011"},
				"availabilityStartTime": {m.AvailabilityStart, ast.Format("2006-01-02T15:04:05.000Z")},
				"minimumUpdatePeriod":   {m.MinimumUpdatePeriod, "PT3S"},
				"timeShiftBufferDepth":  {m.TimeShiftBuffer, "PT40S"},
				"BaseURL":               {m.BaseURL, "s/"},
				"UTCTiming@schemeIdUri": {m.UTCTiming.Scheme, "urn:mpeg:dash:utc:direct:2014"},
				"UTCTiming@value":       {m.UTCTiming.Value, m.PublishTime},
			}
			for name, v := range wantAttrs {
				if v[0] != v[1] {
					t.Errorf("%s = %q, want %q", name, v[0], v[1])
				}
			}
			// minBufferTime is the longest listed segment (audio ones end at
			// the first frame after the video cut, so a little longer than
			// 2 s); the delay is two of them and an update period.
			var longest time.Duration
			for _, set := range m.Periods[0].Sets {
				for _, l := range set.segments(t) {
					longest = max(longest, time.Duration(l.d)*time.Second/time.Duration(set.Rep.Template.Timescale))
				}
			}
			if longest < 2*time.Second || longest > 2100*time.Millisecond {
				t.Fatalf("the longest segment lasts %v", longest)
			}
			if got := parseXSDuration(t, m.MinBufferTime); got != longest.Truncate(time.Millisecond) {
				t.Errorf("minBufferTime %v, want the longest segment, %v", got, longest)
			}
			if got, want := parseXSDuration(t, m.PresentationDelay), (2*longest + 3*time.Second).Truncate(time.Millisecond); got != want {
				t.Errorf("suggestedPresentationDelay %v, want %v", got, want)
			}
			published, err := time.Parse(dateTimeLayout, m.PublishTime)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Periods) != 1 || m.Periods[0].ID != "0" || m.Periods[0].Start != "PT10S" {
				t.Fatalf("periods %+v, want one starting at the anchor, 10 s", m.Periods)
			}
			per := m.Periods[0]
			video, vok := per.set("video")
			audio, aok := per.set("audio")
			if !vok || !aok || len(per.Sets) != 2 {
				t.Fatalf("adaptation sets %+v", per.Sets)
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"video mimeType", video.MimeType, "video/mp4"},
				{"video id", video.Rep.ID, "video"},
				{"video codecs", video.Rep.Codecs, c.videoCodec},
				{"video size", [2]int{video.Rep.Width, video.Rep.Height}, [2]int{64, 48}},
				{"video frameRate", video.Rep.FrameRate, "25"},
				{"video timescale", video.Rep.Template.Timescale, uint64(90000)},
				{"video presentationTimeOffset", video.Rep.Template.PTO, uint64(10 * 90000)},
				{"audio mimeType", audio.MimeType, "audio/mp4"},
				{"audio id", audio.Rep.ID, "audio"},
				{"audio codecs", audio.Rep.Codecs, "mp4a.40.2"},
				{"audio rate", audio.Rep.SampleRate, 44100},
				{"audio channels", audio.Rep.Channels.Value, 2},
				{"audio timescale", audio.Rep.Template.Timescale, uint64(44100)},
				{"audio presentationTimeOffset", audio.Rep.Template.PTO, uint64(10 * 44100)},
			}
			for _, set := range []mpdSet{video, audio} {
				tpl := set.Rep.Template
				checks = append(checks,
					struct {
						what      string
						got, want any
					}{set.ContentType + " initialization", tpl.Init, "$RepresentationID$-init.mp4"},
					struct {
						what      string
						got, want any
					}{set.ContentType + " media", tpl.Media, "$RepresentationID$-$Number$.m4s"})
				if set.Rep.Bandwidth <= 0 {
					t.Errorf("%s bandwidth %d", set.ContentType, set.Rep.Bandwidth)
				}
			}
			for _, ch := range checks {
				if ch.got != ch.want {
					t.Errorf("%s = %v, want %v", ch.what, ch.got, ch.want)
				}
			}

			// 20 s in 2 s segments: 9 written (the tenth is open), the
			// newest 4 listed, all 2 s long, so one S with r=3.
			tpl := video.Rep.Template
			if len(tpl.S) != 1 || tpl.S[0].D != 180000 || tpl.S[0].R != 3 || tpl.StartNumber != 6 {
				t.Fatalf("video timeline: start %d, %+v; want numbers 6-9 as one S of 2 s, r=3", tpl.StartNumber, tpl.S)
			}
			parsed := checkListedSegments(t, h.store, m)
			if len(parsed["video"]) != 4 || len(parsed["audio"]) != 4 {
				t.Fatalf("%d video, %d audio segments listed", len(parsed["video"]), len(parsed["audio"]))
			}

			// Media time follows the wall clock: the listed media ends
			// one open segment behind the newest frame.
			last := video.segments(t)[3]
			end := ast.Add(parseXSDuration(t, per.Start) +
				time.Duration(last.t+last.d-tpl.PTO)*time.Second/time.Duration(tpl.Timescale))
			if lag := published.Sub(end); lag < 0 || lag > 2*time.Second {
				t.Fatalf("the listed media ends at %v, %v before the MPD was written", end, lag)
			}
		})
	}
}

func TestBuildTimeline(t *testing.T) {
	seg := func(start, dur uint64) *segment { return &segment{start: start, dur: dur} }
	cases := []struct {
		name string
		segs []*segment
		want []timelineEntry
	}{
		{"none", nil, nil},
		{"one", []*segment{seg(100, 10)}, []timelineEntry{{T: 100, HasT: true, D: 10}}},
		{"equal and contiguous: repeats", []*segment{seg(100, 10), seg(110, 10), seg(120, 10)},
			[]timelineEntry{{T: 100, HasT: true, D: 10, R: 2}}},
		{"a different duration: new S without t", []*segment{seg(0, 10), seg(10, 10), seg(20, 12), seg(32, 10)},
			[]timelineEntry{{T: 0, HasT: true, D: 10, R: 1}, {T: 20, D: 12}, {T: 32, D: 10}}},
		{"a gap: new S with t", []*segment{seg(0, 10), seg(10, 10), seg(50, 10), seg(60, 10)},
			[]timelineEntry{{T: 0, HasT: true, D: 10, R: 1}, {T: 50, HasT: true, D: 10, R: 1}}},
		{"an overlap is never merged", []*segment{seg(0, 10), seg(5, 10)},
			[]timelineEntry{{T: 0, HasT: true, D: 10}, {T: 5, HasT: true, D: 10}}},
	}
	for _, c := range cases {
		if got := buildTimeline(c.segs); !slices.Equal(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestXSDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "PT0S"},
		{5 * time.Second, "PT5S"},
		{2500 * time.Millisecond, "PT2.5S"},
		{40 * time.Millisecond, "PT0.04S"},
		{1001 * time.Millisecond, "PT1.001S"},
		{300 * time.Second, "PT300S"},
		{1500 * time.Microsecond, "PT0.001S"}, // milliseconds are the precision
	}
	for _, c := range cases {
		if got := xsDuration(c.d); got != c.want {
			t.Errorf("xsDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestFrameRate(t *testing.T) {
	cases := []struct {
		fps  float64
		want string
	}{
		{25, "25"},
		{25.1, "25"},
		{29.97, "30000/1001"},
		{30, "30"},
		{59.94, "60000/1001"},
		{23.976, "24000/1001"},
		{15.05, "15"},
		{12.5, ""}, // neither a usual rate nor whole
		{0.5, ""},
		{1000, ""},
	}
	for _, c := range cases {
		if got := frameRate(c.fps); got != c.want {
			t.Errorf("frameRate(%v) = %q, want %q", c.fps, got, c.want)
		}
	}
}

func TestRenderEscapesAndOmits(t *testing.T) {
	m := manifest{
		AvailabilityStart: t0, Published: t0.Add(time.Second), UpdatePeriod: time.Second, Timeshift: time.Minute,
		BaseURL: "a&b/",
		Periods: []manifestPeriod{{ID: "0", Sets: []adaptationSet{{
			Kind: audio, Codecs: `mp4a"x`, Bandwidth: 1, SampleRate: 8000, Channels: 1, Timescale: 8000,
			Init: "$RepresentationID$-init.mp4", StartNumber: 1, Timeline: []timelineEntry{{T: 0, HasT: true, D: 8000}},
		}}}},
	}
	out := render(m)
	for _, want := range []string{`<BaseURL>a&amp;b/</BaseURL>`, `codecs="mp4a&#34;x"`, `<S t="0" d="8000"/>`, `<Period id="0" start="PT0S">`} {
		if !strings.Contains(out, want) {
			t.Errorf("MPD lacks %s:\n%s", want, out)
		}
	}
	for _, absent := range []string{"presentationTimeOffset", "frameRate", " r="} {
		if strings.Contains(out, absent) {
			t.Errorf("MPD has %s:\n%s", absent, out)
		}
	}
	doc := parseMPD(t, []byte(out))
	if doc.BaseURL != "a&b/" || doc.Periods[0].Sets[0].Rep.Codecs != `mp4a"x` {
		t.Fatalf("read back %+v", doc)
	}
}
