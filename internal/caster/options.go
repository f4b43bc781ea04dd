package caster

import (
	"log/slog"
	"time"

	"github.com/castd/castd/internal/protocol/rtmp"
)

// DefaultIdleTimeout ends a cast stream whose input went silent: no UDP
// datagram, or no bytes of the POST body, for this long. It is below the
// 5 s that SRS's (and castd's) publish normal_timeout gives an RTMP
// publisher, so the caster, not the target, ends the publish, and its log
// says why.
const DefaultIdleTimeout = 3 * time.Second

// DefaultRetry is how long the UDP caster drops its input after a publish
// failed before it tries again, as a forwarder waits (SRS_FORWARDER_CIMS).
const DefaultRetry = 3 * time.Second

// DefaultConnectTimeout bounds dial, handshake, connect and publish.
const DefaultConnectTimeout = 10 * time.Second

// writeTimeout bounds one write to the target: a target that stops reading
// must not hold the caster forever.
const writeTimeout = 10 * time.Second

// Options configure a caster. Zero values pick the defaults.
type Options struct {
	Log *slog.Logger
	// Info is what castd says about itself in the extra connect argument
	// (srs_sig, srs_server, ... and srs_id, the cast stream's context id),
	// so that the target's logs can name the caster, as SRS does upstream.
	Info           rtmp.ServerInfo
	IdleTimeout    time.Duration
	Retry          time.Duration
	ConnectTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.Retry <= 0 {
		o.Retry = DefaultRetry
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	return o
}
