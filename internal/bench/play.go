package bench

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/castd/castd/internal/bench/player"
)

// PlayConfig configures the players of a run.
type PlayConfig struct {
	// URLs are the streams to play: rtmp://…, http(s)://….flv (or any
	// HTTP-FLV path), http(s)://….m3u8 (HLS), srt://…, or webrtc://… and
	// whep+http(s)://… (WebRTC), where
	// "%d" is replaced by a stream number. Player i plays URLs[i%len(URLs)]
	// (so several URLs mix protocols) with stream number
	// Start+(i/len(URLs))%Streams.
	URLs []string
	// Players is how many players to open.
	Players int
	// Streams is how many stream numbers the players are spread over;
	// default 1.
	Streams int
	Start   int
	// Rate is how many players start per second; 0 starts them all at once.
	Rate float64
	// Player configures each player (timeouts, TLS, HLS buffer). HLS
	// and WebRTC players share one HTTP client, made for the run unless
	// Player.HTTPClient is set; WebRTC players share one pion API, made
	// for the run unless Player.WebRTC is set.
	Player player.Options
	// StallGap is the gap between media messages that counts as a stall;
	// default 1 s.
	StallGap time.Duration
}

// playRun is the state of a run's players.
type playRun struct {
	cfg     PlayConfig
	metrics *player.Metrics
	recs    []*player.Recorder // one per player, made up front so progress can read them
	results []player.Result    // written by each player's goroutine when it ends
	// launched is how many players ramp started; read it after ramp ended.
	launched int
	// httpClient is the HTTP client the run made for its HLS players.
	httpClient *http.Client
}

func newPlayRun(cfg PlayConfig) *playRun {
	r := &playRun{
		cfg:     cfg,
		metrics: &player.Metrics{StallGap: cfg.StallGap},
		recs:    make([]*player.Recorder, cfg.Players),
		results: make([]player.Result, cfg.Players),
	}
	for i := range r.recs {
		r.recs[i] = player.NewRecorder(r.metrics)
	}
	if r.cfg.Player.HTTPClient == nil {
		// Made always, used only by HLS players: a Transport starts
		// nothing before its first request.
		r.httpClient = player.NewHTTPClient(r.cfg.Player, cfg.Players)
		r.cfg.Player.HTTPClient = r.httpClient
	}
	if r.cfg.Player.WebRTC == nil && usesWebRTC(cfg.URLs) {
		// It fails only if pion cannot register its own default codecs;
		// then each WebRTC player tries again and reports the error.
		if api, err := player.NewWebRTCAPI(); err == nil {
			r.cfg.Player.WebRTC = api
		}
	}
	return r
}

// usesWebRTC tells whether any of the URLs is played over WebRTC.
func usesWebRTC(urls []string) bool {
	for _, u := range urls {
		scheme, _, _ := strings.Cut(strings.ToLower(u), "://")
		if scheme == "webrtc" || strings.HasPrefix(scheme, "whep+") {
			return true
		}
	}
	return false
}

// close releases what the run's players shared, once they have ended.
func (r *playRun) close() {
	if r.httpClient != nil {
		r.httpClient.CloseIdleConnections()
	}
}

// playerURL is the URL player i plays.
func (r *playRun) playerURL(i int) string {
	n := len(r.cfg.URLs)
	return streamURL(r.cfg.URLs[i%n], r.cfg.Start+(i/n)%r.cfg.Streams)
}

// ramp starts the players at the configured rate until all run or ctx
// ends; each ends with ctx. wg counts the player goroutines.
func (r *playRun) ramp(ctx context.Context, wg *sync.WaitGroup) {
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := range r.cfg.Players {
		if r.cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(i) / r.cfg.Rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-ctx.Done():
					return
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		r.launched++
		p, err := player.New(r.playerURL(i), r.cfg.Player)
		rec := r.recs[i]
		rec.Connecting(time.Now())
		if err != nil {
			r.results[i] = rec.Finish(time.Now(), err)
			continue
		}
		wg.Go(func() {
			err := p.Play(ctx, rec)
			r.results[i] = rec.Finish(time.Now(), err)
		})
	}
}

// bytes returns the media bytes all players received so far.
func (r *playRun) bytes() int64 {
	var n int64
	for _, rec := range r.recs {
		n += rec.Bytes()
	}
	return n
}

// stalls returns the stalls so far.
func (r *playRun) stalls() int64 {
	var n int64
	for _, rec := range r.recs {
		n += rec.Stalls()
	}
	return n
}

// streamURL replaces "%d" in pattern with n.
func streamURL(pattern string, n int) string {
	return strings.ReplaceAll(pattern, "%d", strconv.Itoa(n))
}
