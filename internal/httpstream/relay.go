package httpstream

import (
	"context"
	"log/slog"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/httpx"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/remux"
)

// Formats muxed from a stream's packets for HTTP viewers other than FLV.
const (
	formatTS  = "ts"
	formatAAC = "aac"
	formatMP3 = "mp3"
)

// contentTypes are SRS's for its HTTP live mounts.
var contentTypes = map[string]string{
	formatTS:  "video/MP2T",
	formatAAC: "audio/x-aac",
	formatMP3: "audio/mpeg",
	"flv":     "video/x-flv",
}

// relayIdle is how long a relay keeps muxing with no viewer before it stops.
const relayIdle = 10 * time.Second

// relay muxes one stream once for all its HTTP-TS (or AAC, MP3) viewers: it
// reads the stream like a viewer and publishes each packet's muxed bytes
// into a derived hub stream (Key.Variant), so the viewers get the hub's ring,
// GOP cache, slow-viewer handling and merged writes. A keyframe's TS bytes
// start with PAT/PMT, so a viewer that starts at the GOP cache can decode.
type relay struct {
	source hub.Key
	format string
	done   chan struct{}
}

// encoder appends a packet's bytes in the format; no bytes means nothing to
// send (sequence headers, other media kinds).
type encoder func(dst []byte, p *av.Packet) ([]byte, error)

func newEncoder(format string, log *slog.Logger) (encoder, error) {
	switch format {
	case formatTS:
		w, err := remux.NewTSWriter(nil, remux.TSOptions{Logger: log})
		if err != nil {
			return nil, err
		}
		return w.AppendPacket, nil
	case formatAAC:
		w := remux.NewADTSWriter(nil, log)
		return func(dst []byte, p *av.Packet) ([]byte, error) { return w.AppendPacket(dst, p), nil }, nil
	}
	w := remux.NewMP3Writer(nil, log)
	return func(dst []byte, p *av.Packet) ([]byte, error) { return w.AppendPacket(dst, p), nil }, nil
}

// derivedKey names the muxed stream of a source.
func derivedKey(source hub.Key, format string) hub.Key {
	source.Variant = format
	return source
}

// relayFor returns the running relay of a stream, starting one if needed.
func (s *Server) relayFor(source hub.Key, format string, v Vhost) {
	key := derivedKey(source, format)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.relays[key]; ok {
		select {
		case <-r.done:
		default:
			return // running
		}
	}
	pub, err := s.Hub.Publish(key, hub.ClientInfo{ID: "relay", Protocol: "http-" + format}, derivedOptions(v.Stream, format))
	if err != nil {
		return // a relay that is just ending still holds it; the next request retries
	}
	r := &relay{source: source, format: format, done: make(chan struct{})}
	s.relays[key] = r
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(r.done)
		defer pub.Close()
		s.runRelay(r, pub, v)
	}()
}

// derivedOptions: a TS stream keeps the source's GOP cache; audio mounts
// start fast_cache behind live instead.
func derivedOptions(src hub.StreamOptions, format string) hub.StreamOptions {
	o := hub.StreamOptions{GopCache: src.GopCache, GopCacheMaxFrames: src.GopCacheMaxFrames, QueueLength: src.QueueLength}
	if format != formatTS {
		o.GopCache = false
		o.StartBack = src.StartBack
	}
	return o
}

func (s *Server) runRelay(r *relay, pub *hub.Publisher, v Vhost) {
	log := s.Log.With("stream", r.source.String(), "format", r.format)
	enc, err := newEncoder(r.format, log)
	if err != nil {
		log.Error("http: cannot start relay", "err", err)
		return
	}
	// The relay writes each packet as it comes, with timestamps as published:
	// TS carries its own clock, so viewers need no jitter correction.
	viewer := s.Hub.Play(r.source, hub.ClientInfo{ID: "relay", Protocol: "http-" + r.format}, v.Stream,
		hub.ViewerOptions{Jitter: hub.JitterOff, StopOnUnpublish: true})
	defer viewer.Close()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go s.stopWhenUnwatched(ctx, cancel, pub.Stream())
	log.Debug("http: relay started")
	buf := make([]hub.Delivery, maxBatch)
	for {
		n, err := viewer.Read(ctx, buf)
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
			log.Debug("http: relay stopped", "reason", endReason(err))
			return
		}
	}
}

// stopWhenUnwatched ends a relay nobody has watched for relayIdle.
func (s *Server) stopWhenUnwatched(ctx context.Context, stop func(), derived *hub.Stream) {
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

// rawWriter writes already muxed bytes (TS, ADTS, MP3), one HTTP chunk per
// batch, after the format's stream header (MP3's ID3 tag) on the first.
type rawWriter struct {
	resp   *httpx.LiveResponse
	prefix []byte
	parts  [][]byte
}

func (w *rawWriter) write(ds []hub.Delivery) error {
	parts := w.parts[:0]
	if w.prefix != nil {
		parts = append(parts, w.prefix)
		w.prefix = nil
	}
	for _, d := range ds {
		parts = append(parts, d.Packet.Payload)
	}
	err := w.resp.Write(parts)
	clear(parts)
	w.parts = parts[:0]
	return err
}

// formatPrefix is what a viewer gets before the first media bytes.
func formatPrefix(format string) []byte {
	if format == formatMP3 {
		return remux.MP3StreamHeader() // SRS starts HTTP-MP3 with an ID3v2 tag
	}
	return nil
}
