package rtcpub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/bench/failure"
)

// NewAPI returns what WebRTC publishers make their peer connections with:
// an offer of H.264 (packetization mode 1, the usual profiles) and Opus,
// what they send, so that no server picks another codec; UDP over IPv4 and IPv6 with loopback candidates (a server on the same
// machine), no mDNS, and no interceptors (no NACK responder, no sender
// reports, no TWCC: a publisher costs its ICE, DTLS and SRTP). Nothing
// reads the RTCP a server sends (receiver reports, NACKs, PLIs: castbench
// can neither resend nor make keyframes on request), which saves a
// goroutine per track; pion keeps at most 100 kB of it per stream and
// drops the rest. Share one API among the publishers of a run.
func NewAPI() (*webrtc.API, error) {
	me, err := publisherCodecs()
	if err != nil {
		return nil, err
	}
	return NewAPIFor(me), nil
}

// NewAPIFor is castbench's pion setup around me, for publishers and
// players alike: loopback candidates, UDP only, no mDNS and no
// interceptors (an empty registry: without one, pion registers its
// default ones).
func NewAPIFor(me *webrtc.MediaEngine) *webrtc.API {
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se), webrtc.WithInterceptorRegistry(&interceptor.Registry{}))
}

// publisherCodecs registers what publishers offer: H.264 with the
// profile-level-ids browsers offer (a server may insist on one; the
// stream is whatever the file holds) and stereo Opus.
func publisherCodecs() (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	h264 := []struct {
		pt      webrtc.PayloadType
		profile string
	}{{102, "42001f"}, {106, "42e01f"}, {108, "4d001f"}, {112, "64001f"}}
	for _, c := range h264 {
		fmtp := "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + c.profile
		p := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: fmtp}, PayloadType: c.pt}
		if err := me.RegisterCodec(p, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("rtcpub: register H.264: %w", err)
		}
	}
	opus := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}
	if err := me.RegisterCodec(opus, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("rtcpub: register Opus: %w", err)
	}
	return me, nil
}

// errConnectionFailed is ICE or DTLS failing, or the server closing DTLS.
var errConnectionFailed = errors.New("rtcpub: the WebRTC connection failed")

// Conn is one publisher's negotiated peer connection.
type Conn struct {
	// Video and Audio are the tracks to write RTP to; Audio is nil for a
	// video-only publisher.
	Video, Audio *webrtc.TrackLocalStaticRTP

	pc        *webrtc.PeerConnection
	client    *http.Client
	location  string // the WHIP session, "" when none
	ctx       context.Context
	cancel    context.CancelCauseFunc
	connected chan struct{}
	once      sync.Once
}

// Dial negotiates a send-only peer connection with an H.264 track and,
// withAudio, an Opus one, and waits until ICE and DTLS are up or
// connectCtx ends. The connection then lives until Close or until ctx (the
// run) ends; its Context ends then too, or when the connection fails.
func Dial(ctx, connectCtx context.Context, api *webrtc.API, client *http.Client, ep Endpoint, withAudio bool, tid string) (*Conn, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("rtcpub: new peer connection: %w", err)
	}
	c := &Conn{pc: pc, client: client, connected: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancelCause(ctx)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			c.once.Do(func() { close(c.connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			c.cancel(failure.Mark(failure.EOF, errConnectionFailed))
		}
	})
	if err := c.addTracks(withAudio); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.negotiate(connectCtx, ep, tid); err != nil {
		c.Close()
		return nil, err
	}
	select {
	case <-c.connected:
		return c, nil
	case <-c.ctx.Done():
		err = context.Cause(c.ctx)
		if errors.Is(err, errConnectionFailed) {
			err = failure.Mark(failure.Handshake, errConnectionFailed)
		}
	case <-connectCtx.Done():
		err = fmt.Errorf("rtcpub: connect: %w", connectCtx.Err())
	}
	c.Close()
	return nil, err
}

// addTracks adds the send-only tracks.
func (c *Conn) addTracks(withAudio bool) error {
	var err error
	c.Video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000}, "video", "castbench")
	if err != nil {
		return fmt.Errorf("rtcpub: video track: %w", err)
	}
	tracks := []webrtc.TrackLocal{c.Video}
	if withAudio {
		c.Audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "castbench")
		if err != nil {
			return fmt.Errorf("rtcpub: audio track: %w", err)
		}
		tracks = append(tracks, c.Audio)
	}
	for _, t := range tracks {
		if _, err := c.pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			return fmt.Errorf("rtcpub: add %s track: %w", t.Kind(), err)
		}
	}
	return nil
}

// negotiate sends the offer, once candidates are gathered (no trickle
// ICE), and applies the answer.
func (c *Conn) negotiate(ctx context.Context, ep Endpoint, tid string) error {
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("rtcpub: create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("rtcpub: set offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fmt.Errorf("rtcpub: gather candidates: %w", ctx.Err())
	}
	answer, location, err := Negotiate(ctx, c.client, ep, c.pc.LocalDescription().SDP, tid)
	c.location = location
	if err != nil {
		return err
	}
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return failure.Mark(failure.BadData, fmt.Errorf("rtcpub: answer: %w", err))
	}
	return nil
}

// Context ends when the run does, on Close, or when the connection fails;
// context.Cause then says which.
func (c *Conn) Context() context.Context { return c.ctx }

// Failed returns the error that ended the connection before Close (ICE
// consent lost, DTLS closed by the server), or nil.
func (c *Conn) Failed() error {
	if err := context.Cause(c.ctx); errors.Is(err, errConnectionFailed) {
		return err
	}
	return nil
}

// Close closes the peer connection, then ends the WHIP session (best
// effort, bounded).
func (c *Conn) Close() {
	c.cancel(context.Canceled)
	_ = c.pc.Close() // nothing to do about a connection that closes badly
	if c.location != "" {
		Delete(context.Background(), c.client, c.location)
		c.location = ""
	}
}
