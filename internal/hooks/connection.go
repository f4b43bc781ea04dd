package hooks

import (
	"context"
	"fmt"

	"github.com/castd/castd/internal/conf"
	"github.com/castd/castd/internal/logging"
)

// The hooks of a client's life: connect and close, publish and unpublish,
// play and stop. They run on the caller's goroutine.

// OnConnect calls h.OnConnect in order; the first failure rejects the
// client and the remaining URLs are not called. It returns nil when hooks
// are disabled or the list is empty. A *Error says why.
func (c *Client) OnConnect(ctx context.Context, h conf.HTTPHooks, r Request) error {
	if !h.Enabled || len(h.OnConnect) == 0 {
		return nil
	}
	return c.reject(ctx, OnConnect, h.OnConnect, r, c.ids.connect(r))
}

// OnPublish calls h.OnPublish as OnConnect does. SRS calls it before the
// stream is acquired, so a publisher of a busy stream is reported too.
func (c *Client) OnPublish(ctx context.Context, h conf.HTTPHooks, r Request) error {
	if !h.Enabled || len(h.OnPublish) == 0 {
		return nil
	}
	return c.reject(ctx, OnPublish, h.OnPublish, r, c.ids.stream(OnPublish, r))
}

// OnPlay calls h.OnPlay as OnConnect does. Cancelling ctx (the player left)
// aborts it.
func (c *Client) OnPlay(ctx context.Context, h conf.HTTPHooks, r Request) error {
	if !h.Enabled || len(h.OnPlay) == 0 {
		return nil
	}
	return c.reject(ctx, OnPlay, h.OnPlay, r, c.ids.play(r))
}

// OnClose calls every URL of h.OnClose; failures are logged. It runs even
// when ctx is already cancelled, since a disconnect is its very cause: only
// the Client's timeout and Close end it.
func (c *Client) OnClose(ctx context.Context, h conf.HTTPHooks, r Request, sendBytes, recvBytes int64) {
	if !h.Enabled || len(h.OnClose) == 0 {
		return
	}
	c.notify(ctx, OnClose, h.OnClose, r, c.ids.close(r, sendBytes, recvBytes))
}

// OnUnpublish calls every URL of h.OnUnpublish as OnClose does. Call it
// only when the publish was acquired.
func (c *Client) OnUnpublish(ctx context.Context, h conf.HTTPHooks, r Request) {
	if !h.Enabled || len(h.OnUnpublish) == 0 {
		return
	}
	c.notify(ctx, OnUnpublish, h.OnUnpublish, r, c.ids.stream(OnUnpublish, r))
}

// OnStop calls every URL of h.OnStop as OnClose does.
func (c *Client) OnStop(ctx context.Context, h conf.HTTPHooks, r Request) {
	if !h.Enabled || len(h.OnStop) == 0 {
		return
	}
	c.notify(ctx, OnStop, h.OnStop, r, c.ids.stream(OnStop, r))
}

// OnForward posts on_forward to the forward backend and returns the RTMP
// URLs it answers in data.urls (empty strings skipped). The answer must
// pass the hook contract and be {"code":0,"data":{"urls":[...]}}.
func (c *Client) OnForward(ctx context.Context, backend string, r Request) ([]string, error) {
	body, err := marshal(c.ids.forward(r))
	if err != nil {
		return nil, fmt.Errorf("hook on_forward: encode: %w", err)
	}
	resp, err := c.post(ctx, OnForward, backend, r.ClientID, body)
	if err != nil {
		return nil, err
	}
	return parseForwardURLs(OnForward, backend, r.ClientID, body, resp)
}

// reject runs a rejecting event: URLs in order, the first failure returned.
func (c *Client) reject(ctx context.Context, e Event, urls []string, r Request, v any) error {
	body, err := marshal(v)
	if err != nil {
		return fmt.Errorf("hook %s: encode: %w", e, err)
	}
	for _, u := range urls {
		if _, err := c.post(ctx, e, u, r.ClientID, body); err != nil {
			return err
		}
	}
	return nil
}

// notify runs a notification: every URL, failures logged.
func (c *Client) notify(ctx context.Context, e Event, urls []string, r Request, v any) {
	ctx, cancel := c.detach(ctx)
	defer cancel()
	c.notifyAll(ctx, e, urls, r.ClientID, v)
}

func (c *Client) notifyAll(ctx context.Context, e Event, urls []string, clientID string, v any) {
	body, err := marshal(v)
	if err != nil {
		c.log.Error("hook: encode", "event", e, "err", err)
		return
	}
	for _, u := range urls {
		if _, err := c.post(ctx, e, u, clientID, body); err != nil {
			c.log.Warn("hook: failed, ignored", logging.CID(clientID), "event", e, "err", err)
		}
	}
}

// detach keeps ctx's values but not its cancellation, and ends with the Client.
func (c *Client) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(c.base, cancel)
	return ctx, func() { stop(); cancel() }
}
