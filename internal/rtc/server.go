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
	started    bool
	udp        net.PacketConn
	udpMux     *ice.UDPMuxDefault
	tcpLn      net.Listener
	tcpMux     *ice.TCPMuxDefault
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
// answers "disabled" until Start ran with rtc_server.enabled on.
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
	if !cfg.Enabled {
		return nil
	}
	network, host := "udp4", "0.0.0.0"
	if cfg.IPFamily != "ipv4" {
		network, host = "udp", "::"
	}
	pc, err := net.ListenPacket(network, net.JoinHostPort(host, strconv.Itoa(cfg.Listen)))
	if err != nil {
		return fmt.Errorf("rtc: listen on UDP port %d: %w", cfg.Listen, err)
	}
	logs := pionLogs{log: s.Log}
	s.udp = pc
	s.udpMux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: pc, Logger: logs.NewLogger("udpmux")})
	s.Log.Info("WebRTC listening", "addr", "udp://"+pc.LocalAddr().String())
	if cfg.TCP.Enabled && cfg.Protocol != "udp" {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.TCP.Listen)))
		if err != nil {
			s.closeLocked()
			return fmt.Errorf("rtc: listen on TCP port %d: %w", cfg.TCP.Listen, err)
		}
		s.tcpLn = ln
		s.tcpMux = ice.NewTCPMuxDefault(ice.TCPMuxParams{Listener: ln, Logger: logs.NewLogger("tcpmux"), ReadBufferSize: 64, WriteBufferSize: 4 << 20})
		s.Log.Info("WebRTC over TCP listening", "addr", "tcp://"+ln.Addr().String())
	}
	if cfg.ReusePort > 1 {
		s.warnOnceLocked("reuseport", "rtc: rtc_server.reuseport > 1 has no effect: one socket serves every core in castd")
	}
	if !cfg.Encrypt {
		s.warnOnceLocked("encrypt", "rtc: rtc_server.encrypt off is not supported; media is always SRTP")
	}
	s.started = true
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

// closeLocked closes the media ports; sessions on them fail and end.
func (s *Server) closeLocked() {
	if s.udpMux != nil {
		_ = s.udpMux.Close() // closes the socket too
		s.udpMux, s.udp = nil, nil
	}
	if s.tcpMux != nil {
		_ = s.tcpMux.Close()
		s.tcpMux = nil
	}
	if s.tcpLn != nil {
		_ = s.tcpLn.Close()
		s.tcpLn = nil
	}
	s.started = false
}

// Wait blocks until every session and goroutine of the server has ended;
// call it after the Start context is done.
func (s *Server) Wait() { s.wg.Wait() }

// Addrs returns the bound UDP and TCP media addresses (nil when closed).
func (s *Server) Addrs() (udp, tcp net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udp != nil {
		udp = s.udp.LocalAddr()
	}
	if s.tcpLn != nil {
		tcp = s.tcpLn.Addr()
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
}

// newPeerConnection builds a pion peer connection on the shared media
// port: ICE-lite with castd's credentials, DTLS in the vhost's role, H.264
// and Opus only, and the interceptors the vhost asks for (NACK, TWCC; RTCP
// reports and PLI always).
func (s *Server) newPeerConnection(cfg conf.RTCServer, o transportOptions) (*webrtc.PeerConnection, error) {
	s.mu.Lock()
	udpMux, tcpMux, started := s.udpMux, s.tcpMux, s.started
	s.mu.Unlock()
	if !started {
		return nil, errDisabled
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
