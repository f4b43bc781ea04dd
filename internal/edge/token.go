package edge

import (
	"context"
	"fmt"
	"time"

	"github.com/castd/castd/internal/format/amf"
	"github.com/castd/castd/internal/protocol/rtmp"
)

// tokenTimeout bounds a token traverse check, as SRS's.
const tokenTimeout = 3 * time.Second

// CheckToken is cluster.token_traverse: before the edge serves a client,
// the client's connect (its tcUrl, with the token in its query, and its
// extra connect argument) is replayed to an origin; the client is refused
// when the origin refuses it. Origins are tried in turn until one answers.
func (e *Edge) CheckToken(ctx context.Context, vhost, tcURL string, args amf.Object) error {
	c, _, ok := e.opt.Vhost(vhost)
	if !ok || len(c.Origin) == 0 {
		return nil
	}
	n := len(c.Origin)
	start := e.pick(vhost, n)
	var lastErr error
	for i := range n {
		o, err := parseOrigin(c.Origin[(start+i)%n], ProtoRTMP)
		if err != nil {
			lastErr = err
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, tokenTimeout)
		conn, err := rtmp.Dial(cctx, tcURL, rtmp.ClientOptions{Addr: o.String(), ConnectArgs: args})
		cancel()
		if err == nil {
			conn.Close()
			return nil
		}
		if st, ok := rtmp.IsStatusError(err); ok {
			return fmt.Errorf("edge: token traverse: origin %s refused the client: %s %s", o, st.Code, st.Description)
		}
		lastErr = err
	}
	return fmt.Errorf("edge: token traverse: no origin answered: %w", lastErr)
}
