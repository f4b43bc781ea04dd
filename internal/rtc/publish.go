package rtc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/security"
)

// opusKey names the hub stream that carries a WebRTC publisher's Opus as
// published, for WebRTC players: the stream itself gets AAC (rtc_to_rtmp)
// or no audio, since RTMP and FLV players do not play Opus.
func opusKey(k hub.Key) hub.Key {
	k.Variant = "opus"
	return k
}

// publishSession is a WebRTC publisher feeding the hub.
type publishSession struct {
	*session
	pub  *hub.Publisher // the stream: its video and, with rtc_to_rtmp, AAC
	opus *hub.Publisher // the Opus side stream for WebRTC players

	clock      mediaClock
	videoSSRC  atomic.Uint32
	videoTaken atomic.Bool  // a video track is read; castd takes one
	lastKey    atomic.Int64 // unix ns of the last keyframe request
	keyPending atomic.Bool  // a throttled request waits for the interval's end

	wmu    sync.Mutex // one writer into the hub at a time (video and audio tracks)
	aac    OpusToAAC  // nil unless rtc_to_rtmp transcodes
	aacSH  bool
	opusSH bool
	frames int64
	warned map[string]bool
}

func (s *Server) negotiatePublish(ctx context.Context, r *request, o offer, v Vhost, key hub.Key, hr hooks.Request) (answer, error) {
	// SRS refuses a second publisher when it makes the session; castd
	// checks then, and takes the stream after the hooks.
	if err := s.busy(key); err != nil {
		return answer{}, fmt.Errorf("rtc: publish %s: %w", key, err)
	}
	ss, err := s.newSession(r, v, key, hr.ClientID, o.remoteUfrag)
	if err != nil {
		return answer{}, err
	}
	ps := &publishSession{session: ss, warned: map[string]bool{}}
	ss.pc.OnTrack(ps.onTrack)
	var keepCodec func() error
	if o.hasVideo {
		keepCodec = func() error { return preferVideoCodec(ss.pc, o.video) }
	}
	sdp, err := ss.answer(r.offer, s.candidates(ctx, s.Config(), candidateSource{eip: r.eip, apiHost: r.apiHost}, ss.ports), keepCodec)
	if err != nil {
		ss.discard(err)
		return answer{}, err
	}
	if err := admit(v, security.Publish, r.ip); err != nil {
		ss.discard(err)
		return answer{}, err
	}
	hr.Param = withUpstream(hr.Param)
	hr.StreamID = s.Hub.Ensure(key, v.Stream).ID
	ss.hr = hr
	if err := s.Hooks.OnPublish(ctx, v.Hooks, hr); err != nil {
		ss.discard(err)
		return answer{}, err
	}
	who := hub.ClientInfo{ID: ss.cid, Protocol: protocolRTC, Addr: r.peer, TcURL: r.tcURL, Param: hr.Param}
	// SRS sends on_unpublish only for a publish it acquired: a refusal
	// here gets none.
	if ps.pub, err = s.Hub.Publish(key, who, v.Stream); err != nil {
		ss.discard(err)
		return answer{}, fmt.Errorf("rtc: publish %s: %w", key, err)
	}
	if ps.opus, err = s.Hub.Publish(opusKey(key), who, sideOptions(v.Stream)); err != nil {
		ps.pub.Close()
		ss.discard(err)
		s.Hooks.OnUnpublish(context.Background(), v.Hooks, hr)
		return answer{}, fmt.Errorf("rtc: publish %s: %w", opusKey(key), err)
	}
	if v.RTC.RTCToRTMP {
		if err := transcodersAvailable(s.Transcoders); err != nil {
			s.warnOnce("opus-to-aac", "rtc: rtc_to_rtmp is on but Opus cannot be transcoded to AAC; RTMP, FLV and HLS players get video only",
				"err", err)
		}
	}
	ss.register(ps.pub.Stream().ID)
	s.mu.Lock()
	s.publishers[key] = ps
	s.mu.Unlock()
	ss.log.Info("rtc: publish start", "stream", key.String(), "via", r.via, "ip", r.ip, "session", ss.id, "param", hr.Param,
		"video", codecName(o.video))
	if err := s.start(ss, ps.media, ps.stop); err != nil {
		return answer{}, err
	}
	return answer{sdp: sdp, sessionID: ss.id, token: ss.token}, nil
}

// sideOptions are the settings of a side stream: no GOP cache (its
// readers start live), a short history.
func sideOptions(o hub.StreamOptions) hub.StreamOptions {
	return hub.StreamOptions{QueueLength: min(o.QueueLength, 10*time.Second)}
}

// media runs once the publisher is connected: ask for a keyframe now and
// every pli_for_rtmp, so players joining later (RTMP and FLV ones have no
// way to ask) get one soon.
func (ps *publishSession) media(ctx context.Context) {
	every := ps.vhost.RTC.PLIForRTMP
	if every <= 0 {
		every = 6 * time.Second
	}
	ps.goMedia(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				ps.requestKeyframe(true)
			}
		}
	})
}

// stop releases the hub and sends on_unpublish, after the media goroutines ended.
func (ps *publishSession) stop() {
	srv := ps.srv
	srv.mu.Lock()
	if srv.publishers[ps.key] == ps {
		delete(srv.publishers, ps.key)
	}
	srv.mu.Unlock()
	ps.pub.Close()
	ps.opus.Close()
	if ps.aac != nil {
		if err := ps.aac.Close(); err != nil {
			ps.log.Debug("rtc: close AAC encoder", "err", err)
		}
	}
	ps.log.Info("rtc: publish end", "stream", ps.key.String(), "frames", ps.frames)
	srv.Hooks.OnUnpublish(context.Background(), ps.hooksNow(), ps.hr)
}

// hooksNow returns the vhost's hooks as configured now (after any reload).
func (ss *session) hooksNow() conf.HTTPHooks {
	if v, ok := ss.srv.Vhost(ss.key.Vhost); ok {
		return v.Hooks
	}
	return conf.HTTPHooks{}
}

// onTrack starts reading a track the publisher sends.
func (ps *publishSession) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	codec := track.Codec()
	vc, isVideo := videoCodecOfMime(codec.MimeType)
	switch {
	case track.Kind() == webrtc.RTPCodecTypeVideo && isVideo && ps.videoTaken.CompareAndSwap(false, true):
		ps.goMedia(func() { ps.readVideo(track, vc) })
	case track.Kind() == webrtc.RTPCodecTypeAudio && strings.EqualFold(codec.MimeType, webrtc.MimeTypeOpus):
		channels := int(codec.Channels)
		if channels != 1 {
			channels = 2
		}
		ps.goMedia(func() { ps.readAudio(track, channels) })
	default:
		ps.log.Warn("rtc: ignoring a track castd cannot use", "kind", track.Kind().String(), "codec", codec.MimeType)
		ps.goMedia(func() { drain(track) })
	}
}

// drain reads a track nobody uses, so pion's buffers do not fill.
func drain(track *webrtc.TrackRemote) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := track.Read(buf); err != nil {
			return
		}
	}
}

// readVideo turns the video track into hub video: packets in order,
// frames assembled, FLV video tags out (AVC for H.264, enhanced RTMP for
// the others).
func (ps *publishSession) readVideo(track *webrtc.TrackRemote, vc *videoCodec) {
	ps.videoSSRC.Store(uint32(track.SSRC()))
	ps.requestKeyframe(true)
	reorder := newReorderBuffer(reorderWait)
	depack := newDepacketizer(vc.newFormat(), func() { ps.requestKeyframe(false) })
	ingest := vc.newIngest()
	tc := trackClock{media: &ps.clock, rate: 90000}
	dropPT := uint8(ps.vhost.RTC.DropForPT)
	warnKey := "video-" + vc.codec.String()
	var ready []orderedPacket
	var frames []*videoFrame
	for {
		p, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		if dropPT != 0 && p.PayloadType == dropPT {
			continue // drop_for_pt: SRS's switch to simulate a lost payload type
		}
		now := time.Now()
		ready = reorder.push(rtpPacket{seq: p.SequenceNumber, timestamp: p.Timestamp, marker: p.Marker, payload: p.Payload}, now, ready[:0])
		for _, op := range ready {
			if op.lostBefore {
				depack.lost()
			}
			var err error
			frames, err = depack.push(op.rtpPacket, frames[:0])
			if err != nil {
				ps.warn(warnKey, "rtc: malformed "+codecName(vc.codec)+" from the publisher; waiting for a keyframe", err)
			}
			for _, f := range frames {
				ps.writeVideo(ingest, vc.codec, f, tc.at(f.timestamp, now))
			}
			clear(frames)
		}
		clear(ready) // drop references to payloads already consumed
	}
}

// readAudio forwards Opus packets; late and duplicate ones are dropped
// (Opus needs no reordering: a late frame is one the decoder concealed).
func (ps *publishSession) readAudio(track *webrtc.TrackRemote, channels int) {
	tc := trackClock{media: &ps.clock, rate: opusClockRate}
	dropPT := uint8(ps.vhost.RTC.DropForPT)
	var last uint16
	started := false
	for {
		p, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		if dropPT != 0 && p.PayloadType == dropPT {
			continue
		}
		if started && int16(p.SequenceNumber-last) <= 0 {
			continue
		}
		started, last = true, p.SequenceNumber
		if len(p.Payload) == 0 {
			continue
		}
		ps.writeOpus(p.Payload, channels, tc.at(p.Timestamp, time.Now()))
	}
}

// writeVideo publishes one frame, after a new sequence header when the
// frame's parameters (parameter sets, sequence header, size) changed.
// Before the first sequence header players could not decode anything:
// the frame is dropped and a keyframe asked for.
func (ps *publishSession) writeVideo(ingest videoIngest, codec av.Codec, f *videoFrame, pts time.Duration) {
	header, frame, ready, err := ingest.tags(f)
	if err != nil {
		ps.warn("header-"+codec.String(), "rtc: cannot use the publisher's "+codecName(codec)+" parameters", err)
	}
	if !ready {
		ps.requestKeyframe(false)
		return
	}
	ts := hubTime(pts)
	ps.wmu.Lock()
	defer ps.wmu.Unlock()
	for _, body := range [][]byte{header, frame} {
		if body == nil {
			continue
		}
		pkt, err := av.NewPacket(av.KindVideo, ts, body)
		if err != nil {
			ps.warnLocked("tag-"+codec.String(), "rtc: made a video tag castd cannot parse", err)
			return
		}
		if !pkt.SequenceHeader {
			ps.frames++
		}
		ps.write(ps.pub, pkt)
	}
}

// writeOpus publishes one Opus packet to the side stream and, with
// rtc_to_rtmp, its AAC transcoding to the stream.
func (ps *publishSession) writeOpus(frame []byte, channels int, pts time.Duration) {
	ts := hubTime(pts)
	ps.wmu.Lock()
	defer ps.wmu.Unlock()
	if !ps.opusSH {
		ps.opusSH = true
		ps.write(ps.opus, &av.Packet{Kind: av.KindAudio, Codec: av.CodecOpus, SequenceHeader: true, Timestamp: ts, Payload: flvOpusSequenceHeader(channels)})
	}
	ps.write(ps.opus, &av.Packet{Kind: av.KindAudio, Codec: av.CodecOpus, Timestamp: ts, Payload: flvOpusFrame(frame)})
	if !ps.vhost.RTC.RTCToRTMP {
		return
	}
	if ps.aac == nil {
		if transcodersAvailable(ps.srv.Transcoders) != nil || ps.warned["aac-open"] {
			return
		}
		enc, err := ps.srv.Transcoders.NewOpusToAAC(channels, ps.vhost.RTC.AACBitrate)
		if err != nil {
			ps.warnLocked("aac-open", "rtc: cannot start the Opus to AAC transcoder; RTMP players get video only", err)
			return
		}
		ps.aac = enc
	}
	out, err := ps.aac.Write(frame, pts)
	if err != nil {
		ps.warnLocked("aac", "rtc: Opus to AAC transcoding failed for a frame", err)
	}
	for _, f := range out {
		if !ps.aacSH {
			ps.aacSH = true
			ps.write(ps.pub, &av.Packet{Kind: av.KindAudio, Codec: av.CodecAAC, SequenceHeader: true, Timestamp: hubTime(f.PTS),
				Payload: flvAACSequenceHeader(ps.aac.AudioSpecificConfig())})
		}
		ps.write(ps.pub, &av.Packet{Kind: av.KindAudio, Codec: av.CodecAAC, Timestamp: hubTime(f.PTS), Payload: flvAACFrame(f.Data)})
	}
}

// write hands a packet to the hub; call with wmu held. A closed publisher
// means the session is ending.
func (ps *publishSession) write(p *hub.Publisher, pkt *av.Packet) {
	if err := p.Write(pkt); err != nil && !errors.Is(err, hub.ErrUnpublished) {
		ps.warnLocked("hub", "rtc: hub refused a packet", err)
	}
}

// requestKeyframe sends a PLI to the publisher's video, at most once per
// keyframeInterval unless forced. A request inside the interval is not
// dropped but sent when the interval ends (once for all such requests):
// a player that joins just after the publisher's first PLI would
// otherwise wait for the encoder's next keyframe, seconds away.
func (ps *publishSession) requestKeyframe(force bool) {
	ssrc := ps.videoSSRC.Load()
	if ssrc == 0 {
		return
	}
	now := time.Now().UnixNano()
	last := ps.lastKey.Load()
	if !force && now-last < int64(keyframeInterval) {
		if ps.keyPending.CompareAndSwap(false, true) {
			time.AfterFunc(time.Duration(int64(keyframeInterval)-(now-last)), func() {
				ps.keyPending.Store(false)
				ps.requestKeyframe(false)
			})
		}
		return
	}
	if !ps.lastKey.CompareAndSwap(last, now) {
		return // another goroutine just asked
	}
	if err := ps.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
		ps.log.Debug("rtc: send PLI", "err", err)
	}
}

func (ps *publishSession) warn(key, msg string, err error) {
	ps.wmu.Lock()
	defer ps.wmu.Unlock()
	ps.warnLocked(key, msg, err)
}

// warnLocked logs a problem once per session; call with wmu held.
func (ps *publishSession) warnLocked(key, msg string, err error) {
	if ps.warned[key] {
		return
	}
	ps.warned[key] = true
	ps.log.Warn(msg, "stream", ps.key.String(), "err", err)
}

// requestKeyframe asks the WebRTC publisher of key, if any, for a keyframe
// (a player joined or lost packets).
func (s *Server) requestKeyframe(key hub.Key) {
	s.mu.Lock()
	ps := s.publishers[key]
	s.mu.Unlock()
	if ps != nil {
		ps.requestKeyframe(false)
	}
}

// hubTime is a media time as a hub timestamp (ms, 31 bits).
func hubTime(d time.Duration) uint32 {
	return uint32(d.Milliseconds()) & av.TimestampMask
}
