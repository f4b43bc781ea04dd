package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/castd/castd/internal/av"
	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/format/flv"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/ids"
	"github.com/castd/castd/internal/logging"
	"github.com/castd/castd/internal/protocol/rtmp"
)

var (
	errNoPlayers        = errors.New("edge: no player left")
	errLocalPublisher   = errors.New("edge: the stream is published on this edge")
	errTooManyRedirects = fmt.Errorf("edge: more than %d redirects", maxRedirects)
)

// redirectError is an origin's RTMP 302: pull from url instead.
type redirectError struct{ url string }

func (r *redirectError) Error() string { return "edge: origin redirected to " + r.url }

// pull feeds one stream of the local hub from an origin while players
// watch it.
type pull struct {
	e       *Edge
	ctx     context.Context // the edge's
	key     hub.Key
	cluster conf.Cluster
	client  Client
	cid     string
	log     *slog.Logger

	pub *hub.Publisher // taken at the first media, so a local publisher may still come
}

func newPull(e *Edge, ctx context.Context, key hub.Key, c conf.Cluster, cl Client) *pull {
	cid := ids.NewCID()
	return &pull{e: e, ctx: ctx, key: key, cluster: c, client: cl, cid: cid,
		log: e.opt.Log.With(logging.CID(cid), "stream", key.String())}
}

// run pulls from the origins in turn until no player is left, the stream
// gets a local publisher or the edge stops.
func (p *pull) run() {
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	defer p.unpublish()
	// Players are polled rather than followed: a pull ends soon after the
	// last one leaves, whichever protocol it used.
	go p.watchPlayers(ctx, cancel)
	p.log.Info("edge: pull start", "player", p.client.ID, "origins", p.cluster.Origin)
	redirects := 0
	target := ""
	for ctx.Err() == nil {
		c, sopt, ok := p.e.opt.Vhost(p.key.Vhost)
		if !ok {
			p.log.Info("edge: pull stop, the vhost is no longer an edge")
			return
		}
		p.cluster = c
		err := p.pullOnce(ctx, sopt, target)
		var redirect *redirectError
		switch {
		case ctx.Err() != nil || errors.Is(err, errNoPlayers):
			p.log.Info("edge: pull stop, no player left")
			return
		case errors.Is(err, errLocalPublisher):
			p.log.Info("edge: pull stop, the stream is published on this edge")
			return
		case errors.As(err, &redirect) && redirects < maxRedirects:
			redirects++
			target = redirect.url
			p.log.Info("edge: origin redirects (RTMP 302)", "to", target)
			continue
		}
		redirects, target = 0, ""
		p.log.Warn("edge: pull failed; next origin", "in", p.e.opt.Retry, "err", err)
		t := time.NewTimer(p.e.opt.Retry)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// watchPlayers cancels the pull once no player has watched for two polls
// in a row (a player reconnecting does not restart the upstream).
func (p *pull) watchPlayers(ctx context.Context, cancel context.CancelFunc) {
	t := time.NewTicker(playerPoll)
	defer t.Stop()
	empty := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := p.e.opt.Hub.Stream(p.key)
		if s != nil && s.CountViewers(IsPlayer) > 0 {
			empty = 0
			continue
		}
		if empty++; empty >= 2 {
			cancel()
			return
		}
	}
}

// pullOnce pulls from one origin, or from target after a redirect, until
// an error.
func (p *pull) pullOnce(ctx context.Context, sopt hub.StreamOptions, target string) error {
	proto := pullProtocol(p.cluster, p.client)
	if target == "" {
		if len(p.cluster.Origin) == 0 {
			return errors.New("edge: cluster.origin lists no origin")
		}
		raw := p.cluster.Origin[p.e.pick(p.key.Vhost, len(p.cluster.Origin))]
		o, err := parseOrigin(raw, proto)
		if err != nil {
			return err
		}
		if proto == ProtoRTMP {
			target = rtmpURL(o, p.key, p.cluster, p.client)
		} else {
			target = flvURL(o, p.key, proto, p.client)
		}
	}
	err := errors.New("edge: unsupported url " + target)
	switch {
	case len(target) > 7 && target[:7] == "rtmp://":
		err = p.pullRTMP(ctx, target, sopt)
	case len(target) > 7 && (target[:7] == "http://" || target[:8] == "https://"):
		err = p.pullFLV(ctx, target, sopt)
	}
	p.unpublish()
	if ctx.Err() != nil {
		return errNoPlayers
	}
	return err
}

// pullRTMP plays url and feeds what it gets to the hub.
func (p *pull) pullRTMP(ctx context.Context, url string, sopt hub.StreamOptions) error {
	tcURL, stream, err := rtmp.SplitStreamURL(url)
	if err != nil {
		return err
	}
	opt := rtmp.ClientOptions{}
	if p.cluster.DebugSRSUpnode {
		opt.ConnectArgs = p.e.opt.Info.UpnodeArgs(p.cid)
	}
	dctx, cancel := context.WithTimeout(ctx, p.e.opt.ConnectTimeout)
	c, err := rtmp.Dial(dctx, tcURL, opt)
	if err == nil {
		if err = c.Play(dctx, stream); err != nil {
			c.Close()
		}
	}
	cancel()
	if err != nil {
		if st, ok := rtmp.IsStatusError(err); ok {
			if tc, full, ok := st.Redirect(); ok {
				if full == "" {
					full = tc + "/" + stream
				}
				return &redirectError{url: full}
			}
		}
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	p.log.Info("edge: pulling", "url", url)
	for {
		// Silence is normal while the origin waits for its publisher; a
		// stream that stops mid-way is normal_timeout-like.
		var deadline time.Time
		if p.pub != nil {
			deadline = time.Now().Add(recvTimeout)
		}
		_ = c.NetConn().SetReadDeadline(deadline)
		m, err := c.ReadMessage()
		if err != nil {
			if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("edge: no media from %s for %v", url, recvTimeout)
			}
			return fmt.Errorf("edge: read from %s: %w", url, err)
		}
		if m.IsCommand() {
			if cmd, derr := rtmp.DecodeCommand(m); derr == nil && cmd.Name == rtmp.CmdOnStatus {
				st := rtmp.StatusOf(cmd)
				switch {
				case st.Code == rtmp.CodePlayUnpublishNotify:
					p.log.Info("edge: origin stream unpublished; waiting for the next publish")
					p.unpublish()
				case st.Level == rtmp.LevelError:
					return fmt.Errorf("edge: origin sent %s: %s", st.Code, st.Description)
				}
			}
			continue
		}
		if err := p.write(av.Kind(m.Type), m.Timestamp, m.Payload, sopt); err != nil {
			return err
		}
	}
}

// pullFLV reads the origin's HTTP-FLV stream at url.
func (p *pull) pullFLV(ctx context.Context, url string, sopt hub.StreamOptions) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	// The connect timeout covers the answer's headers; the body is a live
	// stream and gets the receive timeout per tag below.
	timer := time.AfterFunc(p.e.opt.ConnectTimeout, cancel)
	resp, err := p.e.opt.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("edge: GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("edge: GET %s: %s", url, resp.Status)
	}
	r, err := flv.NewReader(resp.Body)
	if err != nil {
		return fmt.Errorf("edge: GET %s: %w", url, err)
	}
	p.log.Info("edge: pulling", "url", url)
	for {
		timer.Reset(recvTimeout)
		t, err := r.ReadTag()
		if err != nil {
			if rctx.Err() != nil && ctx.Err() == nil {
				return fmt.Errorf("edge: no media from %s for %v", url, recvTimeout)
			}
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("edge: %s ended", url)
			}
			return fmt.Errorf("edge: read %s: %w", url, err)
		}
		if err := p.write(av.Kind(t.Type), t.Timestamp, t.Data, sopt); err != nil {
			return err
		}
	}
}

// recvTimeout ends a pull whose stream went silent (SRS's edge ingester
// gives up after a few receive pulses too).
const recvTimeout = 10 * time.Second

// write hands one message to the hub, publishing the stream at the first
// one. Only onMetaData passes among data messages, as for RTMP publishers.
func (p *pull) write(kind av.Kind, ts uint32, payload []byte, sopt hub.StreamOptions) error {
	switch kind {
	case av.KindAudio, av.KindVideo:
	case av.KindData:
		if name, _, err := flv.ParseScriptData(payload); err != nil || name != flv.OnMetaData {
			return nil
		}
	default:
		return nil
	}
	pkt, err := av.NewPacket(kind, ts, payload)
	if err != nil {
		return nil // empty or malformed frames are dropped, as from publishers
	}
	if p.pub == nil {
		pub, err := p.e.opt.Hub.Publish(p.key, hub.ClientInfo{ID: p.cid, Protocol: ProtocolPull, TcURL: p.client.TcURL, Param: p.client.Param}, sopt)
		if err != nil {
			if errors.Is(err, hub.ErrStreamBusy) {
				return errLocalPublisher
			}
			return err
		}
		p.pub = pub
		p.log.Info("edge: stream up")
	}
	return p.pub.Write(pkt)
}

func (p *pull) unpublish() {
	if p.pub != nil {
		p.pub.Close()
		p.pub = nil
	}
}
