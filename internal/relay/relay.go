// Package relay muxes a live stream once for every viewer that wants the
// same bytes: MPEG-TS (HTTP-TS viewers and SRT players), ADTS AAC or MP3
// (HTTP audio mounts). A relay reads the stream like a viewer and publishes
// each packet's muxed bytes into a derived hub stream (Key.Variant), so
// those viewers get the hub's ring, GOP cache, slow-viewer handling and
// merged writes. A keyframe's TS bytes start with PAT/PMT, so a viewer that
// starts at the GOP cache can decode.
package relay

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/remux"
)

// Formats a relay muxes to.
const (
	TS  = "ts"
	AAC = "aac"
	MP3 = "mp3"
)

// Idle is how long a relay keeps muxing with no viewer before it stops.
const Idle = 10 * time.Second

// maxBatch is the most packets read from the source at once.
const maxBatch = 128

// Relays runs the relays of a server; one value serves every protocol, so
// a stream is muxed to TS once for HTTP-TS and SRT together.
type Relays struct {
	Hub *hub.Hub
	Log *slog.Logger
	// Context is the relays' lifetime (the server's): they end with it.
	// Nil never ends them but by their source or idleness.
	Context func() context.Context

	mu      sync.Mutex
	running map[hub.Key]chan struct{} // by derived key; closed when the relay ends
	wg      sync.WaitGroup
	idle    time.Duration // Idle unless a test shortens it
}

// Key names the derived stream of source in format: "ts" for a main
// stream, "srt.ts" for a hidden "srt" one.
func Key(source hub.Key, format string) hub.Key {
	if source.Variant == "" {
		source.Variant = format
	} else {
		source.Variant += "." + format
	}
	return source
}

// Options are the derived stream's: TS keeps the source's GOP cache;
// audio formats start StartBack (http_remux fast_cache) behind live
// instead.
func Options(src hub.StreamOptions, format string) hub.StreamOptions {
	o := hub.StreamOptions{GopCache: src.GopCache, GopCacheMaxFrames: src.GopCacheMaxFrames, QueueLength: src.QueueLength}
	if format != TS {
		o.GopCache = false
		o.StartBack = src.StartBack
	}
	return o
}

// Ensure makes sure a relay muxes source to format, starting one when
// none runs, and returns the derived stream's key. protocol names the
// relay as a hub client ("http-ts", "srt-ts"). The relay ends when the
// source unpublishes, nobody watched it for Idle, or Context ends.
func (r *Relays) Ensure(source hub.Key, format string, sopt hub.StreamOptions, protocol string) hub.Key {
	key := Key(source, format)
	r.mu.Lock()
	defer r.mu.Unlock()
	if done, ok := r.running[key]; ok {
		select {
		case <-done:
		default:
			return key
		}
	}
	pub, err := r.Hub.Publish(key, hub.ClientInfo{ID: "relay", Protocol: protocol}, Options(sopt, format))
	if err != nil {
		return key // a relay that is just ending still holds it; the next request retries
	}
	if r.running == nil {
		r.running = map[hub.Key]chan struct{}{}
	}
	done := make(chan struct{})
	r.running[key] = done
	ctx := context.Background()
	if r.Context != nil {
		ctx = r.Context()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.run(ctx, source, format, sopt, protocol, pub)
		pub.Close()
		close(done)
		r.mu.Lock()
		if r.running[key] == done {
			delete(r.running, key)
		}
		r.mu.Unlock()
	}()
	return key
}

// Wait blocks until every relay has ended.
func (r *Relays) Wait() { r.wg.Wait() }

// encoder appends a packet's bytes in the format; no bytes means nothing to
// send (sequence headers, other media kinds).
type encoder func(dst []byte, p *av.Packet) ([]byte, error)

func newEncoder(format string, log *slog.Logger) (encoder, error) {
	switch format {
	case TS:
		w, err := remux.NewTSWriter(nil, remux.TSOptions{Logger: log})
		if err != nil {
			return nil, err
		}
		return w.AppendPacket, nil
	case AAC:
		w := remux.NewADTSWriter(nil, log)
		return func(dst []byte, p *av.Packet) ([]byte, error) { return w.AppendPacket(dst, p), nil }, nil
	}
	w := remux.NewMP3Writer(nil, log)
	return func(dst []byte, p *av.Packet) ([]byte, error) { return w.AppendPacket(dst, p), nil }, nil
}

// run reads the source and publishes its muxed bytes until the source
// unpublishes, nobody watches, or ctx ends.
func (r *Relays) run(ctx context.Context, source hub.Key, format string, sopt hub.StreamOptions, protocol string, pub *hub.Publisher) {
	log := r.logger().With("stream", source.String(), "format", format)
	enc, err := newEncoder(format, log)
	if err != nil {
		log.Error("relay: cannot start", "err", err)
		return
	}
	// Each packet is written as it comes, with timestamps as published: TS
	// carries its own clock, so viewers need no jitter correction.
	viewer := r.Hub.Play(source, hub.ClientInfo{ID: "relay", Protocol: protocol}, sopt,
		hub.ViewerOptions{Jitter: hub.JitterOff, StopOnUnpublish: true})
	defer viewer.Close()
	rctx, cancel := context.WithCancel(ctx)
	var watcher sync.WaitGroup
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		r.stopWhenUnwatched(rctx, cancel, pub.Stream())
	}()
	defer watcher.Wait()
	defer cancel() // before the wait: it ends the watcher
	log.Debug("relay: started")
	buf := make([]hub.Delivery, maxBatch)
	for {
		n, err := viewer.Read(rctx, buf)
		for _, d := range buf[:n] {
			out, err := enc(nil, d.Packet)
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
			log.Debug("relay: stopped", "reason", err.Error())
			return
		}
	}
}

// stopWhenUnwatched ends a relay nobody has watched for the idle time.
func (r *Relays) stopWhenUnwatched(ctx context.Context, stop func(), derived *hub.Stream) {
	idle := r.idle
	if idle <= 0 {
		idle = Idle
	}
	t := time.NewTicker(idle / 2)
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
			} else if now.Sub(idleSince) >= idle {
				stop()
				return
			}
		}
	}
}

func (r *Relays) logger() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}
