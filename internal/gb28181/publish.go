package gb28181

import (
	"context"

	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/rtmppush"
)

// publisher is one RTMP publish of a device's stream.
type publisher struct{ p *rtmppush.Pusher }

// dialPublisher connects to url and publishes; ending ctx closes the
// connection. cid is sent as srs_id.
func dialPublisher(ctx context.Context, url, cid string, cfg Config) (*publisher, error) {
	p, err := rtmppush.Dial(ctx, url, rtmppush.Options{ConnectTimeout: cfg.ConnectTimeout, ConnectArgs: cfg.Info.UpnodeArgs(cid)})
	if err != nil {
		return nil, err
	}
	return &publisher{p}, nil
}

func (p *publisher) write(msgs []rtmp.MediaMessage) error { return p.p.Write(msgs) }

// close ends the publish and waits for the reader.
func (p *publisher) close() { p.p.Close() }
