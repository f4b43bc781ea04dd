package rtmpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/netx"
	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/security"
	"github.com/castd/castd/internal/stats"
	"github.com/castd/castd/internal/streamurl"
)

// errf prefixes errors with the package so logs say where they came from.
func errf(format string, args ...any) error { return fmt.Errorf("rtmp: "+format, args...) }

// connectVhost resolves the vhost of the connect's tcUrl (its host or
// ?vhost=), as SRS checks it before answering connect.
func (ss *session) connectVhost() (Vhost, error) {
	req, err := streamurl.DiscoverRTMP(ss.connect.TcURL, "_")
	if err != nil {
		return Vhost{}, errf("connect tcUrl %q from %s: %w", ss.connect.TcURL, ss.ip, err)
	}
	return ss.resolve(req.Vhost)
}

func (ss *session) resolve(name string) (Vhost, error) {
	v, ok := ss.srv.Vhost(name)
	if !ok {
		return Vhost{}, errf("vhost %q from %s: no such vhost and no __defaultVhost__ (code 2014)", name, ss.ip)
	}
	if !v.Enabled {
		return Vhost{}, errf("vhost %q from %s: vhost is disabled", v.Name, ss.ip)
	}
	return v, nil
}

// serveStream runs one publish request to its end, or checks a play
// request and returns its player for serve to run.
func (ss *session) serveStream(ctx context.Context, sr *rtmp.StreamRequest) (*player, error) {
	req, err := streamurl.DiscoverRTMP(ss.connect.TcURL, sr.Name)
	if err != nil {
		ss.rejectStream(sr, err.Error())
		return nil, errf("%s of %q from %s: %w", sr.Type, sr.Name, ss.ip, err)
	}
	req.PageURL, req.SwfURL = ss.connect.PageURL, ss.connect.SwfURL
	vhost, err := ss.resolve(req.Vhost)
	if err != nil {
		ss.rejectStream(sr, err.Error())
		return nil, err
	}
	key := hub.Key{Vhost: vhost.Name, App: req.App, Name: req.Stream}
	hr := hooks.RequestFrom(ss.cid, ss.ip, vhost.Name, req)
	hr.StreamURL = key.String()
	ss.last = &hr
	// SRS's order: refer, on_connect (after play/publish arrived, so it knows
	// the stream), then security.
	kind := security.Play
	if sr.Type.IsPublish() {
		kind = security.Publish
	}
	if vhost.TokenCheck != nil {
		if err := vhost.TokenCheck(ctx, ss.connect.TcURL, ss.connect.Args); err != nil {
			return nil, ss.refuse(sr, key, err)
		}
	}
	if err := security.CheckRefer(vhost.Refer, kind, req.PageURL); err != nil {
		return nil, ss.refuse(sr, key, err)
	}
	if err := ss.srv.Hooks.OnConnect(ctx, vhost.Hooks, hr); err != nil {
		return nil, ss.refuse(sr, key, err)
	}
	if err := security.Check(vhost.Security, kind, security.ClientAddr(ss.nc.RemoteAddr().String())); err != nil {
		return nil, ss.refuse(sr, key, err)
	}
	if sr.Type.IsPublish() {
		return nil, ss.publish(ctx, sr, req, vhost, key, hr)
	}
	return ss.startPlay(ctx, sr, req, &vhost, key, hr)
}

// refuse tells the client why its request was refused, logs it and ends
// the connection (SRS disconnects refused RTMP clients).
func (ss *session) refuse(sr *rtmp.StreamRequest, key hub.Key, err error) error {
	ss.log.Warn("rtmp: request refused", "type", sr.Type.String(), "stream", key.String(), "ip", ss.ip, "err", err)
	ss.rejectStream(sr, err.Error())
	return errf("%s %s from %s refused: %w", sr.Type, key, ss.ip, err)
}

// hooksOf returns the vhost's hooks as configured now: a reload may have
// changed them since the connection started.
func (ss *session) hooksOf(vhost string) conf.HTTPHooks {
	if v, ok := ss.srv.Vhost(vhost); ok {
		return v.Hooks
	}
	return conf.HTTPHooks{}
}

// onClose calls on_close for a connection that got past connect.
func (ss *session) onClose() {
	if ss.connect == nil || ss.vhost.Name == "" {
		return
	}
	hr := ss.last
	if hr == nil {
		req, err := streamurl.DiscoverRTMP(ss.connect.TcURL, "_")
		if err != nil {
			return
		}
		r := hooks.RequestFrom(ss.cid, ss.ip, ss.vhost.Name, req)
		r.Stream, r.Param = "", ""
		hr = &r
	}
	c := ss.sc.Conn()
	ss.srv.Hooks.OnClose(context.Background(), ss.hooksOf(hr.Vhost), *hr, int64(c.BytesOut()), int64(c.BytesIn()))
}

func (ss *session) rejectStream(sr *rtmp.StreamRequest, why string) {
	code := rtmp.CodePlayStreamNotFound
	if sr.Type.IsPublish() {
		code = rtmp.CodePublishBadName
	}
	_ = ss.sc.RejectStream(code, why)
}

func (ss *session) register(typ stats.ClientType, req *streamurl.Request, key hub.Key, streamID string) {
	ss.srv.Stats.Register(&stats.Client{
		ID: ss.cid, Type: typ, IP: ss.ip, Vhost: key.Vhost, App: key.App, Stream: key.Name,
		StreamURL: key.String(), StreamID: streamID, TcURL: req.TcURL, PageURL: req.PageURL, SwfURL: req.SwfURL,
		Conn: byteCounter{ss.sc.Conn()},
		Kick: func() { ss.kicked.Store(true); ss.nc.Close() },
	})
}

// publish feeds the hub until the client unpublishes (FMLE clients then
// return to Identify for a republish), times out or disconnects.
func (ss *session) publish(ctx context.Context, sr *rtmp.StreamRequest, req *streamurl.Request, vhost Vhost, key hub.Key, hr hooks.Request) error {
	// on_publish comes before the stream is taken, so a publisher refused as
	// busy is still reported (SRS's order).
	hr.StreamID = ss.srv.Hub.Ensure(key, vhost.Stream).ID
	if err := ss.srv.Hooks.OnPublish(ctx, vhost.Hooks, hr); err != nil {
		return ss.refuse(sr, key, err)
	}
	pub, err := ss.srv.Hub.Publish(key, hub.ClientInfo{ID: ss.cid, Protocol: "rtmp", Addr: ss.nc.RemoteAddr().String(), TcURL: req.TcURL, Param: req.Param}, vhost.Stream)
	if err != nil {
		ss.log.Warn("rtmp: publish refused", "stream", key.String(), "ip", ss.ip, "err", err)
		if errors.Is(err, hub.ErrStreamBusy) {
			_ = ss.sc.RejectStream(rtmp.CodePublishBadName, rtmp.DescStreamBusy)
		}
		return errf("publish %s from %s: %w", key, ss.ip, err)
	}
	defer func() {
		pub.Close()
		ss.srv.Hooks.OnUnpublish(context.Background(), ss.hooksOf(key.Vhost), hr)
	}()
	ss.register(clientType(sr.Type), req, key, pub.Stream().ID)
	defer ss.srv.Stats.Unregister(ss.cid, nil)
	if err := ss.sc.StartPublish(); err != nil {
		return errf("start publish %s: %w", key, err)
	}
	ss.applyNodelay(vhost.TCPNodelay)
	ss.sc.Conn().GrowReadBuffer(publishReadBuffer)
	ss.log.Info("rtmp: publish start", "stream", key.String(), "type", sr.Type.String(), "param", req.Param, "ip", ss.ip)
	start := time.Now()
	packets, err := ss.readMedia(ctx, pub, vhost)
	ss.log.Info("rtmp: publish end", "stream", key.String(), "duration", time.Since(start).Round(time.Millisecond),
		"packets", packets, "reason", reason(err))
	if errors.Is(err, rtmp.ErrUnpublish) {
		return nil // the connection may publish again
	}
	return err
}

// readMedia moves media from the connection to the hub, enforcing SRS's
// publish timeouts: firstpkt_timeout for the first packet, normal_timeout
// between packets.
func (ss *session) readMedia(ctx context.Context, pub *hub.Publisher, vhost Vhost) (int, error) {
	timeout := vhost.FirstPacketTimeout
	var deadlineSet time.Time
	n := 0
	for ctx.Err() == nil {
		// A deadline per packet costs a timer reset; refreshing it every
		// 100 ms keeps the timeout precise enough. The first packet switches
		// from firstpkt_timeout to normal_timeout at once.
		if now := time.Now(); n <= 1 || now.Sub(deadlineSet) > 100*time.Millisecond {
			_ = ss.nc.SetReadDeadline(now.Add(timeout))
			deadlineSet = now
		}
		m, err := ss.sc.ReadMedia()
		if err != nil {
			if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
				return n, errf("publish timeout: no media for %v", timeout)
			}
			return n, err
		}
		if m.Type == rtmp.TypeDataAMF0 && !isMetadata(m.Payload) {
			continue // SRS forwards only onMetaData; onTextData, onCuePoint... are dropped
		}
		p, err := av.NewPacket(av.Kind(m.Type), m.Timestamp, m.Payload)
		if err != nil {
			if errors.Is(err, av.ErrEmptyPayload) {
				continue // some encoders send empty frames; SRS drops them too
			}
			ss.log.Debug("rtmp: dropped malformed media", "err", err)
			continue
		}
		if err := pub.Write(p); err != nil {
			return n, err
		}
		n++
		timeout = vhost.NormalTimeout
	}
	return n, ctx.Err()
}

// player is a play request that passed its checks and hooks. Its writer
// runs from the top of the connection's goroutine (see serve), so the
// stack a player keeps while it waits for media stays small: the frames of
// connect, identify and the checks are gone by then.
type player struct {
	w     *playWriter
	key   hub.Key
	hr    hooks.Request
	began time.Time
}

// startPlay joins the stream and runs on_play; on success the caller runs
// the player with ss.runPlayer.
func (ss *session) startPlay(ctx context.Context, sr *rtmp.StreamRequest, req *streamurl.Request, vhost *Vhost, key hub.Key, hr hooks.Request) (*player, error) {
	if vhost.Discover != nil {
		if st := ss.srv.Hub.Stream(key); st == nil || !st.Publishing() {
			return nil, ss.redirect(ctx, sr, req, vhost, key)
		}
	}
	viewer := ss.srv.Hub.Play(key, hub.ClientInfo{ID: ss.cid, Protocol: "rtmp", Addr: ss.nc.RemoteAddr().String(), TcURL: req.TcURL, Param: req.Param}, vhost.Stream, vhost.Viewer)
	ss.register(stats.RTMPPlay, req, key, viewer.Stream().ID)
	leave := func() {
		ss.srv.Stats.Unregister(ss.cid, nil)
		viewer.Close()
	}
	if err := ss.sc.StartPlay(); err != nil {
		leave()
		return nil, errf("start play %s: %w", key, err)
	}
	// SRS calls on_play after Play.Start, before any media.
	hr.StreamID = viewer.Stream().ID
	if err := ss.srv.Hooks.OnPlay(ctx, vhost.Hooks, hr); err != nil {
		leave()
		return nil, ss.refuse(sr, key, err)
	}
	ss.log.Info("rtmp: play start", "stream", key.String(), "param", req.Param, "ip", ss.ip,
		"start", sr.Start, "duration", sr.Duration)
	nodelay := vhost.TCPNodelay
	w := &playWriter{sc: ss.sc, viewer: viewer, minInterval: vhost.SendMinInterval, resume: make(chan struct{}, 1),
		afterFirst: func() { ss.applyNodelay(nodelay) }}
	if sr.Duration > 0 {
		w.limit = time.Duration(sr.Duration * float64(time.Millisecond))
	}
	if !ss.srv.readerPerPlayer {
		w.probe = netx.NewInputProbe(ss.nc)
	}
	if w.probe != nil {
		ss.sc.Conn().ReleaseReadMemory(playerReadBuffer)
	}
	return &player{w: w, key: key, hr: hr, began: time.Now()}, nil
}

// redirectWait is how long a redirected player may take to acknowledge
// the RTMP 302 (SRS waits 3 s for its call).
const redirectWait = 3 * time.Second

// redirect sends a player of a stream nobody publishes here to the
// coworker origin that publishes it (origin_cluster), and ends the
// connection; with no such coworker the play is refused (SRS's 3092).
func (ss *session) redirect(ctx context.Context, sr *rtmp.StreamRequest, req *streamurl.Request, vhost *Vhost, key hub.Key) error {
	url, err := vhost.Discover(ctx, key, req)
	if err != nil {
		return ss.refuse(sr, key, fmt.Errorf("origin cluster: no origin publishes the stream (code 3092): %w", err))
	}
	accepted, err := ss.sc.Redirect(url, redirectWait)
	if err != nil {
		return errf("play %s: redirect to %s: %w", key, url, err)
	}
	ss.log.Info("rtmp: play redirected (RTMP 302)", "stream", key.String(), "to", url, "ip", ss.ip, "acknowledged", accepted)
	return errf("play %s from %s redirected to %s", key, ss.ip, url)
}

// runPlayer sends the stream to the client until it stops, the connection
// drops or the play duration is reached. Where the connection can be
// probed, this goroutine both writes the media and serves the player's
// requests; elsewhere a second goroutine writes.
func (ss *session) runPlayer(ctx context.Context, p *player) error {
	var werr, rerr error
	if p.w.probe != nil {
		werr = p.w.run(ctx)
		if errors.Is(werr, errPlayStopped) {
			rerr, werr = werr, nil
		}
	} else {
		werr, rerr = ss.playWithReader(ctx, p.w)
	}
	return ss.endPlay(p, werr, rerr)
}

// endPlay logs the end of a play, leaves the stream and runs on_stop.
func (ss *session) endPlay(p *player, werr, rerr error) error {
	viewer := p.w.viewer
	ss.log.Info("rtmp: play end", "stream", p.key.String(), "duration", time.Since(p.began).Round(time.Millisecond),
		"bytes", ss.sc.Conn().BytesOut(), "drops", viewer.Drops(), "reason", reason(firstErr(werr, rerr)))
	ss.srv.Hooks.OnStop(context.Background(), ss.hooksOf(p.key.Vhost), p.hr)
	ss.srv.Stats.Unregister(ss.cid, nil)
	viewer.Close()
	switch {
	case errors.Is(rerr, errPlayStopped):
		return nil // closeStream: the client may play or publish again
	case errors.Is(werr, errDurationReached):
		return werr
	}
	return firstErr(werr, rerr)
}

// playWithReader runs the writer in a goroutine of its own while this one
// reads the player's requests: for connections netx cannot probe.
func (ss *session) playWithReader(ctx context.Context, w *playWriter) (werr, rerr error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		werr = w.run(ctx)
		if werr != nil && !errors.Is(werr, context.Canceled) {
			ss.nc.Close() // unblock the request reader
		}
	}()
	for rerr == nil {
		rerr = w.handle(ss.sc.ReadPlayControl())
	}
	cancel()
	wg.Wait()
	return werr, rerr
}

var (
	errPlayStopped     = errors.New("client stopped playing (closeStream)")
	errDurationReached = errors.New("play duration reached")
)

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return nil
}

func reason(err error) string {
	switch {
	case err == nil:
		return "done"
	case errors.Is(err, rtmp.ErrUnpublish):
		return "client unpublished"
	case isClosed(err):
		return "connection closed"
	}
	return err.Error()
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "connection reset by peer") || strings.Contains(err.Error(), "broken pipe")
}

func remoteIP(nc net.Conn) string {
	if h, _, err := net.SplitHostPort(nc.RemoteAddr().String()); err == nil {
		return h
	}
	return nc.RemoteAddr().String()
}

// clientType names an RTMP publisher as the API does.
func clientType(t rtmp.ClientType) stats.ClientType {
	switch t {
	case rtmp.ClientFlashPublish:
		return stats.FlashPublish
	case rtmp.ClientHaivisionPublish:
		return stats.HaivisionPublish
	case rtmp.ClientPlay:
		return stats.RTMPPlay
	}
	return stats.FMLEPublish
}

// isMetadata reports whether an AMF0 data body is onMetaData.
func isMetadata(body []byte) bool {
	name, _, err := flv.ParseScriptData(body)
	return err == nil && name == flv.OnMetaData
}

// byteCounter adapts the RTMP connection's counters to stats.Counter.
type byteCounter struct{ c *rtmp.Conn }

func (b byteCounter) BytesIn() int64  { return int64(b.c.BytesIn()) }
func (b byteCounter) BytesOut() int64 { return int64(b.c.BytesOut()) }
