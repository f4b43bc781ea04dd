package caster

import (
	"context"
	"net/http"

	"github.com/castd/castd/internal/protocol/rtmp"
	"github.com/castd/castd/internal/rtmppush"
)

// errOutputClosed reports that the target ended the publish (a kick, a
// reload, a shutdown, a rejection after publish started).
var errOutputClosed = rtmppush.ErrClosed

// mediaOutput is where a cast stream's media goes: an RTMP publish
// (pusher), or a recorder in tests.
type mediaOutput interface {
	write(batch []rtmp.MediaMessage) error
	close()
}

// dialFunc starts a publish to url for the cast stream cid.
type dialFunc func(ctx context.Context, url, cid string, opt Options) (mediaOutput, error)

// dialRTMP is the dialFunc of a running caster: an RTMP publish to url
// that sends cid as srs_id.
func dialRTMP(ctx context.Context, url, cid string, opt Options) (mediaOutput, error) {
	p, err := rtmppush.Dial(ctx, url, rtmppush.Options{ConnectTimeout: opt.ConnectTimeout, WriteTimeout: writeTimeout,
		ConnectArgs: opt.Info.UpnodeArgs(cid)})
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return pusher{p}, nil
}

// pusher adapts an RTMP publish to mediaOutput.
type pusher struct{ p *rtmppush.Pusher }

func (p pusher) write(batch []rtmp.MediaMessage) error { return p.p.Write(batch) }
func (p pusher) close()                                { p.p.Close() }

// publishStatus is the HTTP status that reports a failed publish: the
// stream is taken (409), the target refused it (403: a hook, security,
// a disabled vhost), or it could not be reached (502).
func publishStatus(err error) int {
	if st, ok := rtmp.IsStatusError(err); ok {
		if st.Description == rtmp.DescStreamBusy {
			return http.StatusConflict
		}
		return http.StatusForbidden
	}
	return http.StatusBadGateway
}
