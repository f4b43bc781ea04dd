package rtc

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"

	"github.com/pion/ice/v4"

	"github.com/castd/castd/internal/conf"
)

// mediaPort is one media socket: the UDP port with its ICE mux, or the TCP
// listener with its mux. A session keeps the ports that were current when
// it was made, so a reload that moves rtc_server.listen (or tcp.listen, or
// turns WebRTC off) gives new sessions the new port while live ones go on
// on the old one, which closes when its last session ends.
type mediaPort struct {
	key    string // network and address, e.g. "udp4 0.0.0.0:8000"
	udp    net.PacketConn
	udpMux *ice.UDPMuxDefault
	tcp    net.Listener
	tcpMux *ice.TCPMuxDefault

	// Guarded by Server.mu.
	users   int  // sessions holding the port
	current bool // new sessions get it
	closed  bool
}

func (p *mediaPort) addr() net.Addr {
	if p.udp != nil {
		return p.udp.LocalAddr()
	}
	return p.tcp.Addr()
}

func (p *mediaPort) url() string {
	if p.udp != nil {
		return "udp://" + p.addr().String()
	}
	return "tcp://" + p.addr().String()
}

// close closes the mux and its socket; sessions still on it fail.
func (p *mediaPort) close() {
	if p.closed {
		return
	}
	p.closed = true
	if p.udpMux != nil {
		_ = p.udpMux.Close() // closes the socket too; nothing to report at teardown
	}
	if p.tcpMux != nil {
		_ = p.tcpMux.Close()
	}
	if p.tcp != nil {
		_ = p.tcp.Close()
	}
}

// portLease is a session's hold on the ports current when it was made.
type portLease struct {
	udp, tcp *mediaPort // nil when that transport was off
	once     sync.Once
}

// numbers returns the lease's UDP and TCP port numbers, 0 for one that is off.
func (l *portLease) numbers() (udp, tcp int) {
	if l == nil {
		return 0, 0
	}
	if l.udp != nil {
		if a, ok := l.udp.addr().(*net.UDPAddr); ok {
			udp = a.Port
		}
	}
	if l.tcp != nil {
		if a, ok := l.tcp.addr().(*net.TCPAddr); ok {
			tcp = a.Port
		}
	}
	return udp, tcp
}

// udpEndpoint is where cfg wants the UDP media port.
func udpEndpoint(cfg conf.RTCServer) (network, addr string) {
	if cfg.IPFamily != "ipv4" {
		return "udp", net.JoinHostPort("::", strconv.Itoa(cfg.Listen))
	}
	return "udp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(cfg.Listen))
}

// tcpEndpoint is where cfg wants the TCP media port; ok is false when
// WebRTC over TCP is off.
func tcpEndpoint(cfg conf.RTCServer) (network, addr string, ok bool) {
	if !cfg.TCP.Enabled || cfg.Protocol == "udp" {
		return "", "", false
	}
	host := "0.0.0.0"
	if cfg.IPFamily != "ipv4" {
		host = "::"
	}
	return "tcp", net.JoinHostPort(host, strconv.Itoa(cfg.TCP.Listen)), true
}

// applyPortsLocked makes the ports cfg asks for current, opening those
// that are not open yet; the ports they replace retire. A port that cannot
// open leaves the one before it current, so a bad reload does not stop
// WebRTC. Call with s.mu held.
func (s *Server) applyPortsLocked(cfg conf.RTCServer) error {
	if !cfg.Enabled || s.draining {
		s.retireLocked(&s.udpPort)
		s.retireLocked(&s.tcpPort)
		s.started = false
		return nil
	}
	var errs []error
	network, addr := udpEndpoint(cfg)
	if err := s.switchPortLocked(&s.udpPort, network, addr); err != nil {
		errs = append(errs, err)
	}
	if network, addr, ok := tcpEndpoint(cfg); ok {
		if err := s.switchPortLocked(&s.tcpPort, network, addr); err != nil {
			errs = append(errs, err)
		}
	} else {
		s.retireLocked(&s.tcpPort)
	}
	s.started = s.udpPort != nil || s.tcpPort != nil
	return errors.Join(errs...)
}

// switchPortLocked makes the port at network/addr current in *cur. A
// retired port still open there (its sessions live on) is taken back.
func (s *Server) switchPortLocked(cur **mediaPort, network, addr string) error {
	key := network + " " + addr
	if *cur != nil && (*cur).key == key {
		return nil
	}
	i := slices.IndexFunc(s.openPorts, func(p *mediaPort) bool { return p.key == key })
	var p *mediaPort
	if i >= 0 {
		p = s.openPorts[i]
	} else {
		var err error
		if p, err = s.openPort(network, addr); err != nil {
			return err
		}
		p.key = key
		s.openPorts = append(s.openPorts, p)
		what := map[bool]string{true: "WebRTC listening", false: "WebRTC over TCP listening"}[p.udp != nil]
		s.Log.Info(what, "addr", p.url())
	}
	s.retireLocked(cur)
	p.current = true
	*cur = p
	return nil
}

// openPort opens a UDP or TCP media socket and its ICE mux.
func (s *Server) openPort(network, addr string) (*mediaPort, error) {
	logs := pionLogs{log: s.Log}
	if network == "tcp" {
		ln, err := net.Listen(network, addr)
		if err != nil {
			return nil, fmt.Errorf("rtc: listen on TCP %s: %w", addr, err)
		}
		mux := ice.NewTCPMuxDefault(ice.TCPMuxParams{Listener: ln, Logger: logs.NewLogger("tcpmux"), ReadBufferSize: 64, WriteBufferSize: 4 << 20})
		return &mediaPort{tcp: ln, tcpMux: mux}, nil
	}
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		return nil, fmt.Errorf("rtc: listen on UDP %s: %w", addr, err)
	}
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: pc, Logger: logs.NewLogger("udpmux")})
	return &mediaPort{udp: pc, udpMux: mux}, nil
}

// retireLocked takes *cur away from new sessions and closes it once no
// session holds it.
func (s *Server) retireLocked(cur **mediaPort) {
	p := *cur
	if p == nil {
		return
	}
	*cur = nil
	p.current = false
	if p.users == 0 {
		s.closePortLocked(p)
		return
	}
	s.Log.Info("rtc: media port retired; it closes when its sessions end", "addr", p.url(), "sessions", p.users)
}

func (s *Server) closePortLocked(p *mediaPort) {
	s.openPorts = slices.DeleteFunc(s.openPorts, func(q *mediaPort) bool { return q == p })
	url := p.url()
	p.close()
	s.Log.Info("rtc: media port closed", "addr", url)
}

// leaseLocked gives a new session the current ports.
func (s *Server) leaseLocked() *portLease {
	l := &portLease{udp: s.udpPort, tcp: s.tcpPort}
	for _, p := range []*mediaPort{l.udp, l.tcp} {
		if p != nil {
			p.users++
		}
	}
	return l
}

// release ends a session's hold on its ports; a retired port closes with
// its last session. Releasing twice is harmless.
func (s *Server) release(l *portLease) {
	if l == nil {
		return
	}
	l.once.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range []*mediaPort{l.udp, l.tcp} {
			if p == nil {
				continue
			}
			p.users--
			if p.users == 0 && !p.current && !p.closed {
				s.closePortLocked(p)
			}
		}
	})
}

// closePortsLocked closes every port, current or retired (the server is
// stopping).
func (s *Server) closePortsLocked() {
	for _, p := range slices.Clone(s.openPorts) {
		s.closePortLocked(p)
	}
	s.udpPort, s.tcpPort = nil, nil
	s.started = false
}
