// Package livehls serves a synthetic live HLS stream for castbench's
// tests: stamped H.264 and AAC segments made by castd's TS remuxer, a
// sliding playlist that grows in real time, and faults on demand (hls_ctx
// sessions, freezes, missing or broken segments and playlists). Only tests
// import it.
package livehls

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/stamp"
	"github.com/castd/castd/internal/remux"
)

// Frame layout: an H.264 frame of FrameSize bytes every FrameGap,
// each followed by an AAC frame.
const (
	FrameGap  = 40 * time.Millisecond
	FrameSize = 2000
)

// avcSeqHeader (4-byte NAL unit lengths) and aacSeqHeader (AAC-LC, 44.1
// kHz, stereo) are the test stream's sequence headers.
var (
	avcSeqHeader = []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee}
	aacSeqHeader = []byte{0xAF, 0, 0x12, 0x10}
	aacFrame     = []byte{0xAF, 1, 0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c}
)

// Stream is a synthetic live HLS stream at /live/cam.m3u8 (any path
// ending in .m3u8 serves it). Segment k holds SegDur of stamped H.264 and
// AAC frames muxed by castd's TS remuxer, each frame stamped with the time
// a live publisher would have sent it (Start + k×SegDur + its offset). The
// segment enters the playlist once complete, at Start + (k+1)×SegDur, as
// a live packager adds it; the playlist keeps the last 6, and is not found
// (404) before its first segment. Set the fault fields before serving.
type Stream struct {
	T      testing.TB
	SegDur time.Duration
	Start  time.Time

	// Ctx is an hls_ctx session: a playlist request without it is sent to
	// ?hls_ctx=Ctx by a redirect, or by a master playlist with Master.
	// Segment URIs carry it, and segments are refused without it.
	Ctx    string
	Master bool
	// Frozen holds segments Frozen[0] to Frozen[1]-1 back: they enter
	// together when Frozen[1] would.
	Frozen [2]int
	// FreezeFrom stops the playlist before that segment (0: never).
	FreezeFrom int
	// EndAfter ends the playlist (EXT-X-ENDLIST) after that many segments
	// (0: never).
	EndAfter int
	// Missing segments are answered with 404, Garbage ones with 200 and
	// HTML; BadPlaylist(n) breaks the nth playlist answer (from 0).
	Missing, Garbage, BadPlaylist func(int) bool

	mu        sync.Mutex
	segments  map[int][]byte
	fetched   []int
	noCtx     int
	playlists int
}

// New returns a stream of segments of segDur starting now.
func New(t testing.TB, segDur time.Duration) *Stream {
	return &Stream{T: t, SegDur: segDur, Start: time.Now(), segments: make(map[int][]byte)}
}

// Available returns how many segments have entered the playlist at now.
func (l *Stream) Available(now time.Time) int {
	n := int(now.Sub(l.Start) / l.SegDur)
	if l.FreezeFrom > 0 {
		n = min(n, l.FreezeFrom)
	}
	if l.Frozen[1] > 0 && n > l.Frozen[0] && n < l.Frozen[1] {
		n = l.Frozen[0]
	}
	if l.EndAfter > 0 {
		n = min(n, l.EndAfter)
	}
	return n
}

// Playlist returns the media playlist at now.
func (l *Stream) Playlist(now time.Time) string {
	n := l.Available(now)
	first := max(n-6, 0)
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-TARGETDURATION:%g\n", first, l.SegDur.Seconds())
	for k := first; k < n; k++ {
		fmt.Fprintf(&b, "#EXTINF:%.3f, no desc\ncam-%d.ts", l.SegDur.Seconds(), k)
		if l.Ctx != "" {
			b.WriteString("?hls_ctx=" + l.Ctx)
		}
		b.WriteByte('\n')
	}
	if l.EndAfter > 0 && n == l.EndAfter {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.String()
}

// Segment returns segment k's bytes, made once.
func (l *Stream) Segment(k int) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.segments[k]; ok {
		return b
	}
	var out bytes.Buffer
	w, err := remux.NewTSWriter(&out, remux.TSOptions{})
	if err != nil {
		l.T.Error(err)
		return nil
	}
	write := func(kind av.Kind, ts time.Duration, payload []byte) {
		p, err := av.NewPacket(kind, uint32(ts.Milliseconds()), payload)
		if err == nil {
			err = w.WritePacket(p)
		}
		if err != nil {
			l.T.Error(err)
		}
	}
	base := time.Duration(k) * l.SegDur
	write(av.KindVideo, base, avcSeqHeader)
	write(av.KindAudio, base, aacSeqHeader)
	for at := time.Duration(0); at < l.SegDur; at += FrameGap {
		frame, err := stampedFrame(at == 0, l.Start.Add(base+at), uint64((base+at)/FrameGap))
		if err != nil {
			l.T.Error(err)
			return nil
		}
		write(av.KindVideo, base+at, frame)
		write(av.KindAudio, base+at, aacFrame)
	}
	l.segments[k] = out.Bytes()
	return out.Bytes()
}

// stampedFrame returns an H.264 frame tag body of one slice, stamped.
func stampedFrame(key bool, sentAt time.Time, seq uint64) ([]byte, error) {
	first := byte(0x27)
	if key {
		first = 0x17
	}
	body := append([]byte{first, 1, 0, 0, 0}, 0, 0, byte(FrameSize>>8), byte(FrameSize&0xff), 0x41)
	body = append(body, make([]byte, FrameSize-1)...)
	tag, err := av.ParseFLVVideoTag(body)
	if err != nil {
		return nil, err
	}
	return stamp.AppendStamped(nil, body, tag, 4, stamp.Stamp{SentAt: sentAt.UnixNano(), Seq: seq})
}

func (l *Stream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	hasCtx := l.Ctx == "" || r.URL.Query().Get("hls_ctx") == l.Ctx
	isPlaylist := strings.HasSuffix(r.URL.Path, ".m3u8")
	switch {
	case isPlaylist && !hasCtx && l.Master:
		fmt.Fprintf(w, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\n%s?hls_ctx=%s\n", r.URL.Path, l.Ctx)
	case isPlaylist && !hasCtx:
		http.Redirect(w, r, r.URL.Path+"?hls_ctx="+l.Ctx, http.StatusFound)
	case isPlaylist && now.Sub(l.Start) < l.SegDur:
		http.NotFound(w, r) // no segment yet: no playlist
	case isPlaylist:
		l.mu.Lock()
		n := l.playlists
		l.playlists++
		l.mu.Unlock()
		if l.BadPlaylist != nil && l.BadPlaylist(n) {
			fmt.Fprint(w, "#EXTM3U\n#EXTINF:oops\n")
			return
		}
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		fmt.Fprint(w, l.Playlist(now))
	case strings.HasPrefix(r.URL.Path, "/live/cam-") && strings.HasSuffix(r.URL.Path, ".ts"):
		k, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/live/cam-"), ".ts"))
		if err != nil || k >= l.Available(now) {
			http.NotFound(w, r)
			return
		}
		l.mu.Lock()
		l.fetched = append(l.fetched, k)
		if !hasCtx {
			l.noCtx++
		}
		l.mu.Unlock()
		switch {
		case !hasCtx:
			http.Error(w, "no session", http.StatusForbidden)
		case l.Missing != nil && l.Missing(k):
			http.NotFound(w, r)
		case l.Garbage != nil && l.Garbage(k):
			fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
		default:
			w.Header().Set("Content-Type", "video/mp2t")
			_, _ = w.Write(l.Segment(k)) // the player's problem if it left
		}
	default:
		http.NotFound(w, r)
	}
}

// Fetched returns the segment numbers asked for, in order.
func (l *Stream) Fetched() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.fetched...)
}

// WithoutSession counts segment requests that lacked the hls_ctx session.
func (l *Stream) WithoutSession() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.noCtx
}
