package srtserver

import (
	"context"
	"sync"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/remux"
)

const (
	// tsVariant names a stream muxed to TS, as derived hub streams do
	// (hub.Key.Variant). HTTP-TS relays (internal/httpstream) use the same
	// name and the same muxing, so whichever relay runs first serves both
	// SRT and HTTP-TS players: a stream is muxed to TS once.
	tsVariant = "ts"
	// srtOnlyVariant holds what SRT publishes on a vhost with srt_to_rtmp
	// off: SRT players see it, other protocols do not.
	srtOnlyVariant = "srt"
	// relayIdle is how long a relay keeps muxing with no player.
	relayIdle = 10 * time.Second
	// maxBatch is the most packets read from the hub at once.
	maxBatch = 128
)

// relays are the running TS relays by derived key.
type relays struct {
	mu      sync.Mutex
	running map[hub.Key]chan struct{} // closed when the relay ends
}

// derivedKey names the TS stream of a source.
func derivedKey(source hub.Key) hub.Key {
	if source.Variant == "" {
		source.Variant = tsVariant
	} else {
		source.Variant += "." + tsVariant
	}
	return source
}

// derivedOptions keep the source's GOP cache and queue, so a player starts
// at a keyframe (whose TS starts with the PAT and PMT).
func derivedOptions(src hub.StreamOptions) hub.StreamOptions {
	return hub.StreamOptions{GopCache: src.GopCache, GopCacheMaxFrames: src.GopCacheMaxFrames, QueueLength: src.QueueLength}
}

// relayFor makes sure a relay muxes source to TS and returns the key of
// the TS stream. When another relay already publishes it, that one serves.
func (s *Server) relayFor(ctx context.Context, source hub.Key, sopt hub.StreamOptions) hub.Key {
	key := derivedKey(source)
	s.relays.mu.Lock()
	defer s.relays.mu.Unlock()
	if done, ok := s.relays.running[key]; ok {
		select {
		case <-done:
		default:
			return key
		}
	}
	pub, err := s.Hub.Publish(key, hub.ClientInfo{ID: "relay", Protocol: "srt-ts"}, derivedOptions(sopt))
	if err != nil {
		return key // an HTTP-TS relay muxes it already, or one of ours is just ending
	}
	if s.relays.running == nil {
		s.relays.running = map[hub.Key]chan struct{}{}
	}
	done := make(chan struct{})
	s.relays.running[key] = done
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runRelay(ctx, source, sopt, pub)
		pub.Close()
		close(done)
		s.relays.mu.Lock()
		if s.relays.running[key] == done {
			delete(s.relays.running, key)
		}
		s.relays.mu.Unlock()
	}()
	return key
}

// runRelay reads the source like a viewer and publishes each packet's TS
// bytes into the derived stream, until the source unpublishes, nobody has
// watched for relayIdle, or ctx ends.
func (s *Server) runRelay(ctx context.Context, source hub.Key, sopt hub.StreamOptions, pub *hub.Publisher) {
	log := s.Log.With("stream", source.String(), "format", "ts")
	enc, err := remux.NewTSWriter(nil, remux.TSOptions{Logger: log})
	if err != nil {
		log.Error("srt: cannot start TS relay", "err", err)
		return
	}
	// Timestamps as published: TS carries its own clock.
	viewer := s.Hub.Play(source, hub.ClientInfo{ID: "relay", Protocol: "srt-ts"}, sopt,
		hub.ViewerOptions{Jitter: hub.JitterOff, StopOnUnpublish: true})
	defer viewer.Close()
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		stopWhenUnwatched(rctx, cancel, pub.Stream())
	}()
	defer wg.Wait()
	defer cancel() // before the wait: it ends the watcher
	log.Debug("srt: TS relay started")
	buf := make([]hub.Delivery, maxBatch)
	for {
		n, err := viewer.Read(rctx, buf)
		for _, d := range buf[:n] {
			out, err := enc.AppendPacket(nil, d.Packet)
			if err != nil || len(out) == 0 {
				continue
			}
			p := &av.Packet{Kind: d.Packet.Kind, Timestamp: d.Packet.Timestamp, Codec: d.Packet.Codec,
				Keyframe: d.Packet.Kind == av.KindVideo && remux.IsKeyframe(d.Packet), Payload: out}
			if pub.Write(p) != nil {
				return
			}
		}
		clear(buf[:n])
		if err != nil {
			log.Debug("srt: TS relay stopped", "reason", endReason(err))
			return
		}
	}
}

// stopWhenUnwatched ends a relay nobody has watched for relayIdle.
func stopWhenUnwatched(ctx context.Context, stop func(), derived *hub.Stream) {
	t := time.NewTicker(relayIdle / 2)
	defer t.Stop()
	var idleSince time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if derived.Snapshot().Viewers > 0 {
				idleSince = time.Time{}
				continue
			}
			if idleSince.IsZero() {
				idleSince = now
			} else if now.Sub(idleSince) >= relayIdle {
				stop()
				return
			}
		}
	}
}
