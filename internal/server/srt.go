package server

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/protocol/srt"
	"github.com/castd/castd/internal/srtserver"
)

// srtListener is srt_server: one UDP port and the adapter serving it. The
// listener takes every srt_server setting when it opens, so a reload that
// changes any of them closes it (and its connections) and opens a new one.
// Guarded by Server.mu, except srv, which is set once.
type srtListener struct {
	srv    *srtserver.Server
	ln     *srt.Listener
	opened conf.SRTServer
	stop   context.CancelFunc
	host   string // the server's address in SRT tcUrls, found once
}

func newSRT(s *Server) *srtListener {
	return &srtListener{srv: &srtserver.Server{Hub: s.hub, Stats: s.stats, Hooks: s.hooks, Log: s.log, Vhost: s.srtVhost, Relays: s.relays}}
}

func (s *Server) srtVhost(name string) (srtserver.Vhost, bool) {
	v := s.config().Vhost(name)
	if v == nil {
		return srtserver.Vhost{}, false
	}
	return srtserver.Vhost{
		Name: v.Name, Enabled: v.Enabled, SRT: v.SRT.Enabled, ToRTMP: v.SRT.SRTToRTMP, SEIFilter: s.config().SRTServer.SEIFilter,
		Stream: streamOptions(v), Hooks: v.HTTPHooks, Security: v.Security,
	}, true
}

// srtOptions maps srt_server to the protocol's options, starting from
// SRS's defaults. SRS sets latency, then recvlatency and peerlatency, so
// the last two decide each direction, as here.
func srtOptions(c conf.SRTServer) srt.Options {
	o := srt.DefaultOptions()
	o.Latency, o.RecvLatency, o.PeerLatency = c.Latency, c.RecvLatency, c.PeerLatency
	o.TLPktDrop = c.TLPktDrop
	o.MaxBW = c.MaxBW // -1 and 0: the protocol's 1 Gbit/s
	o.MSS, o.PayloadSize = c.MSS, c.PayloadSize
	o.ConnectTimeout, o.PeerIdleTimeout = c.ConnectTimeout, c.PeerIdleTimeout
	o.SendBuf, o.RecvBuf = c.SendBuf, c.RecvBuf
	o.Passphrase, o.PBKeyLen = c.Passphrase, c.PBKeyLen
	return o
}

// openSRTLocked opens srt_server when it is enabled; call with s.mu held.
func (s *Server) openSRTLocked(cfg *conf.Config) error {
	c := cfg.SRTServer
	if !c.Enabled {
		return nil
	}
	addr := net.JoinHostPort("", strconv.Itoa(c.Listen))
	ln, err := srt.Listen("udp", addr, srtOptions(c))
	if err != nil {
		return fmt.Errorf("srt listen on udp %s: %w", addr, err)
	}
	if !c.TSBPDMode {
		s.log.Warn("srt_server.tsbpdmode off is not supported: castd always delivers on time (TSBPD)")
	}
	if s.srt.host == "" {
		s.srt.host = publicIP()
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.srt.ln, s.srt.opened, s.srt.stop = ln, c, cancel
	set := srtserver.Settings{DefaultApp: c.DefaultApp, MixCorrect: c.MixCorrect, Host: s.srt.host, DecideTimeout: c.ConnectTimeout}
	s.log.Info("SRT listening", "addr", "udp://"+ln.Addr().String(), "latency", c.Latency, "recvlatency", c.RecvLatency,
		"peerlatency", c.PeerLatency, "encrypted", c.Passphrase != "")
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srt.srv.Serve(ctx, ln, set); err != nil {
			s.log.Error("srt listener failed", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return nil
}

// closeSRTLocked closes the listener and every SRT connection; call with
// s.mu held.
func (s *Server) closeSRTLocked() {
	if s.srt.ln == nil {
		return
	}
	s.srt.stop()
	s.srt.ln.Close()
	s.srt.ln = nil
}

// reloadSRTLocked reopens srt_server when any of its settings changed;
// call with s.mu held.
func (s *Server) reloadSRTLocked(cfg *conf.Config) {
	open := s.srt.ln != nil
	if open && cfg.SRTServer.Enabled && s.srt.opened == cfg.SRTServer {
		return
	}
	if !open && !cfg.SRTServer.Enabled {
		return
	}
	if open {
		s.closeSRTLocked()
		s.log.Info("reload: SRT listener closed, its connections too", "port", s.srt.opened.Listen)
	}
	if err := s.openSRTLocked(cfg); err != nil {
		s.log.Error("reload: cannot open SRT listener", "err", err)
	}
}

// srtAddrsLocked adds the SRT listener's address to Addrs' answer.
func (s *Server) srtAddrsLocked(out map[string][]net.Addr) {
	if s.srt.ln != nil {
		out["srt"] = []net.Addr{s.srt.ln.Addr()}
	}
}

// publicIP is the address SRS puts in SRT tcUrls when the stream id names
// no vhost: the first non-loopback IPv4 address, else 127.0.0.1.
func publicIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "127.0.0.1"
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return "127.0.0.1"
}
