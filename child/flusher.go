package child

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"
)

// flusher writes every client's queued frames from one goroutine. A published frame marks its
// subscribers; the flusher wakes once, optionally waits the coalescing delay so that more frames
// share each write, then gives every marked client one non-blocking write of everything it has
// queued (framed as WebSocket text messages, back to back). A client whose socket does not take
// it all is handed to its own goroutine to drain (connWriter). So a frame to N clients costs one
// wake-up and N writes, not N wake-ups, and no slow client delays the others.
type flusher struct {
	mu    sync.Mutex
	dirty []*client // clients marked since the last round (each at most once: client.marked)

	wake  chan struct{}
	quit  chan struct{}
	done  chan struct{}
	delay atomic.Int64 // coalescing delay in nanoseconds (0: write as soon as woken)

	frames []*frame // the round's scratch space
	buf    []byte
}

// flushBytes bounds one client's write in a round; the rest waits for the next round.
const flushBytes = 256 << 10

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

// setDelay sets the coalescing delay: the longest a frame waits for others to share its write.
func (fl *flusher) setDelay(d time.Duration) { fl.delay.Store(int64(max(d, 0))) }

func (fl *flusher) getDelay() time.Duration { return time.Duration(fl.delay.Load()) }

func (fl *flusher) run() {
	defer close(fl.done)
	var round []*client
	var timer *time.Timer
	for {
		select {
		case <-fl.wake:
		case <-fl.quit:
			return
		}
		if d := time.Duration(fl.delay.Load()); d > 0 {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			select {
			case <-timer.C:
			case <-fl.quit:
				return
			}
		}
		fl.mu.Lock()
		round, fl.dirty = fl.dirty, round[:0]
		for _, c := range round {
			c.marked = false
		}
		fl.mu.Unlock()
		for _, c := range round {
			fl.write(c)
		}
		clear(round)
	}
}

func (fl *flusher) stop() {
	close(fl.quit)
	<-fl.done
}

// write gives c one non-blocking write of its queued frames (up to flushBytes).
func (fl *flusher) write(c *client) {
	if !c.live.Load() || c.blocked.Load() || c.isClosing() {
		return // not writable yet, or its goroutine drains it and marks it again, or closing
	}
	fl.frames = c.q.takeBytes(fl.frames[:0], flushBytes)
	if len(fl.frames) == 0 {
		return
	}
	b := fl.buf[:0]
	for _, f := range fl.frames {
		b = appendTextMessage(b, f.data)
	}
	n := len(fl.frames)
	clear(fl.frames)
	blocked, err := c.out.offer(b)
	if cap(b) <= 2*flushBytes {
		fl.buf = b[:0]
	}
	if err != nil {
		c.writeFailed(err)
		return
	}
	c.sent.Add(uint64(n))
	if blocked {
		c.blocked.Store(true)
		wake(c.drainWake)
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
