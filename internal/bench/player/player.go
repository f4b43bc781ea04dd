// Package player has castbench's players: each plays one stream from a
// server, as cheaply as possible (no decoding, reused buffers, one
// goroutine), and reports what it receives to a Recorder: bytes, video
// frames, castbench latency stamps, stalls and how it failed.
//
// RTMP (rtmp.go), HTTP-FLV (httpflv.go), HLS (hls.go), SRT (srt.go) and
// WebRTC (webrtc.go) exist today. A new protocol is a new file with a type
// implementing Player and a case in New.
package player

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
)

// Player plays one stream.
type Player interface {
	// Play connects, plays until ctx ends (then it returns nil) or the
	// stream fails (an error whose kind failure.KindOf tells), and reports
	// to rec from the calling goroutine only: Up once playing, then Media,
	// VideoFrame and Stamp for what arrives. The caller calls
	// rec.Connecting before and rec.Finish after. Play starts no goroutine
	// that outlives it.
	Play(ctx context.Context, rec *Recorder) error
}

// Options configure players. Zero values pick the defaults.
type Options struct {
	// ConnectTimeout bounds connecting: dial, handshakes, and the RTMP
	// play or the HTTP response. Default 10 s.
	ConnectTimeout time.Duration
	// ReadTimeout fails a player that receives nothing for that long.
	// Default 10 s.
	ReadTimeout time.Duration
	// TLS configures https:// players; nil verifies certificates as usual.
	TLS *tls.Config
	// HTTPClient is what HLS players fetch playlists and segments with:
	// share one among the players of a run (NewHTTPClient). nil: each
	// player makes its own.
	HTTPClient *http.Client
	// HLSBuffer is how long an HLS player's modelled playback waits after
	// its first segment before it starts, which is how late later
	// segments may come before it stalls. Default: the playlist's target
	// duration.
	HLSBuffer time.Duration
	// WebRTC is what WebRTC players make their peer connections with:
	// share one among the players of a run (NewWebRTCAPI). nil: each
	// player makes its own. WebRTC players POST their offers with
	// HTTPClient.
	WebRTC *webrtc.API
}

const defaultTimeout = 10 * time.Second

func (o Options) withDefaults() Options {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = defaultTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = defaultTimeout
	}
	return o
}

// New returns the player for a stream URL:
//
//	rtmp://host[:port]/app/stream[?query]   RTMP
//	http(s)://host[:port]/path.m3u8[?query] HLS (a media or master playlist)
//	http(s)://host[:port]/path[?query]      HTTP-FLV (any path but .m3u8, .mpd, .ts)
//	srt://host:port?streamid=...[&passphrase=...&pbkeylen=...&latency=ms]  SRT (MPEG-TS)
//	webrtc://host[:apiport]/app/stream[?schema=https&vhost=...]  WebRTC, WHEP at the API port (1985)
//	whep+http(s)://host[:port]/path?query    WebRTC, WHEP at http(s)://host[:port]/path?query
func New(rawURL string, opt Options) (Player, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("player: %w", err)
	}
	opt = opt.withDefaults()
	switch strings.ToLower(u.Scheme) {
	case "rtmp":
		return newRTMP(rawURL, opt)
	case "srt":
		return newSRT(rawURL, opt)
	case "webrtc", "whep+http", "whep+https":
		return newWebRTC(u, opt)
	case "http", "https":
		switch strings.ToLower(path.Ext(u.Path)) {
		case ".m3u8":
			return newHLS(u, opt)
		case ".mpd", ".ts", ".aac", ".mp3":
			return nil, fmt.Errorf("player: %s: only HTTP-FLV and HLS (.m3u8) are supported over HTTP for now", rawURL)
		}
		return newHTTPFLV(u, opt)
	}
	return nil, fmt.Errorf("player: %s: unsupported scheme %q (rtmp, http, https, srt, webrtc, whep+http and whep+https are supported)", rawURL, u.Scheme)
}

// deadliner refreshes a read deadline at most once a second, so a player
// pays for SetReadDeadline once a second rather than once a message.
type deadliner struct {
	set     func(time.Time) error
	timeout time.Duration
	last    time.Time
}

func (d *deadliner) refresh(now time.Time) error {
	if now.Sub(d.last) < time.Second {
		return nil
	}
	d.last = now
	return d.set(now.Add(d.timeout))
}
