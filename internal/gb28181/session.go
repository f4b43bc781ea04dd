package gb28181

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/castd/castd/internal/gb28181/sip"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/logging"
)

// driveInterval is how often a session checks its timers (SRS: 300 ms).
const driveInterval = 250 * time.Millisecond

// dialogState is where the current invitation stands.
type dialogState int

const (
	dialogNone        dialogState = iota // to invite when the device can be reached
	dialogInviting                       // INVITE sent
	dialogAnswered                       // 200 OK received, ACK sent
	dialogEstablished                    // media arrived
)

// session is one device: its registration, its current INVITE dialog,
// its media connection and its publish to the output. A driver goroutine
// (run) owns the timers and the end; SIP and media goroutines report to it
// through the locked fields.
type session struct {
	srv     *Server
	device  string
	api     bool // made by Publish: no SIP
	cid     string
	url     string
	log     *slog.Logger
	created time.Time
	ctx     context.Context // ends with the session: closes its media and publish
	cancel  context.CancelFunc

	stopOnce sync.Once
	stopCh   chan struct{}
	wake     chan struct{} // drive now: a REGISTER came

	lastMedia atomic.Int64 // unix nanoseconds of the last media packet

	mu          sync.Mutex
	reason      string // why the session ends
	ssrc        uint32
	reg         registration
	sip         *sipConn
	lastSIP     time.Time
	state       dialogState
	dlg         dialog
	attempts    int // invitations since media last arrived
	nextInvite  time.Time
	media       *mediaConn
	mediaDownAt time.Time

	pipeMu sync.Mutex // one media connection feeds the pipeline at a time
	pipe   *pipeline
}

func newSession(s *Server, device string, api bool, ssrc uint32) *session {
	cid := ids.NewCID()
	ctx, cancel := context.WithCancel(s.ctx)
	se := &session{srv: s, device: device, api: api, cid: cid, url: outputURL(s.cfg.Output, device),
		created: time.Now(), ctx: ctx, cancel: cancel, stopCh: make(chan struct{}), wake: make(chan struct{}, 1), ssrc: ssrc}
	se.log = s.cfg.Log.With(logging.CID(cid), "device", device)
	se.pipe = newPipeline(se)
	return se
}

// stop asks the driver to end the session; the first reason wins.
func (se *session) stop(reason string) {
	se.stopOnce.Do(func() {
		se.mu.Lock()
		se.reason = reason
		se.mu.Unlock()
		close(se.stopCh)
	})
}

func (se *session) stopping() bool {
	select {
	case <-se.stopCh:
		return true
	default:
		return false
	}
}

// run drives the session until it ends, then cleans up.
func (se *session) run() {
	defer se.cleanup()
	t := time.NewTicker(driveInterval)
	defer t.Stop()
	for {
		out, end := se.drive(time.Now())
		for _, o := range out {
			o.send(se.log)
		}
		if end != "" {
			se.stop(end)
		}
		select {
		case <-se.stopCh:
			return
		case <-se.ctx.Done():
			se.stop("the caster is stopping")
			return
		case <-t.C:
		case <-se.wake:
		}
	}
}

// outgoing is a message to send once the session's lock is released.
type outgoing struct {
	conn *sipConn
	msg  *sip.Message
}

func (o outgoing) send(log *slog.Logger) {
	if err := o.conn.send(o.msg); err != nil {
		log.Warn("gb28181: SIP send failed", "msg", o.msg.String(), "err", err)
	}
}

// drive moves the session on by its timers and returns what to send, and
// why the session must end, if it must.
func (se *session) drive(now time.Time) (out []outgoing, end string) {
	se.mu.Lock()
	defer se.mu.Unlock()
	cfg := &se.srv.cfg
	mediaUp := se.media != nil
	lastMedia := time.Unix(0, se.lastMedia.Load())
	if se.api {
		if !mediaUp && now.Sub(latest(se.created, lastMedia, se.mediaDownAt)) >= cfg.Timeout {
			return nil, fmt.Sprintf("no media for %v", cfg.Timeout)
		}
		return nil, ""
	}
	switch se.state {
	case dialogNone:
		if now.Before(se.nextInvite) {
			break
		}
		if se.attempts >= maxInvites {
			return nil, fmt.Sprintf("no media after %d invitations", se.attempts)
		}
		if se.sip == nil || se.sip.isClosed() {
			// The device must register again on a new connection.
			if now.Sub(latest(se.created, se.lastSIP, lastMedia, se.mediaDownAt)) >= cfg.Timeout {
				return nil, fmt.Sprintf("the SIP connection closed and the device was silent for %v", cfg.Timeout)
			}
			break
		}
		out = append(out, se.inviteLocked(now))
	case dialogInviting, dialogAnswered:
		if mediaUp {
			se.establishedLocked()
		} else if now.Sub(se.dlg.sentAt) >= cfg.Timeout {
			se.log.Warn("gb28181: no media after the INVITE; inviting again", "waited", cfg.Timeout, "ssrc", formatSSRC(se.ssrc))
			out = append(out, se.hangUpLocked()...)
		}
	case dialogEstablished:
		if !mediaUp && now.Sub(se.mediaDownAt) >= cfg.Reinvite {
			se.log.Warn("gb28181: media stopped; inviting again", "after", cfg.Reinvite)
			out = append(out, se.hangUpLocked()...)
		}
	}
	return out, ""
}

func (se *session) establishedLocked() {
	se.state, se.attempts = dialogEstablished, 0
	se.log.Info("gb28181: session established", "ssrc", formatSSRC(se.ssrc), "output", se.url)
}

// hangUpLocked ends the current dialog (a BYE once it was answered) so
// that the driver invites again.
func (se *session) hangUpLocked() []outgoing {
	var out []outgoing
	if se.state >= dialogAnswered && se.dlg.conn != nil && !se.dlg.conn.isClosed() {
		out = append(out, outgoing{se.dlg.conn, se.dlg.bye(se.srv.candidate(se.dlg.conn))})
	}
	se.state = dialogNone
	return out
}

// latest returns the latest of the times.
func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// cleanup ends the session: out of the indexes, a BYE to the device unless
// it ended the call, media closed, the publish ended.
func (se *session) cleanup() {
	se.srv.forget(se)
	se.mu.Lock()
	reason := se.reason
	var bye []outgoing
	if !se.api && se.state >= dialogAnswered && se.dlg.conn != nil && !se.dlg.conn.isClosed() && !se.dlg.ended {
		bye = append(bye, outgoing{se.dlg.conn, se.dlg.bye(se.srv.candidate(se.dlg.conn))})
	}
	media := se.media
	se.media = nil
	se.mu.Unlock()
	for _, o := range bye {
		o.send(se.log)
	}
	se.cancel() // closes the publish's connection, unblocking a stuck write
	if media != nil {
		media.nc.Close()
	}
	se.pipeMu.Lock()
	stats := se.pipe.close()
	se.pipeMu.Unlock()
	se.log.Info("gb28181: session ended", "reason", reason, "video_frames", stats.VideoFrames,
		"audio_frames", stats.AudioFrames, "dropped", stats.Dropped)
}
