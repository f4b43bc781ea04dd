package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/castd/castd/internal/bench"
	"github.com/castd/castd/internal/bench/player"
	"github.com/castd/castd/internal/bench/rtcpub"
	"github.com/castd/castd/internal/bench/source"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the run failed its own sanity checks
	exitUsage  = 2
)

const usage = `castbench: load and latency tool for live streaming servers

Usage:
  castbench publish      -i FILE.flv -u URL [options]   publish N streams from an FLV file
  castbench play         -u URL [options]               open N players
  castbench publish-play -i FILE.flv -u URL [options]   both, players starting once publishers are up

Publishers send the file in real time, looped with increasing timestamps,
and put their send time in every H.264/H.265 frame (an SEI NAL unit), so
players measure end-to-end latency through any server that forwards SEI.
Publisher and players must share a clock (the same host, or NTP).
Publishers speak RTMP, SRT (the file muxed to MPEG-TS) and WebRTC (WHIP or
SRS's JSON API; H.264 video, the file's AAC transcoded once to Opus).
Players speak RTMP, HTTP-FLV, SRT, HLS (.m3u8: playlist reloads, segment
latency, stalls of a modelled playback buffer) and WebRTC (WHEP).

"%d" in a URL is replaced by a stream number: publishers take Start,
Start+1, ...; players are spread round-robin over the streams.

Run "castbench COMMAND -h" for the options of a command.

Examples:
  castbench publish -i in.flv -u 'rtmp://127.0.0.1/live/s%d' -n 10
  castbench play -u 'rtmp://127.0.0.1/live/s%d' --streams 10 -n 1000 -r 100 -d 60s --json report.json
  castbench play -u 'http://127.0.0.1:8080/live/s%d.flv' --streams 10 -n 1000 -r 100 -d 60s
  castbench play -u 'http://127.0.0.1:8080/live/s%d.m3u8' --streams 10 -n 1000 -r 100 -d 120s
  castbench play -u 'rtmp://127.0.0.1/live/s0' -u 'http://127.0.0.1:8080/live/s0.flv' -n 10
  castbench publish-play -i in.flv -u 'rtmp://127.0.0.1/live/s%d' --streams 2 -n 100 -d 30s
  castbench publish-play -i in.flv -u 'srt://127.0.0.1:10080?streamid=#!::r=live/s%d,m=publish' \
            --play-url 'srt://127.0.0.1:10080?streamid=#!::r=live/s%d,m=request' --streams 2 -n 100 -d 30s
  castbench publish -i in.flv -u 'http://127.0.0.1:1985/rtc/v1/whip/?app=live&stream=s%d' -n 10
  castbench publish-play -i in.flv -u 'webrtc://127.0.0.1/live/s%d' --streams 2 -n 20 -d 30s

Exit status: 0 when the run went through, 1 when it failed its own sanity
checks (no publisher or player connected, no media), 2 for usage errors.
`

// publishURLHelp is the -u flag's help for publishers.
const publishURLHelp = "URL to publish to, with %d for the stream number: rtmp://host/app/stream,\n" +
	"srt://host:port?streamid=#!::r=app/stream,m=publish, webrtc://host[:apiport]/app/stream (SRS's JSON API)\n" +
	"or http(s)://host:1985/rtc/v1/whip/?app=app&stream=stream (WHIP)"

// options are every command's flags; each command registers the ones it uses.
type options struct {
	input, url, jsonOut            string
	playURLs                       urlList
	n, streams, start              int
	rate                           float64
	duration, interval             time.Duration
	timeout, readTimeout, stallGap time.Duration
	hlsBuffer                      time.Duration
	noSEI, insecure                bool
}

// urlList is a flag that may be given several times.
type urlList []string

func (l *urlList) String() string { return strings.Join(*l, " ") }

func (l *urlList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func (o *options) common(fs *flag.FlagSet, defaultDuration time.Duration) {
	fs.DurationVar(&o.duration, "d", defaultDuration, "run for this long (0: until interrupted)")
	fs.DurationVar(&o.interval, "interval", time.Second, "how often to print progress")
	fs.StringVar(&o.jsonOut, "json", "", "write the JSON report to this file (\"-\": stdout)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "connect timeout: dial, handshake and publish/play")
}

func (o *options) publishFlags(fs *flag.FlagSet, streamsFlag string) {
	fs.StringVar(&o.input, "i", "", "FLV file to publish (H.264/H.265/AV1 + AAC/MP3/Opus, legacy or enhanced FLV)")
	fs.IntVar(&o.start, "start", 0, "first stream number for %d")
	fs.BoolVar(&o.noSEI, "no-sei", false, "publish frames unchanged, without latency stamps")
	fs.IntVar(&o.streams, streamsFlag, 1, "number of streams (publishers)")
}

func (o *options) playFlags(fs *flag.FlagSet) {
	fs.IntVar(&o.n, "n", 1, "number of players")
	fs.Float64Var(&o.rate, "r", 0, "players started per second (0: all at once)")
	fs.DurationVar(&o.readTimeout, "read-timeout", 10*time.Second, "fail a player that receives nothing for this long")
	fs.DurationVar(&o.stallGap, "stall", player.DefaultStallGap, "a gap between media messages longer than this is a stall")
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify TLS certificates of https:// URLs")
	fs.DurationVar(&o.hlsBuffer, "hls-buffer", 0, "HLS players: how long modelled playback waits after the first segment\n(0: one target duration); later segments may be that late before a stall")
}

// run is the whole command; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		_, _ = io.WriteString(stdout, usage) // nothing to do when stdout fails
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, args := args[0], args[1:]
	var o options
	fs := flag.NewFlagSet("castbench "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch cmd {
	case "publish":
		o.common(fs, 0)
		o.publishFlags(fs, "n")
		fs.StringVar(&o.url, "u", "", publishURLHelp)
	case "play":
		o.common(fs, time.Minute)
		o.playFlags(fs)
		fs.Var(&o.playURLs, "u", "URL to play: rtmp://host/app/stream, http(s)://host/app/stream.flv (HTTP-FLV),\nhttp(s)://host/app/stream.m3u8 (HLS), srt://host:port?streamid=#!::r=app/stream,m=request,\nwebrtc://host[:apiport]/app/stream or whep+http://host:1985/rtc/v1/whep/?app=app&stream=stream (WebRTC),\nwith %d; repeat -u to spread players over several URLs (protocols)")
		fs.IntVar(&o.streams, "streams", 1, "spread players over this many streams (needs %d in the URL)")
		fs.IntVar(&o.start, "start", 0, "first stream number for %d")
	case "publish-play":
		o.common(fs, time.Minute)
		o.publishFlags(fs, "streams")
		o.playFlags(fs)
		fs.StringVar(&o.url, "u", "", publishURLHelp)
		fs.Var(&o.playURLs, "play-url", "URL players play, with %d (default: the publish URL; required with a WHIP URL); may be repeated")
	default:
		fmt.Fprintf(stderr, "castbench: unknown command %q\n\n", cmd)
		_, _ = io.WriteString(stderr, usage)
		return exitUsage
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of castbench %s (flags take one or two dashes):\n", cmd)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nSee castbench -h for examples.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "castbench %s: unexpected arguments %q\n", cmd, fs.Args())
		return exitUsage
	}
	cfg, err := o.config(cmd)
	if err != nil {
		fmt.Fprintf(stderr, "castbench %s: %v\n", cmd, err)
		return exitUsage
	}
	// With the report on stdout, progress goes to stderr.
	progressOut := stdout
	if o.jsonOut == "-" {
		progressOut, tty = stderr, false
	}
	live := &liveLine{w: progressOut, tty: tty}
	cfg.Progress = live.print
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "castbench %s: %v\n", cmd, err)
		return exitUsage
	}
	live.end()
	printSummary(progressOut, rep)
	if o.jsonOut != "" {
		if err := writeJSON(o.jsonOut, stdout, rep); err != nil {
			fmt.Fprintf(stderr, "castbench %s: %v\n", cmd, err)
			return exitFailed
		}
	}
	if len(rep.FailedChecks) > 0 {
		fmt.Fprintf(stderr, "castbench %s: failed: %s\n", cmd, strings.Join(rep.FailedChecks, "; "))
		return exitFailed
	}
	return exitOK
}

// config turns the flags of cmd into a run configuration.
func (o *options) config(cmd string) (bench.Config, error) {
	cfg := bench.Config{Duration: o.duration, Interval: o.interval}
	if (cmd == "play" && len(o.playURLs) == 0) || (cmd != "play" && o.url == "") {
		return cfg, errors.New("-u URL is required")
	}
	if o.duration < 0 {
		return cfg, errors.New("-d must not be negative")
	}
	if o.hlsBuffer < 0 {
		return cfg, errors.New("--hls-buffer must not be negative")
	}
	if cmd == "publish" || cmd == "publish-play" {
		if o.input == "" {
			return cfg, errors.New("-i FILE.flv is required")
		}
		src, err := source.Load(o.input)
		if err != nil {
			return cfg, err
		}
		cfg.Publish = &bench.PublishConfig{
			Source: src, URL: o.url, Streams: o.streams, Start: o.start,
			NoStamp: o.noSEI, ConnectTimeout: o.timeout,
		}
	}
	if cmd == "play" || cmd == "publish-play" {
		urls := []string(o.playURLs)
		if len(urls) == 0 {
			if rtcpub.IsURL(o.url) && !strings.HasPrefix(strings.ToLower(o.url), "webrtc://") {
				return cfg, errors.New("a WHIP publish URL cannot be played: give --play-url")
			}
			urls = []string{o.url}
		}
		popt := player.Options{ConnectTimeout: o.timeout, ReadTimeout: o.readTimeout, HLSBuffer: o.hlsBuffer}
		if o.insecure {
			popt.TLS = &tls.Config{InsecureSkipVerify: true}
		}
		cfg.Play = &bench.PlayConfig{
			URLs: urls, Players: o.n, Streams: o.streams, Start: o.start, Rate: o.rate,
			Player: popt, StallGap: o.stallGap,
		}
	}
	return cfg, nil
}

// writeJSON writes the report to path, or to stdout for "-".
func writeJSON(path string, stdout io.Writer, rep *bench.Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
