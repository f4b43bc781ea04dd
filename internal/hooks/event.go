package hooks

import "slices"

// Event is a hook's name, as in the config (vhost.http_hooks) and in the
// "action" field of its request body.
type Event string

const (
	OnConnect   Event = "on_connect"
	OnClose     Event = "on_close"
	OnPublish   Event = "on_publish"
	OnUnpublish Event = "on_unpublish"
	OnPlay      Event = "on_play"
	OnStop      Event = "on_stop"
	OnDVR       Event = "on_dvr"
	OnHLS       Event = "on_hls"
	OnHLSNotify Event = "on_hls_notify"
	// OnForward is the body the forward backend posts (vhost.forward.backend);
	// it is not a vhost.http_hooks directive.
	OnForward Event = "on_forward"
)

// events lists every event in a fixed order: Counters keep one slot each.
var events = [...]Event{OnConnect, OnClose, OnPublish, OnUnpublish, OnPlay, OnStop, OnDVR, OnHLS, OnHLSNotify, OnForward}

// AllEvents returns every event, in the order of Counters.Snapshot.
func AllEvents() []Event { return slices.Clone(events[:]) }

// Rejects reports whether a failure of the hook rejects the client: only
// on_connect, on_publish and on_play can (spec §3.1); the others are
// notifications whose failures are logged.
func (e Event) Rejects() bool {
	return e == OnConnect || e == OnPublish || e == OnPlay
}

// index is the event's position in events, or -1.
func (e Event) index() int {
	for i, x := range events {
		if x == e {
			return i
		}
	}
	return -1
}
