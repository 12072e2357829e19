package queryapi

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// gate schedules the CPU work of POST requests (parsing, signature verification, queries,
// encoding, signing): at most n at a time, in arrival order, and each reply is written only after
// the request has yielded its processor.
//
// Why: with 50 connections on 2 cores shared with the clients (the benchmark) or other processes
// (production), plain net/http scheduling gave p99 = 7-10x p50 (27 ms at 3.7 ms; a bare handler
// doing one Ed25519 verification behaves the same). Go's run queues are per P, and a reply write
// in the middle of every request wakes the client, which the OS may run in place of the thread
// whose P still holds a queue of requests. Two changes, each measured with scripts/bench-rest.sh
// (ALT_ARGS="-max-in-flight=-1" times the ungated server beside the gated one):
//   - Requests wait for a slot in one FIFO (the slot channel's queue of blocked senders), so each
//     waits only for the work ahead of it, and a descheduled thread holds up one request.
//   - After its CPU work a request yields (runtime.Gosched) before writing: its write joins the
//     global run queue behind the work already queued, so the processors run request after
//     request and the writes go out in bursts. This alone took p99 from 27 to 15 ms.
//
// A slot holder can block (a locked rollback-journal file keeps SQLite in its busy timeout), so
// the gate is not a hard limit: a request that has waited maxWait goes ahead anyway. The worst
// case is the ungated server, never a stalled one.
type gate struct {
	slots   chan struct{}
	maxWait time.Duration
	// Test hooks, nil in service: waiting runs when a request finds no free slot and is about to
	// queue; entered runs in the request once it holds a slot (after its ticket exists, so a
	// panic there cannot leak the slot); gone when a queued request is dropped.
	waiting, entered, gone func()
}

// defaultMaxWait bounds the queueing: far above a normal wait (50 requests of ~0.1 ms ahead on
// two cores is ~3 ms; uncached 419 KB pages ~70 ms), far below SQLite's 5 s busy timeout.
const defaultMaxWait = 250 * time.Millisecond

func newGate(n int, maxWait time.Duration) *gate {
	if n <= 0 {
		return nil
	}
	return &gate{slots: make(chan struct{}, n), maxWait: maxWait}
}

// ticket is one request's passage; leave is idempotent, so a deferred leave after an early one
// is harmless (and a panic in a handler cannot leak a slot).
type ticket struct {
	g    *gate
	held bool
}

var timerPool = sync.Pool{New: func() any { t := time.NewTimer(time.Hour); t.Stop(); return t }}

// enter waits for a slot, for maxWait at most. ok is false when ctx ended first (the client has
// gone): the caller should drop the request.
func (g *gate) enter(ctx context.Context) (t ticket, ok bool) {
	if g == nil {
		return ticket{}, true
	}
	select {
	case g.slots <- struct{}{}:
		return ticket{g: g, held: true}, true
	default:
	}
	if g.waiting != nil {
		g.waiting()
	}
	tm := timerPool.Get().(*time.Timer)
	tm.Reset(g.maxWait)
	defer func() { tm.Stop(); timerPool.Put(tm) }() // Go >= 1.23: Stop leaves no stale value to drain
	select {
	case g.slots <- struct{}{}:
		return ticket{g: g, held: true}, true
	case <-tm.C:
		return ticket{g: g}, true // waited long enough: go ahead without a slot
	case <-ctx.Done():
		if g.gone != nil {
			g.gone()
		}
		return ticket{}, false
	}
}

// yield lets the processor go to the next queued request before this one writes its reply.
// Idle, it costs a trip through the scheduler (well under a microsecond).
func (t *ticket) yield() {
	if t.g != nil {
		runtime.Gosched()
	}
}

func (t *ticket) leave() {
	if t.held {
		t.held = false
		<-t.g.slots
	}
}
