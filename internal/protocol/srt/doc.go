// Package srt implements the SRT protocol (draft-sharabayko-srt) in live
// mode: the listener that SRS's srt_server is, and the caller castd needs
// for forwarding and tests. It interoperates with libsrt 1.3 and later
// (ffmpeg, OBS, srt-live-transmit).
//
// It is a library: it knows nothing of castd's hub, config or logging, and
// imports only the standard library. Payloads are opaque messages; for
// SRS they are MPEG-TS, 1316 bytes (seven TS packets) each.
//
// # What it does
//
//   - The v5 caller-listener handshake: induction with a stateless SYN
//     cookie, conclusion with the HSREQ/HSRSP, KMREQ/KMRSP and SID
//     extensions. The listener hands each conclusion to the application
//     as a ConnRequest, which it accepts or rejects (with a reason the
//     caller sees) before the handshake completes.
//   - Live transmission: timestamp-based packet delivery (TSBPD) with the
//     latency each direction agrees on (the larger of both ends'), drift
//     tracking, too-late packet drop on both sides, full ACKs every 10 ms
//     answered by ACKACKs for the RTT, immediate and periodic NAKs,
//     retransmission ahead of new data, incoming drop requests, keepalives,
//     shutdown, peer idle timeout, flow window, and pacing to MaxBW.
//   - Encryption: AES-CTR with 128, 192 or 256-bit keys wrapped (RFC 3394)
//     with a key derived from the passphrase (PBKDF2-HMAC-SHA1), and key
//     refresh with alternating even and odd keys.
//
// # Goroutines and allocation
//
// Each UDP socket has one goroutine that reads it and dispatches packets
// by destination socket ID; it processes control packets and stores data
// packets itself. Each connection has one more goroutine that runs its
// timers and sends its data. A Listener's connections share its socket; a
// caller has its own. Close stops a connection's goroutine (and a caller's
// socket reader) before it returns. Packets come from a pool, so sending
// and receiving allocate nothing per packet once the pool is warm.
//
// # Limits
//
// Live message mode only: no file mode (stream flag), no rendezvous, no
// packet filter (FEC), no socket groups, no HSv4 peers (SRT before 1.3.0);
// such peers are rejected with the matching reason. A message is one
// packet. The receive and link-capacity rates in ACKs are plain
// one-second averages.
package srt
