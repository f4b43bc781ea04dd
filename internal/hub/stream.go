package hub

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/ids"
)

// StreamOptions are the per-stream settings taken from the vhost's play{}
// block. They can change on reload (SetOptions).
type StreamOptions struct {
	GopCache          bool          // play.gop_cache
	GopCacheMaxFrames int           // play.gop_cache_max_frames; 0 means no limit
	QueueLength       time.Duration // play.queue_length: the most a viewer may lag
	// MixCorrect reorders audio and video by timestamp at ingest (play.mix_correct).
	MixCorrect bool
	// ATCAuto turns ATC on for every viewer when the publisher's onMetaData
	// has bravo_atc="true" (play.atc_auto).
	ATCAuto bool
	// StartBack starts a new viewer of a stream without a GOP cache this far
	// behind the newest packet (http_remux.fast_cache for audio mounts).
	StartBack time.Duration
}

// DefaultStreamOptions are SRS's defaults.
func DefaultStreamOptions() StreamOptions {
	return StreamOptions{GopCache: true, GopCacheMaxFrames: 2500, QueueLength: 30 * time.Second}
}

// SRS clears the GOP cache after this many audio packets without video,
// assuming the stream turned audio-only (about 3 s at 26 ms per AAC frame).
const pureAudioGuessCount = 115

// ClientInfo identifies whoever publishes or plays, for logs, the API and
// "stream busy" errors.
type ClientInfo struct {
	ID       string // the 8-character context id
	Protocol string // "rtmp", "http-flv", ...
	Addr     string // remote address
	TcURL    string
	Param    string // the stream URL's query ("?token=x"), for hooks sent on the client's behalf (on_dvr, on_hls)
}

// Stream is one live stream: its publisher, cached metadata and sequence
// headers, the packet ring whose last keyframe is the GOP cache, and the
// viewers reading it. All fields below mu are guarded by it.
type Stream struct {
	Key Key
	ID  string // "vid-xxxxxxx", stable for the stream's life; the API uses it
	hub *Hub

	frames atomic.Int64 // video frames received, for the API; updated without the lock

	mu          sync.RWMutex
	opt         StreamOptions
	created     time.Time
	ring        ring
	clock       int64 // stream clock of the newest packet (see entry)
	maxTS       int64 // largest publisher timestamp since the clock (re)started
	clockOn     bool  // a packet has set maxTS
	publisher   *Publisher
	publishedAt time.Time
	unpublishes uint64 // bumps on every unpublish; HTTP viewers end when it changes
	meta        *av.Packet
	audioSH     *av.Packet
	videoSH     *av.Packet
	videoInfo   *av.VideoInfo // parsed once from the video sequence header
	audioInfo   *av.AudioInfo // from the audio sequence header, or the first frame (MP3)
	bravoATC    bool          // atc_auto matched the publisher's metadata

	// GOP cache state, SRS's rules (see updateGOP).
	gopValid        bool
	gopStart        uint64 // sequence number of the last keyframe
	gopFrames       int    // packets cached since gopStart
	videoSeen       int    // acceptable video packets since publish
	audioAfterVideo int

	viewers map[*Viewer]struct{}
	holds   int // egress adapters keeping the stream alive (HLS dispose...)
	idleAt  time.Time
	dead    bool
	lastTC  string

	notify     chan struct{} // closed when packets arrive or the publisher leaves
	notifyUsed atomic.Bool   // a viewer is waiting on notify
}

func newStream(h *Hub, key Key, opt StreamOptions) *Stream {
	s := &Stream{Key: key, ID: ids.NewVID(), hub: h, opt: opt, created: h.now(), notify: make(chan struct{}), viewers: map[*Viewer]struct{}{}}
	s.ring = newRing(256, maxRingPackets)
	return s
}

// maxRingPackets bounds every stream's history, whatever queue_length says:
// at 100 packets/s it still holds more than 10 minutes.
const maxRingPackets = 1 << 16

// SetOptions applies new play settings (on reload). Viewers pick them up at
// their next read.
func (s *Stream) SetOptions(opt StreamOptions) {
	s.mu.Lock()
	s.opt = opt
	if !opt.GopCache {
		s.gopValid = false
	}
	s.mu.Unlock()
}

// UpdateViewers calls f for every viewer (on reload, to apply new play
// settings with Viewer.SetOptions). f runs under the stream's lock and must
// not block.
func (s *Stream) UpdateViewers(f func(*Viewer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for v := range s.viewers {
		f(v)
	}
}

// CountViewers returns how many viewers match (an edge counts its players,
// not the HLS or forward readers of the stream it pulls).
func (s *Stream) CountViewers(match func(ClientInfo) bool) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for v := range s.viewers {
		if match(v.info) {
			n++
		}
	}
	return n
}

// Options returns the current settings.
func (s *Stream) Options() StreamOptions {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.opt
}

// waitChan returns the channel closed at the next change; call with mu read-locked.
func (s *Stream) waitChan() chan struct{} {
	s.notifyUsed.Store(true)
	return s.notify
}

// wakeLocked is called with mu held for writing; it returns the channel to
// close after unlocking, or nil when nobody waits.
func (s *Stream) wakeLocked() chan struct{} {
	if !s.notifyUsed.Swap(false) {
		return nil
	}
	ch := s.notify
	s.notify = make(chan struct{})
	return ch
}

// advanceClock moves the stream clock by the publisher's timestamp progress.
// Backward steps (A/V interleaving) do not move it; a jump back of more than
// 5 s (republish, encoder restart) or forward of more than a minute restarts
// the reference without moving the clock.
func (s *Stream) advanceClock(ts uint32) {
	t := int64(ts)
	switch {
	case !s.clockOn:
		s.clockOn, s.maxTS = true, t
	case t > s.maxTS:
		if d := t - s.maxTS; d <= int64(time.Minute/time.Millisecond) {
			s.clock += d
		}
		s.maxTS = t
	case s.maxTS-t > 5000:
		s.maxTS = t
	}
}

// append adds p to the ring under mu and applies the GOP cache rules.
func (s *Stream) appendLocked(p *av.Packet) {
	s.advanceClock(p.Timestamp)
	seq, evicted := s.ring.push(entry{pkt: p, clock: s.clock})
	if evicted && s.gopValid && s.gopStart < s.ring.tail {
		s.gopValid = false // the GOP outgrew the ring
	}
	s.updateGOP(p, seq)
	s.trimLocked()
}

// updateGOP applies SRS's GOP cache rules to the packet just stored at seq.
func (s *Stream) updateGOP(p *av.Packet, seq uint64) {
	if !s.opt.GopCache || p.SequenceHeader || p.Kind == av.KindData {
		return
	}
	if p.Kind == av.KindVideo {
		if !p.Codec.IsVideo() {
			return // SRS's cache ignores video it cannot parse
		}
		s.videoSeen++
		s.audioAfterVideo = 0
		if p.Keyframe {
			s.gopValid, s.gopStart, s.gopFrames = true, seq, 0
		}
	} else {
		if s.videoSeen == 0 {
			return // pure audio so far: nothing is cached
		}
		s.audioAfterVideo++
		if s.audioAfterVideo > pureAudioGuessCount {
			s.gopValid = false
			return
		}
	}
	if !s.gopValid {
		return
	}
	s.gopFrames++
	if s.opt.GopCacheMaxFrames > 0 && s.gopFrames > s.opt.GopCacheMaxFrames {
		s.gopValid = false // a stream that never sends an IDR must not eat memory
	}
}

// trimLocked releases packets no viewer may still need: older than the GOP
// cache and older than queue_length behind the newest packet.
func (s *Stream) trimLocked() {
	keep := s.queueLengthMs()
	for s.ring.tail < s.ring.head {
		if s.gopValid && s.ring.tail >= s.gopStart {
			return
		}
		if s.clock-s.ring.at(s.ring.tail).clock <= keep {
			return
		}
		s.ring.dropOldest()
	}
}

// startBackLocked returns the first packet at most d behind the newest.
func (s *Stream) startBackLocked(d time.Duration) uint64 {
	keep := int64(d / time.Millisecond)
	seq := s.ring.head
	for seq > s.ring.tail && s.clock-s.ring.at(seq-1).clock <= keep {
		seq--
	}
	return seq
}

func (s *Stream) queueLengthMs() int64 {
	q := s.opt.QueueLength
	if q <= 0 {
		q = 30 * time.Second
	}
	return int64(q / time.Millisecond)
}

// atc reports whether atc_auto switched the stream to ATC.
func (s *Stream) atc() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.bravoATC
}

// Publishing reports whether a publisher holds the stream.
func (s *Stream) Publishing() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.publisher != nil
}

// Snapshot is a consistent view of a stream for the API and metrics.
type Snapshot struct {
	Key         Key
	ID          string
	TcURL       string
	Created     time.Time
	Publishing  bool
	Publisher   ClientInfo
	PublishedAt time.Time
	Viewers     int
	Frames      int64
	Meta        *av.Packet
	AudioSH     *av.Packet
	VideoSH     *av.Packet
	Video       *av.VideoInfo // nil until a parsable video sequence header arrived
	Audio       *av.AudioInfo // nil until audio was seen
	GOPPackets  int
}

// Snapshot returns the stream's current state.
func (s *Stream) Snapshot() Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sn := Snapshot{
		Key: s.Key, ID: s.ID, TcURL: s.lastTC, Created: s.created,
		Viewers: len(s.viewers), Frames: s.frames.Load(),
		Meta: s.meta, AudioSH: s.audioSH, VideoSH: s.videoSH, Video: s.videoInfo, Audio: s.audioInfo,
	}
	if s.publisher != nil {
		sn.Publishing, sn.Publisher, sn.PublishedAt = true, s.publisher.info, s.publishedAt
	}
	if s.gopValid {
		sn.GOPPackets = int(s.ring.head - s.gopStart)
	}
	return sn
}
