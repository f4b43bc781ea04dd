package dash

import (
	"bytes"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mp4"
)

// Sequence headers from encoders (ffmpeg 5.1 with libx264 -profile:v
// baseline and libx265 on yuv420p testsrc; the FLV tag bodies, and for HEVC
// the hvcC of the MP4 ffmpeg wrote, sent as enhanced RTMP).
const (
	avc64x48   = "17000000000142c00affe100156742c00ada11ec0440000003004000000c83c489a801000468ce0fc8"
	avc160x120 = "17000000000142c00bffe100176742c00bd902847e5c0440000003004000000c83c50a9201000568cb83cb20"
	hevc64x48  = "0101600000009000000000001ef000fcfdf8f800000f03a00001001840010c01ffff01600000030090000003000003001e959409" +
		"a10001002942010101600000030090000003000003001ea0208316595952930bc05a020000030002000003003210a2000100064401c073c089"
	aacLC44k = "af001210" // AudioSpecificConfig: AAC LC, 44.1 kHz, stereo
	aacLC48k = "af001190" // AAC LC, 48 kHz, stereo
)

// t0 is the wall-clock time of the first frame of every synthetic stream.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPacket(t testing.TB, kind av.Kind, ts int64, body []byte) *av.Packet {
	t.Helper()
	p, err := av.NewPacket(kind, uint32(ts), body)
	if err != nil {
		t.Fatalf("packet at %d ms: %v", ts, err)
	}
	return p
}

// stream describes a synthetic publish: 25 fps video with a keyframe every
// gop frames and/or 44.1 kHz AAC, interleaved by timestamp as an encoder
// sends them.
type stream struct {
	video, audio string // sequence header hex; "" for none
	hevc         bool   // video is enhanced-RTMP HEVC (video holds the hvcC)
	mp3          bool   // audio is MP3 frames (no header)
	gop          int    // frames per GOP
	frameMs      int64  // video frame interval, 40 when 0
	bframes      bool   // composition offsets as x264 with B-frames makes them
	start        int64  // timestamp of the first packet
	duration     int64  // ms of media
}

// packets returns the publish: sequence headers, then frames in timestamp
// order (audio first on ties).
func (s stream) packets(t testing.TB) []*av.Packet {
	t.Helper()
	var out []*av.Packet
	if s.video != "" {
		if s.hevc {
			body := append([]byte{0x80 | 1<<4 | 0}, "hvc1"...)
			out = append(out, mustPacket(t, av.KindVideo, s.start, append(body, unhex(t, s.video)...)))
		} else {
			out = append(out, mustPacket(t, av.KindVideo, s.start, unhex(t, s.video)))
		}
	}
	if s.audio != "" {
		out = append(out, mustPacket(t, av.KindAudio, s.start, unhex(t, s.audio)))
	}
	frameMs := s.frameMs
	if frameMs == 0 {
		frameMs = 40
	}
	var frames []*av.Packet
	if s.video != "" {
		for i := int64(0); i*frameMs < s.duration; i++ {
			key := i%int64(s.gop) == 0
			var cto int64
			if s.bframes {
				cto = []int64{80, 200, 40, 40, 120}[i%5]
				if key {
					cto = 80
				}
			}
			frames = append(frames, mustPacket(t, av.KindVideo, s.start+i*frameMs, s.videoFrame(i, key, cto)))
		}
	}
	if s.audio != "" || s.mp3 {
		for i := int64(0); ; i++ {
			ts := i * 1024 * 1000 / 44100 // FLV truncates to milliseconds
			if s.mp3 {
				ts = i * 1152 * 1000 / 44100
			}
			if ts >= s.duration {
				break
			}
			body := append([]byte{0xaf, 1}, byte(i), byte(i>>8), 0x21, 0x22)
			if s.mp3 {
				body = append([]byte{0x2f, 0xff, 0xfb, 0x90, 0x64}, make([]byte, 413)...)
			}
			frames = append(frames, mustPacket(t, av.KindAudio, s.start+ts, body))
		}
	}
	sort.SliceStable(frames, func(i, j int) bool {
		if frames[i].Timestamp != frames[j].Timestamp {
			return frames[i].Timestamp < frames[j].Timestamp
		}
		return frames[i].Kind == av.KindAudio && frames[j].Kind == av.KindVideo
	})
	return append(out, frames...)
}

// videoFrame is frame i's tag body: one slice NAL unit whose bytes name the
// frame, so tests can tell frames apart in segments.
func (s stream) videoFrame(i int64, key bool, cto int64) []byte {
	nal := []byte{0x41, byte(i), byte(i >> 8), 0x9a}
	if key {
		nal[0] = 0x65
	}
	var body []byte
	if s.hevc {
		first := byte(0x80 | 2<<4 | 1)
		if key {
			first = 0x80 | 1<<4 | 1
			nal[0] = 19 << 1 // IDR_W_RADL
		} else {
			nal[0] = 1 << 1 // TRAIL_R
		}
		body = append([]byte{first}, "hvc1"...)
		body = append(body, byte(cto>>16), byte(cto>>8), byte(cto))
	} else {
		first := byte(0x27)
		if key {
			first = 0x17
		}
		body = []byte{first, 1, byte(cto >> 16), byte(cto >> 8), byte(cto)}
	}
	return av.AppendAVCC(body, nal)
}

// memStore is a Store in memory.
type memStore struct {
	mu      sync.Mutex
	files   map[string][]byte
	writes  int
	failing func(name string) bool // names whose writes fail
}

func newMemStore() *memStore { return &memStore{files: map[string][]byte{}} }

func (m *memStore) WriteFile(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing != nil && m.failing(name) {
		return fmt.Errorf("write %s: %w", name, fs.ErrPermission)
	}
	m.files[name] = bytes.Clone(data)
	m.writes++
	return nil
}

func (m *memStore) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, name)
	return nil
}

func (m *memStore) get(name string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	return b, ok
}

// names returns the stored file names, sorted.
func (m *memStore) names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// fakeClock is a wall clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// testLayout is where the tests' files go: /d/live/s.mpd and /d/live/s/.
var testLayout = Layout{MPD: "/d/live/s.mpd", Dir: "/d/live/s", BaseURL: "s/"}

// harness feeds a Packager as the egress does, moving the wall clock with
// the packets: a frame arrives when its timestamp says, plus lag.
type harness struct {
	t     testing.TB
	store *memStore
	clock *fakeClock
	pk    *Packager
	base  time.Time // wall time of timestamp 0 of the current publish
}

func newHarness(t testing.TB, c Config) *harness {
	h := &harness{t: t, store: newMemStore(), clock: &fakeClock{now: t0}, base: t0}
	h.pk = NewPackager(Options{Config: c, Layout: testLayout, Store: h.store, Now: h.clock.Now})
	return h
}

// publish runs one publish of s that starts at wall time at: Publish,
// every packet, Flush.
func (h *harness) publish(s stream, at time.Time) {
	h.t.Helper()
	h.base = at.Add(-time.Duration(s.start) * time.Millisecond)
	h.pk.Publish()
	h.feed(s.packets(h.t))
	if err := h.pk.Flush(); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) feed(ps []*av.Packet) {
	h.t.Helper()
	for _, p := range ps {
		h.clock.set(h.base.Add(time.Duration(p.Timestamp) * time.Millisecond))
		if err := h.pk.Write(p, p.Timestamp); err != nil {
			h.t.Fatal(err)
		}
	}
}

// mpd reads the MPD back.
func (h *harness) mpd() mpdDoc {
	h.t.Helper()
	b, ok := h.store.get(testLayout.MPD)
	if !ok {
		h.t.Fatalf("no MPD; files %v", h.store.names())
	}
	return parseMPD(h.t, b)
}

// segmentFiles returns the stored media segment names of a kind, by number.
func (h *harness) segmentFiles(kind string) []string {
	var out []string
	for _, n := range h.store.names() {
		base := path.Base(n)
		if strings.HasPrefix(base, kind+"-") && strings.HasSuffix(base, ".m4s") {
			out = append(out, base)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return segNumber(a) - segNumber(b) })
	return out
}

func segNumber(name string) int {
	var kind string
	var n int
	_, _ = fmt.Sscanf(strings.NewReplacer("-", " ", ".m4s", "").Replace(name), "%s %d", &kind, &n)
	return n
}

// The MPD as the tests read it back.
type mpdDoc struct {
	XMLName             xml.Name    `xml:"urn:mpeg:dash:schema:mpd:2011 MPD"`
	Type                string      `xml:"type,attr"`
	Profiles            string      `xml:"profiles,attr"`
	AvailabilityStart   string      `xml:"availabilityStartTime,attr"`
	PublishTime         string      `xml:"publishTime,attr"`
	MinimumUpdatePeriod string      `xml:"minimumUpdatePeriod,attr"`
	TimeShiftBuffer     string      `xml:"timeShiftBufferDepth,attr"`
	PresentationDelay   string      `xml:"suggestedPresentationDelay,attr"`
	MinBufferTime       string      `xml:"minBufferTime,attr"`
	BaseURL             string      `xml:"BaseURL"`
	Periods             []mpdPeriod `xml:"Period"`
	UTCTiming           struct {
		Scheme string `xml:"schemeIdUri,attr"`
		Value  string `xml:"value,attr"`
	} `xml:"UTCTiming"`
}

type mpdPeriod struct {
	ID    string   `xml:"id,attr"`
	Start string   `xml:"start,attr"`
	Sets  []mpdSet `xml:"AdaptationSet"`
}

type mpdSet struct {
	ContentType string `xml:"contentType,attr"`
	MimeType    string `xml:"mimeType,attr"`
	Rep         struct {
		ID         string `xml:"id,attr"`
		Codecs     string `xml:"codecs,attr"`
		Bandwidth  int64  `xml:"bandwidth,attr"`
		Width      int    `xml:"width,attr"`
		Height     int    `xml:"height,attr"`
		FrameRate  string `xml:"frameRate,attr"`
		SampleRate int    `xml:"audioSamplingRate,attr"`
		Channels   struct {
			Value int `xml:"value,attr"`
		} `xml:"AudioChannelConfiguration"`
		Template struct {
			Timescale   uint64 `xml:"timescale,attr"`
			PTO         uint64 `xml:"presentationTimeOffset,attr"`
			Init        string `xml:"initialization,attr"`
			Media       string `xml:"media,attr"`
			StartNumber uint64 `xml:"startNumber,attr"`
			S           []struct {
				T *uint64 `xml:"t,attr"`
				D uint64  `xml:"d,attr"`
				R int     `xml:"r,attr"`
			} `xml:"SegmentTimeline>S"`
		} `xml:"SegmentTemplate"`
	} `xml:"Representation"`
}

func parseMPD(t testing.TB, b []byte) mpdDoc {
	t.Helper()
	var m mpdDoc
	if err := xml.Unmarshal(b, &m); err != nil {
		t.Fatalf("MPD does not parse: %v\n%s", err, b)
	}
	return m
}

// set returns the period's adaptation set of a content type.
func (p mpdPeriod) set(kind string) (mpdSet, bool) {
	for _, s := range p.Sets {
		if s.ContentType == kind {
			return s, true
		}
	}
	return mpdSet{}, false
}

// listed is one segment the MPD lists.
type listed struct {
	number uint64
	t, d   uint64
	file   string // media file name
	init   string // initialization file name
}

// segments expands the SegmentTimeline; it fails on an S without t that
// has no predecessor.
func (s mpdSet) segments(t testing.TB) []listed {
	t.Helper()
	tpl := s.Rep.Template
	var out []listed
	var next uint64
	number := tpl.StartNumber
	for i, e := range tpl.S {
		if e.T != nil {
			next = *e.T
		} else if i == 0 {
			t.Fatalf("the first S of %s has no t", s.ContentType)
		}
		for range 1 + e.R {
			expand := strings.NewReplacer("$RepresentationID$", s.Rep.ID, "$Number$", fmt.Sprint(number))
			out = append(out, listed{number: number, t: next, d: e.D, file: expand.Replace(tpl.Media), init: expand.Replace(tpl.Init)})
			next += e.D
			number++
		}
	}
	return out
}

// parsedSegment is a media segment read back with its init segment.
type parsedSegment struct {
	sequence uint32
	tfdt     uint64
	samples  []mp4.SampleInfo
	dur      uint64
	data     [][]byte
}

// parseSegment reads init+media as one file, as a player appends them.
func parseSegment(t testing.TB, init, media []byte) parsedSegment {
	t.Helper()
	all := append(bytes.Clone(init), media...)
	f, err := mp4.ParseFile(all)
	if err != nil {
		t.Fatalf("segment does not parse: %v", err)
	}
	if f.Movie == nil || len(f.Movie.Tracks) != 1 || !f.Movie.Fragmented {
		t.Fatalf("init segment: movie %+v", f.Movie)
	}
	if len(f.SegmentTypes) != 1 || len(f.Fragments) != 1 || len(f.Fragments[0].Trafs) != 1 {
		t.Fatalf("media segment: %d styp, %d fragments", len(f.SegmentTypes), len(f.Fragments))
	}
	fr := f.Fragments[0]
	traf := fr.Trafs[0]
	if !traf.HasBaseDecodeTime {
		t.Fatal("media segment without tfdt")
	}
	p := parsedSegment{sequence: fr.Sequence, tfdt: traf.BaseDecodeTime}
	id := f.Movie.Tracks[0].ID
	if traf.TrackID != id {
		t.Fatalf("traf for track %d, init has track %d", traf.TrackID, id)
	}
	err = f.Samples(id, func(s mp4.SampleInfo) bool {
		p.samples = append(p.samples, s)
		p.dur += uint64(s.Duration)
		d, err := mp4.SampleData(all, s)
		if err != nil {
			t.Fatal(err)
		}
		p.data = append(p.data, d)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkListedSegments checks every segment an MPD lists against the
// files: they exist, their init segment has the SegmentTemplate's
// timescale, tfdt is the timeline's t, the samples last the timeline's d,
// the fragment sequence is the segment number, and the first sample is a
// sync sample. It returns the parsed segments per content type.
func checkListedSegments(t testing.TB, store *memStore, m mpdDoc) map[string][]parsedSegment {
	t.Helper()
	out := map[string][]parsedSegment{}
	for _, per := range m.Periods {
		for _, set := range per.Sets {
			tpl := set.Rep.Template
			for _, l := range set.segments(t) {
				init, ok := store.get(path.Join(testLayout.Dir, l.init))
				if !ok {
					t.Fatalf("period %s: %s is listed but missing; files %v", per.ID, l.init, store.names())
				}
				media, ok := store.get(path.Join(testLayout.Dir, l.file))
				if !ok {
					t.Fatalf("period %s: %s is listed but missing; files %v", per.ID, l.file, store.names())
				}
				f, err := mp4.ParseFile(init)
				if err != nil {
					t.Fatal(err)
				}
				if ts := f.Movie.Tracks[0].Timescale; uint64(ts) != tpl.Timescale {
					t.Fatalf("%s: init timescale %d, SegmentTemplate %d", l.init, ts, tpl.Timescale)
				}
				p := parseSegment(t, init, media)
				if p.tfdt != l.t || p.dur != l.d || uint64(p.sequence) != l.number {
					t.Fatalf("%s: tfdt %d, duration %d, sequence %d; the MPD says t=%d d=%d number %d",
						l.file, p.tfdt, p.dur, p.sequence, l.t, l.d, l.number)
				}
				if len(p.samples) == 0 || !p.samples[0].Sync {
					t.Fatalf("%s does not start with a sync sample", l.file)
				}
				out[set.ContentType] = append(out[set.ContentType], p)
			}
		}
	}
	return out
}

// parseXSDuration reads the PTnS durations castd writes.
func parseXSDuration(t testing.TB, s string) time.Duration {
	t.Helper()
	if !strings.HasPrefix(s, "PT") || !strings.HasSuffix(s, "S") {
		t.Fatalf("duration %q is not PTnS", s)
	}
	d, err := time.ParseDuration(strings.TrimSuffix(strings.TrimPrefix(s, "PT"), "S") + "s")
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return d
}
