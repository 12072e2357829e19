package fanout

import (
	"context"
	"sync"
)

// jobQueue is an unbounded FIFO of jobs whose memory follows its length. The read-ahead used to be
// channels with room for every line it may hold (65,536 a stream, 1.5 MiB a child, allocated whole
// and counted by the GC as live), although a paced stream holds a few lines at a time; the bounds
// are now kept by hub.reserve. Any number of goroutines may push and pop.
type jobQueue struct {
	mu    sync.Mutex
	buf   []*job // ring: the queue is buf[head], buf[head+1], … (n of them, wrapping)
	head  int
	n     int
	ready chan struct{} // holds a token while the queue may be non-empty
}

// shrinkAbove is the capacity an emptied queue gives back (after a burst), so that a quiet stream
// does not keep a burst's buffer.
const shrinkAbove = 1024

func newJobQueue() *jobQueue { return &jobQueue{ready: make(chan struct{}, 1)} }

func (q *jobQueue) push(j *job) {
	q.mu.Lock()
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = j
	q.n++
	q.mu.Unlock()
	q.signal()
}

func (q *jobQueue) grow() {
	buf := make([]*job, max(16, 2*len(q.buf)))
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

func (q *jobQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop waits for the oldest job and removes it; it returns nil once ctx is done.
func (q *jobQueue) pop(ctx context.Context) *job {
	for {
		if j, more, ok := q.take(); ok {
			if more {
				q.signal() // the token was ours: pass it on to the next consumer
			}
			return j
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return nil
		}
	}
}

func (q *jobQueue) take() (j *job, more, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return nil, false, false
	}
	j = q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	if q.n == 0 && len(q.buf) > shrinkAbove {
		q.buf, q.head = nil, 0
	}
	return j, q.n > 0, true
}
