package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/castd/castd/internal/caster"
	"github.com/castd/castd/internal/conf"
)

// casters runs the enabled stream_caster blocks from Start to shutdown and
// follows reloads: a changed block is restarted, a removed one stopped, an
// unchanged one keeps running (and keeps its streams).
type casters struct {
	s      *Server
	syncMu sync.Mutex // one sync or stop at a time; held while casters start

	mu     sync.Mutex // guards runs and closed; never held while a caster starts or stops
	runs   map[string]*casterRun
	closed bool
}

// casterRun is one running stream_caster block.
type casterRun struct {
	caster string
	where  string
	addrs  []net.Addr // for Addrs; gb28181 reports none
	cancel context.CancelFunc
	wait   func()
}

func (r *casterRun) stop() {
	r.cancel()
	r.wait()
}

// casterKey is what identifies a block across reloads: any change means a
// restart.
func casterKey(sc *conf.StreamCaster) string {
	return fmt.Sprintf("%s %d %q %+v %d-%d", sc.Caster, sc.Listen, sc.Output, sc.SIP, sc.RTPPortMin, sc.RTPPortMax)
}

// sync starts, restarts and stops casters to match cfg. It returns why
// casters could not start; the others run.
func (cs *casters) sync(cfg *conf.Config) error {
	cs.s.mu.Lock()
	ctx := cs.s.ctx
	cs.s.mu.Unlock()
	if ctx == nil || ctx.Err() != nil {
		return nil
	}
	cs.syncMu.Lock()
	defer cs.syncMu.Unlock()
	want, order, errs := wantedCasters(cfg)

	cs.mu.Lock()
	var stale []*casterRun
	for k, r := range cs.runs {
		if want[k] == nil {
			stale = append(stale, r)
			delete(cs.runs, k)
		}
	}
	cs.mu.Unlock()
	// Stopped first: a block that changed may keep its port.
	for _, r := range stale {
		r.stop()
		cs.s.log.Info("stream caster stopped", "caster", r.caster, "at", r.where)
	}

	for _, k := range order {
		cs.mu.Lock()
		_, running := cs.runs[k]
		cs.mu.Unlock()
		if running {
			continue
		}
		r, err := cs.start(ctx, want[k])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs.mu.Lock()
		if cs.closed { // the server quit meanwhile
			cs.mu.Unlock()
			r.stop()
			continue
		}
		cs.runs[k] = r
		cs.mu.Unlock()
	}
	return errors.Join(errs...)
}

// wantedCasters lists the enabled blocks by key, in file order, and
// refuses two blocks on one port: a TCP port would be shared silently.
func wantedCasters(cfg *conf.Config) (want map[string]*conf.StreamCaster, order []string, errs []error) {
	want = map[string]*conf.StreamCaster{}
	ports := map[string]string{} // "udp 8935" -> where
	for _, sc := range cfg.StreamCasters {
		if !sc.Enabled {
			continue
		}
		port := "tcp " + strconv.Itoa(sc.Listen)
		if sc.Caster == "mpegts_over_udp" {
			port = "udp " + strconv.Itoa(sc.Listen)
		}
		if first, dup := ports[port]; dup {
			errs = append(errs, fmt.Errorf("stream_caster %s at %s: %s port %d is already the port of the stream_caster at %s",
				sc.Caster, casterWhere(sc), port[:3], sc.Listen, first))
			continue
		}
		ports[port] = casterWhere(sc)
		k := casterKey(sc)
		want[k] = sc
		order = append(order, k)
	}
	return want, order, errs
}

func casterWhere(sc *conf.StreamCaster) string {
	if sc.Directive == nil {
		return "?"
	}
	return fmt.Sprintf("%s:%d", sc.Directive.File, sc.Directive.Line)
}

// start opens one caster's sockets and starts it under its own context.
func (cs *casters) start(ctx context.Context, sc *conf.StreamCaster) (*casterRun, error) {
	rctx, cancel := context.WithCancel(ctx)
	r := &casterRun{caster: sc.Caster, where: casterWhere(sc), cancel: cancel}
	var err error
	switch sc.Caster {
	case "mpegts_over_udp":
		r.wait, r.addrs, err = cs.startMPEGTSOverUDP(rctx, sc)
	case "flv":
		r.wait, r.addrs, err = cs.startFLV(rctx, sc)
	case "rtsp":
		r.wait, r.addrs, err = cs.startRTSP(rctx, sc)
	case "gb28181":
		r.wait, err = cs.s.startGB28181Caster(rctx, sc)
	default:
		err = fmt.Errorf("unknown caster %q", sc.Caster)
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("stream_caster %s at %s: %w", sc.Caster, r.where, err)
	}
	return r, nil
}

func (cs *casters) options() caster.Options {
	return caster.Options{Log: cs.s.log, Info: cs.s.rtmp.ServerInfo}
}

// casterPort checks the listen port; SRS would bind a random port for 0.
func casterPort(sc *conf.StreamCaster) (string, error) {
	if sc.Listen < 1 || sc.Listen > 65535 {
		return "", fmt.Errorf("listen %d: want a port 1..65535", sc.Listen)
	}
	return net.JoinHostPort("", strconv.Itoa(sc.Listen)), nil
}

func (cs *casters) startMPEGTSOverUDP(ctx context.Context, sc *conf.StreamCaster) (func(), []net.Addr, error) {
	if err := caster.CheckOutput(sc.Caster, sc.Output); err != nil {
		return nil, nil, err
	}
	addr, err := casterPort(sc)
	if err != nil {
		return nil, nil, err
	}
	var lc net.ListenConfig
	conn, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on udp %s: %w", addr, err)
	}
	wait, err := caster.StartMPEGTSOverUDP(ctx, conn, sc.Output, cs.options())
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	cs.s.log.Info("stream caster listening", "caster", sc.Caster, "addr", "udp://"+conn.LocalAddr().String(), "output", sc.Output)
	return wait, []net.Addr{conn.LocalAddr()}, nil
}

// startFLV serves FLV over HTTP POST.
func (cs *casters) startFLV(ctx context.Context, sc *conf.StreamCaster) (func(), []net.Addr, error) {
	return cs.startTCP(ctx, sc, "http", func(ln net.Listener) (func(), error) {
		return caster.StartFLV(ctx, ln, sc.Output, cs.options())
	})
}

// startRTSP serves RTSP push; the UDP ports for RTP are bound at each
// SETUP that asks for them.
func (cs *casters) startRTSP(ctx context.Context, sc *conf.StreamCaster) (func(), []net.Addr, error) {
	return cs.startTCP(ctx, sc, "rtsp", func(ln net.Listener) (func(), error) {
		return caster.StartRTSP(ctx, ln, sc.Output, [2]int{sc.RTPPortMin, sc.RTPPortMax}, cs.options())
	})
}

// startTCP opens a TCP caster's port and starts it with serve, which owns
// the listener once it succeeds. It listens without SO_REUSEPORT (unlike
// the RTMP and HTTP listeners), so that a port in use fails at once
// instead of being shared; connections count toward max_connections.
func (cs *casters) startTCP(ctx context.Context, sc *conf.StreamCaster, scheme string, serve func(net.Listener) (func(), error)) (func(), []net.Addr, error) {
	if err := caster.CheckOutput(sc.Caster, sc.Output); err != nil {
		return nil, nil, err
	}
	addr, err := casterPort(sc)
	if err != nil {
		return nil, nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on tcp %s: %w", addr, err)
	}
	wait, err := serve(&limitedListener{Listener: ln, lim: &cs.s.limit, name: "stream_caster " + sc.Caster})
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	cs.s.log.Info("stream caster listening", "caster", sc.Caster, "addr", scheme+"://"+ln.Addr().String(), "output", sc.Output)
	return wait, []net.Addr{ln.Addr()}, nil
}

// stopAll stops every caster and waits for them; later syncs start none.
func (cs *casters) stopAll() {
	cs.mu.Lock()
	cs.closed = true
	runs := cs.runs
	cs.runs = map[string]*casterRun{}
	cs.mu.Unlock()
	for _, r := range runs {
		r.stop()
	}
}

// addrs adds the casters' bound addresses to Addrs' answer, by caster
// name (mpegts_over_udp, flv).
func (cs *casters) addrs(out map[string][]net.Addr) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, r := range cs.runs {
		out[r.caster] = append(out[r.caster], r.addrs...)
	}
}
