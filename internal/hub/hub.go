// Package hub is the centre of castd: every ingest adapter publishes packets
// into a Stream and every egress adapter reads them through a Viewer. A
// stream keeps one ring of immutable packets; each viewer has its own cursor
// into it, so a packet is stored once and shared by all viewers, and a slow
// viewer skips ahead instead of growing a queue.
package hub

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/format/flv"
)

// Key names a stream: vhost, app and stream name, as SRS resolves them.
// Variant names a stream derived from another one (the HTTP-TS relay muxes
// a stream once into variant "ts" for all its viewers); derived streams are
// internal and not listed by the API.
type Key struct {
	Vhost, App, Name string
	Variant          string
}

// DefaultVhost is SRS's catch-all vhost; stream URLs omit it.
const DefaultVhost = "__defaultVhost__"

// String returns SRS's stream URL: "/app/stream", prefixed with the vhost
// when it is not the default one.
func (k Key) String() string {
	if k.Vhost == "" || k.Vhost == DefaultVhost {
		return "/" + k.App + "/" + k.Name
	}
	return k.Vhost + "/" + k.App + "/" + k.Name
}

// ErrStreamBusy is matched (errors.Is) by the error of a second publisher.
var ErrStreamBusy = errors.New("stream busy")

// BusyError says who holds a stream a publisher was refused.
type BusyError struct {
	Key    Key
	Holder ClientInfo
	Since  time.Time
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("stream busy (published by client %s over %s since %s)",
		e.Holder.ID, e.Holder.Protocol, e.Since.Format("15:04:05"))
}

func (e *BusyError) Is(target error) bool { return target == ErrStreamBusy }

// Events lets other parts of the server follow stream life (HLS, DVR,
// forward start on publish and stop on unpublish). Callbacks run on the
// publisher's goroutine, outside every hub lock, and must not block.
type Events struct {
	Published   func(s *Stream)
	Unpublished func(s *Stream)
	Removed     func(s *Stream) // the stream was freed after being idle
	// Joined runs after a viewer attached (an edge starts pulling from its
	// origin when the first player arrives). It runs on the viewer's
	// goroutine.
	Joined func(s *Stream, who ClientInfo)
}

// Options configure a Hub.
type Options struct {
	Logger *slog.Logger
	// IdleTimeout is how long a stream with no publisher, viewer or hold is
	// kept before it is freed (SRS v6: 3 s).
	IdleTimeout time.Duration
	Events      Events
	Now         func() time.Time // for tests
}

// Hub owns every stream of the server.
type Hub struct {
	log  *slog.Logger
	opt  Options
	mu   sync.Mutex
	byID map[string]*Stream
	all  map[Key]*Stream

	// Every slow-viewer skip of the server's life, for metrics: a stream's
	// own counts go when it is freed.
	droppedPackets atomic.Int64
	viewerSkips    atomic.Int64
}

// ViewerDrops returns how many packets slow viewers skipped, and how many
// times a viewer fell behind, since the hub was created.
func (h *Hub) ViewerDrops() (packets, skips int64) {
	return h.droppedPackets.Load(), h.viewerSkips.Load()
}

// New returns an empty hub.
func New(opt Options) *Hub {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = 3 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Hub{log: opt.Logger, opt: opt, byID: map[string]*Stream{}, all: map[Key]*Stream{}}
}

func (h *Hub) now() time.Time { return h.opt.Now() }

// streamLocked returns the stream for key, creating it; call with h.mu held.
func (h *Hub) streamLocked(key Key, opt StreamOptions) *Stream {
	if s, ok := h.all[key]; ok {
		return s
	}
	s := newStream(h, key, opt)
	h.all[key] = s
	h.byID[s.ID] = s
	h.log.Debug("stream created", "stream", key.String(), "id", s.ID)
	return s
}

// Publish makes the caller the stream's only publisher. A second publisher
// gets a *BusyError naming the holder.
func (h *Hub) Publish(key Key, who ClientInfo, opt StreamOptions) (*Publisher, error) {
	h.mu.Lock()
	s := h.streamLocked(key, opt)
	s.mu.Lock()
	if s.publisher != nil {
		err := &BusyError{Key: key, Holder: s.publisher.info, Since: s.publishedAt}
		s.mu.Unlock()
		h.mu.Unlock()
		return nil, err
	}
	p := &Publisher{s: s, info: who}
	s.opt = opt
	s.publisher, s.publishedAt = p, h.now()
	if who.TcURL != "" {
		s.lastTC = who.TcURL
	}
	s.videoSeen, s.audioAfterVideo, s.gopValid = 0, 0, false
	s.clockOn = false // the new publisher's timestamps start a new reference
	s.mu.Unlock()
	h.mu.Unlock()
	if f := h.opt.Events.Published; f != nil {
		f(s)
	}
	return p, nil
}

// Play attaches a viewer. The stream is created when missing: players may
// wait for a publisher (SRS creates sources for players too).
func (h *Hub) Play(key Key, who ClientInfo, sopt StreamOptions, vopt ViewerOptions) *Viewer {
	h.mu.Lock()
	s := h.streamLocked(key, sopt)
	s.mu.Lock()
	v := newViewer(s, who, vopt)
	s.viewers[v] = struct{}{}
	if s.lastTC == "" && who.TcURL != "" {
		s.lastTC = who.TcURL
	}
	s.mu.Unlock()
	h.mu.Unlock()
	if f := h.opt.Events.Joined; f != nil {
		f(s, who)
	}
	return v
}

// Ensure returns the stream for key, creating it when missing; a stream
// nobody then publishes, plays or holds is freed after the idle timeout.
// It gives the stream an id before anyone takes it (SRS's on_publish hook
// carries stream_id even for a publisher that turns out to be refused).
func (h *Hub) Ensure(key Key, opt StreamOptions) *Stream {
	h.mu.Lock()
	s := h.streamLocked(key, opt)
	h.mu.Unlock()
	h.maybeIdle(s)
	return s
}

// Hold keeps a stream alive while an egress adapter still has work for it
// (HLS files to dispose, for example); call the returned func to release.
func (h *Hub) Hold(s *Stream) (release func()) {
	h.mu.Lock()
	s.mu.Lock()
	s.holds++
	s.mu.Unlock()
	h.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.holds--
			s.mu.Unlock()
			h.maybeIdle(s)
		})
	}
}

// Stream returns the stream for key, if it exists.
func (h *Hub) Stream(key Key) *Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.all[key]
}

// StreamByID returns the stream with the API id ("vid-..."), if it exists.
func (h *Hub) StreamByID(id string) *Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.byID[id]
}

// Streams returns every stream, oldest first (a stable order for the API).
func (h *Hub) Streams() []*Stream {
	h.mu.Lock()
	out := make([]*Stream, 0, len(h.all))
	for _, s := range h.all {
		out = append(out, s)
	}
	h.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// maybeIdle schedules a stream for removal when nothing uses it any more.
func (h *Hub) maybeIdle(s *Stream) {
	s.mu.Lock()
	idle := s.publisher == nil && len(s.viewers) == 0 && s.holds == 0 && !s.dead
	if idle {
		s.idleAt = h.now()
	}
	s.mu.Unlock()
	if idle {
		time.AfterFunc(h.opt.IdleTimeout, func() { h.reap(s) })
	}
}

// reap frees s if it stayed idle for the whole timeout.
func (h *Hub) reap(s *Stream) {
	h.mu.Lock()
	s.mu.Lock()
	idle := s.publisher == nil && len(s.viewers) == 0 && s.holds == 0 && !s.dead &&
		h.now().Sub(s.idleAt) >= h.opt.IdleTimeout-time.Millisecond
	if idle {
		s.dead = true
		s.ring.clear()
		s.meta, s.audioSH, s.videoSH = nil, nil, nil
		if h.all[s.Key] == s {
			delete(h.all, s.Key)
		}
		delete(h.byID, s.ID)
	}
	s.mu.Unlock()
	h.mu.Unlock()
	if idle {
		h.log.Debug("stream freed", "stream", s.Key.String(), "id", s.ID)
		if f := h.opt.Events.Removed; f != nil {
			f(s)
		}
	}
}

// Publisher is the write end of a stream, held by one ingest adapter.
type Publisher struct {
	s      *Stream
	info   ClientInfo
	closed bool // guarded by s.mu

	// Owned by the writing goroutine.
	audioKnown bool
	warned     bool
	mix        mixQueue
}

// Stream returns the stream being published.
func (p *Publisher) Stream() *Stream { return p.s }

// ErrUnpublished is returned by Write after Close.
var ErrUnpublished = errors.New("hub: publisher already unpublished")

// Write hands one packet to every viewer. The packet must not be modified
// afterwards. With mix_correct, audio and video may be held back briefly to
// be delivered in timestamp order.
func (p *Publisher) Write(pkt *av.Packet) error {
	if pkt.Kind == av.KindData || !p.s.Options().MixCorrect {
		return p.write(pkt)
	}
	p.mix.push(pkt)
	for q := p.mix.pop(); q != nil; q = p.mix.pop() {
		if err := p.write(q); err != nil {
			return err
		}
	}
	return nil
}

func (p *Publisher) write(pkt *av.Packet) error {
	s := p.s
	if pkt.Kind == av.KindVideo && !pkt.SequenceHeader {
		s.frames.Add(1)
	}
	vinfo, ainfo := p.codecFacts(pkt)
	s.mu.Lock()
	if p.closed {
		s.mu.Unlock()
		return ErrUnpublished
	}
	switch {
	case pkt.Kind == av.KindData:
		s.meta = pkt
		s.bravoATC = s.opt.ATCAuto && bravoATC(pkt)
	case pkt.SequenceHeader && pkt.Kind == av.KindVideo:
		s.videoSH = pkt
	case pkt.SequenceHeader && pkt.Kind == av.KindAudio:
		s.audioSH = pkt
	}
	if vinfo != nil {
		s.videoInfo = vinfo
	}
	if ainfo != nil {
		s.audioInfo = ainfo
	}
	s.appendLocked(pkt)
	ch := s.wakeLocked()
	s.mu.Unlock()
	if ch != nil {
		close(ch)
	}
	return nil
}

// bravoATC reports whether onMetaData says bravo_atc="true": the encoder
// stamps absolute time (ATC) and wants it kept.
func bravoATC(pkt *av.Packet) bool {
	_, v, err := flv.ParseScriptData(pkt.Payload)
	if err != nil {
		return false
	}
	var s string
	switch m := v.(type) {
	case amf.ECMAArray:
		s, _ = m.String("bravo_atc")
	case amf.Object:
		s, _ = m.String("bravo_atc")
	}
	return s == "true"
}

// codecFacts parses what the API reports about the codecs, once: from
// sequence headers, and from the first audio frame for codecs without one
// (MP3). It runs before the stream lock is taken. A header that does not
// parse is logged once per publish and the stream goes on.
func (p *Publisher) codecFacts(pkt *av.Packet) (*av.VideoInfo, *av.AudioInfo) {
	switch {
	case pkt.Kind == av.KindVideo && pkt.SequenceHeader:
		vi, err := av.VideoInfoFromSequenceHeader(pkt)
		if err != nil {
			p.warnOnce("video sequence header", err)
			return nil, nil
		}
		return &vi, nil
	case pkt.Kind == av.KindAudio && pkt.SequenceHeader:
		return nil, p.audioFacts(pkt)
	case pkt.Kind == av.KindAudio && !p.audioKnown && !hasSequenceHeader(pkt.Codec):
		p.audioKnown = true // one frame tells all, or nothing: never ask again
		return nil, p.audioFacts(pkt)
	}
	return nil, nil
}

func (p *Publisher) audioFacts(pkt *av.Packet) *av.AudioInfo {
	ai, err := av.AudioInfoFromPacket(pkt)
	if err != nil {
		p.warnOnce("audio", err)
		return nil
	}
	return &ai
}

// hasSequenceHeader reports whether a codec's facts come from its sequence
// header (AAC's AudioSpecificConfig, Opus's OpusHead) rather than a frame.
func hasSequenceHeader(c av.Codec) bool { return c == av.CodecAAC || c == av.CodecOpus }

func (p *Publisher) warnOnce(what string, err error) {
	if p.warned {
		return
	}
	p.warned = true
	p.s.hub.log.Warn("cannot parse codec facts; the API will not show them",
		"stream", p.s.Key.String(), "client", p.info.ID, "what", what, "err", err)
}

// Close unpublishes. RTMP viewers stay and wait for the next publisher; HTTP
// viewers (ViewerOptions.StopOnUnpublish) end after what they already got.
// The GOP cache, metadata and sequence headers are dropped so a viewer that
// joins later never gets a previous publisher's stale headers.
func (p *Publisher) Close() {
	s := p.s
	s.mu.Lock()
	if p.closed {
		s.mu.Unlock()
		return
	}
	p.closed = true
	s.publisher = nil
	s.unpublishes++
	s.gopValid = false
	s.meta, s.audioSH, s.videoSH = nil, nil, nil
	s.videoInfo, s.audioInfo = nil, nil
	s.bravoATC = false
	s.notifyUsed.Store(true) // wake every waiter, whether or not it asked
	ch := s.wakeLocked()
	s.mu.Unlock()
	close(ch)
	if f := s.hub.opt.Events.Unpublished; f != nil {
		f(s)
	}
	s.hub.maybeIdle(s)
}
