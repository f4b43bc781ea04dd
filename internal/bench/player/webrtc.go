package player

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/bench/failure"
	"github.com/castd/castd/internal/bench/rtcpub"
)

// Limits of a WebRTC player.
const (
	maxAnswerBytes = 64 << 10
	// rtpBufferSize holds any RTP packet a server sends over UDP.
	rtpBufferSize = 1 << 16
)

// NewWebRTCAPI returns what WebRTC players make their peer connections
// with: H.264 and Opus (pion's default codecs, so the offer matches any
// profile the server answers with), UDP over IPv4 and IPv6 with loopback
// candidates (a server on the same machine), no mDNS, and no
// interceptors (no NACKs, no receiver reports: a player costs its ICE,
// DTLS and SRTP and nothing more). Share one among the players of a run.
func NewWebRTCAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("webrtc: register codecs: %w", err)
	}
	return rtcpub.NewAPIFor(me), nil
}

// webrtcPlayer plays a stream over WebRTC: a receive-only peer connection
// (H.264 and Opus) negotiated by WHEP. It reads the video track on the
// calling goroutine, depacketizing the start of each frame for its stamp;
// the audio track is only counted, by the goroutine pion starts for it.
type webrtcPlayer struct {
	endpoint string // the WHEP URL
	opt      Options
}

func newWebRTC(u *url.URL, opt Options) (*webrtcPlayer, error) {
	endpoint, err := whepEndpoint(u)
	if err != nil {
		return nil, fmt.Errorf("player: %w", err)
	}
	return &webrtcPlayer{endpoint: endpoint, opt: opt}, nil
}

// errConnectionFailed is ICE or DTLS failing, or the server closing DTLS.
var errConnectionFailed = errors.New("webrtc: the connection failed")

func (p *webrtcPlayer) Play(ctx context.Context, rec *Recorder) error {
	api := p.opt.WebRTC
	if api == nil {
		var err error
		if api, err = NewWebRTCAPI(); err != nil {
			return err
		}
	}
	client := p.opt.HTTPClient
	if client == nil {
		client = NewHTTPClient(p.opt, 1)
		defer client.CloseIdleConnections()
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("webrtc: new peer connection: %w", err)
	}
	s := &rtcSession{pc: pc, connected: make(chan struct{}), failed: make(chan struct{}), video: make(chan *webrtc.TrackRemote, 1)}
	defer s.close()
	stop := context.AfterFunc(ctx, func() { _ = pc.Close() })
	defer stop()
	if err := s.setup(); err != nil {
		return err
	}

	cctx, cancel := context.WithTimeout(ctx, p.opt.ConnectTimeout)
	location, err := s.negotiate(cctx, client, p.endpoint)
	if err == nil {
		err = s.waitConnected(cctx)
	}
	cancel()
	if location != "" {
		defer rtcpub.Delete(ctx, client, location) // best effort; the server also times the session out
	}
	if err != nil {
		return ended(ctx, err)
	}
	rec.Up(time.Now())
	return ended(ctx, s.readVideo(ctx, rec, p.opt.ReadTimeout))
}

// rtcSession is one WebRTC player's connection while it plays.
type rtcSession struct {
	pc        *webrtc.PeerConnection
	connected chan struct{} // closed once connected
	failed    chan struct{} // closed once failed or closed
	video     chan *webrtc.TrackRemote
	stateOnce [2]sync.Once

	// The audio track's reader (pion's OnTrack goroutine) counts here; the
	// player's goroutine passes the counts on to its Recorder.
	audioBytes, audioPackets atomic.Int64

	mu      sync.Mutex
	closed  bool           // no more track readers may start
	readers sync.WaitGroup // track readers still running
}

// setup adds the receive-only transceivers and the handlers.
func (s *rtcSession) setup() error {
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := s.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return fmt.Errorf("webrtc: add %s transceiver: %w", kind, err)
		}
	}
	s.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			s.stateOnce[0].Do(func() { close(s.connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			s.stateOnce[1].Do(func() { close(s.failed) })
		}
	})
	s.pc.OnTrack(s.onTrack)
	return nil
}

// onTrack runs on a goroutine of pion's: it hands the video track to the
// player and reads the audio track itself until the connection closes.
func (s *rtcSession) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	if track.Kind() == webrtc.RTPCodecTypeVideo {
		select {
		case s.video <- track:
		default: // a second video track is not read
		}
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.readers.Add(1)
	s.mu.Unlock()
	defer s.readers.Done()
	buf := make([]byte, rtpBufferSize)
	var pkt rtp.Packet
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) == nil {
			s.audioBytes.Add(int64(len(pkt.Payload)))
			s.audioPackets.Add(1)
		}
	}
}

// negotiate POSTs the offer, once candidates are gathered (WHEP without
// trickle), and applies the answer. It returns the session's URL, to
// DELETE at the end.
func (s *rtcSession) negotiate(ctx context.Context, client *http.Client, endpoint string) (string, error) {
	offer, err := s.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("webrtc: create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(offer); err != nil {
		return "", fmt.Errorf("webrtc: set offer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("webrtc: gather candidates: %w", ctx.Err())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(s.pc.LocalDescription().SDP))
	if err != nil {
		return "", fmt.Errorf("webrtc: %w", err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("webrtc: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return "", fmt.Errorf("webrtc: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", failure.Mark(failure.HTTPStatus, fmt.Errorf("POST %s: %s", endpoint, resp.Status))
	}
	if len(answer) > maxAnswerBytes {
		return "", failure.Mark(failure.BadData, fmt.Errorf("POST %s: an answer over %d bytes", endpoint, maxAnswerBytes))
	}
	location := ""
	if loc, err := resp.Location(); err == nil {
		location = loc.String()
	}
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		return location, failure.Mark(failure.BadData, fmt.Errorf("webrtc: answer: %w", err))
	}
	return location, nil
}

// waitConnected waits for ICE and DTLS.
func (s *rtcSession) waitConnected(ctx context.Context) error {
	select {
	case <-s.connected:
		return nil
	case <-s.failed:
		return failure.Mark(failure.Handshake, errConnectionFailed)
	case <-ctx.Done():
		return fmt.Errorf("webrtc: connect: %w", ctx.Err())
	}
}

// readVideo reads the video track until the connection ends.
func (s *rtcSession) readVideo(ctx context.Context, rec *Recorder, readTimeout time.Duration) error {
	timer := time.NewTimer(readTimeout)
	defer timer.Stop()
	var track *webrtc.TrackRemote
	select {
	case track = <-s.video:
	case <-s.failed:
		return failure.Mark(failure.EOF, errConnectionFailed)
	case <-ctx.Done():
		return nil
	case <-timer.C:
		return failure.Mark(failure.Timeout, fmt.Errorf("webrtc: no video for %s", readTimeout))
	}
	if mime := track.Codec().MimeType; !strings.EqualFold(mime, webrtc.MimeTypeH264) {
		return failure.Mark(failure.BadData, fmt.Errorf("webrtc: video is %s, not H.264", mime))
	}
	dl := deadliner{set: track.SetReadDeadline, timeout: readTimeout}
	buf := make([]byte, rtpBufferSize)
	var pkt rtp.Packet
	var frames rtpH264Frames
	for {
		if err := dl.refresh(time.Now()); err != nil {
			return fmt.Errorf("webrtc: %w", err)
		}
		n, _, err := track.Read(buf)
		now := time.Now()
		s.passAudio(now, rec)
		if err != nil {
			select {
			case <-s.failed:
				if ctx.Err() == nil {
					return failure.Mark(failure.EOF, errConnectionFailed)
				}
			default:
			}
			return fmt.Errorf("webrtc: read video: %w", err)
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue // a player does not judge what the server sends
		}
		rec.Media(now, len(pkt.Payload))
		frames.packet(now, &pkt, rec)
	}
}

// passAudio reports what the audio reader counted since last time.
func (s *rtcSession) passAudio(now time.Time, rec *Recorder) {
	n := s.audioPackets.Swap(0)
	if n == 0 {
		return
	}
	rec.Media(now, int(s.audioBytes.Swap(0)))
	for range n {
		rec.AudioFrame()
	}
}

// close closes the connection and waits for the audio reader.
func (s *rtcSession) close() {
	_ = s.pc.Close()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.readers.Wait()
}
