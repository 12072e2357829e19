package fanout

import "sync"

// frame is one signed, serialised frame: the same bytes go to every client of its stream.
type frame struct {
	seq    int64  // position in its stream's ring (0 for frames signed for one client)
	cursor string // the frame's "cursor" (its data-log position)
	data   []byte
}

// outQueue is a client's bounded outbound queue. The broadcaster never blocks on it: push fails when
// the client is too far behind, and the stream then moves the client to a catch-up reader of its
// own (hub.toLog), which refills the queue only as the client drains it (lowWait).
type outQueue struct {
	maxFrames int
	maxBytes  int

	mu     sync.Mutex
	items  []*frame
	head   int
	bytes  int
	onPush func()        // called after each push (the client marks itself for the flusher)
	space  chan struct{} // closed (and replaced) when frames are taken: see lowWait
}

func newOutQueue(maxFrames, maxBytes int) *outQueue {
	return &outQueue{maxFrames: maxFrames, maxBytes: maxBytes}
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// push queues f unless that would pass the bounds (then it returns false and queues nothing).
func (q *outQueue) push(f *frame) bool {
	q.mu.Lock()
	n := len(q.items) - q.head
	if n >= q.maxFrames || (n > 0 && q.bytes+len(f.data) > q.maxBytes) {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, f)
	q.bytes += len(f.data)
	q.mu.Unlock()
	q.pushed()
	return true
}

func (q *outQueue) pushed() {
	if q.onPush != nil {
		q.onPush()
	}
}

// pushForce queues f whatever the bounds: for frames a catch-up already paced (see lowWait).
func (q *outQueue) pushForce(f *frame) {
	q.mu.Lock()
	q.items = append(q.items, f)
	q.bytes += len(f.data)
	q.mu.Unlock()
	q.pushed()
}

// A catch-up reader keeps at most this much of its client's queue filled (frames and bytes): its
// frames are signed for that client alone, so this, not how far behind the client is, bounds what
// a lagging client holds in memory.
const (
	lowFrames = 64
	lowBytes  = 128 << 10
)

// lowWait returns nil when the queue holds at most lowFrames frames and lowBytes bytes, else a
// channel closed at the next take. A catch-up reader paces itself with it, so a lagging or
// resuming client is fed as fast as it reads and no faster, and its live streams keep room.
func (q *outQueue) lowWait() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items)-q.head <= lowFrames && q.bytes <= lowBytes {
		return nil
	}
	if q.space == nil {
		q.space = make(chan struct{})
	}
	return q.space
}

// free is how many frames can be pushed now.
func (q *outQueue) free() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.maxFrames - (len(q.items) - q.head)
}

func (q *outQueue) depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// take moves up to max queued frames into dst.
func (q *outQueue) take(dst []*frame, max int) []*frame { return q.takeUpTo(dst, max, -1) }

// takeBytes moves queued frames into dst up to maxBytes of them (at least one frame, if any).
func (q *outQueue) takeBytes(dst []*frame, maxBytes int) []*frame {
	return q.takeUpTo(dst, -1, maxBytes)
}

// takeUpTo moves queued frames into dst: at most max of them (max < 0: any number), and at most
// maxBytes of them after the first (maxBytes < 0: any size).
func (q *outQueue) takeUpTo(dst []*frame, max, maxBytes int) []*frame {
	q.mu.Lock()
	n := len(q.items) - q.head
	if max >= 0 && n > max {
		n = max
	}
	size := 0
	for i := 0; i < n; i++ {
		f := q.items[q.head]
		if size += len(f.data); i > 0 && maxBytes >= 0 && size > maxBytes {
			n = i
			break
		}
		q.items[q.head] = nil
		q.head++
		q.bytes -= len(f.data)
		dst = append(dst, f)
	}
	if q.head == len(q.items) {
		q.items = q.items[:0]
		q.head = 0
	} else if q.head > 1024 && q.head*2 > len(q.items) {
		old := len(q.items)
		q.items = append(q.items[:0], q.items[q.head:]...)
		clear(q.items[len(q.items):old])
		q.head = 0
	}
	if n > 0 && q.space != nil {
		close(q.space)
		q.space = nil
	}
	q.mu.Unlock()
	return dst
}

// drop empties the queue (the client is closing).
func (q *outQueue) drop() {
	q.mu.Lock()
	clear(q.items)
	q.items, q.head, q.bytes = nil, 0, 0
	q.mu.Unlock()
}
