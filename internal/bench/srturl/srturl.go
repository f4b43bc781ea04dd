// Package srturl reads the srt:// URLs castbench publishes to and plays
// from: srt://host:port?streamid=...&passphrase=...&pbkeylen=16&latency=200.
//
// The stream id holds '#', ',' and '=' (SRS's "#!::r=live/s,m=publish"),
// which net/url would take for a fragment, so the query is split by hand:
// at '&' only, each value up to the next '&'.
package srturl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/castd/castd/internal/protocol/srt"
)

// URL is a parsed srt:// URL.
type URL struct {
	Addr       string // host:port
	StreamID   string
	Passphrase string
	PBKeyLen   int
	// Latency is libsrt's SRTO_LATENCY, in milliseconds in the URL as
	// srt-live-transmit takes it (ffmpeg's latency= is in microseconds);
	// 0 keeps the default.
	Latency time.Duration
}

// maxLatency is the largest latency the SRT handshake carries.
const maxLatency = 65535 * time.Millisecond

// Parse reads raw; unknown keys are an error so that a typo does not go
// unnoticed.
func Parse(raw string) (URL, error) {
	var u URL
	rest, ok := strings.CutPrefix(raw, "srt://")
	if !ok {
		return u, fmt.Errorf("srturl: %q does not start with srt://", raw)
	}
	hostPort, query, _ := strings.Cut(rest, "?")
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return u, fmt.Errorf("srturl: %q: want host:port: %w", raw, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return u, fmt.Errorf("srturl: %q: port %q", raw, port)
	}
	if host == "" {
		return u, fmt.Errorf("srturl: %q: no host", raw)
	}
	u.Addr = net.JoinHostPort(host, port)
	if query == "" {
		return u, nil
	}
	for _, item := range strings.Split(query, "&") {
		key, value, _ := strings.Cut(item, "=")
		if v, err := url.PathUnescape(value); err == nil {
			value = v
		}
		switch key {
		case "streamid":
			u.StreamID = value
		case "passphrase":
			u.Passphrase = value
		case "pbkeylen":
			n, err := strconv.Atoi(value)
			if err != nil || (n != 0 && n != 16 && n != 24 && n != 32) {
				return u, fmt.Errorf("srturl: %q: pbkeylen %q, want 16, 24 or 32", raw, value)
			}
			u.PBKeyLen = n
		case "latency":
			ms, err := strconv.Atoi(value)
			if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > maxLatency {
				return u, fmt.Errorf("srturl: %q: latency %q, want milliseconds 0..65535", raw, value)
			}
			u.Latency = time.Duration(ms) * time.Millisecond
		case "mode":
			if value != "caller" {
				return u, fmt.Errorf("srturl: %q: castbench is always the caller, not mode %q", raw, value)
			}
		case "":
		default:
			return u, fmt.Errorf("srturl: %q: unknown option %q (streamid, passphrase, pbkeylen, latency)", raw, key)
		}
	}
	if u.Passphrase != "" && (len(u.Passphrase) < srt.MinPassphraseLen || len(u.Passphrase) > srt.MaxPassphraseLen) {
		return u, errors.New("srturl: passphrase must have 10 to 79 characters")
	}
	return u, nil
}

// Options are the caller's options for u, from libsrt's defaults.
func (u URL) Options(connectTimeout time.Duration) srt.Options {
	o := srt.DefaultOptions()
	o.StreamID, o.Passphrase, o.PBKeyLen = u.StreamID, u.Passphrase, u.PBKeyLen
	if u.Latency > 0 {
		o.Latency, o.RecvLatency, o.PeerLatency = u.Latency, u.Latency, u.Latency
	}
	if connectTimeout > 0 {
		o.ConnectTimeout = connectTimeout
	}
	return o
}
