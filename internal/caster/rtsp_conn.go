package caster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/logging"
)

// rtspReadBuffer holds the largest interleaved frame (64 KB) and a request.
const rtspReadBuffer = 64 << 10

// rtspPublicMethods answers OPTIONS, and 405's Allow.
const rtspPublicMethods = "OPTIONS, ANNOUNCE, SETUP, RECORD, TEARDOWN, GET_PARAMETER, SET_PARAMETER"

var (
	// errTeardown ends a connection after its TEARDOWN was answered.
	errTeardown = errors.New("rtsp: TEARDOWN")
	// errNoRTP ends a recording whose first RTP packet never came.
	errNoRTP = errors.New("rtsp: no RTP after RECORD")
)

// rtspConn is one RTSP connection: one pushed stream at most. One
// goroutine reads requests and interleaved frames and answers; at RECORD
// a recording (rtsp_record.go) starts the media goroutine and the UDP
// readers.
type rtspConn struct {
	c   *rtspCaster
	nc  net.Conn
	br  *bufio.Reader
	cid string
	log *slog.Logger

	announceURL string
	app, stream string
	sdp         sdpSession
	tracks      []*rtspTrack
	session     string // set at the first SETUP
	rec         *recording
	cancel      context.CancelFunc // ends serve's context

	deadlineSet time.Time
	deadlineFor time.Duration // the timeout deadlineSet was set for
	frame       []byte        // interleaved frame buffer
	wbuf        []byte
}

func newRTSPConn(c *rtspCaster, nc net.Conn) *rtspConn {
	cid := ids.NewCID()
	return &rtspConn{c: c, nc: nc, br: bufio.NewReaderSize(nc, rtspReadBuffer), cid: cid,
		log: c.opt.Log.With(logging.CID(cid), "client", nc.RemoteAddr().String())}
}

// serve runs the connection until the client leaves, tears down, goes
// silent, or the caster stops.
func (rc *rtspConn) serve(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	rc.cancel = cancel
	stop := context.AfterFunc(ctx, func() { rc.nc.Close() })
	defer stop()
	defer rc.nc.Close()
	start := time.Now()
	err := rc.loop(ctx)
	if rc.rec != nil {
		if merr := rc.rec.stop(); merr != nil && !errors.Is(err, errTeardown) {
			err = merr // the output failed first: that is why the connection closed
		}
	}
	for _, t := range rc.tracks {
		if t.udp != nil {
			t.udp.close()
		}
	}
	reason := rtspEndReason(parent, err, rc.c.opt.IdleTimeout)
	if rc.rec == nil {
		rc.log.Debug("caster: rtsp connection ended", "reason", reason)
		return
	}
	st := rc.rec.media.stats()
	rc.log.Info("caster: stream ended", "reason", reason, "duration", time.Since(start).Round(time.Millisecond),
		"rtp_packets", st.packets, "rtp_lost", st.lost, "rtp_malformed", st.malformed, "rtp_other_payload_type", st.otherPT,
		"rtcp_sender_reports", st.reports, "udp_queue_drops", st.queueDrops, "udp_foreign", st.foreign,
		"video", st.conv.VideoFrames, "audio", st.conv.AudioFrames, "dropped", st.conv.Dropped, "last_rtp_error", st.lastErr)
}

// rtspEndReason says why a connection ended; parent is the caster's context.
func rtspEndReason(parent context.Context, err error, idle time.Duration) string {
	switch {
	case errors.Is(err, errTeardown):
		return "TEARDOWN"
	case parent.Err() != nil:
		return "caster stopped (reload or shutdown)"
	case errors.Is(err, errIdle):
		return "input idle: no RTP for " + idle.String()
	case errors.Is(err, errNoRTP):
		return "no RTP within " + rtspRequestTimeout.String() + " of RECORD"
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return "the client closed the connection"
	}
	return err.Error()
}

// loop reads requests and interleaved frames.
func (rc *rtspConn) loop(ctx context.Context) error {
	for {
		if err := rc.waitInput(); err != nil {
			return err
		}
		b, err := rc.br.Peek(1)
		if err != nil {
			return err
		}
		if b[0] == '$' {
			if err := rc.interleaved(ctx); err != nil {
				return err
			}
			continue
		}
		if err := rc.setDeadline(rtspRequestTimeout, true); err != nil {
			return err
		}
		req, err := readRTSPRequest(rc.br)
		var re *rtspError
		if errors.As(err, &re) {
			// A malformed request leaves the stream at an unknown place:
			// answer and close.
			cseq := ""
			if req != nil {
				cseq = req.cseq
			}
			_ = rc.reply(cseq, &rtspResponse{status: re.status})
			return err
		}
		if err != nil {
			return err
		}
		resp, herr := rc.handle(ctx, req)
		if herr != nil {
			if errors.As(herr, &re) {
				rc.log.Warn("caster: rtsp request refused", "method", req.method, "url", req.url, "status", re.status, "err", re.msg)
				resp = &rtspResponse{status: re.status}
				if re.status == 405 {
					resp.set("Allow", rtspPublicMethods)
				}
				herr = nil
			}
		}
		if err := rc.reply(req.cseq, resp); err != nil {
			return err
		}
		if herr != nil {
			return herr
		}
	}
}

// waitInput waits for the next request or frame. Before RECORD a client
// has rtspRequestTimeout for each request; while recording, media must
// come within the idle timeout, on this connection or on UDP.
func (rc *rtspConn) waitInput() error {
	if rc.rec == nil {
		if err := rc.setDeadline(rtspRequestTimeout, true); err != nil {
			return err
		}
		_, err := rc.br.Peek(1)
		if isTimeout(err) {
			return fmt.Errorf("rtsp: no request for %s", rtspRequestTimeout)
		}
		return err
	}
	force := false
	for {
		if err := rc.setDeadline(rc.c.opt.IdleTimeout, force); err != nil {
			return err
		}
		_, err := rc.br.Peek(1)
		if !isTimeout(err) {
			return err
		}
		// The first packet may take longer: an encoder's lookahead can
		// hold its first frame for seconds.
		switch since, any := rc.rec.media.idleFor(); {
		case !any && since >= rtspRequestTimeout:
			return errNoRTP
		case any && since >= rc.c.opt.IdleTimeout:
			return errIdle
		}
		force = true // UDP media is flowing while the connection is quiet
	}
}

// setDeadline moves the read deadline d ahead, at most every
// deadlineRefresh unless forced or d changed.
func (rc *rtspConn) setDeadline(d time.Duration, force bool) error {
	now := time.Now()
	if !force && d == rc.deadlineFor && now.Sub(rc.deadlineSet) < deadlineRefresh {
		return nil
	}
	rc.deadlineSet, rc.deadlineFor = now, d
	if err := rc.nc.SetReadDeadline(now.Add(d)); err != nil {
		return fmt.Errorf("rtsp: set read deadline: %w", err)
	}
	return nil
}

// reply writes a response; the Session header goes on every one once set.
func (rc *rtspConn) reply(cseq string, r *rtspResponse) error {
	if rc.session != "" && r.status < 300 {
		r.set("Session", rc.session+";timeout="+strconv.Itoa(rtspSessionTimeout))
	}
	rc.wbuf = r.appendTo(rc.wbuf[:0], cseq, rc.c.opt.Info.Server)
	if err := rc.nc.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return fmt.Errorf("rtsp: set write deadline: %w", err)
	}
	if _, err := rc.nc.Write(rc.wbuf); err != nil {
		return fmt.Errorf("rtsp: write response: %w", err)
	}
	return nil
}

// handle runs one request. An *rtspError becomes an error response and the
// connection goes on; another error ends it after the response.
func (rc *rtspConn) handle(ctx context.Context, req *rtspRequest) (*rtspResponse, error) {
	if err := rc.checkSession(req); err != nil {
		return nil, err
	}
	ok := &rtspResponse{status: 200}
	switch req.method {
	case "OPTIONS":
		ok.set("Public", rtspPublicMethods)
		return ok, nil
	case "GET_PARAMETER", "SET_PARAMETER":
		return ok, nil // keep-alives
	case "ANNOUNCE":
		return ok, rc.announce(req)
	case "SETUP":
		t, err := rc.setup(req)
		if err != nil {
			return nil, err
		}
		ok.set("Transport", t)
		return ok, nil
	case "RECORD":
		return ok, rc.record(ctx)
	case "TEARDOWN":
		return ok, errTeardown
	case "DESCRIBE", "PLAY", "PAUSE", "REDIRECT":
		return nil, rtspErrorf(405, "%s: the rtsp caster takes pushed streams only", req.method)
	}
	return nil, rtspErrorf(501, "method %q", clip(req.method))
}

// checkSession refuses a request naming a session this connection does
// not have (RFC 2326 12.37). Requests without one are taken: the
// connection is the session.
func (rc *rtspConn) checkSession(req *rtspRequest) error {
	h := req.headers.Get("Session")
	if h == "" {
		return nil
	}
	id, _, _ := strings.Cut(h, ";")
	if id = strings.TrimSpace(id); id != rc.session {
		return rtspErrorf(454, "session %q", clip(id))
	}
	return nil
}

// announce takes the stream's name from the URL and its tracks from the SDP.
func (rc *rtspConn) announce(req *rtspRequest) error {
	if rc.tracks != nil {
		return rtspErrorf(455, "a second ANNOUNCE")
	}
	if ct := req.headers.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/sdp" {
			return rtspErrorf(415, "Content-Type %q: want application/sdp", clip(ct))
		}
	}
	app, stream, err := parseRTSPPath(req.url)
	if err != nil {
		return rtspErrorf(400, "%v", err)
	}
	sdp, err := parseSDP(req.body)
	if err != nil {
		return rtspErrorf(400, "%v", err)
	}
	var tracks []*rtspTrack
	usable := 0
	for _, m := range sdp.media {
		t, err := newRTSPTrack(m)
		if err != nil {
			return rtspErrorf(415, "%v", err)
		}
		if t.codec != 0 {
			usable++
		} else {
			rc.log.Warn("caster: track dropped", "track", t.String(), "why", t.why)
		}
		tracks = append(tracks, t)
	}
	if usable == 0 {
		return rtspErrorf(415, "no H264, H265 or AAC track in the SDP")
	}
	rc.announceURL, rc.app, rc.stream, rc.sdp, rc.tracks = req.url, app, stream, sdp, tracks
	rc.log.Info("caster: rtsp announce", "app", app, "stream", stream, "tracks", trackList(tracks))
	return nil
}

func trackList(ts []*rtspTrack) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

// parseRTSPPath takes app and stream from a URL's path as the flv caster
// does (/live/livestream gives live and livestream; /a/b/cam the app a/b),
// dropping a ".sdp" at its end, as SRS did.
func parseRTSPPath(raw string) (app, stream string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("rtsp: URL %q: %w", clip(raw), err)
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return "", "", fmt.Errorf("rtsp: URL %q is not rtsp://", clip(raw))
	}
	p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".sdp")
	if len(p) > maxFLVPath {
		return "", "", fmt.Errorf("rtsp: path longer than %d bytes", maxFLVPath)
	}
	rest := strings.TrimPrefix(p, "/")
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return "", "", fmt.Errorf("rtsp: path %q: want /<app>/<stream>", clip(u.Path))
	}
	app, stream = rest[:i], rest[i+1:]
	for _, elem := range strings.Split(app, "/") {
		if err := checkName(elem); err != nil {
			return "", "", fmt.Errorf("rtsp: app %q: %v", clip(app), err)
		}
	}
	if err := checkName(stream); err != nil {
		return "", "", fmt.Errorf("rtsp: stream %q: %v", clip(stream), err)
	}
	return app, stream, nil
}
