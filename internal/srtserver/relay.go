package srtserver

import (
	"context"

	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/relay"
)

const (
	// srtOnlyVariant holds what SRT publishes on a vhost with srt_to_rtmp
	// off: SRT players see it, other protocols do not.
	srtOnlyVariant = "srt"
	// maxBatch is the most packets read from the hub at once.
	maxBatch = 128
)

// derivedKey names the TS stream of a source, which HTTP-TS viewers share
// when the server gives both the same relay.Relays.
func derivedKey(source hub.Key) hub.Key { return relay.Key(source, relay.TS) }

// derivedOptions are the TS stream's: the source's GOP cache and queue, so
// a player starts at a keyframe (whose TS starts with the PAT and PMT).
func derivedOptions(src hub.StreamOptions) hub.StreamOptions { return relay.Options(src, relay.TS) }

// relays returns the relays the server was given, or its own, made once
// and ending with ctx (tests build a Server without them).
func (s *Server) relays(ctx context.Context) *relay.Relays {
	s.relaysOnce.Do(func() {
		if s.Relays == nil {
			s.Relays = &relay.Relays{Hub: s.Hub, Log: s.Log, Context: func() context.Context { return ctx }}
		}
	})
	return s.Relays
}

// relayFor makes sure a relay muxes source to TS and returns the key of
// the TS stream.
func (s *Server) relayFor(ctx context.Context, source hub.Key, sopt hub.StreamOptions) hub.Key {
	return s.relays(ctx).Ensure(source, relay.TS, sopt, "srt-ts")
}
