// Package rtc is castd's WebRTC server, built on pion: WHIP/WHEP and SRS's
// /rtc/v1/ JSON signalling, ICE-lite with every session on one UDP port (and
// optionally TCP), DTLS and SRTP, NACK, PLI and TWCC. Publishers feed the hub
// (H.264 frames as FLV AVC packets; H.265, AV1, VP9 and VP8 as enhanced-RTMP
// video; Opus as enhanced-RTMP audio, AAC when rtc_to_rtmp transcodes);
// players read a stream's RTP packets, which are
// packetized once per stream and shared by every WebRTC player.
package rtc

import (
	"time"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/hub"
)

// Vhost is what the WebRTC server needs from a resolved vhost.
type Vhost struct {
	Name     string
	Enabled  bool
	RTC      conf.VhostRTC
	Stream   hub.StreamOptions
	Hooks    conf.HTTPHooks
	Security conf.Security
}

// Resolver finds the vhost for a name (exact, else __defaultVhost__); ok is
// false when neither exists.
type Resolver func(name string) (v Vhost, ok bool)

// Identity is what SRS's JSON answers say about the server.
type Identity struct {
	ServerID  string
	ServiceID string
	PID       int
}

// stunTimeouts splits a vhost's stun_timeout into pion's ICE timeouts: a
// session is reported disconnected after a few quiet seconds and failed,
// which ends it, once stun_timeout passed without a packet from the client.
func stunTimeouts(stunTimeout time.Duration) (disconnected, failed time.Duration) {
	if stunTimeout <= 0 {
		stunTimeout = 30 * time.Second
	}
	disconnected = min(5*time.Second, stunTimeout/2)
	return disconnected, stunTimeout - disconnected
}

// keepaliveInterval is how often the server sends STUN binding indications
// on a quiet session (browsers send their own consent checks every few s).
const keepaliveInterval = 2 * time.Second

// reorderWait is how long a publisher's packets wait for a missing one to
// be retransmitted before the gap is given up.
const reorderWait = 150 * time.Millisecond

// keyframeInterval is the least time between two keyframe requests to one
// publisher (players joining and losing packets all ask).
const keyframeInterval = 500 * time.Millisecond

// relayIdle is how long a stream's RTP packetizer keeps running with no
// WebRTC player, so a player reconnecting at once finds it warm.
const relayIdle = 5 * time.Second

// gatherTimeout bounds waiting for ICE gathering; with a mux and ICE-lite
// it is immediate.
const gatherTimeout = 5 * time.Second
