package rtc

import (
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// counters are one session's traffic figures, read by the API and logs.
type counters struct {
	bytesIn, bytesOut atomic.Int64
	nacksIn           atomic.Int64 // packets players asked to resend
	retransmits       atomic.Int64 // packets resent (by pion's NACK responder)
	nacksOut          atomic.Int64 // NACK reports sent to a publisher
}

func (c *counters) BytesIn() int64  { return c.bytesIn.Load() }
func (c *counters) BytesOut() int64 { return c.bytesOut.Load() }

// countingFactory makes the interceptor that fills a session's counters.
// It is registered first, so it sits next to the network: it sees the
// packets pion's NACK responder resends, and tells them from new ones by
// their sequence number.
type countingFactory struct{ c *counters }

func (f countingFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &countingInterceptor{c: f.c}, nil
}

type countingInterceptor struct {
	interceptor.NoOp
	c *counters
}

func (i *countingInterceptor) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	var mu sync.Mutex // pion may write one stream from several goroutines (media and NACK responses)
	var highest uint16
	started := false
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		mu.Lock()
		switch {
		case !started:
			started, highest = true, h.SequenceNumber
		case int16(h.SequenceNumber-highest) > 0:
			highest = h.SequenceNumber
		default:
			i.c.retransmits.Add(1)
		}
		mu.Unlock()
		n, err := w.Write(h, payload, a)
		i.c.bytesOut.Add(int64(n))
		return n, err
	})
}

func (i *countingInterceptor) BindRemoteStream(_ *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		i.c.bytesIn.Add(int64(n))
		return n, a, err
	})
}

func (i *countingInterceptor) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err != nil {
			return n, a, err
		}
		if a == nil {
			a = interceptor.Attributes{}
		}
		pkts, perr := a.GetRTCPPackets(b[:n])
		if perr == nil {
			for _, p := range pkts {
				if nack, ok := p.(*rtcp.TransportLayerNack); ok {
					for _, pair := range nack.Nacks {
						i.c.nacksIn.Add(int64(len(pair.PacketList())))
					}
				}
			}
		}
		return n, a, err
	})
}

func (i *countingInterceptor) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		for _, p := range pkts {
			if _, ok := p.(*rtcp.TransportLayerNack); ok {
				i.c.nacksOut.Add(1)
			}
		}
		return w.Write(pkts, a)
	})
}
