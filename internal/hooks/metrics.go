package hooks

import (
	"sync/atomic"
	"time"
)

// Metrics receives one observation per hook call and per dropped
// asynchronous hook. Implementations must be safe for concurrent use and
// fast: they run on the caller's goroutine. A Prometheus exporter can
// implement it later; Counters is the built-in one.
type Metrics interface {
	// ObserveCall reports one HTTP call to one URL; err is nil on success.
	ObserveCall(e Event, latency time.Duration, err error)
	// ObserveDrop reports an asynchronous hook dropped because its queue was full.
	ObserveDrop(e Event)
}

// Counters counts calls, failures, drops and total latency per event with
// atomics; the zero value is ready.
type Counters struct {
	events [len(events)]eventCounters
}

type eventCounters struct {
	calls, failures, drops atomic.Int64
	latency                atomic.Int64 // nanoseconds, summed
}

// EventCounts is one event's counters at some instant.
type EventCounts struct {
	Event    Event
	Calls    int64         // HTTP calls made, one per URL
	Failures int64         // calls that failed (rejections and transport errors)
	Drops    int64         // asynchronous hooks dropped on a full queue
	Latency  time.Duration // the sum of every call's latency
}

// ObserveCall implements Metrics.
func (c *Counters) ObserveCall(e Event, latency time.Duration, err error) {
	i := e.index()
	if i < 0 {
		return
	}
	ec := &c.events[i]
	ec.calls.Add(1)
	ec.latency.Add(int64(latency))
	if err != nil {
		ec.failures.Add(1)
	}
}

// ObserveDrop implements Metrics.
func (c *Counters) ObserveDrop(e Event) {
	if i := e.index(); i >= 0 {
		c.events[i].drops.Add(1)
	}
}

// Snapshot returns every event's counters, in the order of AllEvents.
func (c *Counters) Snapshot() []EventCounts {
	out := make([]EventCounts, len(events))
	for i, e := range events {
		ec := &c.events[i]
		out[i] = EventCounts{Event: e, Calls: ec.calls.Load(), Failures: ec.failures.Load(),
			Drops: ec.drops.Load(), Latency: time.Duration(ec.latency.Load())}
	}
	return out
}

// Get returns one event's counters.
func (c *Counters) Get(e Event) EventCounts {
	for _, s := range c.Snapshot() {
		if s.Event == e {
			return s
		}
	}
	return EventCounts{Event: e}
}
