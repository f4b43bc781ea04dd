package hooks

import (
	"context"
	"sync"
)

// queue runs asynchronous hooks: one FIFO per stream, drained by one
// goroutine that exists only while the stream has work. A slow hook server
// delays only the stream whose hook it answers; ordering per stream holds;
// memory is bounded by perStream and total, beyond which hooks are dropped.
type queue struct {
	ctx       context.Context // ends with the Client
	perStream int
	total     int
	onDrop    func(e Event, stream string, queued int)

	mu      sync.Mutex
	streams map[string]*streamJobs
	queued  int  // jobs waiting, all streams
	closed  bool // no more jobs accepted
	wg      sync.WaitGroup
}

type job struct {
	event Event
	run   func(ctx context.Context)
}

type streamJobs struct{ jobs []job }

func newQueue(ctx context.Context, perStream, total int, onDrop func(Event, string, int)) *queue {
	if perStream <= 0 {
		perStream = DefaultQueuePerStream
	}
	if total <= 0 {
		total = DefaultQueueTotal
	}
	return &queue{ctx: ctx, perStream: perStream, total: total, onDrop: onDrop, streams: map[string]*streamJobs{}}
}

// push queues j behind the stream's earlier jobs, or drops it when a bound
// is reached or the queue is closed.
func (q *queue) push(stream string, j job) {
	q.mu.Lock()
	sj := q.streams[stream]
	if q.closed || q.queued >= q.total || (sj != nil && len(sj.jobs) >= q.perStream) {
		queued := q.queued
		q.mu.Unlock()
		q.onDrop(j.event, stream, queued)
		return
	}
	if sj == nil {
		sj = &streamJobs{}
		q.streams[stream] = sj
		q.wg.Add(1)
		go q.work(stream, sj)
	}
	sj.jobs = append(sj.jobs, j)
	q.queued++
	q.mu.Unlock()
}

// work runs one stream's jobs in order and ends when none is left. Once the
// Client is cancelled, what remains is dropped.
func (q *queue) work(stream string, sj *streamJobs) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		if len(sj.jobs) == 0 {
			delete(q.streams, stream)
			q.mu.Unlock()
			return
		}
		j := sj.jobs[0]
		sj.jobs[0] = job{}
		sj.jobs = sj.jobs[1:]
		q.queued--
		queued := q.queued
		q.mu.Unlock()
		if q.ctx.Err() != nil {
			q.onDrop(j.event, stream, queued)
			continue
		}
		j.run(q.ctx)
	}
}

// drain closes the queue and waits until every job ran or ctx ends.
func (q *queue) drain(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	done := make(chan struct{})
	go func() {
		q.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait blocks until every worker ended.
func (q *queue) wait() { q.wg.Wait() }

// len returns the jobs waiting, all streams.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.queued
}
