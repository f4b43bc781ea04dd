package rtc

import (
	"errors"
	"log/slog"
	"net"
	"sync/atomic"

	"github.com/pion/interceptor"

	"github.com/castd/castd/internal/conf"
)

// blackHole is SRS's rtc_server.black_hole: every RTP packet castd
// receives from a publisher is copied, decrypted, to a UDP address, where
// Wireshark (or tcpdump) can look at plain RTP. The copy is best effort:
// a send that fails is logged once and never holds up the media.
type blackHole struct {
	addr   string // as configured
	conn   net.PacketConn
	to     *net.UDPAddr
	log    *slog.Logger
	failed atomic.Bool
}

// newBlackHole opens the socket the copies leave from.
func newBlackHole(addr string, log *slog.Logger) (*blackHole, error) {
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	if to.Port == 0 || to.IP == nil || to.IP.IsUnspecified() {
		return nil, errors.New("it needs an ip:port to send to")
	}
	network := "udp6"
	if to.IP.To4() != nil {
		network = "udp4"
	}
	conn, err := net.ListenPacket(network, ":0")
	if err != nil {
		return nil, err
	}
	return &blackHole{addr: addr, conn: conn, to: to, log: log}, nil
}

// send copies one packet; b is not kept.
func (b *blackHole) send(pkt []byte) {
	_, err := b.conn.WriteTo(pkt, b.to)
	if err != nil && !errors.Is(err, net.ErrClosed) && b.failed.CompareAndSwap(false, true) {
		b.log.Warn("rtc: black_hole: cannot send a copy; later failures are not logged", "addr", b.addr, "err", err)
	}
}

func (b *blackHole) close() {
	_ = b.conn.Close() // a send racing with it fails with net.ErrClosed, which is ignored
}

// applyBlackHoleLocked opens, moves or closes the black hole as cfg says.
// A bad address is logged and leaves it off.
func (s *Server) applyBlackHoleLocked(cfg conf.RTCServer) {
	want := ""
	if cfg.BlackHole.Enabled {
		want = cfg.BlackHole.Addr
	}
	cur := s.blackHole.Load()
	if cur != nil && cur.addr == want {
		return
	}
	var next *blackHole
	if want != "" {
		var err error
		if next, err = newBlackHole(want, s.Log); err != nil {
			s.Log.Error("rtc: black_hole is off: bad rtc_server.black_hole.addr", "addr", want, "err", err)
		} else {
			s.Log.Info("rtc: black_hole: copying publishers' RTP, decrypted", "to", want)
		}
	} else if cfg.BlackHole.Enabled {
		s.Log.Error("rtc: black_hole is off: rtc_server.black_hole.addr is empty")
	}
	if old := s.blackHole.Swap(next); old != nil {
		old.close()
		if next == nil {
			s.Log.Info("rtc: black_hole closed", "addr", old.addr)
		}
	}
}

// blackHoleFactory adds the black hole to a publisher's interceptors.
type blackHoleFactory struct{ srv *Server }

func (f blackHoleFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &blackHoleInterceptor{srv: f.srv}, nil
}

type blackHoleInterceptor struct {
	interceptor.NoOp
	srv *Server
}

// BindRemoteStream copies each packet read from the publisher, after SRTP
// decrypted it. The black hole is looked up per packet, so a reload that
// moves or closes it applies to live sessions at once.
func (i *blackHoleInterceptor) BindRemoteStream(_ *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err == nil {
			if bh := i.srv.blackHole.Load(); bh != nil {
				bh.send(b[:n])
			}
		}
		return n, a, err
	})
}
