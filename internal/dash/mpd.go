package dash

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
)

// manifest is what the MPD says, computed from the packager's state and
// rendered by render; the two halves are tested apart.
type manifest struct {
	AvailabilityStart time.Time
	Published         time.Time
	UpdatePeriod      time.Duration
	Timeshift         time.Duration
	Delay             time.Duration // suggestedPresentationDelay
	MinBuffer         time.Duration
	BaseURL           string
	Periods           []manifestPeriod
}

type manifestPeriod struct {
	ID    string
	Start time.Duration
	Sets  []adaptationSet
}

type adaptationSet struct {
	Kind       int
	Codecs     string
	Bandwidth  int64
	Width      int
	Height     int
	FrameRate  string // empty when unknown
	SampleRate int
	Channels   int

	Timescale   uint32
	PTO         uint64 // presentationTimeOffset
	Init        string // SegmentTemplate@initialization
	StartNumber uint64
	Timeline    []timelineEntry
}

// timelineEntry is an S element: R more segments of duration D follow the
// one at T. HasT is false when the entry starts where the previous ended.
type timelineEntry struct {
	T    uint64
	HasT bool
	D    uint64
	R    int
}

// buildTimeline compresses contiguous segments of equal duration into
// repeats; t is written for the first entry and after any gap.
func buildTimeline(segs []*segment) []timelineEntry {
	var out []timelineEntry
	var end uint64
	for i, s := range segs {
		contiguous := i > 0 && s.start == end
		if n := len(out); contiguous && out[n-1].D == s.dur {
			out[n-1].R++
		} else {
			out = append(out, timelineEntry{T: s.start, HasT: !contiguous, D: s.dur})
		}
		end = s.start + s.dur
	}
	return out
}

// windowOf returns the segments of kind listed in the MPD.
func (p *Packager) windowOf(kind int) []*segment {
	s := p.segs[kind]
	return s[max(0, len(s)-p.cfg.WindowSize):]
}

// manifest describes the current window. A Period is listed once it has a
// segment, and a track within it once that track has one.
func (p *Packager) manifest(now time.Time) manifest {
	m := manifest{
		AvailabilityStart: p.clock.ast, Published: now,
		UpdatePeriod: p.cfg.UpdatePeriod, Timeshift: p.cfg.Timeshift, BaseURL: p.layout.BaseURL,
	}
	longest := p.cfg.Fragment
	var window [2][]*segment
	for k := range window {
		window[k] = p.windowOf(k)
		for _, s := range window[k] {
			if t := p.periodTrack(s.period, k); t != nil {
				longest = max(longest, ticksToDuration(s.dur, t.track.Timescale))
			}
		}
	}
	// The newest segment is complete about one segment after its start, and
	// the player learns of it one update period later at worst: a player
	// twice the longest segment plus an update behind the clock finds its
	// segments listed, with a segment of margin.
	m.Delay = 2*longest + p.cfg.UpdatePeriod
	m.MinBuffer = longest
	for _, per := range p.periods {
		mp := manifestPeriod{ID: strconv.Itoa(per.index), Start: time.Duration(per.startMs) * time.Millisecond}
		for k := range per.tracks {
			var segs []*segment
			for _, s := range window[k] {
				if s.period == per {
					segs = append(segs, s)
				}
			}
			if cfg := per.tracks[k]; cfg != nil && len(segs) > 0 {
				mp.Sets = append(mp.Sets, adaptation(k, cfg, per, segs))
			}
		}
		if len(mp.Sets) > 0 {
			m.Periods = append(m.Periods, mp)
		}
	}
	return m
}

func (p *Packager) periodTrack(per *period, kind int) *trackConfig {
	if per == nil {
		return nil
	}
	return per.tracks[kind]
}

func adaptation(kind int, cfg *trackConfig, per *period, segs []*segment) adaptationSet {
	t := cfg.track
	a := adaptationSet{
		Kind: kind, Codecs: cfg.codecs, Timescale: t.Timescale,
		PTO:  uint64(per.startMs) * uint64(t.Timescale) / 1000,
		Init: per.initTemplate(), StartNumber: segs[0].number, Timeline: buildTimeline(segs),
	}
	var bytes, ticks uint64
	samples := 0
	for _, s := range segs {
		bytes += uint64(s.bytes)
		ticks += s.dur
		samples += s.samples
	}
	if ticks > 0 {
		a.Bandwidth = int64(math.Ceil(float64(bytes) * 8 * float64(t.Timescale) / float64(ticks)))
	}
	a.Bandwidth = max(a.Bandwidth, 1)
	if kind == video {
		a.Width, a.Height = t.Width, t.Height
		if ticks > 0 {
			a.FrameRate = frameRate(float64(samples) * float64(t.Timescale) / float64(ticks))
		}
	} else {
		a.SampleRate, a.Channels = t.SampleRate, t.Channels
	}
	return a
}

// frameRate names a measured frame rate the way MPDs do: the nearest of
// the usual rates when it is within 0.5% of it, else a whole number within
// 1%, else nothing. Millisecond timestamps blur 29.97 and 30 by less than
// their 0.1% difference over a segment, so the nearest one is right.
func frameRate(fps float64) string {
	best, bestErr := "", math.Inf(1)
	for _, r := range []struct {
		num, den int
	}{{24000, 1001}, {24, 1}, {25, 1}, {30000, 1001}, {30, 1}, {48, 1}, {50, 1}, {60000, 1001}, {60, 1}} {
		v := float64(r.num) / float64(r.den)
		if e := math.Abs(fps - v); e <= v*0.005 && e < bestErr {
			best, bestErr = strconv.Itoa(r.num), e
			if r.den != 1 {
				best = fmt.Sprintf("%d/%d", r.num, r.den)
			}
		}
	}
	if best != "" {
		return best
	}
	if fps >= 1 && fps <= 240 && math.Abs(fps-math.Round(fps)) <= fps*0.01 {
		return strconv.Itoa(int(math.Round(fps)))
	}
	return ""
}

func ticksToDuration(ticks uint64, timescale uint32) time.Duration {
	if timescale == 0 {
		return 0
	}
	return time.Duration(float64(ticks) / float64(timescale) * float64(time.Second))
}

// writeMPD rewrites the MPD, unless a follower track still has to end its
// segment at the leader's last cut: then it writes it, and the MPD lists
// both tracks' segments at once.
func (p *Packager) writeMPD() {
	for _, o := range p.open {
		if o != nil && o.hasCut {
			return
		}
	}
	m := p.manifest(p.now())
	if len(m.Periods) == 0 {
		return
	}
	if err := p.store.WriteFile(p.layout.MPD, []byte(render(m))); err != nil {
		p.fail(err)
	}
}

// utcTimingScheme is the UTCTiming scheme castd writes: the server's time
// itself, so a player needs no time server. The HTTP front (Front)
// refreshes the value when it serves the MPD.
const utcTimingScheme = "urn:mpeg:dash:utc:direct:2014"

// dateTimeLayout is xs:dateTime in UTC with milliseconds. Its fixed width
// lets the front replace the time without changing the length.
const dateTimeLayout = "2006-01-02T15:04:05.000Z"

// render writes the MPD.
func render(m manifest) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic"`+
		` availabilityStartTime="%s" publishTime="%s" minimumUpdatePeriod="%s" timeShiftBufferDepth="%s"`+
		` suggestedPresentationDelay="%s" minBufferTime="%s">`+"\n",
		m.AvailabilityStart.UTC().Format(dateTimeLayout), m.Published.UTC().Format(dateTimeLayout),
		xsDuration(m.UpdatePeriod), xsDuration(m.Timeshift), xsDuration(m.Delay), xsDuration(m.MinBuffer))
	fmt.Fprintf(&b, "  <BaseURL>%s</BaseURL>\n", html.EscapeString(m.BaseURL))
	for _, per := range m.Periods {
		fmt.Fprintf(&b, "  <Period id=\"%s\" start=\"%s\">\n", per.ID, xsDuration(per.Start))
		for _, a := range per.Sets {
			renderAdaptation(&b, a)
		}
		b.WriteString("  </Period>\n")
	}
	fmt.Fprintf(&b, "  <UTCTiming schemeIdUri=\"%s\" value=\"%s\"/>\n", utcTimingScheme, m.Published.UTC().Format(dateTimeLayout))
	b.WriteString("</MPD>\n")
	return b.String()
}

func renderAdaptation(b *strings.Builder, a adaptationSet) {
	name := kindName(a.Kind)
	fmt.Fprintf(b, "    <AdaptationSet id=\"%d\" contentType=\"%s\" mimeType=\"%s/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\">\n",
		a.Kind, name, name)
	fmt.Fprintf(b, "      <Representation id=\"%s\" codecs=\"%s\" bandwidth=\"%d\"", name, html.EscapeString(a.Codecs), a.Bandwidth)
	if a.Kind == video {
		fmt.Fprintf(b, " width=\"%d\" height=\"%d\"", a.Width, a.Height)
		if a.FrameRate != "" {
			fmt.Fprintf(b, " frameRate=\"%s\"", a.FrameRate)
		}
		b.WriteString(` sar="1:1">` + "\n")
	} else {
		fmt.Fprintf(b, " audioSamplingRate=\"%d\">\n", a.SampleRate)
		fmt.Fprintf(b, "        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"%d\"/>\n", a.Channels)
	}
	fmt.Fprintf(b, "        <SegmentTemplate timescale=\"%d\"", a.Timescale)
	if a.PTO > 0 {
		fmt.Fprintf(b, " presentationTimeOffset=\"%d\"", a.PTO)
	}
	fmt.Fprintf(b, " initialization=\"%s\" media=\"$RepresentationID$-$Number$.m4s\" startNumber=\"%d\">\n", a.Init, a.StartNumber)
	b.WriteString("          <SegmentTimeline>\n")
	for _, e := range a.Timeline {
		b.WriteString("            <S")
		if e.HasT {
			fmt.Fprintf(b, " t=\"%d\"", e.T)
		}
		fmt.Fprintf(b, " d=\"%d\"", e.D)
		if e.R > 0 {
			fmt.Fprintf(b, " r=\"%d\"", e.R)
		}
		b.WriteString("/>\n")
	}
	b.WriteString("          </SegmentTimeline>\n")
	b.WriteString("        </SegmentTemplate>\n")
	b.WriteString("      </Representation>\n")
	b.WriteString("    </AdaptationSet>\n")
}

// xsDuration writes d as an xs:duration in seconds with up to three
// decimals: PT5S, PT2.5S, PT0.04S.
func xsDuration(d time.Duration) string {
	ms := d.Milliseconds()
	s := strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%03d", frac), "0")
	}
	return "PT" + s + "S"
}
