package dash

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/mp4"
)

// frameIndex recovers a synthetic frame's index from its sample data: the
// slice NAL unit after the 4-byte length carries it.
func frameIndex(t testing.TB, data []byte) int {
	t.Helper()
	if len(data) < 7 || binary.BigEndian.Uint32(data) != uint32(len(data)-4) {
		t.Fatalf("sample data %x is not one length-prefixed NAL unit", data)
	}
	return int(data[5]) | int(data[6])<<8
}

// segmentsOf parses every stored segment of a kind with its Period's init
// segment (the tests here have one Period).
func segmentsOf(t testing.TB, h *harness, kind string) []parsedSegment {
	t.Helper()
	init, ok := h.store.get(path.Join(testLayout.Dir, kind+"-init.mp4"))
	if !ok {
		t.Fatalf("no %s-init.mp4; files %v", kind, h.store.names())
	}
	var out []parsedSegment
	for _, name := range h.segmentFiles(kind) {
		b, _ := h.store.get(path.Join(testLayout.Dir, name))
		p := parseSegment(t, init, b)
		if int(p.sequence) != segNumber(name) {
			t.Fatalf("%s has fragment sequence %d", name, p.sequence)
		}
		out = append(out, p)
	}
	return out
}

// checkContinuous checks that each segment starts where the previous ended.
func checkContinuous(t testing.TB, kind string, segs []parsedSegment) {
	t.Helper()
	for i := 1; i < len(segs); i++ {
		if want := segs[i-1].tfdt + segs[i-1].dur; segs[i].tfdt != want {
			t.Fatalf("%s segment %d: tfdt %d, the previous one ends at %d", kind, i, segs[i].tfdt, want)
		}
	}
}

func TestPackagerCutsVideoAtKeyframes(t *testing.T) {
	cases := []struct {
		name     string
		gop      int
		fragment time.Duration
		duration int64
		want     []float64 // video segment durations, seconds
	}{
		{"GOP 1 s, fragment 2 s", 25, 2 * time.Second, 10000, []float64{2, 2, 2, 2, 2}},
		{"GOP 0.8 s, fragment 2 s: the next keyframe after 2 s", 20, 2 * time.Second, 9600, []float64{2.4, 2.4, 2.4, 2.4}},
		{"GOP 2 s, fragment 1 s: every keyframe", 50, time.Second, 6000, []float64{2, 2, 2}},
		{"fragment 1.5 s, GOP 0.4 s", 10, 1500 * time.Millisecond, 4800, []float64{1.6, 1.6, 1.6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Fragment, cfg.WindowSize = c.fragment, 100
			h := newHarness(t, cfg)
			s := stream{video: avc64x48, audio: aacLC44k, gop: c.gop, duration: c.duration}
			h.publish(s, t0)

			video := segmentsOf(t, h, "video")
			var got []float64
			for _, seg := range video {
				got = append(got, float64(seg.dur)/90000)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("video segments last %v s, want %v", got, c.want)
			}
			checkContinuous(t, "video", video)
			frame := 0
			for n, seg := range video {
				for i, smp := range seg.samples {
					idx := frameIndex(t, seg.data[i])
					if idx != frame {
						t.Fatalf("segment %d sample %d is frame %d, want %d", n+1, i, idx, frame)
					}
					if key := idx%c.gop == 0; smp.Sync != key {
						t.Fatalf("frame %d: sync %v, keyframe %v", idx, smp.Sync, key)
					}
					if smp.Duration != 3600 {
						t.Fatalf("frame %d lasts %d ticks, want 3600 (40 ms)", idx, smp.Duration)
					}
					if smp.PTS != smp.DTS {
						t.Fatalf("frame %d: PTS %d, DTS %d without B-frames", idx, smp.PTS, smp.DTS)
					}
					frame++
				}
			}
			if frame != int(c.duration/40) {
				t.Fatalf("%d frames in segments, published %d", frame, c.duration/40)
			}

			audio := segmentsOf(t, h, "audio")
			if len(audio) != len(video) {
				t.Fatalf("%d audio segments, %d video segments", len(audio), len(video))
			}
			checkContinuous(t, "audio", audio)
			frames := 0
			for n, seg := range audio {
				for i, smp := range seg.samples {
					if !smp.Sync || smp.Duration != 1024 {
						t.Fatalf("audio segment %d sample %d: sync %v, duration %d", n+1, i, smp.Sync, smp.Duration)
					}
					if got := int(seg.data[i][0]) | int(seg.data[i][1])<<8; got != frames {
						t.Fatalf("audio segment %d sample %d is frame %d, want %d", n+1, i, got, frames)
					}
					frames++
				}
				// Audio ends where video cut, to the nearest frame after.
				vStart := float64(video[n].tfdt) / 90000
				aStart := float64(seg.tfdt) / 44100
				if n > 0 && (aStart < vStart || aStart-vStart > 1024.0/44100) {
					t.Fatalf("audio segment %d starts at %.3f s, video at %.3f s", n+1, aStart, vStart)
				}
			}
			if want := int((c.duration*44100 + 1024*1000 - 1) / (1024 * 1000)); frames != want {
				t.Fatalf("%d audio frames in segments, published %d", frames, want)
			}
		})
	}
}

// TestPackagerCompositionShift: with B-frames the first keyframe's
// composition offset is taken off every presentation time, so a segment
// starts presenting at its decode time, as the timeline says.
func TestPackagerCompositionShift(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Fragment = time.Second
	h := newHarness(t, cfg)
	h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, bframes: true, duration: 4000}, t0)
	video := segmentsOf(t, h, "video")
	if len(video) != 4 {
		t.Fatalf("%d video segments, want 4", len(video))
	}
	for _, seg := range video {
		if first := seg.samples[0]; first.PTS != first.DTS || int64(seg.tfdt) != first.DTS {
			t.Fatalf("segment at %d: first sample DTS %d, PTS %d", seg.tfdt, first.DTS, first.PTS)
		}
		for i, smp := range seg.samples {
			idx := frameIndex(t, seg.data[i])
			cto := []int64{80, 200, 40, 40, 120}[idx%5]
			if idx%25 == 0 {
				cto = 80
			}
			if got := smp.PTS - smp.DTS; got != (cto-80)*90 {
				t.Fatalf("frame %d: composition offset %d ticks, want %d", idx, got, (cto-80)*90)
			}
		}
	}
	// Audio is shifted by as much, so audio and video stay in sync: the
	// first audio frame (timestamp 0, like the first video frame) presents
	// 80 ms before the first video frame's decode time.
	audio := segmentsOf(t, h, "audio")
	if got, want := int64(audio[0].tfdt)*90000/44100, int64(video[0].tfdt)-80*90; absDiff(got, want) > 2 {
		t.Fatalf("first audio frame at %d (90 kHz), want %d", got, want)
	}
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestPackagerInitSegments(t *testing.T) {
	cases := []struct {
		name              string
		s                 stream
		kind, entry       string
		timescale         uint32
		width, height     uint32
		sampleRate, chans int
	}{
		{"H.264", stream{video: avc64x48, gop: 25, duration: 2000}, "video", "avc1", 90000, 64, 48, 0, 0},
		{"H.265", stream{video: hevc64x48, hevc: true, gop: 25, duration: 2000}, "video", "hvc1", 90000, 64, 48, 0, 0},
		{"AAC 44.1 kHz", stream{audio: aacLC44k, duration: 2000}, "audio", "mp4a", 44100, 0, 0, 44100, 2},
		{"AAC 48 kHz", stream{audio: aacLC48k, duration: 2000}, "audio", "mp4a", 48000, 0, 0, 48000, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, DefaultConfig())
			h.publish(c.s, t0)
			b, ok := h.store.get(path.Join(testLayout.Dir, c.kind+"-init.mp4"))
			if !ok {
				t.Fatalf("no init segment; files %v", h.store.names())
			}
			f, err := mp4.ParseFile(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type == nil || f.Movie == nil || !f.Movie.Fragmented || len(f.Movie.Tracks) != 1 || len(f.Fragments) != 0 {
				t.Fatalf("init segment: ftyp %v, movie %+v, %d fragments", f.Type, f.Movie, len(f.Fragments))
			}
			tr := f.Movie.Tracks[0]
			if tr.Entry.Format != c.entry || tr.Timescale != c.timescale || tr.Width != c.width || tr.Height != c.height {
				t.Fatalf("track: entry %q, timescale %d, %dx%d", tr.Entry.Format, tr.Timescale, tr.Width, tr.Height)
			}
			if c.sampleRate > 0 && (int(tr.Entry.SampleRate) != c.sampleRate || int(tr.Entry.Channels) != c.chans) {
				t.Fatalf("audio entry %+v", tr.Entry)
			}
			if len(tr.Table.Sizes) != 0 {
				t.Fatalf("init segment has %d samples", len(tr.Table.Sizes))
			}
		})
	}
}

func TestPackagerWindowAndCleanup(t *testing.T) {
	for _, cleanup := range []bool{true, false} {
		name := map[bool]string{true: "dash_cleanup on", false: "dash_cleanup off"}[cleanup]
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Fragment, cfg.WindowSize, cfg.Cleanup = time.Second, 3, cleanup
			h := newHarness(t, cfg)
			h.publish(stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 12000}, t0)

			m := h.mpd()
			checkListedSegments(t, h.store, m)
			for _, kind := range []string{"video", "audio"} {
				set, ok := m.Periods[0].set(kind)
				if !ok {
					t.Fatalf("no %s in the MPD", kind)
				}
				var numbers []uint64
				for _, l := range set.segments(t) {
					numbers = append(numbers, l.number)
				}
				if !slices.Equal(numbers, []uint64{10, 11, 12}) {
					t.Fatalf("the MPD lists %s segments %v, want the newest 3 of 12", kind, numbers)
				}
				// Twice the window stays on disk for players with an older
				// MPD, as SRS keeps it; dash_cleanup off keeps everything.
				want := []string{}
				first := 7
				if !cleanup {
					first = 1
				}
				for n := first; n <= 12; n++ {
					want = append(want, kind+"-"+strconv.Itoa(n)+".m4s")
				}
				if got := h.segmentFiles(kind); !slices.Equal(got, want) {
					t.Fatalf("%s files on disk %v, want %v", kind, got, want)
				}
				if _, ok := h.store.get(path.Join(testLayout.Dir, kind+"-init.mp4")); !ok {
					t.Fatalf("%s-init.mp4 was deleted", kind)
				}
			}

			// Dispose deletes what castd tracks: with dash_cleanup off the
			// segments that left the disk window are forgotten and stay,
			// as in SRS.
			if err := h.pk.Dispose(); err != nil {
				t.Fatal(err)
			}
			var left []string
			for n := 1; n <= 6 && !cleanup; n++ {
				left = append(left, path.Join(testLayout.Dir, "audio-"+strconv.Itoa(n)+".m4s"))
			}
			for n := 1; n <= 6 && !cleanup; n++ {
				left = append(left, path.Join(testLayout.Dir, "video-"+strconv.Itoa(n)+".m4s"))
			}
			slices.Sort(left)
			if got := h.store.names(); !slices.Equal(got, left) {
				t.Fatalf("after Dispose: %v, want %v", got, left)
			}
		})
	}
}

func TestPackagerSingleTrackStreams(t *testing.T) {
	cases := []struct {
		name     string
		s        stream
		kinds    []string
		wantSegs int
	}{
		// Audio-only streams are cut by duration: the first frame at or
		// after dash_fragment.
		{"audio only", stream{audio: aacLC44k, duration: 8000}, []string{"audio"}, 4},
		{"video only", stream{video: avc64x48, gop: 25, duration: 8000}, []string{"video"}, 4},
		// MP3 is left out (see unsupportedAudio): the DASH is video-only.
		{"H.264 with MP3", stream{video: avc64x48, mp3: true, gop: 25, duration: 8000}, []string{"video"}, 4},
		{"H.265 with AAC", stream{video: hevc64x48, hevc: true, audio: aacLC44k, gop: 25, duration: 8000}, []string{"video", "audio"}, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Fragment, cfg.WindowSize = 2*time.Second, 10
			h := newHarness(t, cfg)
			h.publish(c.s, t0)
			m := h.mpd()
			if len(m.Periods) != 1 || len(m.Periods[0].Sets) != len(c.kinds) {
				t.Fatalf("MPD periods %+v, want one with %v", m.Periods, c.kinds)
			}
			parsed := checkListedSegments(t, h.store, m)
			for _, kind := range c.kinds {
				if len(parsed[kind]) != c.wantSegs {
					t.Fatalf("%d %s segments listed, want %d", len(parsed[kind]), kind, c.wantSegs)
				}
				checkContinuous(t, kind, parsed[kind])
			}
			for _, kind := range []string{"video", "audio"} {
				if !slices.Contains(c.kinds, kind) && len(h.segmentFiles(kind)) > 0 {
					t.Fatalf("%s segments written for a stream without %s", kind, kind)
				}
			}
			if c.s.video == "" {
				for i, seg := range parsed["audio"][:c.wantSegs-1] {
					d := time.Duration(seg.dur) * time.Second / 44100
					if d < cfg.Fragment || d > cfg.Fragment+24*time.Millisecond {
						t.Fatalf("audio segment %d lasts %v, want dash_fragment to one frame more", i+1, d)
					}
				}
			}
		})
	}
}

func TestPackagerAudioContinuesWhenVideoStops(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Fragment, cfg.WindowSize = time.Second, 100
	h := newHarness(t, cfg)
	all := stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 12000}.packets(t)
	var ps []*av.Packet
	for _, p := range all {
		if p.Kind == av.KindVideo && !p.SequenceHeader && p.Timestamp >= 3000 {
			continue // the camera stops after 3 s; the microphone goes on
		}
		ps = append(ps, p)
	}
	h.pk.Publish()
	h.feed(ps)
	audio := segmentsOf(t, h, "audio")
	checkContinuous(t, "audio", audio)
	end := float64(audio[len(audio)-1].tfdt+audio[len(audio)-1].dur)/44100 - anchorBase/1000
	// Without video cuts, audio segments are cut at twice the fragment.
	if end < 9 {
		t.Fatalf("audio segments end at %.2f s of 12 s of audio (before the flush)", end)
	}
	checkListedSegments(t, h.store, h.mpd())
}

// TestPackagerTimestampJump: an encoder clock that jumps back within a
// publish does not make the timeline go back.
func TestPackagerTimestampJump(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Fragment, cfg.WindowSize = time.Second, 100
	h := newHarness(t, cfg)
	first := stream{video: avc64x48, audio: aacLC44k, gop: 25, start: 50000, duration: 3000}.packets(t)
	second := stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 3000}.packets(t)
	h.pk.Publish()
	h.base = t0.Add(-50 * time.Second)
	h.feed(first)
	h.base = t0.Add(3 * time.Second)
	h.feed(second[2:]) // the same publish: no new headers
	if err := h.pk.Flush(); err != nil {
		t.Fatal(err)
	}
	// After the jump the timeline goes on later, in a new Period.
	m := h.mpd()
	if len(m.Periods) != 2 {
		t.Fatalf("%d periods; a jump starts a Period", len(m.Periods))
	}
	if p0, p1 := parseXSDuration(t, m.Periods[0].Start), parseXSDuration(t, m.Periods[1].Start); p1 < p0+3*time.Second {
		t.Fatalf("period 1 starts at %v, period 0 at %v", p1, p0)
	}
	parsed := checkListedSegments(t, h.store, m)
	for kind, segs := range parsed {
		for i := 1; i < len(segs); i++ {
			if segs[i].tfdt < segs[i-1].tfdt+segs[i-1].dur {
				t.Fatalf("%s segment %d starts at %d, before the previous end %d", kind, i+1, segs[i].tfdt, segs[i-1].tfdt+segs[i-1].dur)
			}
		}
		if len(segs) != 6 {
			t.Fatalf("%d %s segments, want 6", len(segs), kind)
		}
	}
}

func TestPackagerWriteErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Fragment, cfg.WindowSize = time.Second, 100
	h := newHarness(t, cfg)
	failed := false
	h.store.failing = func(name string) bool {
		if failed || !strings.HasSuffix(name, "video-3.m4s") {
			return false
		}
		failed = true
		return true
	}
	h.pk.Publish()
	var failures int
	var last error
	for _, p := range (stream{video: avc64x48, audio: aacLC44k, gop: 25, duration: 6000}).packets(t) {
		h.clock.set(t0.Add(time.Duration(p.Timestamp) * time.Millisecond))
		if err := h.pk.Write(p, p.Timestamp); err != nil {
			failures++
			last = err
		}
	}
	if failures != 1 || !errors.Is(last, fs.ErrPermission) {
		t.Fatalf("%d failed writes, last %v; want video-3.m4s to fail", failures, last)
	}
	if err := h.pk.Flush(); err != nil {
		t.Fatal(err)
	}
	// The failed segment's number is used by the next one; the timeline
	// has a hole where it was.
	m := h.mpd()
	parsed := checkListedSegments(t, h.store, m)
	if len(parsed["video"]) != 5 || len(parsed["audio"]) != 6 {
		t.Fatalf("%d video, %d audio segments listed; want 5 and 6", len(parsed["video"]), len(parsed["audio"]))
	}
	set, _ := m.Periods[0].set("video")
	if n := len(set.Rep.Template.S); n != 2 || set.Rep.Template.S[1].T == nil {
		t.Fatalf("video timeline %+v: want a second S with t after the hole", set.Rep.Template.S)
	}
}
