package rtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/security"
)

// playSession is a WebRTC player. It reads its stream's RTP packets, made
// once for every player by the stream's relay (relay.go), and only writes
// them to its own tracks, where pion sets its SSRC and payload type and
// encrypts them with its SRTP keys.
type playSession struct {
	*session
	video, audio *webrtc.TrackLocalStaticRTP
	videoCodec   av.Codec // the video track's codec
	senders      []*webrtc.RTPSender
	relay        *relay
	writeErrs    int  // owned by pump
	codecWarned  bool // owned by pump
}

// playCodec picks a player's video codec. A stream that is live plays in
// its own codec (castd does not transcode video), which the offer must
// have and ?codec= must not contradict. Before the stream is live, the
// codec asked for, else castd's favourite among those offered.
func (s *Server) playCodec(key hub.Key, offered []av.Codec, asked av.Codec) (av.Codec, error) {
	live := av.CodecUnknown
	if st := s.Hub.Stream(key); st != nil {
		if sn := st.Snapshot(); sn.Publishing && sn.VideoSH != nil {
			live = sn.VideoSH.Codec
		}
	}
	if _, ok := videoCodecOf(live); !ok {
		return chooseVideoCodec(offered, asked) // no video yet, or none WebRTC can carry (the relay says so)
	}
	if asked != av.CodecUnknown && asked != live {
		return av.CodecUnknown, fmt.Errorf("the stream's video is %s but codec=%s was asked; castd does not transcode video",
			codecName(live), strings.ToLower(asked.String()))
	}
	if !slices.Contains(offered, live) {
		return av.CodecUnknown, fmt.Errorf("the stream's video is %s, which the player's SDP offer lacks (it offers %s)",
			codecName(live), videoCodecNames(offered))
	}
	return live, nil
}

func (s *Server) negotiatePlay(ctx context.Context, r *request, o offer, asked av.Codec, v Vhost, key hub.Key, hr hooks.Request) (answer, error) {
	// #2728: with rtmp_to_rtc off, a stream published over RTMP (or SRT...)
	// is not bridged to WebRTC, and SRS refuses its players.
	if st := s.Hub.Stream(key); st != nil && !v.RTC.RTMPToRTC {
		if sn := st.Snapshot(); sn.Publishing && sn.Publisher.Protocol != protocolRTC {
			return answer{}, fmt.Errorf("rtc: play %s: published over %s and rtmp_to_rtc is off", key, sn.Publisher.Protocol)
		}
	}
	if o.hasVideo {
		var err error
		if o.video, err = s.playCodec(key, o.videoCodecs, asked); err != nil {
			return answer{}, fmt.Errorf("rtc: play %s: %w", key, err)
		}
	}
	if err := admit(v, security.Play, r.ip); err != nil {
		return answer{}, err
	}
	hr.StreamID = s.Hub.Ensure(key, v.Stream).ID
	if err := s.Hooks.OnPlay(ctx, v.Hooks, hr); err != nil {
		return answer{}, err
	}
	ss, err := s.newSession(r, v, key, hr.ClientID, o.remoteUfrag)
	if err != nil {
		s.Hooks.OnStop(context.Background(), v.Hooks, hr)
		return answer{}, err
	}
	ss.hr = hr
	ps := &playSession{session: ss}
	sdp, err := ss.answer(r.offer, s.candidates(ctx, s.Config(), candidateSource{eip: r.eip, apiHost: r.apiHost}, ss.ports),
		func() error { return ps.addTracks(o) })
	if err == nil {
		ps.relay, err = s.attachRelay(key, v)
	}
	if err != nil {
		ss.discard(err)
		s.Hooks.OnStop(context.Background(), v.Hooks, hr)
		return answer{}, err
	}
	ss.register(hr.StreamID)
	ss.log.Info("rtc: play start", "stream", key.String(), "via", r.via, "ip", r.ip, "session", ss.id, "param", hr.Param,
		"video", codecName(o.video))
	if err := s.start(ss, ps.media, ps.stop); err != nil {
		return answer{}, err
	}
	return answer{sdp: sdp, sessionID: ss.id, token: ss.token}, nil
}

// addTracks gives the player a track per media section it offered, the
// video one in the codec signalling chose (the only one the answer keeps).
func (ps *playSession) addTracks(o offer) error {
	add := func(c webrtc.RTPCodecCapability, id string) (*webrtc.TrackLocalStaticRTP, error) {
		t, err := webrtc.NewTrackLocalStaticRTP(c, id, ps.key.App+"/"+ps.key.Name)
		if err != nil {
			return nil, fmt.Errorf("rtc: new %s track: %w", id, err)
		}
		sender, err := ps.pc.AddTrack(t)
		if err != nil {
			return nil, fmt.Errorf("rtc: add %s track: %w", id, err)
		}
		ps.senders = append(ps.senders, sender)
		return t, nil
	}
	var err error
	if o.hasAudio {
		if ps.audio, err = add(opusCodec, "audio"); err != nil {
			return err
		}
	}
	if o.hasVideo {
		vc, ok := videoCodecOf(o.video)
		if !ok {
			return fmt.Errorf("rtc: no video codec chosen for the player")
		}
		if err := preferVideoCodec(ps.pc, o.video); err != nil {
			return err
		}
		if ps.video, err = add(vc.track, "video"); err != nil {
			return err
		}
		ps.videoCodec = o.video
	}
	return nil
}

// media runs once the player is connected: one goroutine sends the
// stream, one per sender reads RTCP (pion's NACK responder and reports
// work while it is read, and PLI/FIR are passed to the publisher).
func (ps *playSession) media(ctx context.Context) {
	for _, sender := range ps.senders {
		ps.goMedia(func() { ps.readRTCP(sender) })
	}
	ps.goMedia(func() {
		if err := ps.pump(ctx); err != nil && !errors.Is(err, context.Canceled) {
			ps.log.Warn("rtc: play stopped", "stream", ps.key.String(), "err", err)
			ps.end(err)
		}
	})
}

func (ps *playSession) stop() {
	ps.srv.detachRelay(ps.relay)
	ps.srv.Hooks.OnStop(context.Background(), ps.hooksNow(), ps.hr)
}

func (ps *playSession) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				ps.srv.requestKeyframe(ps.key)
			}
		}
	}
}

// pump copies the relay's packets to the player's tracks until ctx ends.
// Video starts at a keyframe, and starts again at one whenever the player
// fell so far behind that the hub skipped packets.
func (ps *playSession) pump(ctx context.Context) error {
	viewer := ps.srv.Hub.Play(rtpKey(ps.key), hub.ClientInfo{ID: ps.cid, Protocol: protocolRTC, Addr: ps.peer},
		relayOptions(ps.vhost.Stream), hub.ViewerOptions{Jitter: hub.JitterOff})
	defer viewer.Close()
	ps.srv.requestKeyframe(ps.key)
	waitKey := true
	var skips int64
	var pkt rtp.Packet
	buf := make([]hub.Delivery, 64)
	for {
		n, err := viewer.Read(ctx, buf)
		if sk := viewer.Skips(); sk != skips {
			skips, waitKey = sk, true
			ps.srv.requestKeyframe(ps.key)
		}
		for _, d := range buf[:n] {
			track := ps.audio
			if d.Packet.Kind == av.KindVideo {
				track = ps.video
				if d.Packet.Codec != ps.videoCodec {
					ps.wrongCodec(d.Packet.Codec)
					continue
				}
				if waitKey && !d.Packet.Keyframe {
					continue
				}
				waitKey = false
			}
			if track == nil {
				continue
			}
			if werr := ps.writeRTPs(track, &pkt, d.Packet.Payload); werr != nil {
				return werr
			}
		}
		clear(buf[:n])
		if err != nil {
			return err
		}
	}
}

// wrongCodec logs, once, that the stream's video changed to a codec the
// player did not negotiate: it gets audio only until it plays again.
func (ps *playSession) wrongCodec(c av.Codec) {
	if ps.codecWarned || ps.video == nil {
		return
	}
	ps.codecWarned = true
	ps.log.Warn("rtc: the stream's video codec is not the one this player negotiated; it gets no video",
		"stream", ps.key.String(), "stream_codec", codecName(c), "player_codec", codecName(ps.videoCodec))
}

// writeRTPs writes the RTP packets of one relay payload to a track. A
// failed write is not fatal: a player that is gone is noticed by ICE
// (stun_timeout), and one lost packet is what NACK is for.
func (ps *playSession) writeRTPs(track *webrtc.TrackLocalStaticRTP, pkt *rtp.Packet, payload []byte) error {
	return eachRTP(payload, func(b []byte) error {
		if err := pkt.Unmarshal(b); err != nil {
			return fmt.Errorf("rtc: relay packet: %w", err)
		}
		if err := track.WriteRTP(pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			if ps.writeErrs++; ps.writeErrs == 1 {
				ps.log.Debug("rtc: write RTP", "err", err)
			}
		}
		return nil
	})
}
