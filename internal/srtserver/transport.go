package srtserver

import (
	"log/slog"
	"time"

	"github.com/castd/castd/internal/protocol/srt"
)

// Transport is what the API shows of an SRT connection under castd's own
// "transport" key of /api/v1/clients (SRS has no such field), and what the
// log line at its end says: packet counts name libsrt's statistics.
type Transport struct {
	Protocol      string  `json:"protocol"` // "srt"
	RTTMs         float64 `json:"rtt_ms"`
	RTTVarMs      float64 `json:"rtt_var_ms"`
	RecvLatencyMs int64   `json:"recv_latency_ms"`
	PeerLatencyMs int64   `json:"peer_latency_ms"`
	Encrypted     bool    `json:"encrypted"`
	MSS           int     `json:"mss"`

	PktSent       uint64 `json:"pkt_sent"`        // retransmissions included
	PktRecv       uint64 `json:"pkt_recv"`        // retransmissions and duplicates included
	PktRetrans    uint64 `json:"pkt_retrans"`     // sent again by castd
	PktRcvRetrans uint64 `json:"pkt_rcv_retrans"` // received again from the caller
	PktSndLoss    uint64 `json:"pkt_snd_loss"`    // reported lost by the caller
	PktRcvLoss    uint64 `json:"pkt_rcv_loss"`    // found missing by castd
	PktSndDrop    uint64 `json:"pkt_snd_drop"`    // too late to send
	PktRcvDrop    uint64 `json:"pkt_rcv_drop"`    // too late to deliver, never recovered
	PktRcvBelated uint64 `json:"pkt_rcv_belated"`
	PktRcvDup     uint64 `json:"pkt_rcv_dup"`
	ByteRetrans   uint64 `json:"byte_retrans"`

	SendBufPackets int `json:"send_buf_packets"`
	RecvBufPackets int `json:"recv_buf_packets"`
	FlowWindow     int `json:"flow_window"`
}

func transportOf(s srt.Stats) Transport {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Transport{
		Protocol: "srt", RTTMs: ms(s.RTT), RTTVarMs: ms(s.RTTVar),
		RecvLatencyMs: s.RecvLatency.Milliseconds(), PeerLatencyMs: s.PeerLatency.Milliseconds(),
		Encrypted: s.Encrypted, MSS: s.MSS,
		PktSent: s.PktSent, PktRecv: s.PktRecv, PktRetrans: s.PktRetrans, PktRcvRetrans: s.PktRcvRetrans,
		PktSndLoss: s.PktSndLoss, PktRcvLoss: s.PktRcvLoss, PktSndDrop: s.PktSndDrop, PktRcvDrop: s.PktRcvDrop,
		PktRcvBelated: s.PktRcvBelated, PktRcvDup: s.PktRcvDup, ByteRetrans: s.ByteRetrans,
		SendBufPackets: s.SendBufPackets, RecvBufPackets: s.RecvBufPackets, FlowWindow: s.FlowWindow,
	}
}

// LogValue keeps log lines short: the figures that tell a link's health.
func (t Transport) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Float64("rtt_ms", t.RTTMs),
		slog.Uint64("sent", t.PktSent), slog.Uint64("recv", t.PktRecv),
		slog.Uint64("retrans", t.PktRetrans), slog.Uint64("rcv_retrans", t.PktRcvRetrans),
		slog.Uint64("snd_loss", t.PktSndLoss), slog.Uint64("rcv_loss", t.PktRcvLoss),
		slog.Uint64("snd_drop", t.PktSndDrop), slog.Uint64("rcv_drop", t.PktRcvDrop),
	)
}
