package rtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/stats"
)

// session is one WebRTC peer: a publisher or a player. Its goroutine
// (run) owns its life: it waits for ICE and DTLS, starts the media
// goroutines, and tears everything down when the client leaves, times out
// (stun_timeout), is kicked or deletes the session (WHIP DELETE).
type session struct {
	srv    *Server
	id     string // "localUfrag:remoteUfrag", SRS's sessionid
	ufrag  string // the local ufrag, which routes the client's packets on the shared port
	token  string // WHIP DELETE needs it
	cid    string
	play   bool
	via    string // "whip" or "api", for logs
	key    hub.Key
	vhost  Vhost
	ip     string
	peer   string
	tcURL  string
	hr     hooks.Request
	log    *slog.Logger
	pc     *webrtc.PeerConnection
	stats  counters
	ports  *portLease  // the media ports it runs on, released when it ends
	drop   nackDropper // SRS's NACK simulator (/rtc/v1/nack/)
	ctx    context.Context
	cancel context.CancelCauseFunc

	connected chan struct{} // closed when ICE and DTLS are up
	connOnce  sync.Once

	mu     sync.Mutex
	closed bool           // no media goroutine may start any more
	media  sync.WaitGroup // the media goroutines
}

// Why sessions end, for logs.
var (
	errDeleted      = errors.New("the client deleted the session")
	errKicked       = errors.New("kicked by the API")
	errICEFailed    = errors.New("no packet from the client for stun_timeout")
	errPeerClosed   = errors.New("the peer connection closed")
	errNeverReached = errors.New("the client never completed ICE and DTLS within stun_timeout")
)

// newSession makes a session and its peer connection; nothing runs yet.
func (s *Server) newSession(r *request, v Vhost, key hub.Key, cid, remoteUfrag string) (*session, error) {
	ufrag, pwd := r.ufrag, r.pwd
	if ufrag == "" {
		ufrag = randomString(8)
	}
	if pwd == "" {
		pwd = randomString(32)
	}
	// The shared port routes packets by ufrag: two sessions must not share
	// one. The session holds the ports current now until it ends.
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		return nil, errDisabled
	}
	if s.ufrags[ufrag] {
		s.mu.Unlock()
		return nil, fmt.Errorf("rtc: ice-ufrag %q is in use by another session", ufrag)
	}
	s.ufrags[ufrag] = true
	ports := s.leaseLocked()
	s.mu.Unlock()
	ctx, cancel := context.WithCancelCause(s.ctx)
	ss := &session{
		srv: s, id: ufrag + ":" + remoteUfrag, ufrag: ufrag, token: randomString(16), cid: cid, play: r.play, via: r.via,
		key: key, vhost: v, ip: r.ip, peer: r.peer, tcURL: r.tcURL, ports: ports, drop: nackDropper{incoming: !r.play},
		log: s.Log.With(logging.CID(cid)), ctx: ctx, cancel: cancel, connected: make(chan struct{}),
	}
	pc, err := s.newPeerConnection(s.Config(), transportOptions{ufrag: ufrag, pwd: pwd, vhost: v.RTC, counters: &ss.stats,
		rebinding: &rebinding{}, ports: ports, drop: &ss.drop, publisher: !r.play})
	if err != nil {
		cancel(err)
		s.mu.Lock()
		delete(s.ufrags, ufrag)
		s.mu.Unlock()
		s.release(ports)
		return nil, err
	}
	ss.pc = pc
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		ss.log.Debug("rtc: connection state", "session", ss.id, "state", st.String())
		switch st {
		case webrtc.PeerConnectionStateConnected:
			ss.connOnce.Do(func() { close(ss.connected) })
		case webrtc.PeerConnectionStateFailed:
			ss.end(errICEFailed)
		case webrtc.PeerConnectionStateClosed:
			ss.end(errPeerClosed)
		}
	})
	return ss, nil
}

// end asks the session to stop; the first reason wins.
func (ss *session) end(why error) { ss.cancel(why) }

// goMedia starts a media goroutine unless the session is closing.
func (ss *session) goMedia(f func()) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return
	}
	ss.media.Add(1)
	go func() {
		defer ss.media.Done()
		f()
	}()
}

// answer applies the offer and returns castd's answer with its candidates.
// addTracks runs between the two, for players.
func (ss *session) answer(offer string, cands []candidate, addTracks func() error) (string, error) {
	if err := ss.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("rtc: apply the offer: %w", err)
	}
	if addTracks != nil {
		if err := addTracks(); err != nil {
			return "", err
		}
	}
	ans, err := ss.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("rtc: create the answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(ss.pc)
	if err := ss.pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("rtc: apply the answer: %w", err)
	}
	t := time.NewTimer(gatherTimeout)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C:
		return "", errors.New("rtc: ICE gathering did not finish")
	}
	return withCandidates(ss.pc.LocalDescription().SDP, cands), nil
}

// register lists the session in the API's clients.
func (ss *session) register(streamID string) {
	typ := stats.RTCPublish
	if ss.play {
		typ = stats.RTCPlay
	}
	ss.srv.Stats.Register(&stats.Client{
		ID: ss.cid, Type: typ, IP: ss.ip, Vhost: ss.key.Vhost, App: ss.key.App, Stream: ss.key.Name,
		StreamURL: ss.key.String(), StreamID: streamID, TcURL: ss.tcURL,
		Conn: &ss.stats, Kick: func() { ss.end(errKicked) },
	})
}

// run is the session's goroutine: it waits for the connection, runs the
// media until the session ends, then releases everything: the peer
// connection, the media goroutines, the hub, the hooks (by cleanup), the
// API entry and the session table.
func (ss *session) run(onConnected func(ctx context.Context), cleanup func()) {
	srv := ss.srv
	timeout := ss.vhost.RTC.STUNTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	t := time.NewTimer(timeout)
	select {
	case <-ss.connected:
		t.Stop()
		ss.log.Info("rtc: session connected", "session", ss.id, "stream", ss.key.String(), "play", ss.play)
		onConnected(ss.ctx)
		<-ss.ctx.Done()
	case <-t.C:
		ss.end(errNeverReached)
	case <-ss.ctx.Done():
		t.Stop()
	}
	ss.mu.Lock()
	ss.closed = true
	ss.mu.Unlock()
	if err := ss.pc.Close(); err != nil {
		ss.log.Debug("rtc: close peer connection", "err", err)
	}
	ss.media.Wait()
	cleanup()
	srv.Stats.Unregister(ss.cid, nil)
	srv.forget(ss)
	why := context.Cause(ss.ctx)
	if errors.Is(why, context.Canceled) {
		why = errors.New("server stopping")
	}
	args := []any{"session", ss.id, "stream", ss.key.String(), "play", ss.play, "reason", why.Error(),
		"bytes_in", ss.stats.BytesIn(), "bytes_out", ss.stats.BytesOut(),
		"nacks_in", ss.stats.nacksIn.Load(), "retransmits", ss.stats.retransmits.Load(), "nacks_out", ss.stats.nacksOut.Load()}
	if n := ss.drop.dropped.Load(); n > 0 {
		args = append(args, "nack_simulator_dropped", n)
	}
	ss.log.Info("rtc: session end", args...)
}

// start registers the session and runs it on the server's wait group.
// A server that is stopping refuses it: cleanup runs and the session is
// discarded.
func (s *Server) start(ss *session, onConnected func(ctx context.Context), cleanup func()) error {
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		ss.discard(errDisabled)
		cleanup()
		s.Stats.Unregister(ss.cid, nil)
		return errDisabled
	}
	s.sessions[ss.id] = ss
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		ss.run(onConnected, cleanup)
	}()
	return nil
}

// forget removes an ended session and lets go of its ports.
func (s *Server) forget(ss *session) {
	s.mu.Lock()
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
	delete(s.ufrags, ss.ufrag)
	s.mu.Unlock()
	s.release(ss.ports)
}

// discard closes a session that never started (refused after its answer).
func (ss *session) discard(why error) {
	ss.end(why)
	if err := ss.pc.Close(); err != nil {
		ss.log.Debug("rtc: close peer connection", "err", err)
	}
	ss.srv.mu.Lock()
	delete(ss.srv.ufrags, ss.ufrag)
	ss.srv.mu.Unlock()
	ss.srv.release(ss.ports)
}

// deleteSession ends a session when id and token match (WHIP DELETE). A
// missing session is not an error, as in SRS.
func (s *Server) deleteSession(id, token string) bool {
	s.mu.Lock()
	ss := s.sessions[id]
	s.mu.Unlock()
	if ss == nil || ss.token != token {
		return false
	}
	ss.end(errDeleted)
	return true
}
