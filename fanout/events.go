package fanout

import (
	"sync"
	"time"

	"github.com/shardeum/distributor/child"
)

// maxPendingProblems bounds reader-problem reports waiting for the parent: a flood of bad lines must
// not grow the child's memory. Client reports are never dropped (there are at most two per client).
const maxPendingProblems = 256

// eventQueue delivers a child's reports to the parent from one goroutine, in order, so that neither a
// hub nor a client ever waits on the RPC.
type eventQueue struct {
	pid      int
	mu       sync.Mutex
	sink     child.Events
	items    []func(child.Events)
	probs    int
	notify   chan struct{}
	done     chan struct{}
	finished chan struct{}
}

func newEventQueue(pid int) *eventQueue {
	return &eventQueue{pid: pid, notify: make(chan struct{}, 1), done: make(chan struct{}), finished: make(chan struct{})}
}

// start begins delivery to sink; reports made before are kept and delivered first.
func (q *eventQueue) start(sink child.Events) {
	q.mu.Lock()
	q.sink = sink
	q.mu.Unlock()
	go q.run()
	q.wake()
}

func (q *eventQueue) wake() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *eventQueue) push(f func(child.Events), problem bool) {
	q.mu.Lock()
	if problem {
		if q.probs >= maxPendingProblems {
			q.mu.Unlock()
			return
		}
		q.probs++
		inner := f
		f = func(e child.Events) {
			q.mu.Lock()
			q.probs--
			q.mu.Unlock()
			inner(e)
		}
	}
	q.items = append(q.items, f)
	q.mu.Unlock()
	q.wake()
}

func (q *eventQueue) connected(c child.ClientInfo) {
	q.push(func(e child.Events) { e.ClientConnected(q.pid, c) }, false)
}

func (q *eventQueue) closed(id string, code int, reason string) {
	q.push(func(e child.Events) { e.ClientClosed(q.pid, id, code, reason) }, false)
}

func (q *eventQueue) problem(stream, msg string) {
	q.push(func(e child.Events) { e.ReaderProblem(q.pid, stream, msg) }, true)
}

func (q *eventQueue) run() {
	defer close(q.finished)
	for {
		<-q.notify
		for {
			q.mu.Lock()
			if len(q.items) == 0 {
				q.mu.Unlock()
				break
			}
			f := q.items[0]
			q.items[0] = nil
			q.items = q.items[1:]
			sink := q.sink
			q.mu.Unlock()
			f(sink)
		}
		select {
		case <-q.done:
			return
		default:
		}
	}
}

// flush delivers everything queued so far (waiting at most limit) and stops (the child is exiting).
func (q *eventQueue) flush(limit time.Duration) {
	q.mu.Lock()
	started := q.sink != nil
	q.mu.Unlock()
	if !started {
		return
	}
	close(q.done)
	q.wake()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-q.finished:
	case <-t.C:
	}
}
