package rtc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/hub"
)

// rtpKey names the hub stream that carries a stream's RTP packets for its
// WebRTC players.
func rtpKey(k hub.Key) hub.Key {
	k.Variant = "rtc"
	return k
}

// relayOptions are the settings of a stream's RTP stream: no GOP cache
// (players start at the next keyframe, live), and a short history: a
// player more than that behind skips ahead.
func relayOptions(o hub.StreamOptions) hub.StreamOptions {
	return hub.StreamOptions{QueueLength: min(max(o.QueueLength, time.Second), 10*time.Second)}
}

// relay packetizes one stream for every WebRTC player, once: it reads the
// stream like a viewer (and the publisher's Opus side stream when there is
// one), turns video frames into RTP packets in their codec (H.264, with
// B-frames and SEI dropped as the vhost says, H.265, AV1, VP9, VP8) and AAC into Opus (rtmp_to_rtc), and publishes each
// frame's packets into the derived stream rtpKey, whose ring the players
// read with their own cursors: the hub's slow-player handling and wake-ups
// come for free, and packets are made once however many players there are.
type relay struct {
	srv    *Server
	key    hub.Key
	out    *hub.Publisher
	users  int         // guarded by srv.mu
	idle   *time.Timer // guarded by srv.mu
	cancel context.CancelFunc

	mu         sync.Mutex // the video and side-audio readers share what follows
	vseq, aseq uint16
	base       time.Duration // the epoch's first media time
	baseSet    bool
	offset     time.Duration // RTP time where this epoch starts
	last       time.Duration // the latest media time seen
	vcodec     av.Codec
	vpack      videoPacketizer // the epoch's video packetizer, for vcodec
	aacEnc     AACToOpus
	payloads   [][]byte
	bframes    int64
	v          Vhost // the vhost's settings, read at each publish
	merge      bool  // rtc_server.merge_nalus, read at each publish
}

// attachRelay returns the stream's relay, starting it when needed.
func (s *Server) attachRelay(key hub.Key, v Vhost) (*relay, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return nil, errDisabled
	}
	if r := s.relays[key]; r != nil {
		r.users++
		if r.idle != nil {
			r.idle.Stop()
			r.idle = nil
		}
		return r, nil
	}
	out, err := s.Hub.Publish(rtpKey(key), hub.ClientInfo{ID: "rtc-relay", Protocol: "rtc-relay"}, relayOptions(v.Stream))
	if err != nil {
		return nil, fmt.Errorf("rtc: start the RTP relay of %s: %w", key, err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	r := &relay{srv: s, key: key, out: out, users: 1, cancel: cancel}
	s.relays[key] = r
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		r.run(ctx)
	}()
	return r, nil
}

// detachRelay drops a player; the relay stops relayIdle after its last.
func (s *Server) detachRelay(r *relay) {
	if r == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.users--
	if r.users > 0 {
		return
	}
	r.idle = time.AfterFunc(s.relayIdle, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.users > 0 || s.relays[r.key] != r {
			return
		}
		delete(s.relays, r.key)
		r.cancel()
		r.out.Close() // now, so a new relay can take the derived stream at once
	})
}

// run relays publish after publish until the relay is stopped.
func (r *relay) run(ctx context.Context) {
	defer r.out.Close()
	defer r.cancel()
	for ctx.Err() == nil {
		if err := r.epoch(ctx); err != nil && !errors.Is(err, context.Canceled) {
			r.srv.Log.Warn("rtc: relay stopped", "stream", r.key.String(), "err", err)
			return
		}
	}
}

// epoch relays one publish of the stream, from its first packet to its
// unpublish. The Opus side stream, when the publisher has one, gives the
// audio instead of the stream's own (its AAC is for RTMP players).
func (r *relay) epoch(ctx context.Context) error {
	v, _ := r.srv.Vhost(r.key.Vhost)
	merge := r.srv.Config().MergeNalus
	r.mu.Lock()
	r.v, r.merge = v, merge
	r.mu.Unlock()
	src := r.srv.Hub.Play(r.key, hub.ClientInfo{ID: "rtc-relay", Protocol: "rtc-relay"}, hub.StreamOptions{},
		hub.ViewerOptions{Jitter: hub.JitterOff, StopOnUnpublish: true, LiveOnly: true})
	ectx, cancel := context.WithCancel(ctx)
	var side sync.WaitGroup
	defer func() {
		cancel()
		side.Wait()
		src.Close()
		r.endEpoch()
	}()
	decided, sideAudio, allowed := false, false, true
	buf := make([]hub.Delivery, 64)
	for {
		n, err := src.Read(ectx, buf)
		for _, d := range buf[:n] {
			if !decided && d.Packet.Kind != av.KindData {
				decided = true
				allowed, sideAudio = r.begin(ectx, &side)
			}
			if !allowed {
				continue
			}
			var ferr error
			switch {
			case d.Packet.Kind == av.KindVideo:
				ferr = r.video(d.Packet)
			case d.Packet.Kind == av.KindAudio && !sideAudio:
				ferr = r.audio(d.Packet)
			}
			if ferr != nil {
				clear(buf[:n])
				return ferr
			}
		}
		clear(buf[:n])
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil // unpublished: wait for the next publisher
			}
			return err
		}
	}
}

// begin starts an epoch once its publisher is known: it reports whether
// the stream may go to WebRTC players (rtmp_to_rtc) and starts the side
// audio reader when the publisher has an Opus side stream.
func (r *relay) begin(ctx context.Context, side *sync.WaitGroup) (allowed, sideAudio bool) {
	r.mu.Lock()
	v := r.v
	r.mu.Unlock()
	if st := r.srv.Hub.Stream(r.key); st != nil {
		if sn := st.Snapshot(); sn.Publishing && sn.Publisher.Protocol != protocolRTC && !v.RTC.RTMPToRTC {
			r.srv.Log.Warn("rtc: stream published over another protocol and rtmp_to_rtc is off; WebRTC players get nothing",
				"stream", r.key.String(), "protocol", sn.Publisher.Protocol)
			return false, false
		}
	}
	st := r.srv.Hub.Stream(opusKey(r.key))
	if st == nil || !st.Publishing() {
		return true, false
	}
	src := r.srv.Hub.Play(opusKey(r.key), hub.ClientInfo{ID: "rtc-relay", Protocol: "rtc-relay"}, hub.StreamOptions{},
		hub.ViewerOptions{Jitter: hub.JitterOff, StopOnUnpublish: true, LiveOnly: true})
	side.Add(1)
	go func() {
		defer side.Done()
		defer src.Close()
		buf := make([]hub.Delivery, 64)
		for {
			n, err := src.Read(ctx, buf)
			for _, d := range buf[:n] {
				if d.Packet.Kind == av.KindAudio {
					if err := r.audio(d.Packet); err != nil {
						r.srv.Log.Warn("rtc: relay audio", "stream", r.key.String(), "err", err)
					}
				}
			}
			clear(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	return true, true
}

// endEpoch makes the next publish's RTP time continue where this one ended.
func (r *relay) endEpoch() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.baseSet {
		r.offset += r.last - r.base + 40*time.Millisecond
	}
	r.baseSet = false
	r.vcodec, r.vpack = av.CodecUnknown, nil
	if r.aacEnc != nil {
		if err := r.aacEnc.Close(); err != nil {
			r.srv.Log.Debug("rtc: close AAC decoder", "err", err)
		}
		r.aacEnc = nil
	}
	if r.bframes > 0 {
		r.srv.Log.Info("rtc: B-frames dropped for WebRTC players (keep_bframe off)", "stream", r.key.String(), "frames", r.bframes)
		r.bframes = 0
	}
}

// rtpTime maps a media time of this epoch to RTP ticks; call with mu held.
func (r *relay) rtpTime(t time.Duration, rate int64) uint32 {
	if !r.baseSet {
		r.base, r.baseSet, r.last = t, true, t
	}
	r.last = max(r.last, t)
	return rtpTicks(r.offset+t-r.base, rate)
}

// video packetizes one frame (or keeps what a sequence header brings for
// the frames after it), with the packetizer of the frame's codec: a new
// one when the codec changes.
func (r *relay) video(p *av.Packet) error {
	t, err := av.ParseFLVVideoTag(p.Payload)
	if err != nil {
		return nil // the hub took it, but it is no video castd can read
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.vcodec != t.Codec || r.vpack == nil {
		vc, ok := videoCodecOf(t.Codec)
		if !ok {
			r.srv.warnOnce("codec-"+t.Codec.String()+r.key.String(), "rtc: this video codec cannot go to WebRTC players; they get no video",
				"codec", t.Codec.String(), "stream", r.key.String())
			return nil
		}
		r.vcodec = t.Codec
		r.vpack = vc.newPacketizer(packetizerOptions{keepSEI: r.v.RTC.KeepAVCNaluSEI, keepBFrames: r.v.RTC.KeepBframe,
			merge: r.merge, bframes: &r.bframes})
	}
	body := p.Payload[t.PayloadOffset:]
	if t.IsSequenceHeader() {
		r.vpack.sequenceHeader(body)
		return nil
	}
	if t.IsCommand() || (t.PacketType != av.VideoPacketCodedFrames && t.PacketType != av.VideoPacketCodedFramesX) {
		return nil
	}
	var keyframe, send bool
	r.payloads, keyframe, send = r.vpack.frame(r.payloads[:0], body, t.IsKeyframe())
	if !send || len(r.payloads) == 0 {
		clear(r.payloads)
		return nil
	}
	ts := r.rtpTime(time.Duration(int64(p.Timestamp)+int64(t.CompositionTime))*time.Millisecond, 90000)
	out, err := marshalRTP(r.payloads, &r.vseq, ts, true)
	clear(r.payloads)
	if err != nil {
		return err
	}
	return r.publish(&av.Packet{Kind: av.KindVideo, Codec: t.Codec, Keyframe: keyframe, Timestamp: p.Timestamp, Payload: out})
}

// audio sends Opus as it is, and AAC transcoded when rtmp_to_rtc is on.
func (r *relay) audio(p *av.Packet) error {
	a, err := parseHubAudio(p)
	if err != nil {
		r.srv.warnOnce("audio-"+r.key.String(), "rtc: audio not sent to WebRTC players", "stream", r.key.String(), "err", err)
		return nil
	}
	pts := time.Duration(p.Timestamp) * time.Millisecond
	r.mu.Lock()
	defer r.mu.Unlock()
	v := r.v
	if a.codec == av.CodecOpus {
		if a.header {
			return nil
		}
		return r.sendOpus(a.data, pts)
	}
	if !v.RTC.RTMPToRTC {
		return nil
	}
	if a.header {
		if r.aacEnc != nil {
			_ = r.aacEnc.Close() // a new AudioSpecificConfig replaces the decoder; its error says nothing new
			r.aacEnc = nil
		}
		if err := transcodersAvailable(r.srv.Transcoders); err != nil {
			r.srv.warnOnce("aac-to-opus", "rtc: rtmp_to_rtc is on but AAC cannot be transcoded to Opus; WebRTC players get video only", "err", err)
			return nil
		}
		enc, err := r.srv.Transcoders.NewAACToOpus(a.data, v.RTC.OpusBitrate)
		if err != nil {
			r.srv.warnOnce("aac-to-opus-"+r.key.String(), "rtc: cannot start the AAC to Opus transcoder", "stream", r.key.String(), "err", err)
			return nil
		}
		r.aacEnc = enc
		return nil
	}
	if r.aacEnc == nil {
		return nil
	}
	frames, err := r.aacEnc.Write(a.data, pts)
	if err != nil {
		r.srv.warnOnce("aac-frame-"+r.key.String(), "rtc: AAC to Opus transcoding failed for a frame", "stream", r.key.String(), "err", err)
	}
	for _, f := range frames {
		if err := r.sendOpus(f.Data, f.PTS); err != nil {
			return err
		}
	}
	return nil
}

// sendOpus publishes one Opus frame as one RTP packet; call with mu held.
func (r *relay) sendOpus(frame []byte, pts time.Duration) error {
	ts := r.rtpTime(pts, opusClockRate)
	out, err := marshalRTP([][]byte{frame}, &r.aseq, ts, false)
	if err != nil {
		return err
	}
	return r.publish(&av.Packet{Kind: av.KindAudio, Codec: av.CodecOpus, Timestamp: hubTime(pts), Payload: out})
}

// marshalRTP writes RTP packets, each behind its 2-byte length, into one
// buffer. SSRC and payload type are left zero: each player's track sets
// its own. The marker ends a video frame.
func marshalRTP(payloads [][]byte, seq *uint16, ts uint32, marker bool) ([]byte, error) {
	const headerSize = 12
	size := 0
	for _, p := range payloads {
		size += 2 + headerSize + len(p)
	}
	out := make([]byte, 0, size)
	for i, p := range payloads {
		if headerSize+len(p) > 0xffff {
			return nil, fmt.Errorf("rtc: RTP payload of %d bytes", len(p))
		}
		h := rtp.Header{Version: 2, SequenceNumber: *seq, Timestamp: ts, Marker: marker && i == len(payloads)-1}
		*seq++
		out = binary.BigEndian.AppendUint16(out, uint16(headerSize+len(p)))
		start := len(out)
		out = out[:start+headerSize]
		if _, err := h.MarshalTo(out[start:]); err != nil {
			return nil, fmt.Errorf("rtc: RTP header: %w", err)
		}
		out = append(out, p...)
	}
	return out, nil
}

// publish hands packets to the players; a closed output ends the relay.
func (r *relay) publish(p *av.Packet) error {
	if err := r.out.Write(p); err != nil {
		return fmt.Errorf("rtc: relay %s: %w", r.key, err)
	}
	return nil
}

// eachRTP calls f with every RTP packet of a relay payload.
func eachRTP(b []byte, f func([]byte) error) error {
	for len(b) > 0 {
		if len(b) < 2 {
			return errors.New("rtc: relay payload truncated in a length")
		}
		n := int(binary.BigEndian.Uint16(b))
		if n > len(b)-2 {
			return errors.New("rtc: relay payload truncated in a packet")
		}
		if err := f(b[2 : 2+n]); err != nil {
			return err
		}
		b = b[2+n:]
	}
	return nil
}
