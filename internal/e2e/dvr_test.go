package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/hooks/hookserver"
)

// dvrConf records the default vhost to FLV (with dvr_path relative to the
// working directory, as SRS's default is) and vhost mp4.dvr to MP4, with
// plan and duration set by the test; every file is reported to hook.
const dvrConf = `
listen              127.0.0.1:{{rtmp}};
daemon              off;
srs_log_tank        console;
pid                 {{dir}}/castd.pid;
http_api {
    enabled         on;
    listen          127.0.0.1:{{api}};
}
vhost __defaultVhost__ {
    dvr {
        enabled         on;
        dvr_plan        %[1]s;
        dvr_duration    %[2]d;
        dvr_path        %[3]s/flv/[app]/[stream].[timestamp].flv;
    }
    http_hooks {
        enabled         on;
        on_dvr          %[5]s;
    }
}
vhost mp4.dvr {
    dvr {
        enabled         on;
        dvr_plan        %[1]s;
        dvr_duration    %[2]d;
        dvr_path        %[4]s/mp4/[app]/[stream].[timestamp].mp4;
    }
    http_hooks {
        enabled         on;
        on_dvr          %[5]s;
    }
}
`

// dvrSetup is a castd recording into a fresh directory.
type dvrSetup struct {
	c      *castd
	abs    string // the recording directory
	rel    string // the same, relative to the working directory
	hooks  *hookserver.Server
	cwd    string
	config string
}

func startDVR(t *testing.T, plan string, duration int) *dvrSetup {
	t.Helper()
	d := &dvrSetup{abs: t.TempDir(), hooks: hookserver.New(hookserver.Options{})}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	d.cwd = cwd
	if d.rel, err = filepath.Rel(cwd, d.abs); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(d.hooks)
	t.Cleanup(hs.Close)
	d.config = fmt.Sprintf(dvrConf, plan, duration, d.rel, d.abs, hs.URL+"/api/v1/dvrs")
	d.c = startCastd(t, d.config)
	return d
}

// dvrParam is the query every publish carries; on_dvr reports it as param.
const dvrParam = "token=dvr"

// publishTee publishes one encoded stream to both vhosts ("av": H.264 and
// AAC, "mp3": H.264 and MP3, "audio": AAC alone) for dur.
func (d *dvrSetup) publishTee(t *testing.T, stream, kind string, dur time.Duration) *proc {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "error", "-re"}
	if kind != "audio" {
		args = append(args, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25")
	}
	args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", fmt.Sprintf("%.1f", dur.Seconds()))
	if kind != "audio" {
		args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p")
	}
	if kind == "mp3" {
		args = append(args, "-c:a", "libmp3lame", "-b:a", "64k")
	} else {
		args = append(args, "-c:a", "aac", "-b:a", "64k")
	}
	args = append(args, "-map", "0:0")
	if kind != "audio" {
		args = append(args, "-map", "1:0")
	}
	args = append(args, "-flags", "+global_header", "-f", "tee",
		"[f=flv]"+d.c.rtmpURL("live/"+stream+"?"+dvrParam)+"|[f=flv]"+d.c.rtmpURL("live/"+stream+"?vhost=mp4.dvr&"+dvrParam))
	return startCmd(t, requireTool(t, "ffmpeg"), args...)
}

// files returns the finished recordings of a stream in one format, oldest first.
func (d *dvrSetup) files(t *testing.T, format, stream string) []string {
	t.Helper()
	got, err := filepath.Glob(filepath.Join(d.abs, format, "live", stream+".*."+format))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	return got
}

// waitFiles waits until a stream has n finished files of a format and no
// .tmp file left.
func (d *dvrSetup) waitFiles(t *testing.T, format, stream string, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		files := d.files(t, format, stream)
		tmps, _ := filepath.Glob(filepath.Join(d.abs, format, "live", stream+".*"+".tmp"))
		if len(files) >= n && len(tmps) == 0 {
			return files
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s: %d files %v and %d .tmp, want %d files", format, stream, len(files), files, len(tmps), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fileProbe is what ffprobe says of a file.
type fileProbe struct {
	Format struct {
		Duration string `json:"duration"`
		Size     string `json:"size"`
	} `json:"format"`
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
	Packets []struct {
		CodecType string `json:"codec_type"`
		Flags     string `json:"flags"`
	} `json:"packets"`
}

func (p fileProbe) duration(t *testing.T) float64 {
	t.Helper()
	d, err := strconv.ParseFloat(p.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", p.Format.Duration, err)
	}
	return d
}

// codecs returns "video/audio" codec names, e.g. "h264/aac" or "/aac".
func (p fileProbe) codecs() string {
	var v, a string
	for _, s := range p.Streams {
		switch s.CodecType {
		case "video":
			v = fmt.Sprintf("%s %dx%d", s.CodecName, s.Width, s.Height)
		case "audio":
			a = s.CodecName
		}
	}
	return v + "/" + a
}

// firstVideoIsKey reports whether the file's first video packet is a keyframe.
func (p fileProbe) firstVideoIsKey() bool {
	for _, pk := range p.Packets {
		if pk.CodecType == "video" {
			return strings.HasPrefix(pk.Flags, "K")
		}
	}
	return false
}

// probeFile runs ffprobe on a file, reading its first packets, and decodes
// the whole file with ffmpeg, which must report no error: the file plays.
func probeFile(t *testing.T, path string) fileProbe {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, requireTool(t, "ffprobe"), "-hide_banner", "-v", "error", "-of", "json",
		"-show_format", "-show_streams", "-show_packets", "-read_intervals", "%+#20", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p fileProbe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	dec, err := exec.CommandContext(ctx, requireTool(t, "ffmpeg"), "-hide_banner", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(dec))) > 0 {
		t.Errorf("decoding %s: %v\n%s", path, err, dec)
	}
	return p
}

// checkFLVMetadata checks that onMetaData's duration and filesize were
// rewritten at close.
func checkFLVMetadata(t *testing.T, path string, probed float64) {
	t.Helper()
	_, tags, err := flv.ReadFile(path)
	if err != nil || len(tags) == 0 {
		t.Fatalf("read %s: %v", path, err)
	}
	_, v, err := flv.ParseScriptData(tags[0].Data)
	arr, ok := v.(amf.ECMAArray)
	if err != nil || !ok {
		t.Fatalf("%s: first tag is not onMetaData: %v", path, err)
	}
	duration, _ := amf.Object(arr).Number("duration")
	filesize, _ := amf.Object(arr).Number("filesize")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if filesize != float64(st.Size()) {
		t.Errorf("%s: onMetaData filesize %v, file has %d bytes", path, filesize, st.Size())
	}
	if math.Abs(duration-probed) > 0.05 || duration <= 0 {
		t.Errorf("%s: onMetaData duration %v, ffprobe says %v", path, duration, probed)
	}
}

// onDVRs waits for n on_dvr hooks and returns their bodies.
func (d *dvrSetup) onDVRs(t *testing.T, n int, within time.Duration) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var out []map[string]any
		for _, h := range d.hooks.Hooks() {
			if h.Action == "on_dvr" {
				out = append(out, bodyOfHook(t, h))
			}
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d on_dvr hooks, want %d", len(out), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func bodyOfHook(t *testing.T, h hookserver.Hook) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(h.Body, &m); err != nil {
		t.Fatalf("hook body %s: %v", h.Body, err)
	}
	return m
}

// checkOnDVR checks the hook of every file: the fields SRS sends, file as
// dvr_path made it (relative when configured relative) and cwd.
func (d *dvrSetup) checkOnDVR(t *testing.T, bodies []map[string]any, files []string) {
	t.Helper()
	byFile := map[string]map[string]any{}
	for _, b := range bodies {
		byFile[fmt.Sprint(b["file"])] = b
	}
	for _, f := range files {
		rel, _ := filepath.Rel(d.abs, f)
		stream := strings.SplitN(filepath.Base(f), ".", 2)[0]
		vhost, configured := "__defaultVhost__", filepath.Join(d.rel, rel)
		if strings.HasSuffix(f, ".mp4") {
			vhost, configured = "mp4.dvr", f
		}
		b, ok := byFile[configured]
		if !ok {
			t.Errorf("no on_dvr with file %q; got %v", configured, keysOfFiles(byFile))
			continue
		}
		want := map[string]string{"action": "on_dvr", "vhost": vhost, "app": "live", "stream": stream, "ip": "127.0.0.1",
			"cwd": d.cwd, "stream_url": "/live/" + stream, "param": "?" + dvrParam}
		if vhost != "__defaultVhost__" {
			want["stream_url"], want["param"] = vhost+"/live/"+stream, "?vhost="+vhost+"&"+dvrParam
		}
		for k, v := range want {
			if got := fmt.Sprint(b[k]); got != v {
				t.Errorf("on_dvr %s: %s = %q, want %q", configured, k, got, v)
			}
		}
		for _, k := range []string{"server_id", "service_id", "client_id", "tcUrl", "stream_id"} {
			if s, _ := b[k].(string); s == "" {
				t.Errorf("on_dvr %s: %s missing", configured, k)
			}
		}
		if got := sortedKeys(b); got != srsOnDVRFields {
			t.Errorf("on_dvr %s has fields %s, SRS sends %s", configured, got, srsOnDVRFields)
		}
		if _, err := os.Stat(filepath.Join(fmt.Sprint(b["cwd"]), fmt.Sprint(b["file"]))); err != nil && !filepath.IsAbs(configured) {
			t.Errorf("on_dvr file is not where cwd+file says: %v", err)
		}
	}
}

// srsOnDVRFields are the fields of SRS v6's on_dvr body, sorted.
const srsOnDVRFields = "action app client_id cwd file ip param server_id service_id stream stream_id stream_url tcUrl vhost"

func sortedKeys(m map[string]any) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, " ")
}

func keysOfFiles(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestDVRSession records three publishes (H.264+AAC, H.264+MP3, AAC alone)
// to FLV and MP4 at once: one file each, with the right codecs, size and
// duration, FLV metadata rewritten, and an on_dvr hook per file.
func TestDVRSession(t *testing.T) {
	d := startDVR(t, "session", 30)
	pubs := []*proc{
		d.publishTee(t, "av", "av", 4*time.Second),
		d.publishTee(t, "mp3", "mp3", 4*time.Second),
		d.publishTee(t, "audio", "audio", 4*time.Second),
	}
	for _, p := range pubs {
		if err := p.Wait(); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, p.out.String())
		}
	}
	want := map[string]string{"av": "h264 320x240/aac", "mp3": "h264 320x240/mp3", "audio": "/aac"}
	var all []string
	for _, format := range []string{"flv", "mp4"} {
		for stream, codecs := range want {
			files := d.waitFiles(t, format, stream, 1, 5*time.Second)
			if len(files) != 1 {
				t.Fatalf("%s %s: files %v", format, stream, files)
			}
			all = append(all, files[0])
			p := probeFile(t, files[0])
			if p.codecs() != codecs {
				t.Errorf("%s: codecs %s, want %s", files[0], p.codecs(), codecs)
			}
			if dur := p.duration(t); math.Abs(dur-4) > 0.4 {
				t.Errorf("%s: duration %v, want 4 s within 10%%", files[0], dur)
			}
			if stream != "audio" && !p.firstVideoIsKey() {
				t.Errorf("%s does not start with a keyframe", files[0])
			}
			if format == "flv" {
				checkFLVMetadata(t, files[0], p.duration(t))
			}
		}
	}
	d.checkOnDVR(t, d.onDVRs(t, len(all), 5*time.Second), all)
}

// TestDVRSegment cuts a 7 s publish into 2 s files at keyframes, each
// playable alone and starting with a keyframe.
func TestDVRSegment(t *testing.T) {
	d := startDVR(t, "segment", 2)
	pub := d.publishTee(t, "seg", "av", 7*time.Second)
	if err := pub.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, pub.out.String())
	}
	var all []string
	for _, format := range []string{"flv", "mp4"} {
		files := d.waitFiles(t, format, "seg", 4, 5*time.Second)
		if len(files) != 4 {
			t.Fatalf("%s: %d files %v, want 4", format, len(files), files)
		}
		all = append(all, files...)
		var total float64
		for i, f := range files {
			p := probeFile(t, f)
			dur := p.duration(t)
			total += dur
			if !p.firstVideoIsKey() || p.codecs() != "h264 320x240/aac" {
				t.Errorf("%s: codecs %s, first video keyframe %v", f, p.codecs(), p.firstVideoIsKey())
			}
			if i < len(files)-1 && math.Abs(dur-2) > 0.2 {
				t.Errorf("%s lasts %v, want 2 s within 10%%", f, dur)
			}
			if format == "flv" {
				checkFLVMetadata(t, f, dur)
			}
		}
		if math.Abs(total-7) > 0.5 {
			t.Errorf("%s files last %v in all, published 7 s", format, total)
		}
	}
	d.checkOnDVR(t, d.onDVRs(t, len(all), 5*time.Second), all)
}

// TestDVRAbruptEnds: a publisher killed with SIGKILL leaves complete files
// as long as what it sent, and castd stopped mid-recording (its context
// cancelled, as SIGTERM does) finishes the files it has open before Wait
// returns.
func TestDVRAbruptEnds(t *testing.T) {
	d := startDVR(t, "session", 30)
	start := time.Now()
	killed := d.publishTee(t, "killed", "av", 30*time.Second)
	running := d.publishTee(t, "running", "av", 30*time.Second)
	d.c.waitPublished(t, "killed", 10*time.Second)
	time.Sleep(time.Until(start.Add(4 * time.Second)))
	// What castd had received is the reference, not the wall clock: a
	// loaded machine slows ffmpeg's -re pace.
	received := float64(streamFrames(t, d.c, "killed")) / 25
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	sent := time.Since(start).Seconds()
	for _, format := range []string{"flv", "mp4"} {
		f := d.waitFiles(t, format, "killed", 1, 5*time.Second)[0]
		p := probeFile(t, f)
		// Nothing castd received is lost (the frames after the count may
		// add a little), and nothing is invented.
		if dur := p.duration(t); dur < received-0.2 || dur > sent {
			t.Errorf("%s: %v s recorded, %.2f s of video received before the publisher was killed after %.2f s", f, dur, received, sent)
		}
		if p.codecs() != "h264 320x240/aac" {
			t.Errorf("%s: codecs %s", f, p.codecs())
		}
	}

	time.Sleep(time.Second)
	d.c.stop() // Wait returns after the recordings are finished
	stopped := time.Since(start).Seconds()
	for _, format := range []string{"flv", "mp4"} {
		files := d.waitFiles(t, format, "running", 1, 0)
		p := probeFile(t, files[0])
		if dur := p.duration(t); dur < stopped-2 || dur > stopped {
			t.Errorf("%s: %v s recorded, castd stopped after %.2f s", files[0], dur, stopped)
		}
		if format == "flv" {
			checkFLVMetadata(t, files[0], p.duration(t))
		}
	}
	_ = running
}

// TestDVRRecoversTmpFiles: .tmp files a killed castd left are finalized at
// startup: FLV cut after its last complete tag and renamed; a progressive
// MP4 without its index cannot be, and stays with an error in the log.
func TestDVRRecoversTmpFiles(t *testing.T) {
	ffmpeg := requireTool(t, "ffmpeg")
	src := t.TempDir()
	made := map[string]string{"flv": filepath.Join(src, "a.flv"), "mp4": filepath.Join(src, "a.mp4")}
	for _, out := range made {
		cmd := exec.Command(ffmpeg, "-hide_banner", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
			"-f", "lavfi", "-i", "sine", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
			"-pix_fmt", "yuv420p", "-c:a", "aac", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, b)
		}
	}
	d := &dvrSetup{abs: t.TempDir(), hooks: hookserver.New(hookserver.Options{})}
	d.rel = d.abs
	leftovers := map[string]string{
		"flv": filepath.Join(d.abs, "flv", "live", "old.1700000000000.flv.tmp"),
		"mp4": filepath.Join(d.abs, "mp4", "live", "old.1700000000000.mp4.tmp"),
	}
	for format, tmp := range leftovers {
		b, err := os.ReadFile(made[format])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(tmp), 0o755); err != nil {
			t.Fatal(err)
		}
		// The recording was killed at 60% of its bytes, mid-tag.
		if err := os.WriteFile(tmp, b[:len(b)*6/10], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := startCastd(t, fmt.Sprintf(dvrConf, "session", 30, d.abs, d.abs, "http://127.0.0.1:1/unused"))
	flvFile := strings.TrimSuffix(leftovers["flv"], ".tmp")
	p := probeFile(t, flvFile)
	if dur := p.duration(t); dur < 1 || dur > 2.5 || p.codecs() != "h264 320x240/aac" {
		t.Errorf("recovered FLV: %v s, %s", dur, p.codecs())
	}
	checkFLVMetadata(t, flvFile, p.duration(t))
	if _, err := os.Stat(leftovers["flv"]); !os.IsNotExist(err) {
		t.Errorf("FLV .tmp still there: %v", err)
	}
	if _, err := os.Stat(leftovers["mp4"]); err != nil {
		t.Errorf("the unrecoverable MP4 .tmp must be kept: %v", err)
	}
	c.waitLog(t, "cannot recover an unfinished MP4 recording", time.Second)
}

// TestDVRApply: with dvr_apply naming streams, a stream not in the list
// is published but not recorded.
func TestDVRApply(t *testing.T) {
	c := startCastd(t, `
listen              127.0.0.1:{{rtmp}};
daemon              off;
srs_log_tank        console;
pid                 {{dir}}/castd.pid;
http_api {
    enabled         on;
    listen          127.0.0.1:{{api}};
}
vhost __defaultVhost__ {
    dvr {
        enabled     on;
        dvr_apply   live/kept other/skipped;
        dvr_path    {{dir}}/rec/flv/[app]/[stream].[timestamp].flv;
    }
}
`)
	d := &dvrSetup{c: c, abs: filepath.Join(c.dir, "rec")}
	kept := ffmpegPublish(t, c.rtmpURL("live/kept"), 2*time.Second)
	skipped := ffmpegPublish(t, c.rtmpURL("live/skipped"), 2*time.Second)
	for _, p := range []*proc{kept, skipped} {
		if err := p.Wait(); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, p.out.String())
		}
	}
	files := d.waitFiles(t, "flv", "kept", 1, 5*time.Second)
	if p := probeFile(t, files[0]); p.codecs() != "h264 320x240/aac" {
		t.Errorf("%s: codecs %s", files[0], p.codecs())
	}
	// Both publishes ended before kept's file was renamed: a recording of
	// skipped would be there by now.
	var all []string
	_ = filepath.WalkDir(d.abs, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			all = append(all, p)
		}
		return nil
	})
	if len(all) != 1 {
		t.Errorf("recordings %v, want only live/kept's", all)
	}
	c.waitLog(t, "rtmp: publish end", time.Second) // skipped was really published
	if !strings.Contains(c.logs.String(), `stream=/live/skipped`) {
		t.Errorf("live/skipped was never published")
	}
}

// TestDVRGracefulQuit: a graceful quit (SIGQUIT: Server.Drain) waits for
// the publisher, then for its recordings to be finished, and sends their
// on_dvr hooks before it returns.
func TestDVRGracefulQuit(t *testing.T) {
	d := startDVR(t, "session", 30)
	start := time.Now()
	pub := d.publishTee(t, "drain", "av", 30*time.Second)
	d.c.waitPublished(t, "drain", 10*time.Second)
	time.Sleep(time.Until(start.Add(3 * time.Second)))

	drained := make(chan struct{})
	go func() {
		defer close(drained)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		d.c.srv.Drain(ctx)
	}()
	// Drain waits grace_start_wait, then for the publisher to leave.
	time.Sleep(500 * time.Millisecond)
	if err := pub.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-drained:
	case <-time.After(30 * time.Second):
		t.Fatal("Drain did not return")
	}
	var files []string
	for _, format := range []string{"flv", "mp4"} {
		files = append(files, d.waitFiles(t, format, "drain", 1, 0)...)
	}
	// No waiting: Drain returned after sending them.
	d.checkOnDVR(t, d.onDVRs(t, 2, 0), files)
	for _, f := range files {
		if dur := probeFile(t, f).duration(t); dur < 2 {
			t.Errorf("%s: %v s recorded", f, dur)
		}
	}
}

// streamFrames returns the video frames castd received for a stream, as
// the API counts them.
func streamFrames(t *testing.T, c *castd, name string) int {
	t.Helper()
	var r struct {
		Streams []struct {
			Name   string
			Frames int
		}
	}
	getJSON(t, "GET", c.apiURL("api/v1/streams/?count=100"), &r)
	for _, s := range r.Streams {
		if s.Name == name {
			return s.Frames
		}
	}
	t.Fatalf("stream %s is not in the API", name)
	return 0
}
