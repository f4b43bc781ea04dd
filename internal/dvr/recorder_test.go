package dvr

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/format/mp4"
	"github.com/castd/castd/internal/hub"
)

func TestSessionFLV(t *testing.T) {
	dir := t.TempDir()
	ds := deliveries(t, streamSpec{durationMs: 5000, video: true, audio: "aac", meta: true})
	files, logs := record(t, settings(dir, "[app]/[stream].[timestamp].flv"), ds)
	if len(files) != 1 {
		t.Fatalf("files %+v\n%s", files, logs)
	}
	f := files[0]
	wantPath := filepath.Join(dir, "live", "cam.1714979290000.flv") // the clock's first tick
	if f.Path != wantPath || f.Format != FormatFLV {
		t.Errorf("file %+v, want path %s", f, wantPath)
	}
	if names := listFiles(t, dir); len(names) != 1 || hasTmp(names) {
		t.Errorf("files on disk %v", names)
	}
	st, err := os.Stat(f.Path)
	if err != nil || st.Size() != f.Size {
		t.Fatalf("stat %v, size %d, reported %d", err, st.Size(), f.Size)
	}
	h, tags := readFLV(t, f.Path)
	if !h.HasAudio || !h.HasVideo {
		t.Errorf("header %+v", h)
	}
	meta := metaNumbers(t, tags[0])
	// Media spans 0 to the last audio frame (4992 ms); video ends at 4960.
	if math.Abs(meta["duration"]-4.992) > 0.0005 || meta["filesize"] != float64(st.Size()) {
		t.Errorf("onMetaData duration %v filesize %v, want 4.992 and %d", meta["duration"], meta["filesize"], st.Size())
	}
	if f.Duration != 4992*time.Millisecond {
		t.Errorf("reported duration %v", f.Duration)
	}
	if tags[1].Type != flv.TagAudio || tags[2].Type != flv.TagVideo || tags[1].Timestamp != 0 || tags[2].Timestamp != 0 {
		t.Errorf("sequence headers: %d@%d %d@%d", tags[1].Type, tags[1].Timestamp, tags[2].Type, tags[2].Timestamp)
	}
	if tags[3].Type != flv.TagVideo || tags[3].Data[0] != 0x17 || tags[3].Timestamp != 0 {
		t.Errorf("first frame: type %d ts %d body %x", tags[3].Type, tags[3].Timestamp, tags[3].Data[:2])
	}
	// Every packet of the publish is in the file once, rebased to start at 0.
	if len(tags) != len(ds) {
		t.Errorf("%d tags, published %d packets", len(tags), len(ds))
	}
	last := tags[len(tags)-1]
	if want := ds[len(ds)-1].Timestamp - testStreamBaseTime; last.Timestamp != want {
		t.Errorf("last tag at %d, want %d", last.Timestamp, want)
	}
}

func TestJitterOffKeepsTimestamps(t *testing.T) {
	dir := t.TempDir()
	set := settings(dir, "x.flv")
	set.Jitter = hub.JitterOff
	files, _ := record(t, set, deliveries(t, streamSpec{durationMs: 1000, video: true, audio: "aac", meta: true}))
	_, tags := readFLV(t, files[0].Path)
	if tags[3].Timestamp != testStreamBaseTime {
		t.Errorf("first frame at %d, want the publisher's %d", tags[3].Timestamp, testStreamBaseTime)
	}
}

func TestSegmentPlan(t *testing.T) {
	tests := []struct {
		name      string
		wait      bool
		gopMs     int
		wantFiles []time.Duration // starts of the files, in stream time
	}{
		// Keyframes every 800 ms: with wait_keyframe a file is cut at the
		// first keyframe once it spans 2 s.
		{"wait keyframe", true, 800, []time.Duration{0, 2400 * time.Millisecond, 4800 * time.Millisecond}},
		// Without it, at the first packet past 2 s, keyframe or not.
		{"no wait", false, 800, []time.Duration{0, 2000 * time.Millisecond, 4000 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			set := settings(dir, "[stream].[timestamp].flv")
			set.Plan, set.Duration, set.WaitKeyframe = PlanSegment, 2*time.Second, tc.wait
			ds := deliveries(t, streamSpec{durationMs: 6000, gopMs: tc.gopMs, video: true, audio: "aac", meta: true})
			files, logs := record(t, set, ds)
			if len(files) != len(tc.wantFiles) {
				t.Fatalf("%d files, want %d: %+v\n%s", len(files), len(tc.wantFiles), files, logs)
			}
			var total int
			for i, f := range files {
				h, tags := readFLV(t, f.Path)
				if !h.HasVideo || !h.HasAudio {
					t.Errorf("file %d header %+v", i, h)
				}
				// Every file starts over with metadata and sequence headers.
				if tags[0].Type != flv.TagScript || tags[1].Type != flv.TagAudio || tags[1].Data[1] != 0 ||
					tags[2].Type != flv.TagVideo || tags[2].Data[1] != 0 {
					t.Errorf("file %d does not start with metadata and sequence headers", i)
				}
				first := tags[3]
				if first.Timestamp != 0 {
					t.Errorf("file %d starts at %d ms", i, first.Timestamp)
				}
				if tc.wait && (first.Type != flv.TagVideo || first.Data[0] != 0x17) {
					t.Errorf("file %d starts with tag type %d body %x, want a keyframe", i, first.Type, first.Data[:1])
				}
				meta := metaNumbers(t, tags[0])
				if math.Abs(meta["duration"]-f.Duration.Seconds()) > 0.0005 {
					t.Errorf("file %d: onMetaData duration %v, reported %v", i, meta["duration"], f.Duration)
				}
				if i+1 < len(files) {
					span := tc.wantFiles[i+1] - tc.wantFiles[i]
					if f.Duration > span || f.Duration < span-50*time.Millisecond {
						t.Errorf("file %d lasts %v, want just under %v", i, f.Duration, span)
					}
				}
				total += len(tags) - 3
			}
			// Nothing is lost or written twice across the cuts.
			media := 0
			for _, d := range ds {
				if isMedia(d.Packet) {
					media++
				}
			}
			if total != media {
				t.Errorf("%d frames in the files, %d published", total, media)
			}
		})
	}
}

func TestShouldCut(t *testing.T) {
	key := mustPacket(t, av.KindVideo, 0, avcKeyframe)
	inter := mustPacket(t, av.KindVideo, 0, avcInterFrame)
	audio := mustPacket(t, av.KindAudio, 0, aacFrame)
	seg := Settings{Plan: PlanSegment, Duration: 10 * time.Second, WaitKeyframe: true}
	noWait := seg
	noWait.WaitKeyframe = false
	session := seg
	session.Plan = PlanSession
	zero := seg
	zero.Duration = 0
	tests := []struct {
		name     string
		set      Settings
		ms       int64
		hasVideo bool
		p        *av.Packet
		want     bool
	}{
		{"short of the duration", seg, 9999, true, key, false},
		{"keyframe at the duration", seg, 10000, true, key, true},
		{"inter frame waits", seg, 12000, true, inter, false},
		{"audio waits for the keyframe", seg, 12000, true, audio, false},
		{"audio-only files cut at any frame", seg, 10000, false, audio, true},
		{"without wait_keyframe any frame cuts", noWait, 10000, true, inter, true},
		{"session never cuts", session, 1 << 40, true, key, false},
		{"zero duration never cuts", zero, 1 << 40, true, key, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := shouldCut(&tc.set, tc.ms, tc.hasVideo, tc.p); got != tc.want {
				t.Errorf("shouldCut = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSessionMP4(t *testing.T) {
	for _, fragmented := range []bool{false, true} {
		t.Run(map[bool]string{false: "progressive", true: "fragmented"}[fragmented], func(t *testing.T) {
			dir := t.TempDir()
			set := settings(dir, "[stream].mp4")
			set.FragmentedMP4 = fragmented
			ds := deliveries(t, streamSpec{durationMs: 5000, video: true, audio: "aac", meta: true})
			files, logs := record(t, set, ds)
			if len(files) != 1 || files[0].Format != FormatMP4 || files[0].Path != filepath.Join(dir, "cam.mp4") {
				t.Fatalf("files %+v\n%s", files, logs)
			}
			f := parseMP4(t, files[0].Path)
			if got := int64(len(mustRead(t, files[0].Path))); got != files[0].Size {
				t.Errorf("size %d, reported %d", got, files[0].Size)
			}
			if f.Movie == nil || len(f.Movie.Tracks) != 2 || f.Movie.Fragmented != fragmented {
				t.Fatalf("movie %+v", f.Movie)
			}
			video, audio := trackSamples(t, f, 1), trackSamples(t, f, 2)
			if len(video) != 125 || len(audio) != 216 {
				t.Errorf("%d video and %d audio samples, want 125 and 216", len(video), len(audio))
			}
			if !video[0].Sync || video[0].DTS != 0 || video[1].Sync || !video[25].Sync {
				t.Errorf("video samples: first %+v, second %+v, 26th %+v", video[0], video[1], video[25])
			}
			// Audio gets whole 1024-sample frames, not RTMP's 23 ms rounding.
			for i := 1; i < len(audio); i++ {
				if d := audio[i].DTS - audio[i-1].DTS; d != 1024 {
					t.Fatalf("audio sample %d lasts %d ticks", i-1, d)
				}
			}
			if last := video[len(video)-1]; last.DTS != 4960*90 {
				t.Errorf("last video sample at %d, want %d", last.DTS, 4960*90)
			}
		})
	}
}

func TestMP4NewFileOnCodecChange(t *testing.T) {
	dir := t.TempDir()
	ds := deliveries(t, streamSpec{durationMs: 4000, video: true, audio: "aac", meta: true})
	// Mid-stream, the encoder repeats its video header (same file) and then
	// switches audio to stereo (a new file for MP4, the same file for FLV).
	var changed []hub.Delivery
	for i, d := range ds {
		if i > 0 && d.Timestamp == testStreamBaseTime+1000 && d.Packet.Kind == av.KindVideo {
			vsh := mustPacket(t, av.KindVideo, d.Timestamp, avcSequenceHeader)
			changed = append(changed, hub.Delivery{Packet: vsh, Timestamp: vsh.Timestamp})
		}
		if i > 0 && d.Timestamp == testStreamBaseTime+2000 && d.Packet.Kind == av.KindVideo {
			ash := mustPacket(t, av.KindAudio, d.Timestamp, aacStereoHeader)
			changed = append(changed, hub.Delivery{Packet: ash, Timestamp: ash.Timestamp})
		}
		changed = append(changed, d)
	}
	mp4Files, logs := record(t, settings(dir, "[timestamp].mp4"), changed)
	if len(mp4Files) != 2 {
		t.Fatalf("%d MP4 files, want 2\n%s", len(mp4Files), logs)
	}
	for i, want := range []int{1, 2} {
		f := parseMP4(t, mp4Files[i].Path)
		if ch := int(f.Movie.Track(2).Entry.Channels); ch != want {
			t.Errorf("file %d: %d audio channels, want %d", i, ch, want)
		}
		if v := trackSamples(t, f, 1); len(v) == 0 || !v[0].Sync {
			t.Errorf("file %d does not start with a keyframe", i)
		}
	}
	if d := mp4Files[0].Duration; d < 1950*time.Millisecond || d > 2000*time.Millisecond {
		t.Errorf("first file lasts %v, want the 2 s before the change", d)
	}

	flvFiles, _ := record(t, settings(dir, "[timestamp].flv"), changed)
	if len(flvFiles) != 1 {
		t.Fatalf("%d FLV files, want 1", len(flvFiles))
	}
	_, tags := readFLV(t, flvFiles[0].Path)
	var audioHeaders, videoHeaders int
	for _, tag := range tags {
		if tag.Type == flv.TagAudio && tag.Data[1] == 0 {
			audioHeaders++
		}
		if tag.Type == flv.TagVideo && tag.Data[1] == 0 {
			videoHeaders++
		}
	}
	if audioHeaders != 2 || videoHeaders != 1 {
		t.Errorf("FLV has %d audio and %d video sequence headers, want 2 (a change) and 1 (a repeat)", audioHeaders, videoHeaders)
	}
}

func TestAudioOnly(t *testing.T) {
	for _, ext := range []string{"flv", "mp4"} {
		t.Run(ext, func(t *testing.T) {
			dir := t.TempDir()
			ds := deliveries(t, streamSpec{durationMs: 2000, audio: "aac", meta: true})
			files, logs := record(t, settings(dir, "a."+ext), ds)
			if len(files) != 1 {
				t.Fatalf("files %+v\n%s", files, logs)
			}
			if ext == "mp4" {
				f := parseMP4(t, files[0].Path)
				if len(f.Movie.Tracks) != 1 || f.Movie.Tracks[0].Handler != "soun" {
					t.Errorf("tracks %+v", f.Movie.Tracks)
				}
				return
			}
			h, tags := readFLV(t, files[0].Path)
			if !h.HasAudio || h.HasVideo {
				t.Errorf("header %+v, want audio only", h)
			}
			if len(tags) != len(ds) {
				t.Errorf("%d tags, %d packets", len(tags), len(ds))
			}
		})
	}
}

func TestProbeWithoutMetadata(t *testing.T) {
	// No onMetaData to say the stream has no audio: the recorder waits
	// for 3 s of media before deciding, and loses nothing meanwhile.
	dir := t.TempDir()
	ds := deliveries(t, streamSpec{durationMs: 5000, video: true})
	files, _ := record(t, settings(dir, "v.flv"), ds)
	h, tags := readFLV(t, files[0].Path)
	// Every packet, after an onMetaData of castd's own.
	if h.HasAudio || !h.HasVideo || len(tags) != len(ds)+1 {
		t.Errorf("header %+v, %d tags for %d packets", h, len(tags), len(ds))
	}
	st, err := os.Stat(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	meta := metaNumbers(t, tags[0])
	if len(meta) != 2 || math.Abs(meta["duration"]-4.96) > 0.0005 || meta["filesize"] != float64(st.Size()) {
		t.Errorf("castd's onMetaData %v, want duration 4.96 and filesize %d", meta, st.Size())
	}
	// A stream shorter than the probe is recorded when it ends.
	short := deliveries(t, streamSpec{durationMs: 500, video: true})
	files, _ = record(t, settings(t.TempDir(), "v.flv"), short)
	if _, tags := readFLV(t, files[0].Path); len(tags) != len(short)+1 {
		t.Errorf("short stream: %d tags for %d packets", len(tags), len(short))
	}
}

func TestMP3(t *testing.T) {
	dir := t.TempDir()
	ds := deliveries(t, streamSpec{durationMs: 2000, video: true, audio: "mp3", meta: true})
	files, logs := record(t, settings(dir, "m.mp4"), ds)
	if len(files) != 1 {
		// The first MP3 frame comes after the first keyframe; the file must
		// still be opened with an audio track rather than cut for it.
		t.Fatalf("files %+v\n%s", files, logs)
	}
	f := parseMP4(t, files[0].Path)
	if len(f.Movie.Tracks) != 2 || f.Movie.Track(2).Entry.Format != "mp4a" || f.Movie.Track(2).Entry.ObjectType != 0x6b {
		t.Errorf("tracks %+v", f.Movie.Tracks)
	}
}

func TestTmpUntilClosed(t *testing.T) {
	dir := t.TempDir()
	src := newGatedSource(deliveries(t, streamSpec{durationMs: 1000, video: true, audio: "aac", meta: true}))
	done := make(chan []File, 1)
	r := NewRecorder(Stream{Vhost: "v", App: "live", Name: "cam"}, settings(dir, "[stream].flv"), Options{})
	var files []File
	r.onFile = func(f File) { files = append(files, f) }
	go func() { _ = r.Run(context.Background(), src); done <- files }()
	<-src.drained
	if names := listFiles(t, dir); len(names) != 1 || names[0] != "cam.flv.tmp" {
		t.Errorf("while recording: %v, want only cam.flv.tmp", names)
	}
	close(src.release)
	files = <-done
	if names := listFiles(t, dir); len(names) != 1 || names[0] != "cam.flv" || len(files) != 1 {
		t.Errorf("after: %v, files %+v", names, files)
	}
}

func TestCancelFinishesFile(t *testing.T) {
	dir := t.TempDir()
	src := newGatedSource(deliveries(t, streamSpec{durationMs: 2000, video: true, audio: "aac", meta: true}))
	ctx, cancel := context.WithCancel(context.Background())
	r := NewRecorder(Stream{Vhost: "v", App: "live", Name: "cam"}, settings(dir, "[stream].mp4"), Options{})
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, src) }()
	<-src.drained
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f := parseMP4(t, filepath.Join(dir, "cam.mp4"))
	if len(trackSamples(t, f, 1)) != 50 {
		t.Errorf("video samples %d, want 50", len(trackSamples(t, f, 1)))
	}
}

func TestExistingFileIsNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cam.flv")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	// cam.1.flv is being written by someone else: its .tmp is taken.
	if err := os.WriteFile(filepath.Join(dir, "cam.1.flv.tmp"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	files, logs := record(t, settings(dir, "[stream].flv"), deliveries(t, streamSpec{durationMs: 500, video: true, meta: true}))
	if len(files) != 1 || filepath.Base(files[0].Path) != "cam.2.flv" {
		t.Fatalf("files %+v, want one cam.2.flv\n%s", files, logs)
	}
	if b := mustRead(t, path); string(b) != "precious" {
		t.Errorf("file overwritten")
	}
	if _, tags := readFLV(t, filepath.Join(dir, "cam.2.flv")); len(tags) == 0 {
		t.Error("cam.2.flv has no tags")
	}
	if names := listFiles(t, dir); len(names) != 3 {
		t.Errorf("files %v, want cam.flv, cam.1.flv.tmp, cam.2.flv", names)
	}
}

func TestCreateTmpGivesUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.flv")
	for i := 0; i < maxNameTries; i++ {
		name := path
		if i > 0 {
			name = filepath.Join(dir, "x."+strconv.Itoa(i)+".flv")
		}
		if err := os.WriteFile(name, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := createTmp(path); !errors.Is(err, ErrFileExists) {
		t.Errorf("createTmp with every name taken: %v, want ErrFileExists", err)
	}
}

func TestSetSettingsStartsNewFile(t *testing.T) {
	dir := t.TempDir()
	ds := deliveries(t, streamSpec{durationMs: 2000, video: true, audio: "aac", meta: true})
	var files []File
	r := NewRecorder(Stream{Vhost: "v", App: "live", Name: "cam"}, settings(dir, "one.flv"), Options{
		OnFile: func(f File) { files = append(files, f) },
	})
	src := &switchingSource{sliceSource: &sliceSource{ds: ds}, at: len(ds) / 2, switchTo: func() { r.SetSettings(settings(dir, "two.mp4")) }}
	if err := r.Run(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path != filepath.Join(dir, "one.flv") || files[1].Path != filepath.Join(dir, "two.mp4") {
		t.Fatalf("files %+v", files)
	}
	// The second file starts at the next keyframe after the switch.
	if d := files[0].Duration + files[1].Duration; d < 1000*time.Millisecond || files[1].Format != FormatMP4 {
		t.Errorf("files %+v", files)
	}
	if v := trackSamples(t, parseMP4(t, files[1].Path), 1); len(v) != 25 || !v[0].Sync {
		t.Errorf("second file: %d video samples", len(v))
	}
}

// switchingSource calls switchTo once, when at packets were read.
type switchingSource struct {
	*sliceSource
	at       int
	switchTo func()
}

func (s *switchingSource) Read(ctx context.Context, out []hub.Delivery) (int, error) {
	if s.pos >= s.at && s.switchTo != nil {
		s.switchTo()
		s.switchTo = nil
	}
	return s.sliceSource.Read(ctx, out)
}

func TestUnsafeStreamName(t *testing.T) {
	dir := t.TempDir()
	r := NewRecorder(Stream{Vhost: "v", App: "live", Name: "../../etc/cam"}, settings(dir, "[app]/[stream].flv"), Options{})
	if err := r.Run(context.Background(), &sliceSource{ds: deliveries(t, streamSpec{durationMs: 500, video: true})}); err != nil {
		t.Fatal(err)
	}
	if names := listFiles(t, filepath.Dir(dir)); len(names) != 0 {
		t.Errorf("files written: %v", names)
	}
}

func parseMP4(t testing.TB, path string) *mp4.File {
	t.Helper()
	f, err := mp4.ParseFile(mustRead(t, path))
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if f.Movie == nil {
		t.Fatalf("%s has no moov", path)
	}
	return f
}

func trackSamples(t testing.TB, f *mp4.File, id uint32) []mp4.SampleInfo {
	t.Helper()
	var out []mp4.SampleInfo
	if err := f.Samples(id, func(s mp4.SampleInfo) bool { out = append(out, s); return true }); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
