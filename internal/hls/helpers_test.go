package hls_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/format/mpegts"
	"github.com/castd/castd/internal/hls"
	"github.com/castd/castd/internal/hls/hlstest"
	"github.com/castd/castd/internal/hub"
)

// Test media: H.264 parameter sets and frames are opaque to the muxer; the
// AAC config is LC 44.1 kHz stereo.
var (
	testSPS  = []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50}
	testPPS  = []byte{0x68, 0xeb, 0xe3, 0xcb}
	testSPS2 = []byte{0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x50}
	testASC  = []byte{0x12, 0x10}
)

func packet(t testing.TB, kind av.Kind, ms int64, payload []byte) *av.Packet {
	t.Helper()
	p, err := av.NewPacket(kind, uint32(ms), payload)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// avcConfig is an FLV AVC sequence header with 4-byte NALU lengths.
func avcConfig(sps, pps []byte) []byte {
	b := []byte{0x17, 0, 0, 0, 0, 1, sps[1], sps[2], sps[3], 0xff, 0xe1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	return append(b, pps...)
}

// avcFrame is an FLV AVC frame with one slice of n bytes.
func avcFrame(key bool, n int) []byte {
	first, nal := byte(0x27), byte(0x41)
	if key {
		first, nal = 0x17, 0x65
	}
	slice := append([]byte{nal}, bytes.Repeat([]byte{0xab}, n)...)
	return av.AppendAVCC([]byte{first, 1, 0, 0, 0}, slice)
}

func aacConfig(asc []byte) []byte { return append([]byte{0xaf, 0}, asc...) }
func aacFrame(n int) []byte       { return append([]byte{0xaf, 1}, bytes.Repeat([]byte{0x21}, n)...) }

// mp3Frame is an MPEG-1 layer III frame at 128 kb/s, 44.1 kHz, stereo.
func mp3Frame() []byte {
	f := make([]byte, 417)
	copy(f, []byte{0xff, 0xfb, 0x90, 0x64})
	return append([]byte{0x2f}, f...)
}

// metadata is an onMetaData packet with the given properties.
func metadata(t testing.TB, props ...amf.Property) *av.Packet {
	t.Helper()
	b, err := flv.AppendScriptData(nil, "onMetaData", amf.ECMAArray(props))
	if err != nil {
		t.Fatal(err)
	}
	return packet(t, av.KindData, 0, b)
}

// streamSpec describes generated media.
type streamSpec struct {
	from, dur time.Duration // timestamps from..from+dur
	fps       int           // video frames per second; 0 for no video
	gop       time.Duration // keyframe interval
	audio     bool          // AAC at 44.1 kHz (23.2 ms per frame)
	mp3       bool          // MP3 instead of AAC
	headers   bool          // sequence headers first
	sps       []byte        // the SPS of the headers; testSPS when nil
}

// generate returns the packets of s in timestamp order, as a publisher sends them.
func generate(t testing.TB, s streamSpec) []*av.Packet {
	t.Helper()
	var out []*av.Packet
	start := s.from.Milliseconds()
	if s.headers {
		if s.fps > 0 {
			sps := s.sps
			if sps == nil {
				sps = testSPS
			}
			out = append(out, packet(t, av.KindVideo, start, avcConfig(sps, testPPS)))
		}
		if s.audio && !s.mp3 {
			out = append(out, packet(t, av.KindAudio, start, aacConfig(testASC)))
		}
	}
	var vi, ai int64
	end := start + s.dur.Milliseconds()
	for {
		vt := int64(1 << 62)
		if s.fps > 0 {
			vt = start + vi*1000/int64(s.fps)
		}
		at := int64(1 << 62)
		if s.audio {
			step := 1024.0
			if s.mp3 {
				step = 1152
			}
			at = start + int64(float64(ai)*step*1000/44100)
		}
		if vt >= end && at >= end {
			return out
		}
		if vt <= at {
			gopFrames := max(int64(s.gop.Seconds()*float64(s.fps)+0.5), 1)
			key := vi%gopFrames == 0
			out = append(out, packet(t, av.KindVideo, vt, avcFrame(key, 200)))
			vi++
			continue
		}
		payload := aacFrame(100)
		if s.mp3 {
			payload = mp3Frame()
		}
		out = append(out, packet(t, av.KindAudio, at, payload))
		ai++
	}
}

// defaultHLS is the vhost.hls block of a config that only turns hls on,
// writing under dir.
func defaultHLS(t testing.TB, dir string) conf.HLS {
	t.Helper()
	cfg, err := conf.Parse("t.conf", []byte("listen 1935; vhost __defaultVhost__ { hls { enabled on; } }"), conf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Vhost(conf.DefaultVhost).HLS
	h.Path, h.KeyFilePath, h.KeyURL = dir, dir, dir
	return h
}

// harness runs a Muxer into a temp dir and checks the playlist after every
// segment with a hlstest.Checker.
type harness struct {
	t     *testing.T
	dir   string
	cfg   conf.HLS
	m     *hls.Muxer
	segs  []hls.Segment
	check *hlstest.Checker
	now   time.Time
}

var testKey = hub.Key{Vhost: conf.DefaultVhost, App: "live", Name: "cam"}

func newHarness(t *testing.T, edit func(*conf.HLS)) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), now: time.Date(2024, 5, 6, 7, 8, 9, 10e6, time.UTC)}
	h.cfg = defaultHLS(t, h.dir)
	h.cfg.Fragment, h.cfg.Window = time.Second, 5*time.Second
	if edit != nil {
		edit(&h.cfg)
	}
	h.check = &hlstest.Checker{}
	m, err := hls.NewMuxer(hls.MuxerOptions{
		Key: testKey, Config: h.cfg, Location: time.UTC,
		Now:       func() time.Time { return h.now },
		OnSegment: h.segment,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	return h
}

// segment checks the playlist the moment a segment is listed.
func (h *harness) segment(s hls.Segment) {
	h.t.Helper()
	h.segs = append(h.segs, s)
	h.now = h.now.Add(s.Duration)
	b, err := os.ReadFile(filepath.FromSlash(s.M3U8))
	if err != nil {
		h.t.Fatalf("playlist after segment %d: %v", s.Seq, err)
	}
	h.check.Dir = filepath.Dir(filepath.FromSlash(s.M3U8))
	if _, problems := h.check.Check(b); len(problems) > 0 {
		h.t.Fatalf("playlist after segment %d:\n%s\n%s", s.Seq, strings.Join(problems, "\n"), b)
	}
}

// publish runs one publish of packets.
func (h *harness) publish(packets []*av.Packet) {
	h.t.Helper()
	if err := h.m.Begin(h.cfg); err != nil {
		h.t.Fatal(err)
	}
	for _, p := range packets {
		if err := h.m.Write(p); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := h.m.End(); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) playlist() *hls.MediaPlaylist {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, "live", "cam.m3u8"))
	if err != nil {
		h.t.Fatal(err)
	}
	p, err := hls.ParseMediaPlaylist(b)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// durations lists the closed segments' durations in milliseconds.
func (h *harness) durations() []int64 {
	var out []int64
	for _, s := range h.segs {
		out = append(out, s.Duration.Milliseconds())
	}
	return out
}

// files lists the files under the harness dir, relative, sorted.
func (h *harness) files() []string {
	h.t.Helper()
	var out []string
	err := filepath.WalkDir(h.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(h.dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// tsFrames demuxes a segment file.
func tsFrames(t testing.TB, data []byte) ([]mpegts.Frame, *mpegts.Demuxer) {
	t.Helper()
	d := mpegts.NewDemuxer(bytes.NewReader(data))
	var frames []mpegts.Frame
	for {
		f, err := d.ReadFrame()
		if err == io.EOF {
			return frames, d
		}
		if err != nil {
			t.Fatalf("demux: %v", err)
		}
		frames = append(frames, f)
	}
}

// seen returns the segment with seq, which the harness must have seen.
func (h *harness) seen(seq int64) hls.Segment {
	h.t.Helper()
	for _, s := range h.segs {
		if s.Seq == seq {
			return s
		}
	}
	h.t.Fatalf("segment %d never made", seq)
	return hls.Segment{}
}
