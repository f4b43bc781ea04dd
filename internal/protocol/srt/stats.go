package srt

import "time"

// Stats are a connection's counters, named after libsrt's SRT_TRACEBSTATS.
// Packet counts are data packets unless the name says otherwise.
type Stats struct {
	PktSent       uint64 // sent, retransmissions included
	PktSentUnique uint64 // sent for the first time
	PktRecv       uint64 // received, duplicates and retransmissions included
	PktRecvUnique uint64 // stored for delivery

	PktRetrans      uint64 // retransmitted by this side
	PktRcvRetrans   uint64 // received with the retransmitted flag
	PktSndLoss      uint64 // reported lost by the peer (NAKed)
	PktRcvLoss      uint64 // found missing by this side
	PktSndDrop      uint64 // dropped by the sender: too late to send
	PktRcvDrop      uint64 // skipped at delivery: too late, given up by the sender, or undecryptable
	PktRcvBelated   uint64 // arrived after their delivery point
	PktRcvDup       uint64 // arrived twice
	PktRcvUndecrypt uint64 // could not be decrypted (no key for them)

	PktSentACK, PktRecvACK uint64 // ACK control packets
	PktSentNAK, PktRecvNAK uint64 // NAK control packets
	KMRefreshes            uint64 // stream keys switched by this sender
	KMErrors               uint64 // key announcements the peer refused

	ByteSent, ByteSentUnique, ByteRetrans uint64 // payload bytes
	ByteRecv, ByteRecvUnique              uint64

	RTT, RTTVar              time.Duration
	RecvLatency, PeerLatency time.Duration // agreed TSBPD latencies
	SendBufPackets           int           // written and not yet acknowledged
	RecvBufPackets           int           // held for delivery, holes included
	FlowWindow               int           // the peer's advertised free buffer
	MSS                      int
	Encrypted                bool
}
