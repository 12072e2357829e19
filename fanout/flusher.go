package fanout

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// flusher writes every client's queued frames from one goroutine. A published frame marks its
// subscribers; the flusher wakes once, in rounds (Pace) lets the round's other frames join the
// first (gather), then gives every marked client one non-blocking write of everything it has
// queued (framed as WebSocket text messages, back to back). What a full socket does not take
// stays pending in the client's connWriter, and the client waits in the flusher's blocked list,
// retried each round (at least every retryDelay) without taking more frames until it has been
// written. So a frame to N clients costs one wake-up and N writes, not N wake-ups, and a slow
// client costs one failed write(2) a round, never a wait.
type flusher struct {
	mu    sync.Mutex
	dirty []*client // clients marked since the last round (each at most once: client.marked)

	wake  chan struct{}
	quit  chan struct{}
	done  chan struct{}
	delay atomic.Int64 // coalescing delay in nanoseconds (0: write as soon as woken)
	stall atomic.Int64 // a blocked client that took no bytes this long (ns) is closed; 0: never
	// inFlight (nil: never) says lines are read and not yet published; set before run.
	inFlight func() bool

	// The flusher goroutine's own:
	blocked []*client // clients with bytes pending (client.blocked)
	frames  []*frame  // a round's scratch space
	buf     []byte
}

const (
	// flushBytes bounds one client's write in a round; the rest waits for the next round.
	flushBytes = 256 << 10
	// Blocked clients are retried when nothing else wakes the flusher after retryMin, plus
	// retryPerClient for each of them, up to retryMax: see retryDelay.
	retryMin       = 5 * time.Millisecond
	retryPerClient = 20 * time.Microsecond
	retryMax       = 20 * time.Millisecond
)

func newFlusher() *flusher {
	return &flusher{wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

// mark asks for c's queue to be written in the next round.
func (fl *flusher) mark(c *client) {
	fl.mu.Lock()
	if c.marked {
		fl.mu.Unlock()
		return
	}
	c.marked = true
	fl.dirty = append(fl.dirty, c)
	fl.mu.Unlock()
	wake(fl.wake)
}

// retryDelay is how soon blocked clients are retried when nothing else wakes the flusher. The
// flusher never waits on one socket, so it is not told when a full socket drains: a client that
// reads fast waits for the next retry, and in a burst those waits were a third of the machine's
// time idle (mixed). Each retry costs a write(2) per blocked client, so the delay grows with
// their number (a thousand blocked clients are retried every 20 ms), and it is at least the
// coalescing delay. 2 ms served mixed better still (fast p99 1.5 s against 1.9 s) but cost
// scenario D about 30 MB of RSS, and its goal with it (BENCHMARKS.md).
func (fl *flusher) retryDelay() time.Duration {
	d := retryMin + time.Duration(len(fl.blocked))*retryPerClient
	return max(min(d, retryMax), fl.getDelay())
}

// setDelay sets the coalescing delay: the longest a frame waits for others to share its write.
func (fl *flusher) setDelay(d time.Duration) { fl.delay.Store(int64(max(d, 0))) }

func (fl *flusher) getDelay() time.Duration { return time.Duration(fl.delay.Load()) }

func (fl *flusher) setStallTimeout(d time.Duration) { fl.stall.Store(int64(max(d, 0))) }

func (fl *flusher) run() {
	defer close(fl.done)
	var round []*client
	delay := time.NewTimer(time.Hour)
	retry := time.NewTimer(time.Hour)
	defer delay.Stop()
	defer retry.Stop()
	for {
		var retryC <-chan time.Time
		if len(fl.blocked) > 0 {
			retry.Reset(fl.retryDelay())
			retryC = retry.C
		}
		select {
		case <-fl.wake:
			if d := fl.getDelay(); d > 0 && !fl.gather(d, delay) {
				return
			}
		case <-retryC:
		case <-fl.quit:
			return
		}
		now := time.Now()
		fl.retryBlocked(now)
		fl.mu.Lock()
		round, fl.dirty = fl.dirty, round[:0]
		for _, c := range round {
			c.marked = false
		}
		fl.mu.Unlock()
		for _, c := range round {
			fl.write(c, now)
		}
		clear(round)
	}
}

// gather lets a round's other frames join its first before the round is written. It yields
// first: in a child paced to one processor, the goroutines signing and publishing the round's
// lines run before the flusher resumes, so the round is complete without a timer (a timer was
// a second wake-up of the process every round, and 2 ms on every frame). Only if lines are
// still in flight after that does it wait out d. It reports false when the flusher is stopping.
func (fl *flusher) gather(d time.Duration, t *time.Timer) bool {
	runtime.Gosched()
	if fl.inFlight == nil || !fl.inFlight() {
		return true
	}
	t.Reset(d)
	select {
	case <-t.C:
		return true
	case <-fl.quit:
		return false
	}
}

func (fl *flusher) stop() {
	close(fl.quit)
	<-fl.done
}

// retryBlocked retries every blocked client's pending bytes; those written out get their queues
// written in this round, and those that took no bytes for the stall timeout are closed.
func (fl *flusher) retryBlocked(now time.Time) {
	stall := time.Duration(fl.stall.Load())
	still := fl.blocked[:0]
	for _, c := range fl.blocked {
		if c.isClosing() {
			c.blocked = false
			continue
		}
		if !c.out.tryLock() {
			still = append(still, c) // a control frame is being written: next round
			continue
		}
		blocked, err := c.out.retryLocked(now)
		c.out.unlock()
		switch {
		case err != nil:
			c.blocked = false
			c.writeFailed(err)
		case blocked && stall > 0 && c.out.stuckFor(now) >= stall:
			c.blocked = false
			c.stall(c.out.stuckFor(now))
		case blocked:
			still = append(still, c)
		default:
			c.blocked = false
			if c.q.depth() > 0 {
				fl.mark(c)
			}
		}
	}
	clear(fl.blocked[len(still):])
	fl.blocked = still
}

// write gives c one non-blocking write of its queued frames (up to flushBytes).
func (fl *flusher) write(c *client, now time.Time) {
	if !c.live.Load() || c.blocked || c.isClosing() {
		return // not writable yet, or waiting in the blocked list, or closing
	}
	if !c.out.tryLock() { // a control frame is being written (the close frame: it is closing)
		fl.mark(c)
		return
	}
	defer c.out.unlock()
	fl.frames = c.q.takeBytes(fl.frames[:0], flushBytes)
	b := fl.buf[:0]
	for _, f := range fl.frames {
		b = appendTextMessage(b, f.data)
	}
	n := len(fl.frames)
	clear(fl.frames)
	blocked, err := c.out.offerLocked(b, now) // with no frames: retries a pending control frame
	if cap(b) <= 2*flushBytes {
		fl.buf = b[:0]
	}
	if err != nil {
		c.writeFailed(err)
		return
	}
	c.sent.Add(uint64(n))
	if blocked {
		c.blocked = true
		fl.blocked = append(fl.blocked, c)
		return
	}
	if c.q.depth() > 0 {
		fl.mark(c)
	}
}

// appendTextMessage appends data as one unmasked, unfragmented WebSocket text message (RFC 6455
// §5.2: a server never masks).
func appendTextMessage(b, data []byte) []byte {
	const finText = 0x81
	switch n := len(data); {
	case n < 126:
		b = append(b, finText, byte(n))
	case n <= 0xFFFF:
		b = append(b, finText, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, finText, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, data...)
}
