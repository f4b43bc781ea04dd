package hls_test

import (
	"crypto/aes"
	"crypto/cipher"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/hls"
)

const ms = time.Millisecond

// near reports whether every duration is within 30 ms of want (ms).
func near(got, want []int64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if d := got[i] - want[i]; d < -30 || d > 30 {
			return false
		}
	}
	return true
}

// TestReaping checks where segments end: at keyframes once they reach
// fragment×td_ratio, anywhere without hls_wait_keyframe, at aof_ratio
// fragments on audio (audio-only streams, video without keyframes).
func TestReaping(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*conf.HLS)
		spec streamSpec
		want []int64 // segment durations, ms
	}{
		{
			name: "cut at the first keyframe past the fragment",
			spec: streamSpec{dur: 5 * time.Second, fps: 25, gop: time.Second, audio: true, headers: true},
			want: []int64{1000, 1000, 1000, 1000, 977},
		},
		{
			name: "a fragment between keyframes waits for the next one",
			edit: func(c *conf.HLS) { c.Fragment = 1500 * ms },
			spec: streamSpec{dur: 6 * time.Second, fps: 25, gop: time.Second, audio: true, headers: true},
			want: []int64{2000, 2000, 1977},
		},
		{
			name: "td_ratio stretches the cut",
			edit: func(c *conf.HLS) { c.TDRatio = 1.5 },
			spec: streamSpec{dur: 6 * time.Second, fps: 20, gop: 500 * ms, audio: true, headers: true},
			want: []int64{1500, 1500, 1500, 1500},
		},
		{
			name: "without hls_wait_keyframe any frame may cut",
			edit: func(c *conf.HLS) { c.WaitKeyframe = false },
			spec: streamSpec{dur: 4 * time.Second, fps: 25, gop: 10 * time.Second, audio: false, headers: true},
			want: []int64{1000, 1000, 1000, 960},
		},
		{
			name: "audio cuts video without keyframes at aof_ratio fragments",
			spec: streamSpec{dur: 5 * time.Second, fps: 25, gop: 100 * time.Second, audio: true, headers: true},
			want: []int64{2113, 2113, 750},
		},
		{
			name: "audio only cuts at aof_ratio fragments",
			spec: streamSpec{dur: 5 * time.Second, audio: true, headers: true},
			want: []int64{2113, 2113, 750},
		},
		{
			name: "aof_ratio 1 for audio only",
			edit: func(c *conf.HLS) { c.AOFRatio = 1 },
			spec: streamSpec{dur: 3 * time.Second, audio: true, headers: true},
			want: []int64{1022, 1022, 932},
		},
		{
			name: "the last segment under 100 ms is dropped",
			spec: streamSpec{dur: 2050 * ms, fps: 25, gop: time.Second, headers: true},
			want: []int64{1000, 1000},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.edit)
			h.publish(generate(t, tc.spec))
			if got := h.durations(); !near(got, tc.want) {
				t.Fatalf("segments %v ms, want %v", got, tc.want)
			}
			for i, s := range h.segs {
				if s.Seq != int64(i) {
					t.Fatalf("segment %d has seq %d", i, s.Seq)
				}
				b, err := os.ReadFile(filepath.FromSlash(s.File))
				if err != nil {
					t.Fatal(err)
				}
				frames, _ := tsFrames(t, b)
				if len(frames) == 0 {
					t.Fatalf("segment %d has no frame", i)
				}
				if tc.spec.fps > 0 && tc.spec.gop < 10*time.Second {
					for _, f := range frames {
						if f.StreamType == mpegts.StreamTypeH264 {
							if !f.RandomAccess {
								t.Fatalf("segment %d does not start at a keyframe", i)
							}
							break
						}
					}
				}
			}
			if left := leftovers(h.files()); len(left) > 0 {
				t.Fatalf("unfinished files left: %v", left)
			}
		})
	}
}

func leftovers(files []string) []string {
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, ".tmp") || strings.HasSuffix(f, ".temp") {
			out = append(out, f)
		}
	}
	return out
}

// TestRepublish checks that a republish continues the numbering with a
// discontinuity, and that the dropped short segment's number is reused.
func TestRepublish(t *testing.T) {
	h := newHarness(t, nil)
	h.publish(generate(t, streamSpec{dur: 3050 * ms, fps: 25, gop: time.Second, audio: true, headers: true}))
	if n := len(h.segs); n != 3 {
		t.Fatalf("%d segments after the first publish, want 3 (the 50 ms tail dropped)", n)
	}
	// A new publisher starts its timestamps over.
	h.publish(generate(t, streamSpec{dur: 2 * time.Second, fps: 25, gop: time.Second, audio: true, headers: true}))
	var seqs []int64
	for _, s := range h.segs {
		seqs = append(seqs, s.Seq)
	}
	if !slices.Equal(seqs, []int64{0, 1, 2, 3, 4}) {
		t.Fatalf("sequence numbers %v", seqs)
	}
	if d := h.check.Discontinuities(); !slices.Equal(d, []int64{3}) {
		t.Fatalf("discontinuities at %v, want [3]", d)
	}
	if p := h.playlist(); p.MediaSequence != 0 || len(p.Segments) != 5 {
		t.Fatalf("playlist %+v", p)
	}
}

// TestSequenceHeaders checks that only a changed sequence header starts a
// discontinuity (SRS marks one at every header), at the next keyframe.
func TestSequenceHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		sps  []byte
		want []int64
	}{
		{"repeated header", testSPS, nil},
		{"new header", testSPS2, []int64{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *conf.HLS) { c.Fragment = 2 * time.Second })
			first := generate(t, streamSpec{dur: 2500 * ms, fps: 20, gop: time.Second, headers: true})
			// The encoder sends a header at 2500 ms with a keyframe.
			second := generate(t, streamSpec{from: 2500 * ms, dur: 3 * time.Second, fps: 20, gop: time.Second, headers: true, sps: tc.sps})
			h.publish(append(first, second...))
			if d := h.check.Discontinuities(); !slices.Equal(d, tc.want) {
				t.Fatalf("discontinuities %v, want %v (segments %v)", d, tc.want, h.durations())
			}
			if tc.want != nil && !near(h.durations()[:2], []int64{2000, 500}) {
				t.Fatalf("segments %v: the new header must cut at its keyframe", h.durations())
			}
		})
	}
}

// TestTimestampJump cuts where the publisher's clock jumps.
func TestTimestampJump(t *testing.T) {
	h := newHarness(t, func(c *conf.HLS) { c.Fragment = 2 * time.Second })
	a := generate(t, streamSpec{dur: 1500 * ms, fps: 25, gop: 500 * ms, audio: true, headers: true})
	b := generate(t, streamSpec{from: 100 * time.Second, dur: 1500 * ms, fps: 25, gop: 500 * ms, audio: true})
	c := generate(t, streamSpec{from: 10 * time.Second, dur: 1500 * ms, fps: 25, gop: 500 * ms, audio: true})
	h.publish(slices.Concat(a, b, c))
	if d := h.check.Discontinuities(); !slices.Equal(d, []int64{1, 2}) {
		t.Fatalf("discontinuities %v (segments %v)", d, h.durations())
	}
	for _, d := range h.durations() {
		if d > 1500 {
			t.Fatalf("a jump made a segment of %d ms", d)
		}
	}
}

// TestWindow checks the sliding window: SRS's shrink rule, the deletion
// of segments that left (hls_cleanup) only once no player can still want
// them, and the discontinuity sequence when a discontinuity leaves.
func TestWindow(t *testing.T) {
	for _, cleanup := range []bool{true, false} {
		t.Run(map[bool]string{true: "cleanup", false: "no cleanup"}[cleanup], func(t *testing.T) {
			h := newHarness(t, func(c *conf.HLS) { c.Window = 3 * time.Second; c.Cleanup = cleanup })
			h.publish(generate(t, streamSpec{dur: 2 * time.Second, fps: 25, gop: time.Second, headers: true}))
			pkts := generate(t, streamSpec{dur: 14 * time.Second, fps: 25, gop: time.Second, headers: true})
			if err := h.m.Begin(h.cfg); err != nil {
				t.Fatal(err)
			}
			var listed [][]int64
			var clock time.Duration
			left := map[int64]time.Duration{} // when a segment left the playlist, on the media clock
			spanAtLeave := map[int64]time.Duration{}
			var prev *hls.MediaPlaylist
			for _, p := range pkts {
				n := len(h.segs)
				if err := h.m.Write(p); err != nil {
					t.Fatal(err)
				}
				if len(h.segs) == n {
					continue
				}
				clock += h.segs[n].Duration
				pl := h.playlist()
				var seqs []int64
				for _, s := range pl.Segments {
					seqs = append(seqs, s.Seq)
				}
				listed = append(listed, seqs)
				if prev != nil {
					var span time.Duration
					for _, s := range prev.Segments {
						span += s.Duration
					}
					for _, s := range prev.Segments {
						if s.Seq < pl.MediaSequence {
							left[s.Seq], spanAtLeave[s.Seq] = clock, span+h.segs[n].Duration
						}
					}
				}
				prev = pl
				for seq, at := range left {
					_, err := os.Stat(filepath.Join(h.dir, "live", "cam-"+strconv.FormatInt(seq, 10)+".ts"))
					gone := err != nil
					due := at + h.seen(seq).Duration + spanAtLeave[seq]
					switch {
					case gone && !cleanup:
						t.Fatalf("segment %d deleted with hls_cleanup off", seq)
					case gone && clock < due:
						t.Fatalf("segment %d deleted at %v, before %v", seq, clock, due)
					case !gone && cleanup && clock >= due+1100*ms:
						t.Fatalf("segment %d still there at %v, due at %v", seq, clock, due)
					}
				}
			}
			// 1 s segments in 3 s: the one that crosses the window stays.
			for i, seqs := range listed[1:] {
				if first := int64(i); seqs[0] != first || len(seqs) != 4 {
					t.Fatalf("window after segment %d: %v", i+3, seqs)
				}
			}
			if p := h.playlist(); p.DiscontinuitySequence != 1 {
				t.Fatalf("discontinuity sequence %d after the republish's segment left", p.DiscontinuitySequence)
			}
			if err := h.m.End(); err != nil {
				t.Fatal(err)
			}
			n := countTS(h.files())
			if cleanup && n != len(h.playlist().Segments) || !cleanup && n != len(h.segs) {
				t.Fatalf("%d segment files after the publish; %d listed, %d made", n, len(h.playlist().Segments), len(h.segs))
			}
		})
	}
}

func countTS(files []string) int {
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".ts") {
			n++
		}
	}
	return n
}

// TestDispose deletes every file, including a segment being written.
func TestDispose(t *testing.T) {
	h := newHarness(t, func(c *conf.HLS) { c.Keys = true; c.FragmentsPerKey = 2 })
	if err := h.m.Begin(h.cfg); err != nil {
		t.Fatal(err)
	}
	for _, p := range generate(t, streamSpec{dur: 3500 * ms, fps: 25, gop: time.Second, audio: true, headers: true}) {
		if err := h.m.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if files := h.files(); len(files) < 5 || len(leftovers(files)) != 1 {
		t.Fatalf("before dispose: %v", files)
	}
	if err := h.m.Dispose(); err != nil {
		t.Fatal(err)
	}
	if files := h.files(); len(files) != 0 {
		t.Fatalf("after dispose: %v", files)
	}
}

// TestKeys encrypts segments with AES-128-CBC: a key file per
// hls_fragments_per_key segments, EXT-X-KEY wherever the key changes and
// before the first segment, and each segment decrypts to a transport
// stream with PKCS#7 padding.
func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keyURL  string
		wantURI string
	}{
		{"URL relative to the playlist", "", "cam-%d.key"},
		{"hls_key_url", "https://keys.example.com/", "https://keys.example.com/live/cam-%d.key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *conf.HLS) {
				c.Keys, c.FragmentsPerKey, c.Window = true, 2, 3*time.Second
				if tc.keyURL != "" {
					c.KeyURL = tc.keyURL
				}
			})
			h.publish(generate(t, streamSpec{dur: 7 * time.Second, fps: 25, gop: time.Second, audio: true, headers: true}))
			p := h.playlist()
			if p.MediaSequence%2 == 0 {
				t.Fatalf("want a window starting in the middle of a key, got %d", p.MediaSequence)
			}
			raw, _ := os.ReadFile(filepath.Join(h.dir, "live", "cam.m3u8"))
			if n := strings.Count(string(raw), "#EXT-X-KEY"); n != 1+len(p.Segments)/2 {
				t.Fatalf("%d EXT-X-KEY lines:\n%s", n, raw)
			}
			for _, s := range p.Segments {
				if s.Key == nil {
					t.Fatalf("segment %d without key:\n%s", s.Seq, raw)
				}
				first := s.Seq - s.Seq%2
				if want := strings.Replace(tc.wantURI, "%d", strconv.FormatInt(first, 10), 1); s.Key.URI != want {
					t.Fatalf("segment %d key %q, want %q", s.Seq, s.Key.URI, want)
				}
				key, err := os.ReadFile(filepath.Join(h.dir, "live", "cam-"+strconv.FormatInt(first, 10)+".key"))
				if err != nil || len(key) != 16 {
					t.Fatalf("key file of segment %d: %v (%d bytes)", s.Seq, err, len(key))
				}
				enc, err := os.ReadFile(filepath.Join(h.dir, "live", s.URI))
				if err != nil {
					t.Fatal(err)
				}
				plain := decrypt(t, key, s.Key.IV[:], enc)
				if len(plain)%188 != 0 || plain[0] != 0x47 || plain[188] != 0x47 {
					t.Fatalf("segment %d does not decrypt to a transport stream", s.Seq)
				}
				if frames, _ := tsFrames(t, plain); len(frames) < 10 {
					t.Fatalf("segment %d: %d frames", s.Seq, len(frames))
				}
			}
			// Keys no segment uses any more are deleted with their segments.
			var keys []string
			for _, f := range h.files() {
				if strings.HasSuffix(f, ".key") {
					keys = append(keys, f)
				}
			}
			if len(keys) > 3 {
				t.Fatalf("old keys kept: %v", keys)
			}
		})
	}
}

func decrypt(t *testing.T, key, iv, enc []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) == 0 || len(enc)%16 != 0 {
		t.Fatalf("ciphertext of %d bytes", len(enc))
	}
	out := make([]byte, len(enc))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, enc)
	pad := int(out[len(out)-1])
	if pad < 1 || pad > 16 {
		t.Fatalf("bad padding %d", pad)
	}
	for _, b := range out[len(out)-pad:] {
		if int(b) != pad {
			t.Fatalf("bad padding bytes % x", out[len(out)-pad:])
		}
	}
	return out[:len(out)-pad]
}

// TestFileNames covers the path variables, hls_entry_prefix, segments
// outside the playlist's directory, and stream names that try to leave
// hls_path.
func TestFileNames(t *testing.T) {
	for _, tc := range []struct {
		name      string
		edit      func(*conf.HLS)
		wantFile  string // the first segment's path under hls_path
		wantURI   string
		wantM3U8  string
		badConfig bool
	}{
		{name: "defaults", wantFile: "live/cam-0.ts", wantURI: "cam-0.ts", wantM3U8: "live/cam.m3u8"},
		{
			name: "every variable",
			edit: func(c *conf.HLS) {
				c.TSFile = "[vhost]/[app]/[stream]/[2006][01][02]-[15][04][05]-[999]/[seq]-[timestamp]-[duration].ts"
			},
			wantFile: "__defaultVhost__/live/cam/20240506-070809-010/0-1714979289010-1000.ts",
			wantURI:  "../__defaultVhost__/live/cam/20240506-070809-010/0-1714979289010-1000.ts", wantM3U8: "live/cam.m3u8",
		},
		{
			name:     "entry prefix for hls_path",
			edit:     func(c *conf.HLS) { c.EntryPrefix = "http://cdn.example.com" },
			wantFile: "live/cam-0.ts", wantURI: "http://cdn.example.com/live/cam-0.ts", wantM3U8: "live/cam.m3u8",
		},
		{
			name:     "entry prefix ending in a slash, for the playlist's directory",
			edit:     func(c *conf.HLS) { c.EntryPrefix = "http://cdn.example.com/hls/cam/" },
			wantFile: "live/cam-0.ts", wantURI: "http://cdn.example.com/hls/cam/cam-0.ts", wantM3U8: "live/cam.m3u8",
		},
		{
			name:     "playlist in a sub directory",
			edit:     func(c *conf.HLS) { c.M3U8File = "[app]/[stream]/index.m3u8"; c.TSFile = "[app]/[stream]/[seq].ts" },
			wantFile: "live/cam/0.ts", wantURI: "0.ts", wantM3U8: "live/cam/index.m3u8",
		},
		{name: "segments leave hls_path", edit: func(c *conf.HLS) { c.TSFile = "../[stream]-[seq].ts" }, badConfig: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.edit)
			if err := h.m.Begin(h.cfg); err != nil {
				t.Fatal(err)
			}
			var err error
			for _, p := range generate(t, streamSpec{dur: 1200 * ms, fps: 25, gop: time.Second, headers: true}) {
				if err = h.m.Write(p); err != nil {
					break
				}
			}
			if tc.badConfig {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(h.segs) != 1 {
				t.Fatalf("%d segments", len(h.segs))
			}
			s := h.segs[0]
			if s.File != h.dir+"/"+tc.wantFile || s.URI != tc.wantURI || s.M3U8URL != tc.wantM3U8 || s.M3U8 != h.dir+"/"+tc.wantM3U8 {
				t.Fatalf("segment %+v", s)
			}
			if _, err := os.Stat(filepath.Join(h.dir, filepath.FromSlash(tc.wantFile))); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Publishers choose stream names: none may escape hls_path.
	dir := t.TempDir()
	for _, name := range []string{"../../etc/x", "x/../../../z", "../../../tmp/y"} {
		m, err := hls.NewMuxer(hls.MuxerOptions{Key: testKey, Config: defaultHLS(t, dir)})
		if err == nil {
			key := testKey
			key.Name = name
			m, err = hls.NewMuxer(hls.MuxerOptions{Key: key, Config: defaultHLS(t, dir)})
		}
		if err == nil {
			_ = m.Begin(defaultHLS(t, dir))
			for _, p := range generate(t, streamSpec{dur: 500 * ms, fps: 25, gop: time.Second, headers: true}) {
				if err = m.Write(p); err != nil {
					break
				}
			}
		}
		if err == nil {
			t.Errorf("stream %q: no error", name)
		}
	}
}

// TestTSFloor numbers segments by the wall clock: [timestamp] grows by one
// per segment from floor(now/fragment)-1.
func TestTSFloor(t *testing.T) {
	h := newHarness(t, func(c *conf.HLS) { c.TSFloor = true; c.TSFile = "[app]/[stream]-[timestamp].ts" })
	start := h.now.UnixMilli() / 1000
	h.publish(generate(t, streamSpec{dur: 3500 * ms, fps: 25, gop: time.Second, headers: true}))
	for i, s := range h.segs {
		if want := "cam-" + strconv.FormatInt(start-1+int64(i), 10) + ".ts"; s.URI != want {
			t.Fatalf("segment %d is %s, want %s", i, s.URI, want)
		}
	}
}

// TestPMT checks the codecs the first PMT announces: onMetaData's tracks,
// else hls_vcodec and hls_acodec.
func TestPMT(t *testing.T) {
	aacOnly := []amf.Property{{Key: "audiocodecid", Value: float64(10)}}
	mp3Video := []amf.Property{{Key: "videocodecid", Value: float64(7)}, {Key: "audiocodecid", Value: float64(2)}}
	for _, tc := range []struct {
		name  string
		edit  func(*conf.HLS)
		meta  []amf.Property
		spec  streamSpec
		first []mpegts.StreamType // the first segment's PMT
	}{
		{"audio-only, no metadata: SRS's phantom video", nil, nil,
			streamSpec{dur: 1500 * ms, audio: true, headers: true}, []mpegts.StreamType{mpegts.StreamTypeH264, mpegts.StreamTypeAAC}},
		{"audio-only with hls_vcodec vn", func(c *conf.HLS) { c.VCodec = "vn" }, nil,
			streamSpec{dur: 1500 * ms, audio: true, headers: true}, []mpegts.StreamType{mpegts.StreamTypeAAC}},
		{"audio-only metadata", nil, aacOnly,
			streamSpec{dur: 1500 * ms, audio: true, headers: true}, []mpegts.StreamType{mpegts.StreamTypeAAC}},
		{"MP3 from metadata", nil, mp3Video,
			streamSpec{dur: 1500 * ms, fps: 25, gop: time.Second, audio: true, mp3: true, headers: true}, []mpegts.StreamType{mpegts.StreamTypeH264, mpegts.StreamTypeMPEG1Audio}},
		{"MP3 from hls_acodec", func(c *conf.HLS) { c.ACodec = "mp3" }, nil,
			streamSpec{dur: 1500 * ms, fps: 25, gop: time.Second, audio: true, mp3: true, headers: true}, []mpegts.StreamType{mpegts.StreamTypeH264, mpegts.StreamTypeMPEG1Audio}},
		{"video only with hls_acodec an", func(c *conf.HLS) { c.ACodec = "an" }, nil,
			streamSpec{dur: 1500 * ms, fps: 25, gop: time.Second, headers: true}, []mpegts.StreamType{mpegts.StreamTypeH264}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.edit)
			pkts := generate(t, tc.spec)
			if tc.meta != nil {
				pkts = append([]*av.Packet{metadata(t, tc.meta...)}, pkts...)
			}
			h.publish(pkts)
			b, err := os.ReadFile(filepath.FromSlash(h.segs[0].File))
			if err != nil {
				t.Fatal(err)
			}
			if types := pmtStreams(t, b); !slices.Equal(types, tc.first) {
				t.Fatalf("first PMT %v, want %v", types, tc.first)
			}
		})
	}
}

// pmtStreams reads the stream types of the first PMT of a segment.
func pmtStreams(t *testing.T, b []byte) []mpegts.StreamType {
	t.Helper()
	for i := 0; i+188 <= len(b); i += 188 {
		p := b[i : i+188]
		pid := uint16(p[1]&0x1f)<<8 | uint16(p[2])
		if pid != mpegts.DefaultPMTPID || p[1]&0x40 == 0 {
			continue
		}
		off := 4
		if p[3]&0x20 != 0 {
			off += 1 + int(p[4])
		}
		off += 1 + int(p[off])
		sectionLen := int(p[off+1]&0x0f)<<8 | int(p[off+2])
		infoLen := int(p[off+10]&0x0f)<<8 | int(p[off+11])
		var out []mpegts.StreamType
		for j := off + 12 + infoLen; j < off+3+sectionLen-4; {
			out = append(out, mpegts.StreamType(p[j]))
			j += 5 + (int(p[j+3]&0x0f)<<8 | int(p[j+4]))
		}
		return out
	}
	t.Fatal("no PMT")
	return nil
}

// TestOnSegment checks what on_hls gets.
func TestOnSegment(t *testing.T) {
	h := newHarness(t, nil)
	h.publish(generate(t, streamSpec{dur: 2 * time.Second, fps: 25, gop: time.Second, audio: true, headers: true}))
	s := h.segs[1]
	want := hls.Segment{Seq: 1, URI: "cam-1.ts", File: h.dir + "/live/cam-1.ts", Duration: 977 * ms, M3U8: h.dir + "/live/cam.m3u8", M3U8URL: "live/cam.m3u8"}
	if s.Duration > want.Duration-30*ms && s.Duration < want.Duration+30*ms {
		s.Duration = want.Duration
	}
	if s != want {
		t.Fatalf("segment %+v, want %+v", s, want)
	}
}
