package gb28181

import (
	"log/slog"
	"time"

	"github.com/castd/castd/internal/protocol/rtmp"
)

// Defaults of the Config fields.
const (
	DefaultTimeout        = 60 * time.Second
	DefaultReinvite       = 5 * time.Second
	DefaultMediaIdle      = 10 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	// maxInvites is how many invitations in a row may go without media
	// before the session ends (SRS gives up after the fourth timeout).
	maxInvites = 4
)

// Config configures a Server. Zero durations pick the defaults.
type Config struct {
	// Output is the RTMP URL each device publishes to; [stream] is
	// replaced by the device id.
	Output string
	// Candidate is the IP devices are told to send media to; "" or "*"
	// is the address the device reached the SIP server at.
	Candidate string
	// MediaPort is the port announced in the INVITE and the API: the media
	// listener's, unless a proxy in between forwards another.
	MediaPort int
	// Timeout is how long an invited device may take to send media, and
	// how long a device whose SIP connection closed is kept without media.
	Timeout time.Duration
	// Reinvite is how long media may stop before the device is invited
	// again.
	Reinvite time.Duration
	// MediaIdle closes a media connection that sent nothing for this long.
	MediaIdle time.Duration
	// ConnectTimeout bounds connecting and publishing to the output.
	ConnectTimeout time.Duration
	// Info is what castd says of itself in the RTMP connect (srs_sig...),
	// so the target's logs can name the caster, as SRS does.
	Info rtmp.ServerInfo
	Log  *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Reinvite <= 0 {
		c.Reinvite = DefaultReinvite
	}
	if c.MediaIdle <= 0 {
		c.MediaIdle = DefaultMediaIdle
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}
