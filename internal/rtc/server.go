package rtc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hooks"
	"github.com/castd/castd/internal/hub"
	"github.com/castd/castd/internal/stats"
)

// Server is castd's WebRTC server: the media port and the sessions on it.
// Fill the exported fields, then Start; the signalling handlers (Mount) go
// on the API's mux.
type Server struct {
	Hub         *hub.Hub
	Stats       *stats.Registry
	Hooks       *hooks.Client
	Log         *slog.Logger
	Vhost       Resolver
	Config      func() conf.RTCServer // the running config's rtc_server (changes on reload)
	Transcoders Transcoders           // nil: no transcoding, logged once when needed
	Identity    Identity

	mu         sync.Mutex
	ctx        context.Context
	started    bool       // new sessions are accepted: WebRTC is on, a port is open, no graceful quit
	draining   bool       // graceful quit: live sessions go on, new ones are refused
	udpPort    *mediaPort // the ports new sessions get (nil when off)
	tcpPort    *mediaPort
	openPorts  []*mediaPort                 // every open port, current or retired
	blackHole  atomic.Pointer[blackHole]    // rtc_server.black_hole, nil when off
	certs      map[bool]*webrtc.Certificate // by rtc_server.ecdsa
	sessions   map[string]*session          // by session id, "localUfrag:remoteUfrag"
	ufrags     map[string]bool              // local ufrags in use, from offer to session end
	publishers map[hub.Key]*publishSession
	relays     map[hub.Key]*relay
	warned     map[string]bool // things logged once
	wg         sync.WaitGroup
	relayIdle  time.Duration // how long an unwatched relay lives; tests shorten it
}

// Start opens the media port(s) of cfg: UDP rtc_server.listen, and TCP
// tcp.listen when tcp.enabled. Sessions end when ctx does. Signalling
// answers "disabled" while rtc_server.enabled is off (Reload may turn it on).
func (s *Server) Start(ctx context.Context, cfg conf.RTCServer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx = ctx
	s.sessions = map[string]*session{}
	s.ufrags = map[string]bool{}
	s.publishers = map[hub.Key]*publishSession{}
	s.relays = map[hub.Key]*relay{}
	s.certs = map[bool]*webrtc.Certificate{}
	s.warned = map[string]bool{}
	if s.relayIdle <= 0 {
		s.relayIdle = relayIdle
	}
	if err := s.applyLocked(cfg); err != nil {
		s.closeLocked()
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-ctx.Done()
		s.mu.Lock()
		s.closeLocked()
		s.mu.Unlock()
	}()
	return nil
}

// Reload applies a new rtc_server: new sessions get the new ports and
// candidates (a moved or disabled port stays open for the sessions on it
// until they end), and black_hole follows. Live sessions are not touched.
// A port that cannot open is an error and leaves the old one in use.
func (s *Server) Reload(cfg conf.RTCServer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil || s.ctx.Err() != nil {
		return nil // not started, or stopping
	}
	wasOn := s.started
	err := s.applyLocked(cfg)
	if wasOn && !s.started && !s.draining {
		s.Log.Info("rtc: WebRTC turned off by reload; live sessions go on, new ones are refused", "sessions", len(s.sessions))
	}
	return err
}

// applyLocked applies cfg's ports, black hole and warnings.
func (s *Server) applyLocked(cfg conf.RTCServer) error {
	err := s.applyPortsLocked(cfg)
	if cfg.Enabled {
		s.applyBlackHoleLocked(cfg)
		if cfg.ReusePort > 1 {
			s.warnOnceLocked("reuseport", "rtc: rtc_server.reuseport > 1 has no effect: one socket serves every core in castd")
		}
		if !cfg.Encrypt {
			s.warnOnceLocked("encrypt", "rtc: rtc_server.encrypt off is not supported: castd's WebRTC (pion) always encrypts media with SRTP")
		}
	} else {
		s.applyBlackHoleLocked(conf.RTCServer{})
	}
	return err
}

// StopAccepting starts a graceful quit: new sessions are refused (as
// "disabled"), live ones go on until they end or the Start context ends.
func (s *Server) StopAccepting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draining = true
	s.started = false
}

// closeLocked closes the media ports and the black hole; sessions on the
// ports fail and end.
func (s *Server) closeLocked() {
	s.closePortsLocked()
	if bh := s.blackHole.Swap(nil); bh != nil {
		bh.close()
	}
}

// Wait blocks until every session and goroutine of the server has ended;
// call it after the Start context is done.
func (s *Server) Wait() { s.wg.Wait() }

// Addrs returns the UDP and TCP media addresses new sessions get (nil
// when off); retired ports still serving older sessions are not listed.
func (s *Server) Addrs() (udp, tcp net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udpPort != nil {
		udp = s.udpPort.addr()
	}
	if s.tcpPort != nil {
		tcp = s.tcpPort.addr()
	}
	return udp, tcp
}

// ports returns the bound media ports (0 when closed).
func (s *Server) ports() (udp, tcp int) {
	u, t := s.Addrs()
	if a, ok := u.(*net.UDPAddr); ok {
		udp = a.Port
	}
	if a, ok := t.(*net.TCPAddr); ok {
		tcp = a.Port
	}
	return udp, tcp
}

// Sessions returns how many WebRTC sessions are open.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *Server) warnOnceLocked(key, msg string, args ...any) {
	if s.warned[key] {
		return
	}
	s.warned[key] = true
	s.Log.Warn(msg, args...)
}

func (s *Server) warnOnce(key, msg string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warnOnceLocked(key, msg, args...)
}

// certificate returns the DTLS certificate every session shares: ECDSA
// P-256, or RSA 2048 when rtc_server.ecdsa is off. It is made once.
func (s *Server) certificate(useECDSA bool) (*webrtc.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.certs[useECDSA]; c != nil {
		return c, nil
	}
	var key any
	var err error
	if useECDSA {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	} else {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, fmt.Errorf("rtc: generate DTLS key: %w", err)
	}
	c, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, fmt.Errorf("rtc: generate DTLS certificate: %w", err)
	}
	s.certs[useECDSA] = c
	return c, nil
}

// errDisabled is what signalling answers when WebRTC is off.
var errDisabled = errors.New("rtc: WebRTC is disabled (rtc_server.enabled or the vhost's rtc.enabled is off) (code 5021)")

// transportOptions are the per-session settings of a peer connection.
type transportOptions struct {
	ufrag, pwd string
	vhost      conf.VhostRTC
	counters   *counters
	rebinding  *rebinding
	ports      *portLease   // the media ports the session was given
	drop       *nackDropper // the NACK simulator's switch
	publisher  bool         // its RTP goes to the black hole
}

// newPeerConnection builds a pion peer connection on the session's media
// ports: ICE-lite with castd's credentials, DTLS in the vhost's role, the
// video codecs castd speaks (see videoCodecs) and Opus, and the interceptors the vhost asks for (NACK, TWCC; RTCP
// reports and PLI always).
func (s *Server) newPeerConnection(cfg conf.RTCServer, o transportOptions) (*webrtc.PeerConnection, error) {
	var udpMux ice.UDPMux
	var tcpMux ice.TCPMux
	if p := o.ports.udp; p != nil {
		udpMux = droppingUDPMux{UDPMux: p.udpMux, drop: o.drop}
	}
	if p := o.ports.tcp; p != nil {
		tcpMux = droppingTCPMux{TCPMux: p.tcpMux, drop: o.drop}
	}
	var se webrtc.SettingEngine
	se.LoggerFactory = pionLogs{log: s.Log}
	se.SetLite(true)
	se.SetICECredentials(o.ufrag, o.pwd)
	se.SetIncludeLoopbackCandidate(true) // gathered candidates only tie the agent to the mux; castd advertises its own
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICEBindingRequestHandler(o.rebinding.onBindingRequest)
	disconnected, failed := stunTimeouts(o.vhost.STUNTimeout)
	se.SetICETimeouts(disconnected, failed, keepaliveInterval)
	role := webrtc.DTLSRoleServer
	if o.vhost.DTLSRole == "active" {
		role = webrtc.DTLSRoleClient
	}
	if err := se.SetAnsweringDTLSRole(role); err != nil {
		return nil, fmt.Errorf("rtc: DTLS role: %w", err)
	}
	var networks []webrtc.NetworkType
	if udpMux != nil && cfg.Protocol != "tcp" {
		se.SetICEUDPMux(udpMux)
		networks = append(networks, webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6)
	}
	if tcpMux != nil {
		se.SetICETCPMux(tcpMux)
		networks = append(networks, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	if len(networks) == 0 {
		return nil, errors.New("rtc: no media transport: rtc_server.protocol is tcp but tcp.enabled is off")
	}
	se.SetNetworkTypes(networks)

	me, ir, err := mediaSetup(o)
	if err != nil {
		return nil, err
	}
	if o.publisher {
		ir.Add(blackHoleFactory{srv: s}) // last, so it sees what the tracks read
	}
	cert, err := s.certificate(cfg.ECDSA)
	if err != nil {
		return nil, err
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir))
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		Certificates:  []webrtc.Certificate{*cert},
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, fmt.Errorf("rtc: new peer connection: %w", err)
	}
	pc.SCTP().Transport().ICETransport().OnSelectedCandidatePairChange(func(p *webrtc.ICECandidatePair) {
		if p != nil && p.Remote != nil {
			o.rebinding.selectedChanged(net.JoinHostPort(p.Remote.Address, strconv.Itoa(int(p.Remote.Port))))
		}
	})
	return pc, nil
}
