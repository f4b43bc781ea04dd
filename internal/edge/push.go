package edge

import (
	"context"
	"errors"

	"github.com/castd/castd/internal/forward"
	"github.com/castd/castd/internal/logging"
)

// Push sends a stream published on the edge to an origin until the stream
// ends or ctx does. The origins are tried in turn from the round-robin
// position; when none accepts the publish, or an accepted push breaks,
// kick ends the local publisher, as SRS disconnects an edge publisher
// whose upstream fails (the encoder reconnects and the next origin is
// tried). The local players get the stream straight from the hub.
func (e *Edge) Push(ctx context.Context, job forward.Job, kick func()) {
	key := job.Key
	log := e.opt.Log.With(logging.CID(job.Publisher.ClientID), "stream", key.String())
	c, _, ok := e.opt.Vhost(key.Vhost)
	if !ok || len(c.Origin) == 0 {
		return
	}
	fopt := forward.Options{Hub: e.opt.Hub, Log: e.opt.Log, Info: e.opt.Info,
		PlainConnect: !c.DebugSRSUpnode, ConnectTimeout: e.opt.ConnectTimeout}
	cl := Client{ID: job.Publisher.ClientID, TcURL: job.Publisher.TcURL, Param: job.Publisher.Param}
	n := len(c.Origin)
	start := e.pick(key.Vhost, n)
	var lastErr error
	for i := range n {
		o, err := parseOrigin(c.Origin[(start+i)%n], ProtoRTMP)
		if err != nil {
			lastErr = err
			continue
		}
		url := rtmpURL(o, key, c, cl)
		published := false
		err = forward.PushOnce(ctx, job, url, fopt, func() {
			published = true
			log.Info("edge: pushing to origin", "url", url)
		})
		switch {
		case ctx.Err() != nil || errors.Is(err, forward.ErrUnpublished):
			return
		case published:
			log.Error("edge: push to origin broke; ending the publisher", "url", url, "err", err)
			kick()
			return
		}
		lastErr = err
		log.Warn("edge: origin refused the push", "url", url, "err", err)
	}
	log.Error("edge: no origin accepted the push; ending the publisher", "err", lastErr)
	kick()
}
