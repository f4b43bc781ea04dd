package source

import (
	"context"
	"time"
)

// Clock is the time a Pacer runs on; tests use a fake one.
type Clock interface {
	Now() time.Time
	// SleepUntil returns at t, or with ctx's error when ctx ends first.
	SleepUntil(ctx context.Context, t time.Time) error
}

// WallClock is the real clock. It keeps one timer, so it belongs to one
// goroutine; the zero value is ready.
type WallClock struct {
	timer *time.Timer
}

// Now returns time.Now().
func (c *WallClock) Now() time.Time { return time.Now() }

// SleepUntil sleeps until t or until ctx ends.
func (c *WallClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	if c.timer == nil {
		c.timer = time.NewTimer(d)
	} else {
		c.timer.Reset(d)
	}
	select {
	case <-c.timer.C:
		return nil
	case <-ctx.Done():
		c.timer.Stop()
		return ctx.Err()
	}
}

// Timed is a frame with its timestamp in the published stream.
type Timed struct {
	*Frame
	Timestamp uint32 // milliseconds since the stream started
}

// Pacer walks a Source in real time: the Start tags at 0, then the frames,
// loop after loop, each loop's timestamps shifted by one Period so they
// keep increasing.
type Pacer struct {
	Src   *Source
	Clock Clock
	// MaxBatch bounds the frames handed to send at once; default 64.
	MaxBatch int
	// Loops stops the pacer after that many loops; 0 loops forever.
	Loops int

	loop, next int
	batch      []Timed
}

// Run calls send with each batch of frames that are due, at their time,
// until ctx ends (nil is returned then), Loops are done (nil), or send
// fails (its error). A batch holds the frames whose time has come when the
// pacer wakes; it is reused after send returns. A publisher that cannot
// keep up gets larger batches rather than a growing delay.
func (p *Pacer) Run(ctx context.Context, send func(now time.Time, batch []Timed) error) error {
	maxBatch := p.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 64
	}
	if cap(p.batch) < maxBatch {
		p.batch = make([]Timed, 0, maxBatch)
	}
	start := p.Clock.Now()
	// Start tags go first, in order, at time 0.
	for i := 0; i < len(p.Src.Start); {
		p.batch = p.batch[:0]
		for ; i < len(p.Src.Start) && len(p.batch) < maxBatch; i++ {
			p.batch = append(p.batch, Timed{Frame: &p.Src.Start[i]})
		}
		if err := send(start, p.batch); err != nil {
			return err
		}
	}
	for {
		at, ok := p.peek()
		if !ok {
			return nil
		}
		if err := p.Clock.SleepUntil(ctx, start.Add(at)); err != nil {
			return nil // the context ended: a normal stop
		}
		now := p.Clock.Now()
		p.batch = p.batch[:0]
		for len(p.batch) < maxBatch {
			at, ok := p.peek()
			if !ok || start.Add(at).After(now) {
				break
			}
			f := &p.Src.Frames[p.next]
			p.batch = append(p.batch, Timed{Frame: f, Timestamp: uint32(at.Milliseconds())})
			p.advance()
		}
		if err := send(now, p.batch); err != nil {
			return err
		}
	}
}

// peek returns the stream time of the next frame; ok is false once Loops
// are done.
func (p *Pacer) peek() (at time.Duration, ok bool) {
	if p.Loops > 0 && p.loop >= p.Loops {
		return 0, false
	}
	return time.Duration(p.loop)*p.Src.Period + p.Src.Frames[p.next].At, true
}

func (p *Pacer) advance() {
	p.next++
	if p.next == len(p.Src.Frames) {
		p.next = 0
		p.loop++
	}
}

// Position returns how many loops are complete and the index of the next
// frame in the current one.
func (p *Pacer) Position() (loops, next int) { return p.loop, p.next }
