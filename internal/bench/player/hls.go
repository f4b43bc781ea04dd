package player

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/m3u8"
	"github.com/castd/castd/internal/bench/stamp"
	"github.com/castd/castd/internal/bench/tsscan"
)

// Limits of what an HLS player reads.
const (
	maxPlaylistBytes = 1 << 20
	maxSegmentBytes  = 64 << 20
	// minReload bounds how often a playlist is reloaded, whatever its
	// target duration says.
	minReload = 100 * time.Millisecond
	// drainLimit is how much of a failed answer is read so that its
	// connection can carry the next request.
	drainLimit = 64 << 10
	// firstLoadRetry is how often a player asks again for a playlist that
	// is not there yet (404), until its connect timeout.
	firstLoadRetry = 500 * time.Millisecond
)

// hlsPlayer plays a live HLS stream as players do: it reloads the media
// playlist every half target duration and downloads each new segment once,
// in order, reading frames and stamps from the transport stream as it
// arrives. See docs/castbench.md for what it measures.
type hlsPlayer struct {
	url string
	opt Options
}

func newHLS(u *url.URL, opt Options) (*hlsPlayer, error) {
	if u.Host == "" {
		return nil, fmt.Errorf("player: %s: no host", u)
	}
	return &hlsPlayer{url: u.String(), opt: opt}, nil
}

func (p *hlsPlayer) Play(ctx context.Context, rec *Recorder) error {
	client := p.opt.HTTPClient
	if client == nil {
		client = NewHTTPClient(p.opt, 1)
		defer client.CloseIdleConnections()
	}
	rec.UseBufferStalls()
	rec.HLS().Players.Add(1)
	s := &hlsSession{client: client, opt: p.opt, rec: rec, hm: rec.HLS(), frames: hlsFrames{rec: rec}}
	s.buffer.initial = p.opt.HLSBuffer
	err := s.run(ctx, p.url)
	rec.Stall(s.buffer.waiting(time.Now())) // a stall the end of the run cut short
	return ended(ctx, err)
}

// hlsSession is the state of one HLS player while it plays.
type hlsSession struct {
	client *http.Client
	opt    Options
	rec    *Recorder
	hm     *HLSMetrics

	body        []byte        // the last playlist's bytes; pl's URIs alias them
	pl          m3u8.Playlist // the last playlist read
	playlistURL *url.URL      // the media playlist's URL, after redirects and the master playlist
	target      time.Duration // the media playlist's target duration
	next        int64         // media sequence number of the next segment to fetch

	ts     tsscan.Scanner
	frames hlsFrames
	buffer playback

	progress time.Time // the last segment downloaded, or the start
	lastErr  error     // the last error got over since then
}

// run plays until ctx ends or the player fails.
func (s *hlsSession) run(ctx context.Context, rawURL string) error {
	loadStarted, seen, err := s.open(ctx, rawURL)
	if err != nil {
		return err
	}
	s.rec.Up(seen)
	if s.buffer.initial <= 0 {
		s.buffer.initial = s.target
	}
	// Start at the live edge: the last segment listed, or the first one
	// to come.
	s.next = max(s.pl.LastSequence(), s.pl.MediaSequence)
	s.progress = seen
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for fresh := true; ; {
		if fresh {
			if err := s.fetchNew(ctx, seen); err != nil {
				return err
			}
			if s.pl.EndList && s.next > s.pl.LastSequence() {
				return failure.Mark(failure.EOF, fmt.Errorf("hls: %s: the stream ended (EXT-X-ENDLIST)", s.playlistURL))
			}
		}
		if err := s.checkProgress(time.Now()); err != nil {
			return err
		}
		if wait := time.Until(loadStarted.Add(max(s.target/2, minReload))); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		}
		loadStarted = time.Now()
		seen, err = s.reload(ctx)
		fresh = err == nil
		if err != nil {
			if failure.Ended(ctx) {
				return err
			}
			s.recovered(err)
		}
	}
}

// reload reads the media playlist again, within the connect timeout.
func (s *hlsSession) reload(ctx context.Context) (time.Time, error) {
	rctx, cancel := context.WithTimeout(ctx, s.opt.ConnectTimeout)
	defer cancel()
	return s.loadMedia(rctx, s.playlistURL.String())
}

// open reads the first media playlist within the connect timeout. A
// playlist that is not there yet (404) is asked for again every
// firstLoadRetry: a server writes it once the stream's first segment is
// cut, seconds after the publisher started.
func (s *hlsSession) open(ctx context.Context, rawURL string) (loadStarted, seen time.Time, err error) {
	cctx, cancel := context.WithTimeout(ctx, s.opt.ConnectTimeout)
	defer cancel()
	timer := time.NewTimer(firstLoadRetry)
	defer timer.Stop()
	for {
		loadStarted = time.Now()
		seen, err = s.loadMedia(cctx, rawURL)
		var status *failure.HTTPStatusError
		if !errors.As(err, &status) || status.Code != http.StatusNotFound {
			return loadStarted, seen, err
		}
		timer.Reset(firstLoadRetry)
		select {
		case <-cctx.Done():
			return loadStarted, seen, err // the 404, not the timeout
		case <-timer.C:
		}
	}
}

// checkProgress fails a player that has downloaded no segment for the read
// timeout (three target durations when that is longer): with the error
// that stopped it, if one did.
func (s *hlsSession) checkProgress(now time.Time) error {
	limit := max(s.opt.ReadTimeout, 3*s.target)
	if now.Sub(s.progress) <= limit {
		return nil
	}
	if s.lastErr != nil {
		return fmt.Errorf("hls: no segment for %v: %w", limit, s.lastErr)
	}
	return failure.Mark(failure.Timeout, fmt.Errorf("hls: %s: no new segment for %v", s.playlistURL, limit))
}

func (s *hlsSession) recovered(err error) {
	s.hm.Errors.Add(err)
	s.lastErr = err
}

// fetchNew downloads the segments of s.pl from s.next on, in order. A
// segment that fails is counted and skipped. seen is when the playlist
// was read.
func (s *hlsSession) fetchNew(ctx context.Context, seen time.Time) error {
	pl := &s.pl
	if pl.LastSequence() < s.next-1 {
		// The sequence went back: the stream started over (republished,
		// or a restarted server). Start over at its live edge too.
		s.next = max(pl.LastSequence(), pl.MediaSequence)
	}
	if pl.MediaSequence > s.next {
		s.hm.MissedSegments.Add(pl.MediaSequence - s.next)
		s.next = pl.MediaSequence
	}
	for ; s.next <= pl.LastSequence(); s.next++ {
		err := s.fetchSegment(ctx, &pl.Segments[s.next-pl.MediaSequence], seen)
		if err != nil {
			if failure.Ended(ctx) {
				return err
			}
			s.recovered(err)
		}
	}
	return nil
}

// fetchSegment downloads one segment, reading its frames as they arrive.
func (s *hlsSession) fetchSegment(ctx context.Context, seg *m3u8.Segment, seen time.Time) error {
	u, err := s.playlistURL.Parse(string(seg.URI))
	if err != nil {
		return failure.Mark(failure.BadPlaylist, fmt.Errorf("hls: %s: segment URI: %w", s.playlistURL, err))
	}
	rctx, cancel := context.WithTimeout(ctx, s.opt.ConnectTimeout+s.opt.ReadTimeout)
	defer cancel()
	resp, err := s.get(rctx, u.String())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var n int64
	if seg.Encrypted {
		// Not decrypted: the segment is timed, its frames are not read.
		n, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxSegmentBytes))
	} else {
		n, err = s.ts.Scan(resp.Body, maxSegmentBytes, &s.frames)
	}
	s.hm.SegmentBytes.Add(n)
	if err != nil {
		if tsscan.IsFormatError(err) {
			return failure.Mark(failure.BadSegment, fmt.Errorf("hls: %s: %w", u, err))
		}
		return fmt.Errorf("hls: GET %s: %w", u, err)
	}
	done := time.Now()
	s.hm.Segments.Add(1)
	s.hm.SegmentLatency.Record(done.Sub(seen).Microseconds())
	s.rec.Stall(s.buffer.add(done, seg.Duration))
	s.progress, s.lastErr = done, nil
	return nil
}

// loadMedia reads the media playlist at rawURL into s.pl, following a
// master playlist to its first variant, and returns when it was read. The
// URL it came from, after redirects, becomes the one segment URIs are
// resolved against and the next reload asks for (castd and SRS send a new
// player to a URL with its hls_ctx session).
func (s *hlsSession) loadMedia(ctx context.Context, rawURL string) (time.Time, error) {
	final, seen, err := s.load(ctx, rawURL)
	if err != nil {
		return seen, err
	}
	if s.pl.IsMaster() {
		variant, err := final.Parse(string(s.pl.Variants[0]))
		if err != nil {
			return seen, failure.Mark(failure.BadPlaylist, fmt.Errorf("hls: %s: variant URI: %w", final, err))
		}
		if final, seen, err = s.load(ctx, variant.String()); err != nil {
			return seen, err
		}
		if s.pl.IsMaster() {
			return seen, failure.Mark(failure.BadPlaylist, fmt.Errorf("hls: %s: a variant that is a master playlist", final))
		}
	}
	s.playlistURL, s.target = final, s.pl.TargetDuration
	return seen, nil
}

// load reads and parses one playlist, and returns the URL it came from and
// when it was read.
func (s *hlsSession) load(ctx context.Context, rawURL string) (*url.URL, time.Time, error) {
	resp, err := s.get(ctx, rawURL)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer resp.Body.Close()
	s.body, err = readBounded(s.body[:0], resp.Body, maxPlaylistBytes)
	seen := time.Now()
	if err != nil {
		return nil, seen, fmt.Errorf("hls: GET %s: %w", rawURL, err)
	}
	s.hm.PlaylistLoads.Add(1)
	if err := m3u8.Parse(&s.pl, s.body); err != nil {
		return nil, seen, failure.Mark(failure.BadPlaylist, fmt.Errorf("hls: %s: %w", resp.Request.URL, err))
	}
	return resp.Request.URL, seen, nil
}

// get sends a GET and returns a 200 answer, whose body the caller closes.
func (s *hlsSession) get(ctx context.Context, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("hls: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		// Read a little so the connection can be used again; an error
		// here only means it will not be.
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
		resp.Body.Close()
		return nil, &failure.HTTPStatusError{URL: resp.Request.URL.String(), Status: resp.Status, Code: resp.StatusCode}
	}
	return resp, nil
}

// readBounded appends what r holds to dst, failing past limit bytes.
func readBounded(dst []byte, r io.Reader, limit int) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, make([]byte, max(4<<10, len(dst)))...)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst) > limit {
			return dst, failure.Mark(failure.BadPlaylist, fmt.Errorf("playlist over %d bytes", limit))
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// hlsFrames reports the frames of the segments to the recorder.
type hlsFrames struct {
	rec    *Recorder
	stamps stamp.Reader
	lastTS int64 // the last video timestamp, for frames without one
}

func (h *hlsFrames) Frame(f *tsscan.Frame) {
	now := time.Now()
	h.rec.Media(now, f.Size)
	switch f.Kind {
	case tsscan.KindVideo:
		if f.DTS >= 0 {
			h.lastTS = f.DTS
		}
		h.rec.VideoFrame(now, uint32(h.lastTS/90)) // milliseconds
		if f.Codec == av.CodecH264 || f.Codec == av.CodecH265 {
			if st, ok := h.stamps.FindAnnexB(f.Codec, f.Head); ok {
				h.rec.Stamp(now, st)
			}
		}
	case tsscan.KindAudio:
		h.rec.AudioFrame()
	}
}
