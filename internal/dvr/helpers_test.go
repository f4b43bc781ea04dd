package dvr

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/hub"
)

// Sequence headers and frames from FLVs made by ffmpeg (64x48 H.264
// baseline, AAC LC 44.1 kHz mono, MP3 mono), as in internal/format/mp4's tests.
const (
	avcSequenceHeader  = "17000000000142c00affe100156742c00ada11ec0440000003004000000c83c489a801000468ce0fc8"
	aacSequenceHeader  = "af00120856e500"
	aacStereoHeader    = "af001210" // AAC LC 44.1 kHz stereo
	avcKeyframe        = "1701000000" + "00000002" + "6588"
	avcInterFrame      = "2701000000" + "00000002" + "419a"
	aacFrame           = "af01" + "21100500"
	mp3Frame           = "2efffb50c400000a"
	videoFrameMs       = 40
	defaultGOPMs       = 1000
	testStreamBaseTime = 100_000 // publishers do not start at 0; files must
)

func mustPacket(t testing.TB, kind av.Kind, ts uint32, hexBody string) *av.Packet {
	t.Helper()
	b, err := hex.DecodeString(hexBody)
	if err != nil {
		t.Fatal(err)
	}
	p, err := av.NewPacket(kind, ts, b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func metadataPacket(t testing.TB, props amf.ECMAArray) *av.Packet {
	t.Helper()
	body, err := flv.AppendScriptData(nil, flv.OnMetaData, props)
	if err != nil {
		t.Fatal(err)
	}
	return &av.Packet{Kind: av.KindData, Payload: body}
}

// streamSpec describes a synthetic publish.
type streamSpec struct {
	durationMs int
	gopMs      int
	video      bool
	audio      string // "aac", "mp3" or ""
	meta       bool
}

// deliveries builds a publish as a viewer would read it: metadata and
// sequence headers, then interleaved 25 fps video and audio frames, with
// timestamps starting at testStreamBaseTime.
func deliveries(t testing.TB, s streamSpec) []hub.Delivery {
	t.Helper()
	if s.gopMs == 0 {
		s.gopMs = defaultGOPMs
	}
	var out []hub.Delivery
	add := func(p *av.Packet) { out = append(out, hub.Delivery{Packet: p, Timestamp: p.Timestamp}) }
	base := uint32(testStreamBaseTime)
	if s.meta {
		props := amf.ECMAArray{{Key: "duration", Value: 0.0}, {Key: "encoder", Value: "test"}}
		if s.video {
			props = append(props, amf.Property{Key: "width", Value: 64.0}, amf.Property{Key: "videocodecid", Value: 7.0})
		}
		if s.audio != "" {
			props = append(props, amf.Property{Key: "audiocodecid", Value: 10.0})
		}
		add(metadataPacket(t, props))
	}
	if s.video {
		add(mustPacket(t, av.KindVideo, base, avcSequenceHeader))
	}
	if s.audio == "aac" {
		add(mustPacket(t, av.KindAudio, base, aacSequenceHeader))
	}
	type frame struct {
		ms    int
		video bool
	}
	var frames []frame
	for ms := 0; s.video && ms < s.durationMs; ms += videoFrameMs {
		frames = append(frames, frame{ms, true})
	}
	// AAC frames last 1024/44100 s: RTMP's millisecond times step 23 or 24.
	for i := 0; s.audio != "" && i*1024000/44100 < s.durationMs; i++ {
		frames = append(frames, frame{i * 1024000 / 44100, false})
	}
	sort.SliceStable(frames, func(i, j int) bool { return frames[i].ms < frames[j].ms })
	for _, f := range frames {
		switch {
		case f.video && f.ms%s.gopMs == 0:
			add(mustPacket(t, av.KindVideo, base+uint32(f.ms), avcKeyframe))
		case f.video:
			add(mustPacket(t, av.KindVideo, base+uint32(f.ms), avcInterFrame))
		case s.audio == "mp3":
			add(mustPacket(t, av.KindAudio, base+uint32(f.ms), mp3Frame))
		default:
			add(mustPacket(t, av.KindAudio, base+uint32(f.ms), aacFrame))
		}
	}
	return out
}

// sliceSource plays deliveries in small batches, then ends with io.EOF.
type sliceSource struct {
	ds  []hub.Delivery
	pos int
}

func (s *sliceSource) Read(ctx context.Context, out []hub.Delivery) (int, error) {
	if s.pos == len(s.ds) {
		return 0, io.EOF
	}
	n := copy(out[:min(len(out), 7)], s.ds[s.pos:])
	s.pos += n
	return n, nil
}

// gatedSource plays deliveries, then blocks until release is closed (end
// with io.EOF) or ctx is done; drained is closed once everything was read.
type gatedSource struct {
	sliceSource
	release chan struct{}
	drained chan struct{}
	once    sync.Once
}

func newGatedSource(ds []hub.Delivery) *gatedSource {
	return &gatedSource{sliceSource: sliceSource{ds: ds}, release: make(chan struct{}), drained: make(chan struct{})}
}

func (g *gatedSource) Read(ctx context.Context, out []hub.Delivery) (int, error) {
	if g.pos < len(g.ds) {
		return g.sliceSource.Read(ctx, out)
	}
	g.once.Do(func() { close(g.drained) })
	select {
	case <-g.release:
		return 0, io.EOF
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// record runs a recorder of ds to completion and returns the files.
func record(t testing.TB, set Settings, ds []hub.Delivery) ([]File, *logBuffer) {
	t.Helper()
	var files []File
	logs := &logBuffer{}
	r := NewRecorder(Stream{Vhost: "__defaultVhost__", App: "live", Name: "cam"}, set, Options{
		Log:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnFile: func(f File) { files = append(files, f) },
		Now:    steppingClock(),
	})
	if err := r.Run(context.Background(), &sliceSource{ds: ds}); err != nil {
		t.Fatal(err)
	}
	return files, logs
}

// steppingClock returns a clock that advances one second per call, so
// every file of a recording gets its own [timestamp].
func steppingClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// settings returns session-plan settings recording into dir.
func settings(dir, file string) Settings {
	return Settings{Plan: PlanSession, Path: filepath.Join(dir, file), WaitKeyframe: true, Duration: 30 * time.Second}
}

// readFLV reads a recorded FLV file.
func readFLV(t testing.TB, path string) (flv.Header, []flv.Tag) {
	t.Helper()
	h, tags, err := flv.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return h, tags
}

// metaNumbers returns onMetaData's number properties.
func metaNumbers(t testing.TB, tag flv.Tag) map[string]float64 {
	t.Helper()
	if tag.Type != flv.TagScript {
		t.Fatalf("first tag is type %d, want script data", tag.Type)
	}
	name, v, err := flv.ParseScriptData(tag.Data)
	if err != nil || name != flv.OnMetaData {
		t.Fatalf("onMetaData: %q %v", name, err)
	}
	arr, ok := v.(amf.ECMAArray)
	if !ok {
		t.Fatalf("onMetaData value %T", v)
	}
	out := map[string]float64{}
	for _, p := range arr {
		if f, ok := p.Value.(float64); ok {
			out[p.Key] = f
		}
	}
	return out
}

// listFiles returns the names in dir, sorted.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func hasTmp(names []string) bool {
	for _, n := range names {
		if strings.HasSuffix(n, TmpSuffix) {
			return true
		}
	}
	return false
}
