package mp4

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/castd/castd/internal/av"
)

func TestWalkRunTiming(t *testing.T) {
	type s = Sample
	cases := []struct {
		name     string
		samples  []Sample
		def      uint32
		wantDur  []uint32
		wantCTOs []int32
	}{
		{"steady, last repeats", []s{{DTS: 0}, {DTS: 10, PTS: 10}, {DTS: 20, PTS: 20}}, 99, []uint32{10, 10, 10}, []int32{0, 0, 0}},
		{"last explicit", []s{{DTS: 0}, {DTS: 10, PTS: 10}, {DTS: 20, PTS: 20, Duration: 7}}, 99, []uint32{10, 10, 7}, []int32{0, 0, 0}},
		{"explicit only counts last", []s{{DTS: 0, Duration: 3}, {DTS: 10, PTS: 10}}, 0, []uint32{10, 10}, []int32{0, 0}},
		{"lone sample takes the default", []s{{DTS: 5, PTS: 5}}, 1024, []uint32{1024}, []int32{0}},
		{"lone sample without default", []s{{DTS: 5, PTS: 5}}, 0, []uint32{0}, []int32{0}},
		{"PTS left at 0", []s{{DTS: 5}, {DTS: 10}}, 0, []uint32{5, 5}, []int32{-5, -10}},
		{"B-frames", []s{{DTS: 0, PTS: 20}, {DTS: 10, PTS: 50}, {DTS: 20, PTS: 30}, {DTS: 30, PTS: 40}}, 0,
			[]uint32{10, 10, 10, 10}, []int32{20, 40, 10, 10}},
		{"negative composition", []s{{DTS: 100, PTS: 90}, {DTS: 110, PTS: 110}}, 0, []uint32{10, 10}, []int32{-10, 0}},
		// 5 comes after 10: it becomes 11, and 30 catches up.
		{"DTS going back", []s{{DTS: 0}, {DTS: 10, PTS: 10}, {DTS: 5, PTS: 25}, {DTS: 30, PTS: 30}}, 0,
			[]uint32{10, 1, 19, 19}, []int32{0, 0, 14, 0}},
		{"DTS standing still", []s{{DTS: 7, PTS: 7}, {DTS: 7, PTS: 7}, {DTS: 7, PTS: 7}}, 0, []uint32{1, 1, 1}, []int32{0, -1, -2}},
		{"jump past 32 bits", []s{{DTS: 0}, {DTS: 1 << 40, PTS: 1 << 40}}, 0,
			[]uint32{math.MaxUint32, math.MaxUint32}, []int32{0, math.MaxInt32}},
		{"extreme values", []s{{DTS: math.MinInt64, PTS: math.MaxInt64}, {DTS: math.MaxInt64, PTS: math.MinInt64}}, 0,
			[]uint32{math.MaxUint32, math.MaxUint32}, []int32{math.MaxInt32, math.MinInt32}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var durs []uint32
			var ctos []int32
			walkRun(c.samples, c.def, KindVideo, func(i int, tm runTiming) {
				if i != len(durs) {
					t.Fatalf("sample %d reported after %d", i, len(durs))
				}
				durs = append(durs, tm.duration)
				ctos = append(ctos, tm.cto)
			})
			if !slices.Equal(durs, c.wantDur) || !slices.Equal(ctos, c.wantCTOs) {
				t.Fatalf("durations %v, offsets %v; want %v, %v", durs, ctos, c.wantDur, c.wantCTOs)
			}
		})
	}
}

func TestRescale(t *testing.T) {
	cases := []struct {
		v        int64
		from, to uint32
		want     int64
	}{
		{1000, 1000, 90000, 90000},
		{1, 1000, 44100, 44},    // 44.1 rounds down
		{3, 1000, 44100, 132},   // 132.3
		{-3, 1000, 44100, -132}, // symmetric
		{1023, 44100, 1000, 23}, // 23.197
		{5, 0, 7, 5},
		{math.MaxInt64, 1, 90000, math.MaxInt64},
		{math.MinInt64, 1, 90000, -math.MaxInt64},
	}
	for _, c := range cases {
		if got := rescale(c.v, c.from, c.to); got != c.want {
			t.Errorf("rescale(%d, %d, %d) = %d, want %d", c.v, c.from, c.to, got, c.want)
		}
	}
}

var (
	testVideo = Track{ID: 1, Kind: KindVideo, Codec: av.CodecH264, Timescale: 90000, Width: 64, Height: 48,
		Config: unhexConst(avcSequenceHeader)[5:]}
	testAudio = Track{ID: 2, Kind: KindAudio, Codec: av.CodecAAC, Timescale: 44100, SampleRate: 44100, Channels: 1,
		Config: []byte{0x12, 0x08}, DefaultDuration: 1024}
)

func unhexConst(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		b[i] = hexNibble(s[2*i])<<4 | hexNibble(s[2*i+1])
	}
	return b
}

func hexNibble(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

// frames returns n samples 3600 ticks apart with distinct data; keyframes
// at the given indexes; pts adds the offsets cycling.
func frames(n int, start int64, keys []int, ctos []int64) []Sample {
	out := make([]Sample, n)
	for i := range out {
		out[i] = Sample{DTS: start + int64(i)*3600, Keyframe: slices.Contains(keys, i), Data: bytes.Repeat([]byte{byte(i + 1)}, 10+i)}
		out[i].PTS = out[i].DTS
		if len(ctos) > 0 {
			out[i].PTS += ctos[i%len(ctos)]
		}
	}
	return out
}

// parseSegment parses a media segment and returns its samples.
func parseSegment(t *testing.T, b []byte, trackID uint32) (*File, []SampleInfo) {
	t.Helper()
	f, err := ParseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []SampleInfo
	if err := f.Samples(trackID, func(s SampleInfo) bool { out = append(out, s); return true }); err != nil {
		t.Fatal(err)
	}
	return f, out
}

func TestMediaSegmentLayouts(t *testing.T) {
	cases := []struct {
		name      string
		track     Track
		samples   []Sample
		tfhdFlags uint32
		trunFlags uint32
		version   uint8
	}{
		{"GOP: first sample flags", testVideo, frames(5, 0, []int{0}, nil),
			tfhdDefaultBaseIsMoof | tfhdDefaultDuration | tfhdDefaultFlags, trunDataOffset | trunSampleSize | trunFirstSampleFlags, 0},
		{"keyframe inside: per-sample flags", testVideo, frames(5, 0, []int{0, 3}, nil),
			tfhdDefaultBaseIsMoof | tfhdDefaultDuration, trunDataOffset | trunSampleSize | trunSampleFlags, 0},
		{"all keyframes: default flags", testVideo, frames(3, 0, []int{0, 1, 2}, nil),
			tfhdDefaultBaseIsMoof | tfhdDefaultDuration | tfhdDefaultFlags, trunDataOffset | trunSampleSize, 0},
		{"starts with a non-keyframe", testVideo, frames(3, 0, []int{2}, nil),
			tfhdDefaultBaseIsMoof | tfhdDefaultDuration, trunDataOffset | trunSampleSize | trunSampleFlags, 0},
		{"B-frames: version 1 offsets", testVideo, frames(6, 0, []int{0}, []int64{7200, 18000, 3600, 3600}),
			tfhdDefaultBaseIsMoof | tfhdDefaultDuration | tfhdDefaultFlags, trunDataOffset | trunSampleSize | trunFirstSampleFlags | trunSampleCompositionTS, 1},
		{"audio: all sync whatever Keyframe says", testAudio, []Sample{{DTS: 0, Data: []byte{1}}, {DTS: 1024, Data: []byte{2}}},
			tfhdDefaultBaseIsMoof | tfhdDefaultDuration | tfhdDefaultFlags, trunDataOffset | trunSampleSize, 0},
		{"audio: jittery durations", testAudio, []Sample{{DTS: 0, Data: []byte{1}}, {DTS: 1014, Data: []byte{2}}, {DTS: 2072, Data: []byte{3}}},
			tfhdDefaultBaseIsMoof | tfhdDefaultFlags, trunDataOffset | trunSampleSize | trunSampleDuration, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := MediaSegment(3, c.track, c.samples, 12345)
			if err != nil {
				t.Fatal(err)
			}
			f, got := parseSegment(t, b, c.track.ID)
			if len(f.SegmentTypes) != 1 || f.SegmentTypes[0].Major != "msdh" || len(f.Fragments) != 1 || f.Fragments[0].Sequence != 3 {
				t.Fatalf("segment structure: %+v %+v", f.SegmentTypes, f.Fragments)
			}
			tf := f.Fragments[0].Trafs[0]
			run := tf.Runs[0]
			if tf.Flags != c.tfhdFlags || run.Flags != c.trunFlags || run.Version != c.version || tf.BaseDecodeTime != 12345 {
				t.Fatalf("tfhd %#x trun v%d %#x tfdt %d; want tfhd %#x trun v%d %#x", tf.Flags, run.Version, run.Flags, tf.BaseDecodeTime,
					c.tfhdFlags, c.version, c.trunFlags)
			}
			if len(got) != len(c.samples) {
				t.Fatalf("%d samples, want %d", len(got), len(c.samples))
			}
			var wantDur []uint32
			var wantCTO []int64
			walkRun(c.samples, c.track.DefaultDuration, c.track.Kind, func(_ int, tm runTiming) {
				wantDur = append(wantDur, tm.duration)
				wantCTO = append(wantCTO, int64(tm.cto))
			})
			for i, s := range got {
				w := c.samples[i]
				data, err := SampleData(b, s)
				if err != nil || !bytes.Equal(data, w.Data) {
					t.Fatalf("sample %d data %x, want %x (%v)", i, data, w.Data, err)
				}
				if s.DTS-12345 != w.DTS-c.samples[0].DTS || s.PTS-s.DTS != wantCTO[i] || s.Duration != wantDur[i] {
					t.Fatalf("sample %d: %+v, want DTS %d, offset %d, duration %d", i, s, w.DTS, wantCTO[i], wantDur[i])
				}
				if c.track.Kind == KindVideo && wantCTO[i] != w.PTS-w.DTS {
					t.Fatalf("sample %d: video offset %d, PTS-DTS %d", i, wantCTO[i], w.PTS-w.DTS)
				}
				if wantSync := w.Keyframe || c.track.Kind == KindAudio; s.Sync != wantSync {
					t.Fatalf("sample %d sync %v, want %v", i, s.Sync, wantSync)
				}
			}
		})
	}
}

func TestAppendFragmentSeveralTracks(t *testing.T) {
	video := frames(4, 0, []int{0}, []int64{3600})
	audio := []Sample{{DTS: 0, Data: []byte("a1")}, {DTS: 1024, Data: []byte("a22")}, {DTS: 2048, Data: []byte("a333")}}
	prefix := []byte("keep")
	b, err := AppendFragment(prefix, 9,
		TrackRun{Track: testVideo, Samples: video, BaseDecodeTime: 900},
		TrackRun{Track: testAudio, Samples: audio, BaseDecodeTime: 441})
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:4]) != "keep" {
		t.Fatalf("prefix lost: %q", b[:4])
	}
	b = b[4:]
	for _, tc := range []struct {
		track Track
		want  []Sample
		base  int64
	}{{testVideo, video, 900}, {testAudio, audio, 441}} {
		_, got := parseSegment(t, b, tc.track.ID)
		if len(got) != len(tc.want) {
			t.Fatalf("track %d: %d samples, want %d", tc.track.ID, len(got), len(tc.want))
		}
		for i, s := range got {
			d, err := SampleData(b, s)
			if err != nil || !bytes.Equal(d, tc.want[i].Data) || s.DTS != tc.base+tc.want[i].DTS {
				t.Fatalf("track %d sample %d: %+v %x, want %+v", tc.track.ID, i, s, d, tc.want[i])
			}
		}
	}
}

func TestFragmentErrors(t *testing.T) {
	one := []Sample{{DTS: 0, Data: []byte{1}}}
	cases := []struct {
		name string
		runs []TrackRun
		want string
	}{
		{"no runs", nil, "0 track runs"},
		{"too many runs", make([]TrackRun, maxRuns+1), "17 track runs"},
		{"no samples", []TrackRun{{Track: testVideo}}, "no samples"},
		{"track id 0", []TrackRun{{Track: Track{}, Samples: one}}, "track id 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := AppendFragment([]byte("x"), 1, c.runs...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if string(b) != "x" {
				t.Fatalf("dst changed to %q", b)
			}
		})
	}
	if _, err := MediaSegment(1, testVideo, nil, 0); err == nil {
		t.Fatal("an empty segment was accepted")
	}
}

// TestInitSegmentParsesBack decodes an init segment with the parser and
// checks every field the players rely on.
func TestInitSegmentParsesBack(t *testing.T) {
	mp3 := Track{ID: 3, Kind: KindAudio, Codec: av.CodecMP3, Timescale: 22050, SampleRate: 22050, Channels: 2}
	b, err := InitSegment(testVideo, testAudio, mp3)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Type == nil || f.Type.Major != "iso6" || !slices.Equal(f.Type.Compatible, []string{"iso6", "dash", "mp41", "avc1"}) {
		t.Fatalf("ftyp %+v", f.Type)
	}
	m := f.Movie
	if m == nil || !m.Fragmented || m.Timescale != 1000 || m.Duration != 0 || m.NextTrackID != 4 || len(m.Tracks) != 3 {
		t.Fatalf("movie %+v", m)
	}
	v, a, p := m.Track(1), m.Track(2), m.Track(3)
	if v.Handler != "vide" || v.Timescale != 90000 || v.Width != 64 || v.Height != 48 || v.Entry.Format != "avc1" ||
		v.Entry.Width != 64 || v.Entry.Height != 48 || v.Entry.ConfigType != "avcC" || !bytes.Equal(v.Entry.Config, testVideo.Config) ||
		v.Extends.TrackID != 1 || v.Extends.DescriptionIndex != 1 || v.Flags != 3 {
		t.Errorf("video track %+v", v)
	}
	if a.Handler != "soun" || a.Timescale != 44100 || a.Entry.Format != "mp4a" || a.Entry.Channels != 1 || a.Entry.SampleRate != 44100 ||
		a.Entry.SampleSize != 16 || a.Entry.ObjectType != 0x40 || !bytes.Equal(a.Entry.Config, testAudio.Config) || a.Extends.TrackID != 2 {
		t.Errorf("AAC track %+v", a)
	}
	if p.Entry.Format != "mp4a" || p.Entry.ObjectType != 0x69 || len(p.Entry.Config) != 0 || p.Entry.Channels != 2 {
		t.Errorf("MP3 track %+v", p)
	}
	if Find(f.Boxes, "moov", "mvex", "mehd") != nil {
		t.Error("a live init segment has a mehd")
	}
	for _, tr := range m.Tracks {
		if tr.Table.SampleCount != 0 || len(tr.Table.ChunkOffsets) != 0 || len(tr.Table.TimeToSample) != 0 {
			t.Errorf("track %d tables are not empty: %+v", tr.ID, tr.Table)
		}
	}
	// A rate past 16 bits cannot be said in the sample entry.
	hi := testAudio
	hi.SampleRate, hi.Timescale = 96000, 96000
	b, err = InitSegment(hi)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := ParseFile(b); err != nil || f.Movie.Tracks[0].Entry.SampleRate != 0 || f.Movie.Tracks[0].Timescale != 96000 {
		t.Fatalf("96 kHz: %v", err)
	}
}
