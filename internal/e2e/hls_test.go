package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/castd/castd/internal/hls"
	"github.com/castd/castd/internal/hls/hlstest"
	"github.com/castd/castd/internal/hooks/hookserver"
)

// hlsConf is a server with HLS written into the HTTP root, so the HTTP
// server serves it as SRS's default layout does. directives are the
// default vhost's hls{} directives beyond enabled and hls_path, inVhost
// more of its directives, extra more config (other vhosts).
func hlsConf(directives, inVhost, extra string) string {
	return `
listen 127.0.0.1:{{rtmp}};
http_api { enabled on; listen 127.0.0.1:{{api}}; }
http_server { enabled on; listen 127.0.0.1:{{http}}; dir {{dir}}; }
vhost __defaultVhost__ {
    hls { enabled on; hls_path {{dir}}; ` + directives + ` }
    ` + inVhost + `
}
` + extra
}

// hlsClient fetches playlists and segments; no connection outlives a request,
// so none is left to a server a test stopped.
var hlsClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// fetch GETs u and returns the response with its body read.
func fetch(t *testing.T, u string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := hlsClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp, body
}

// resolve is ref seen from the page base, as a player resolves playlist URIs.
func resolve(t *testing.T, base, ref string) string {
	t.Helper()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		t.Fatalf("URI %q: %v", ref, err)
	}
	return b.ResolveReference(r).String()
}

const (
	playlistContentType = "application/vnd.apple.mpegurl"
	segmentContentType  = "video/mp2t" // SRS writes video/MP2T; types are case-insensitive
)

// playlistWatch reads a live playlist over HTTP the way a player does,
// checking every version with a hlstest.Checker (target duration, media
// sequence, segments on disk when listed) and fetching every segment the
// moment it is first listed: it must be there, whole, with its type, and
// when the playlist gives it a key, encrypted with that key (fetched from
// castd too).
type playlistWatch struct {
	t       *testing.T
	url     string // the media playlist, once a master playlist was followed
	check   hlstest.Checker
	fetched map[int64]bool
	keys    map[string][]byte // by URL
	last    *hls.MediaPlaylist
	reads   int
	slid    bool // the media sequence moved: the window slid
}

// newPlaylistWatch watches path under castd's HTTP root, whose files are
// in the same place under its dir.
func newPlaylistWatch(t *testing.T, c *castd, path string) *playlistWatch {
	w := &playlistWatch{t: t, url: c.httpURL(path), fetched: map[int64]bool{}, keys: map[string][]byte{}}
	dir, _, _ := strings.Cut(path, "?")
	w.check.Dir = filepath.Join(c.dir, filepath.FromSlash(dir), "..")
	return w
}

// poll reads the playlist once; it returns nil while there is none yet.
// A master playlist (castd's hls_ctx session) is followed to its entry.
func (w *playlistWatch) poll() *hls.MediaPlaylist {
	t := w.t
	t.Helper()
	resp, body := fetch(t, w.url)
	if resp.StatusCode == http.StatusNotFound && w.reads == 0 {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("playlist %s: status %d: %s", w.url, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != playlistContentType {
		t.Errorf("playlist Content-Type %q, want %q", ct, playlistContentType)
	}
	if w.reads == 0 && bytes.Contains(body, []byte("#EXT-X-STREAM-INF:")) {
		w.url = resolve(t, w.url, masterEntry(t, body))
		return w.poll()
	}
	p, problems := w.check.Check(body)
	if len(problems) > 0 {
		t.Fatalf("playlist read %d breaks the rules:\n%s\n%s", w.reads+1, strings.Join(problems, "\n"), body)
	}
	if w.last != nil && p.MediaSequence != w.last.MediaSequence {
		w.slid = true
	}
	w.last = p
	w.reads++
	for _, s := range p.Segments {
		if !w.fetched[s.Seq] {
			w.fetched[s.Seq] = true
			w.fetchSegment(s)
		}
	}
	return p
}

func (w *playlistWatch) fetchSegment(s hls.Entry) {
	t := w.t
	t.Helper()
	u := resolve(t, w.url, s.URI)
	resp, seg := fetch(t, u)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("segment %d listed but %s answers %d", s.Seq, u, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.EqualFold(ct, segmentContentType) {
		t.Errorf("segment Content-Type %q, want %q", ct, segmentContentType)
	}
	if s.Key != nil {
		if len(seg) > 376 && seg[0] == 0x47 && seg[188] == 0x47 && seg[376] == 0x47 {
			t.Fatalf("segment %d has a key but is a plain transport stream", s.Seq)
		}
		seg = decryptSegment(t, w.key(resolve(t, w.url, s.Key.URI)), s.Key.IV[:], seg)
	}
	if len(seg) == 0 || len(seg)%188 != 0 || seg[0] != 0x47 {
		t.Fatalf("segment %d (%s): %d bytes, not a whole transport stream", s.Seq, u, len(seg))
	}
}

// key fetches an AES-128 key once.
func (w *playlistWatch) key(u string) []byte {
	t := w.t
	t.Helper()
	if k := w.keys[u]; k != nil {
		return k
	}
	resp, k := fetch(t, u)
	if resp.StatusCode != http.StatusOK || len(k) != 16 {
		t.Fatalf("key %s: status %d, %d bytes", u, resp.StatusCode, len(k))
	}
	w.keys[u] = k
	return k
}

// watchUntil polls every 200 ms until done reports true, failing after within.
func (w *playlistWatch) watchUntil(within time.Duration, what string, done func(*hls.MediaPlaylist) bool) {
	w.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if p := w.poll(); p != nil && done(p) {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: not within %v; last playlist %+v", what, within, w.last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// seqs lists the sequence numbers the watch saw, in order.
func (w *playlistWatch) seqs() []int64 {
	var out []int64
	for _, e := range w.check.Seen() {
		out = append(out, e.Seq)
	}
	return out
}

// TestHLSPlaylistLive watches castd's playlist over two publishes of one
// stream: every version obeys the playlist rules, the window slides with
// the media sequence following it, every listed segment is there, and the
// republish continues the numbering after a discontinuity.
func TestHLSPlaylistLive(t *testing.T) {
	c := startCastd(t, hlsConf("hls_fragment 1; hls_window 3; hls_ctx off;", "", ""))
	w := newPlaylistWatch(t, c, "live/watched.m3u8")
	w.check.MinDuration, w.check.MaxDuration = 900*time.Millisecond, 1500*time.Millisecond

	first := ffmpegPublish(t, c.rtmpURL("live/watched"), 7*time.Second)
	w.watchUntil(20*time.Second, "the first publish", func(*hls.MediaPlaylist) bool { return first.Exited() })
	if err := first.Wait(); err != nil {
		t.Fatalf("first publish: %v", err)
	}
	// The publish's last segment is listed once the publisher has left.
	c.waitLog(t, "hls: end", 5*time.Second)
	w.poll()
	lastOfFirst := w.last.Segments[len(w.last.Segments)-1].Seq
	if !w.slid {
		t.Fatalf("the window never slid in 7 s of 1 s segments and a 3 s window: %+v", w.last)
	}

	second := ffmpegPublish(t, c.rtmpURL("live/watched"), 5*time.Second)
	w.watchUntil(20*time.Second, "the second publish", func(p *hls.MediaPlaylist) bool {
		return second.Exited() && p.Segments[len(p.Segments)-1].Seq > lastOfFirst+3
	})

	seqs := w.seqs()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("sequence numbers jump from %d to %d: %v", seqs[i-1], seqs[i], seqs)
		}
	}
	if seqs[0] != 0 {
		t.Errorf("the first segment is %d, want 0", seqs[0])
	}
	if d := w.check.Discontinuities(); !slices.Equal(d, []int64{lastOfFirst + 1}) {
		t.Errorf("discontinuities at %v, want one at %d, the republish's first segment", d, lastOfFirst+1)
	}
	// The discontinuity has left the 3 s window: the playlist counts it.
	if w.last.DiscontinuitySequence != 1 {
		t.Errorf("EXT-X-DISCONTINUITY-SEQUENCE %d once the republish's first segment left, want 1", w.last.DiscontinuitySequence)
	}
	t.Logf("%d playlist reads, segments %d..%d, republish at %d", w.reads, seqs[0], seqs[len(seqs)-1], lastOfFirst+1)
}

// hlsProbeConf has one vhost per kind of stream the probe test publishes.
var hlsProbeConf = hlsConf("hls_fragment 2; hls_window 10;", "", `
vhost mp3.hls { hls { enabled on; hls_path {{dir}}; hls_fragment 2; hls_window 10; } }
vhost audio.hls { hls { enabled on; hls_path {{dir}}; hls_fragment 1; hls_aof_ratio 2; hls_window 10; hls_dts_directly off; } }
`)

// TestHLSProbe: ffprobe reads castd's HLS of H.264+AAC, H.264+MP3 and
// AAC-only streams published by ffmpeg, finds the right codecs, and each
// segment lasts what the playlist says within 10%.
func TestHLSProbe(t *testing.T) {
	c := startCastd(t, hlsProbeConf)
	ffmpegPublish(t, c.rtmpURL("live/avc"), 15*time.Second)
	ffmpegPublish(t, c.rtmpURL("live/mp3?vhost=mp3.hls"), 15*time.Second, "-tune", "zerolatency", "-c:a", "libmp3lame", "-ar", "44100")
	ffmpegPublishAudio(t, c.rtmpURL("live/aac?vhost=audio.hls"), 15*time.Second)

	for _, tc := range []struct {
		name   string
		path   string // the playlist under the HTTP root
		codecs []string
		// segment is the duration segments are cut at.
		segment time.Duration
		// sampleClock: audio timestamps count samples (hls_dts_directly off).
		sampleClock bool
	}{
		{"H.264+AAC", "live/avc.m3u8", []string{"video:h264", "audio:aac"}, 2 * time.Second, false},
		{"H.264+MP3", "live/mp3.m3u8?vhost=mp3.hls", []string{"video:h264", "audio:mp3"}, 2 * time.Second, false},
		// Audio only: cut at hls_aof_ratio fragments, timed by counting samples.
		{"AAC only", "live/aac.m3u8?vhost=audio.hls", []string{"audio:aac"}, 2 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newPlaylistWatch(t, c, tc.path)
			w.watchUntil(20*time.Second, "three segments", func(p *hls.MediaPlaylist) bool { return len(p.Segments) >= 3 })
			p := ffprobe(t, w.url, 0)
			var codecs []string
			for _, s := range p.Streams {
				codecs = append(codecs, s.CodecType+":"+s.CodecName)
			}
			if !slices.Equal(codecs, tc.codecs) {
				t.Errorf("ffprobe finds %v in the playlist, want %v", codecs, tc.codecs)
			}
			var listed, probed []string
			for _, s := range w.last.Segments {
				if d := s.Duration - tc.segment; d < -100*time.Millisecond || d > 100*time.Millisecond {
					t.Errorf("segment %d lasts %v, want about %v", s.Seq, s.Duration, tc.segment)
				}
				packets := probePackets(t, resolve(t, w.url, s.URI))
				got := packetSpan(packets)
				if tc.sampleClock {
					checkSampleClock(t, s.Seq, packets)
				}
				if want := s.Duration.Seconds(); math.Abs(got-want) > want/10 {
					t.Errorf("segment %d: ffprobe reads %.3fs, EXTINF says %.3fs", s.Seq, got, want)
				}
				listed, probed = append(listed, fmt.Sprintf("%.3f", s.Duration.Seconds())), append(probed, fmt.Sprintf("%.3f", got))
			}
			t.Logf("%v; segments of %v s, ffprobe reads %v s", codecs, listed, probed)
		})
	}
}

// probePacket is a packet as ffprobe reads it: times in 90 kHz ticks.
type probePacket struct {
	PTS      int64 `json:"pts"`
	Duration int64 `json:"duration"`
}

// probePackets lists a file's packets by ffprobe.
func probePackets(t *testing.T, u string) []probePacket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, requireTool(t, "ffprobe"), "-hide_banner", "-v", "error",
		"-show_entries", "packet=pts,duration", "-of", "json", u).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", u, err)
	}
	var r struct{ Packets []probePacket }
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	if len(r.Packets) == 0 {
		t.Fatalf("ffprobe finds no packet in %s", u)
	}
	return r.Packets
}

// packetSpan is the time packets cover, in seconds: from the first one's
// PTS to the end of the last one of any stream. (ffprobe's format duration
// undercounts audio PES holding many frames, which HLS's pure-audio
// segments have.)
func packetSpan(packets []probePacket) float64 {
	first, end := int64(math.MaxInt64), int64(math.MinInt64)
	for _, p := range packets {
		first, end = min(first, p.PTS), max(end, p.PTS+p.Duration)
	}
	return float64(end-first) / 90000
}

// checkSampleClock checks that AAC frames of 1024 samples at 44.1 kHz
// follow each other by 1024×90000/44100 = 2089.8 ticks, PES after PES
// (SRS #547): with FLV's whole-millisecond timestamps (hls_dts_directly
// on) a PES would start 2070 or 2160 ticks after the frame before. ffprobe
// times the frames inside a PES itself, so a tick of rounding either way
// is its own.
func checkSampleClock(t *testing.T, seq int64, packets []probePacket) {
	t.Helper()
	for i := 1; i < len(packets); i++ {
		if d := packets[i].PTS - packets[i-1].PTS; d < 2088 || d > 2091 {
			t.Errorf("segment %d: audio frame %d starts %d ticks after the one before, want 2089.8±2", seq, i, d)
			return
		}
	}
}

// ffmpegPublishAudio publishes a generated AAC-only stream, as
// ffmpegPublish does with video.
func ffmpegPublishAudio(t *testing.T, url string, dur time.Duration) *proc {
	t.Helper()
	return startCmd(t, requireTool(t, "ffmpeg"), "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", fmt.Sprintf("%.1f", dur.Seconds()),
		"-c:a", "aac", "-b:a", "64k", "-ac", "2", "-f", "flv", url)
}

// TestHLSEncrypted: with hls_keys, segments are AES-128 encrypted, keys
// change every hls_fragments_per_key segments and are served by castd, and
// ffmpeg decodes the stream.
func TestHLSEncrypted(t *testing.T) {
	c := startCastd(t, hlsConf("hls_fragment 1; hls_window 6; hls_keys on; hls_fragments_per_key 2; hls_ctx off;", "", ""))
	ffmpegPublish(t, c.rtmpURL("live/secret"), 15*time.Second)

	w := newPlaylistWatch(t, c, "live/secret.m3u8")
	w.watchUntil(20*time.Second, "five segments", func(p *hls.MediaPlaylist) bool { return len(p.Segments) >= 5 })
	// Two segments per key: segments 2n and 2n+1 share one.
	for _, s := range w.last.Segments {
		if s.Key == nil {
			t.Fatalf("segment %d is not encrypted", s.Seq)
		}
		if want := fmt.Sprintf("secret-%d.key", s.Seq-s.Seq%2); s.Key.URI != want {
			t.Errorf("segment %d uses key %s, want %s", s.Seq, s.Key.URI, want)
		}
	}

	// ffmpeg fetches the keys from castd and decodes two seconds of video
	// without an error.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, requireTool(t, "ffmpeg"), "-hide_banner", "-v", "error", "-xerror",
		"-i", w.url, "-frames:v", "50", "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("ffmpeg decoding the encrypted stream: %v\n%s", err, out)
	}
	p := ffprobe(t, w.url, 0)
	if len(p.Streams) != 2 || p.Streams[0].CodecName != "h264" || p.Streams[1].CodecName != "aac" {
		t.Errorf("ffprobe of the encrypted stream: %+v", p.Streams)
	}
}

// decryptSegment undoes HLS's AES-128: CBC with PKCS#7 padding.
func decryptSegment(t *testing.T, key, iv, body []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) == 0 || len(body)%aes.BlockSize != 0 {
		t.Fatalf("encrypted segment of %d bytes", len(body))
	}
	out := make([]byte, len(body))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, body)
	pad := int(out[len(out)-1])
	if pad < 1 || pad > aes.BlockSize || !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		t.Fatalf("bad PKCS#7 padding % x", out[max(0, len(out)-aes.BlockSize):])
	}
	return out[:len(out)-pad]
}

// hlsHookConf enables the play and HLS hooks of the default vhost to url,
// with hls_ctx sessions (SRS's default) that end 2×hls_window (4 s) after
// a player's last request.
func hlsHookConf(url string) string {
	notify := strings.TrimSuffix(url, hookserver.HooksPath+"/events") + "/notify/[app]/[stream]?ts=[ts_url]"
	return hlsConf("hls_fragment 1; hls_window 2;", fmt.Sprintf(`
    http_hooks {
        enabled on;
        on_play %[1]s; on_stop %[1]s; on_hls %[1]s;
        on_hls_notify %[2]s;
    }`, url, notify), "")
}

// masterEntry reads the one URI of castd's session playlist.
func masterEntry(t *testing.T, body []byte) string {
	t.Helper()
	var uris []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			uris = append(uris, line)
		}
	}
	if !bytes.Contains(body, []byte("#EXT-X-STREAM-INF:")) || len(uris) != 1 {
		t.Fatalf("not a one-entry master playlist:\n%s", body)
	}
	return uris[0]
}

// waitHook waits for a hook that satisfies ok and returns it.
func waitHook(t *testing.T, hs *hookserver.Server, what string, within time.Duration, ok func(hookserver.Hook) bool) hookserver.Hook {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, h := range hs.Hooks() {
			if ok(h) {
				return h
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v; hooks: %v", what, within, hs.Actions())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clientIDs maps the ids of the clients the API lists to their types.
func clientIDs(t *testing.T, c *castd) map[string]string {
	t.Helper()
	var r struct {
		Clients []struct{ ID, Type string }
	}
	getJSON(t, "GET", c.apiURL("api/v1/clients/?count=100"), &r)
	out := map[string]string{}
	for _, cl := range r.Clients {
		out[cl.ID] = cl.Type
	}
	return out
}

// TestHLSSessions: a player's first playlist request makes an hls_ctx
// session (SRS's master playlist pointing back with ?hls_ctx=), which the
// API lists, on_play announces and on_stop ends once the player is gone;
// a kicked session is refused. Each segment calls on_hls and
// on_hls_notify.
func TestHLSSessions(t *testing.T) {
	hs, hookURL := startHookServer(t, hookserver.Options{})
	c := startCastd(t, hlsHookConf(hookURL))
	ffmpegPublish(t, c.rtmpURL("live/ctx?key=pub"), 20*time.Second)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(c.dir, "live", "ctx.m3u8")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no playlist written")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The first request: a master playlist naming the session.
	start := c.httpURL("live/ctx.m3u8?token=abc")
	resp, body := fetch(t, start, "Referer", "http://page.example/")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != playlistContentType {
		t.Fatalf("first request: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	entry := masterEntry(t, body)
	media, err := url.Parse(resolve(t, start, entry))
	if err != nil {
		t.Fatal(err)
	}
	id := media.Query().Get("hls_ctx")
	if media.Path != "/live/ctx.m3u8" || id == "" || media.Query().Get("token") != "abc" {
		t.Fatalf("master playlist entry %q: want /live/ctx.m3u8?hls_ctx=<id>&token=abc", entry)
	}
	play := bodyOf(t, waitHook(t, hs, "on_play", 5*time.Second, func(h hookserver.Hook) bool { return h.Action == "on_play" }))
	if play["client_id"] != id || play["stream"] != "ctx" || play["app"] != "live" || play["param"] != "?token=abc" ||
		play["pageUrl"] != "http://page.example/" {
		t.Errorf("on_play of session %s: %v", id, play)
	}
	if ty := clientIDs(t, c)[id]; ty != "hls-play" {
		t.Errorf("session %s in the API as %q, want an hls-play client", id, ty)
	}

	// The media playlist names the session in every segment URI.
	w := newPlaylistWatch(t, c, strings.TrimPrefix(media.RequestURI(), "/"))
	p := w.poll()
	lastRequest := time.Now()
	for _, s := range p.Segments {
		if u, err := url.Parse(s.URI); err != nil || u.Query().Get("hls_ctx") != id {
			t.Errorf("segment URI %q lacks hls_ctx=%s", s.URI, id)
		}
	}
	// A second session, kicked through the API, is refused from then on.
	_, body = fetch(t, c.httpURL("live/ctx.m3u8"))
	kicked, _ := url.Parse(resolve(t, start, masterEntry(t, body)))
	kickedID := kicked.Query().Get("hls_ctx")
	if kickedID == id {
		t.Fatalf("two players share session %s", id)
	}
	req, _ := http.NewRequest(http.MethodDelete, c.apiURL("api/v1/clients/"+kickedID), nil)
	resp, err = hlsClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, _ := fetch(t, kicked.String()); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a kicked session's playlist: %d, want 404", resp.StatusCode)
	}
	if _, listed := clientIDs(t, c)[kickedID]; listed {
		t.Errorf("kicked session %s still listed", kickedID)
	}

	// on_hls per segment, with SRS's fields, and on_hls_notify's GET.
	seg := bodyOf(t, waitHook(t, hs, "on_hls", 5*time.Second, func(h hookserver.Hook) bool { return h.Action == "on_hls" }))
	n := int64(seg["seq_no"].(float64))
	if seg["url"] != fmt.Sprintf("live/ctx-%d.ts", n) || seg["m3u8_url"] != "live/ctx.m3u8" || seg["stream"] != "ctx" || seg["param"] != "?key=pub" ||
		seg["file"] != fmt.Sprintf("%s/live/ctx-%d.ts", c.dir, n) || seg["m3u8"] != c.dir+"/live/ctx.m3u8" ||
		math.Abs(seg["duration"].(float64)-1) > 0.1 {
		t.Errorf("on_hls: %v", seg)
	}
	notify := waitHook(t, hs, "on_hls_notify", 5*time.Second, func(h hookserver.Hook) bool { return h.Method == http.MethodGet })
	if !strings.HasPrefix(notify.Path, "/notify/live/ctx") || !strings.HasPrefix(notify.Query, "ts=ctx-") || !strings.HasSuffix(notify.Query, ".ts") {
		t.Errorf("on_hls_notify: GET %s?%s", notify.Path, notify.Query)
	}

	// The player left after its last request: on_stop comes 2×hls_window
	// (4 s) later, and the API forgets it. The kicked session ends the same way.
	stopOf := func(session string) func(hookserver.Hook) bool {
		return func(h hookserver.Hook) bool {
			var b struct {
				ClientID string `json:"client_id"`
			}
			_ = json.Unmarshal(h.Body, &b)
			return h.Action == "on_stop" && b.ClientID == session
		}
	}
	stop := waitHook(t, hs, "on_stop of the session", 10*time.Second, stopOf(id))
	if waited := stop.Time.Sub(lastRequest); waited < 3500*time.Millisecond {
		t.Errorf("on_stop came %v after the last request, want 2×hls_window (4 s)", waited)
	}
	if b := bodyOf(t, stop); b["stream"] != "ctx" || b["param"] != "?token=abc" {
		t.Errorf("on_stop: %v", b)
	}
	waitHook(t, hs, "on_stop of the kicked session", 5*time.Second, stopOf(kickedID))
	if _, listed := clientIDs(t, c)[id]; listed {
		t.Errorf("session %s still listed after it ended", id)
	}
}

// TestHLSHTTPHeaders: playlists, segments and keys carry their content
// types, and cross-origin players get SRS's CORS headers, with and without
// sessions.
func TestHLSHTTPHeaders(t *testing.T) {
	c := startCastd(t, hlsConf("hls_fragment 1; hls_window 4; hls_keys on;", "", `
vhost plain.hls { hls { enabled on; hls_path {{dir}}/plain; hls_ctx off; hls_fragment 1; } }
`))
	ffmpegPublish(t, c.rtmpURL("live/hdr"), 12*time.Second)
	ffmpegPublish(t, c.rtmpURL("live/hdr?vhost=plain.hls"), 12*time.Second)
	// The default vhost has sessions and keys; plain.hls neither, and
	// writes under dir/plain, so its files are at /plain/live/...
	for _, path := range []string{"live/hdr.m3u8", "plain/live/hdr.m3u8?vhost=plain.hls"} {
		w := newPlaylistWatch(t, c, path)
		resp, _ := fetch(t, w.url, "Origin", "http://player.example")
		checkCORS(t, path, resp)
		w.watchUntil(15*time.Second, path, func(p *hls.MediaPlaylist) bool { return len(p.Segments) >= 2 })
		first := w.last.Segments[0]
		urls := []string{w.url, resolve(t, w.url, first.URI)}
		if first.Key != nil {
			urls = append(urls, resolve(t, w.url, first.Key.URI))
		}
		for _, u := range urls {
			resp, _ := fetch(t, u, "Origin", "http://player.example")
			checkCORS(t, u, resp)
		}
		if wantKey := path == "live/hdr.m3u8"; (first.Key != nil) != wantKey {
			t.Errorf("%s: key %v, want one: %v", path, first.Key, wantKey)
		}
		if first.Key != nil {
			resp, _ := fetch(t, resolve(t, w.url, first.Key.URI))
			if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
				t.Errorf("key Content-Type %q", ct)
			}
		}
	}
	// A preflight is answered without touching the stream.
	req, _ := http.NewRequest(http.MethodOptions, c.httpURL("live/hdr.m3u8"), nil)
	req.Header.Set("Origin", "http://player.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := hlsClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("preflight: %d", resp.StatusCode)
	}
	checkCORS(t, "preflight", resp)
}

func checkCORS(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("%s: Access-Control-Allow-Origin %q, want *", what, got)
	}
}

// TestHLSOnError: when HLS cannot write (here hls_path is a file),
// hls_on_error disconnect kicks the publisher, and continue (the default)
// keeps it while HLS tries again at each keyframe.
func TestHLSOnError(t *testing.T) {
	c := startCastd(t, `
listen 127.0.0.1:{{rtmp}};
http_api { enabled on; listen 127.0.0.1:{{api}}; }
vhost __defaultVhost__ { hls { enabled on; hls_path {{dir}}/blocked; hls_fragment 1; hls_on_error disconnect; } }
vhost cont.hls { hls { enabled on; hls_path {{dir}}/blocked; hls_fragment 1; } }
`)
	if err := os.WriteFile(filepath.Join(c.dir, "blocked"), []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	kicked := ffmpegPublish(t, c.rtmpURL("live/kicked"), 10*time.Second)
	kept := ffmpegPublish(t, c.rtmpURL("live/kept?vhost=cont.hls"), 10*time.Second)
	c.waitLog(t, "hls: write failed; HLS stops until the next publish", 10*time.Second)
	c.waitLog(t, "hls: write failed; dropping the segment and going on", 10*time.Second)
	select {
	case <-kicked.done:
	case <-time.After(5 * time.Second):
		t.Fatal("hls_on_error disconnect: the publisher is still connected")
	}
	if kept.Exited() {
		t.Fatalf("hls_on_error continue: the publisher left: %v", kept.Wait())
	}
	c.waitPublished(t, "kept", time.Second)
}

// TestHLSDispose: hls_dispose deletes a stream's playlist and segments
// once no media came for that long after the publisher left.
func TestHLSDispose(t *testing.T) {
	c := startCastd(t, hlsConf("hls_fragment 1; hls_dispose 2; hls_ctx off;", "", ""))
	pub := ffmpegPublish(t, c.rtmpURL("live/gone"), 3*time.Second)
	w := newPlaylistWatch(t, c, "live/gone.m3u8")
	w.watchUntil(10*time.Second, "the publish", func(*hls.MediaPlaylist) bool { return pub.Exited() })
	ended := time.Now()
	files := func() []string {
		m, err := filepath.Glob(filepath.Join(c.dir, "live", "gone*"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if n := len(files()); n < 3 {
		t.Fatalf("%d files after the publish: %v", n, files())
	}
	for len(files()) > 0 {
		if time.Since(ended) > 5*time.Second {
			t.Fatalf("files left %v after the publisher left, with hls_dispose 2: %v", time.Since(ended), files())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if waited := time.Since(ended); waited < 1500*time.Millisecond {
		t.Errorf("files deleted %v after the publisher left, before hls_dispose (2 s)", waited)
	}
}
