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

// serveStream runs one publish or play request.
func (ss *session) serveStream(ctx context.Context, sr *rtmp.StreamRequest) error {
	req, err := streamurl.DiscoverRTMP(ss.connect.TcURL, sr.Name)
	if err != nil {
		ss.rejectStream(sr, err.Error())
		return errf("%s of %q from %s: %w", sr.Type, sr.Name, ss.ip, err)
	}
	req.PageURL, req.SwfURL = ss.connect.PageURL, ss.connect.SwfURL
	vhost, err := ss.resolve(req.Vhost)
	if err != nil {
		ss.rejectStream(sr, err.Error())
		return err
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
	if err := security.CheckRefer(vhost.Refer, kind, req.PageURL); err != nil {
		return ss.refuse(sr, key, err)
	}
	if err := ss.srv.Hooks.OnConnect(ctx, vhost.Hooks, hr); err != nil {
		return ss.refuse(sr, key, err)
	}
	if err := security.Check(vhost.Security, kind, security.ClientAddr(ss.nc.RemoteAddr().String())); err != nil {
		return ss.refuse(sr, key, err)
	}
	if sr.Type.IsPublish() {
		return ss.publish(ctx, sr, req, vhost, key, hr)
	}
	return ss.play(ctx, sr, req, vhost, key, hr)
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

// play sends the stream to the client until it stops, the connection drops
// or the play duration is reached. One goroutine writes; this one reads the
// client's pause and stop requests.
func (ss *session) play(ctx context.Context, sr *rtmp.StreamRequest, req *streamurl.Request, vhost Vhost, key hub.Key, hr hooks.Request) error {
	viewer := ss.srv.Hub.Play(key, hub.ClientInfo{ID: ss.cid, Protocol: "rtmp", Addr: ss.nc.RemoteAddr().String(), TcURL: req.TcURL}, vhost.Stream, vhost.Viewer)
	defer viewer.Close()
	ss.register(stats.RTMPPlay, req, key, viewer.Stream().ID)
	defer ss.srv.Stats.Unregister(ss.cid, nil)
	if err := ss.sc.StartPlay(); err != nil {
		return errf("start play %s: %w", key, err)
	}
	// SRS calls on_play after Play.Start, before any media.
	hr.StreamID = viewer.Stream().ID
	if err := ss.srv.Hooks.OnPlay(ctx, vhost.Hooks, hr); err != nil {
		return ss.refuse(sr, key, err)
	}
	defer ss.srv.Hooks.OnStop(context.Background(), ss.hooksOf(key.Vhost), hr)
	ss.log.Info("rtmp: play start", "stream", key.String(), "param", req.Param, "ip", ss.ip,
		"start", sr.Start, "duration", sr.Duration)
	began := time.Now()

	wctx, cancel := context.WithCancel(ctx)
	w := &playWriter{sc: ss.sc, viewer: viewer, minInterval: vhost.SendMinInterval, resume: make(chan struct{}, 1),
		afterFirst: func() { ss.applyNodelay(vhost.TCPNodelay) }}
	if sr.Duration > 0 {
		w.limit = time.Duration(sr.Duration * float64(time.Millisecond))
	}
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		werr = w.run(wctx)
		if werr != nil && !errors.Is(werr, context.Canceled) {
			ss.nc.Close() // unblock the control reader
		}
	}()
	var rerr error
	for rerr == nil {
		var c rtmp.PlayControl
		c, rerr = ss.sc.ReadPlayControl()
		if rerr != nil {
			break
		}
		switch c.Kind {
		case rtmp.PlayPause:
			w.paused.Store(true)
		case rtmp.PlayUnpause:
			w.paused.Store(false)
			select {
			case w.resume <- struct{}{}:
			default:
			}
		case rtmp.PlayStop:
			rerr = errPlayStopped
		}
	}
	cancel()
	wg.Wait()
	ss.log.Info("rtmp: play end", "stream", key.String(), "duration", time.Since(began).Round(time.Millisecond),
		"bytes", ss.sc.Conn().BytesOut(), "drops", viewer.Drops(), "reason", reason(firstErr(werr, rerr)))
	switch {
	case errors.Is(rerr, errPlayStopped):
		return nil // closeStream: the client may play or publish again
	case errors.Is(werr, errDurationReached):
		return werr
	}
	return firstErr(werr, rerr)
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
