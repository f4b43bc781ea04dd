// Package bench is castbench's engine: it runs publishers that send an FLV
// file to a server in real time, stamped with their send time, and players
// that measure what comes back (time to first frame, end-to-end latency,
// bitrate, stalls, errors), against any server: castd, SRS, nginx-rtmp.
//
// Run does a whole run and returns its Report; cmd/castbench is a thin
// command line around it. The parts live in sub-packages: stamp (the SEI
// latency stamp), source (FLV loading and pacing), player (RTMP, HTTP-FLV,
// HLS and SRT players), flvscan, m3u8 and tsscan (what the players read),
// srturl, stats and failure; rtcpub has the WebRTC publishers' parts.
package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/bench/player"
	"github.com/castd/castd/internal/bench/rtcpub"
	"github.com/castd/castd/internal/bench/srturl"
)

// Config configures a run. At least one of Publish and Play is set.
type Config struct {
	Publish *PublishConfig
	Play    *PlayConfig
	// Duration bounds the run; 0 runs until ctx ends. Players started by a
	// slow ramp run for what is left.
	Duration time.Duration
	// Interval is how often Progress is called; default 1 s.
	Interval time.Duration
	// Progress, when set, is called every Interval from Run's goroutine.
	Progress func(Progress)
}

// Progress is a run's state at one moment, for live output. Rates and
// latencies are over the last interval.
type Progress struct {
	Elapsed time.Duration

	Publishers      int   // wanted
	PublishersUp    int64 // now
	PublishersFail  int64
	SendKbps        float64
	PublishErrors   string // "dial=2 eof=1"
	Players         int    // wanted
	PlayerCounts    player.Counts
	RecvKbps        float64
	LatencyCount    uint64 // stamped frames received in the interval
	LatencyP50Ms    float64
	LatencyP99Ms    float64
	TTFFP50Ms       float64 // over the run so far
	Stalls          int64   // over the run so far
	PlayErrors      string
	PlayErrorsTotal int64

	// HLS players, over the run so far: segments downloaded, their
	// segment latency, and the errors they got over.
	HLSSegments  int64
	SegmentP50Ms float64
	SegmentP99Ms float64
	HLSErrors    string
}

// Errors of Run's configuration check.
var ErrConfig = errors.New("bench: bad configuration")

func (cfg *Config) check() error {
	if cfg.Publish == nil && cfg.Play == nil {
		return fmt.Errorf("%w: nothing to do (no publishers, no players)", ErrConfig)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if p := cfg.Publish; p != nil {
		if p.Source == nil {
			return fmt.Errorf("%w: no source file to publish", ErrConfig)
		}
		switch {
		case strings.HasPrefix(p.URL, "rtmp://"):
		case strings.HasPrefix(p.URL, "srt://"):
			if _, err := srturl.Parse(streamURL(p.URL, p.Start)); err != nil {
				return fmt.Errorf("%w: %w", ErrConfig, err)
			}
		case rtcpub.IsURL(p.URL):
			if _, err := rtcpub.ParseURL(streamURL(p.URL, p.Start)); err != nil {
				return fmt.Errorf("%w: %w", ErrConfig, err)
			}
			if p.Source.VideoCodec != av.CodecH264 {
				return fmt.Errorf("%w: WebRTC publishers send H.264; the video of %s is %s", ErrConfig, p.Source.Name, p.Source.VideoCodec)
			}
		default:
			return fmt.Errorf("%w: publish URL %q: castbench publishes to rtmp://, srt://, webrtc:// and http(s):// (WHIP)", ErrConfig, p.URL)
		}
		if p.Streams <= 0 {
			p.Streams = 1
		}
		if p.Streams > 1 && !strings.Contains(p.URL, "%d") {
			return fmt.Errorf("%w: %d streams need %%d in the URL %q", ErrConfig, p.Streams, p.URL)
		}
		if p.ConnectTimeout <= 0 {
			p.ConnectTimeout = 10 * time.Second
		}
	}
	if p := cfg.Play; p != nil {
		if p.Players <= 0 {
			return fmt.Errorf("%w: %d players", ErrConfig, p.Players)
		}
		if p.Streams <= 0 {
			p.Streams = 1
		}
		if len(p.URLs) == 0 {
			return fmt.Errorf("%w: no URL to play", ErrConfig)
		}
		for _, u := range p.URLs {
			if p.Streams > 1 && !strings.Contains(u, "%d") {
				return fmt.Errorf("%w: %d streams need %%d in the URL %q", ErrConfig, p.Streams, u)
			}
			if _, err := player.New(streamURL(u, p.Start), p.Player); err != nil {
				return fmt.Errorf("%w: %w", ErrConfig, err)
			}
		}
		if p.Rate < 0 {
			return fmt.Errorf("%w: negative rate %v", ErrConfig, p.Rate)
		}
	}
	return nil
}

// Run runs publishers and players until Duration passes, ctx ends or every
// one of them has ended, and reports. When both run, players start once
// every publisher is up or has failed (at most ConnectTimeout after the
// start). The only error is a bad configuration; how the run went is in
// the Report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	// Publishers are set up before the clock starts: WebRTC ones
	// transcode the file's audio first.
	var pubs *publishRun
	if cfg.Publish != nil {
		var err error
		if pubs, err = newPublishRun(*cfg.Publish); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		defer pubs.close()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Duration > 0 {
		var cancelT context.CancelFunc
		ctx, cancelT = context.WithTimeout(ctx, cfg.Duration)
		defer cancelT()
	}
	started := time.Now()
	var wg sync.WaitGroup
	var plays *playRun
	pubsSettled := make(chan struct{})
	if pubs != nil {
		var connecting sync.WaitGroup
		for _, p := range pubs.pubs {
			connecting.Add(1)
			wg.Go(func() {
				p.run(ctx, connecting.Done)
			})
		}
		go func() { // ends once every publisher is up or gone
			connecting.Wait()
			close(pubsSettled)
		}()
	} else {
		close(pubsSettled)
	}
	if cfg.Play != nil {
		plays = newPlayRun(*cfg.Play)
		wg.Go(func() {
			select {
			case <-pubsSettled:
			case <-ctx.Done():
				return
			}
			plays.ramp(ctx, &wg)
		})
	}

	// Every publisher and player may end before the run does (a dead
	// server): then there is nothing left to wait for.
	allDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(allDone)
	}()
	lp := newLiveProgress(cfg, pubs, plays, started)
	ticker := time.NewTicker(cfg.Interval)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-allDone:
			break loop
		case now := <-ticker.C:
			if ctx.Err() != nil {
				break loop // the run is over; its last moment is the report
			}
			if cfg.Progress != nil {
				cfg.Progress(lp.sample(now))
			}
		}
	}
	ticker.Stop()
	cancel()
	<-allDone
	if plays != nil {
		plays.close()
	}
	if pubs != nil {
		<-pubsSettled
	}
	return buildReport(cfg, started, time.Now(), pubs, plays), nil
}

// liveProgress turns counters into per-interval Progress values.
type liveProgress struct {
	cfg               Config
	pubs              *publishRun
	plays             *playRun
	started, last     time.Time
	lastSent, lastRcv int64
}

func newLiveProgress(cfg Config, pubs *publishRun, plays *playRun, started time.Time) *liveProgress {
	return &liveProgress{cfg: cfg, pubs: pubs, plays: plays, started: started, last: started}
}

func (l *liveProgress) sample(now time.Time) Progress {
	p := Progress{Elapsed: now.Sub(l.started)}
	secs := now.Sub(l.last).Seconds()
	l.last = now
	if r := l.pubs; r != nil {
		p.Publishers = len(r.pubs)
		p.PublishersUp, p.PublishersFail = r.up.Load(), r.failed.Load()
		sent := r.bytesSent()
		p.SendKbps = float64(sent-l.lastSent) * 8 / 1000 / secs
		l.lastSent = sent
		p.PublishErrors = r.errors.String()
	}
	if r := l.plays; r != nil {
		m := r.metrics
		p.Players = r.cfg.Players
		p.PlayerCounts = m.Counts()
		rcv := r.bytes()
		p.RecvKbps = float64(rcv-l.lastRcv) * 8 / 1000 / secs
		l.lastRcv = rcv
		snap := m.LatencyInterval.Snapshot()
		m.LatencyInterval.Reset()
		p.LatencyCount = snap.Count()
		p.LatencyP50Ms = float64(snap.Percentile(50)) / 1e3
		p.LatencyP99Ms = float64(snap.Percentile(99)) / 1e3
		p.TTFFP50Ms = float64(m.TTFF.Percentile(50)) / 1e3
		p.Stalls = r.stalls()
		p.PlayErrors = m.Errors.String()
		p.PlayErrorsTotal = m.Errors.Total()
		if p.HLSSegments = m.HLS.Segments.Load(); p.HLSSegments > 0 {
			seg := m.HLS.SegmentLatency.Snapshot()
			p.SegmentP50Ms = float64(seg.Percentile(50)) / 1e3
			p.SegmentP99Ms = float64(seg.Percentile(99)) / 1e3
		}
		p.HLSErrors = m.HLS.Errors.String()
	}
	return p
}
