package fanout

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// connWriter is the one way bytes reach a client's connection after the 101: the flusher offers
// it batches of data frames, and coder/websocket writes its control frames (pongs, the close
// frame) through Write. Everything passes under one lock, so frames never interleave and reach the
// connection in the order they were accepted, whoever wrote them.
//
// Nothing here waits for a slow client while the connection is open: offer and retry make one
// non-blocking write(2) and keep what the socket did not take as pending, which the flusher
// retries on its next rounds. A slow client is never failed here: the flusher reads stuckFor
// and closes a client that took no byte at all for the stall timeout. Only once sealed
// (closing) does Write block, for at most closeTimeout, so the close frame goes out.
// The flusher never waits for the lock either (tryLock): a client busy closing is skipped.
type connWriter struct {
	conn      net.Conn
	raw       syscall.RawConn // nil when conn has no fd (net.Pipe in tests): see tryWrite
	onPending func()          // a control frame was left pending: the flusher must come back

	mu      sync.Mutex
	pending []byte // accepted, not yet on the connection
	sealed  bool   // the close frame is being written: no data frame may follow it
	err     error  // sticky: the connection broke
	// stuckSince is when the socket last took bytes while some were pending, or when pending
	// became non-empty (unix nanoseconds; 0 while nothing is pending). Read without the lock.
	stuckSince atomic.Int64
	written    atomic.Uint64 // bytes the socket took
	writes     atomic.Uint64 // write(2) calls that took bytes
}

// closeTimeout bounds the blocking write of what is pending and the close frame, once sealed.
const closeTimeout = 5 * time.Second

func newConnWriter(conn net.Conn, onPending func()) *connWriter {
	w := &connWriter{conn: conn, onPending: onPending}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			w.raw = raw
		}
	}
	return w
}

// pendingKeep is the largest pending buffer kept for reuse once written: a child with many
// clients that fell behind at once would otherwise hold up to flushBytes for each of them.
const pendingKeep = 16 << 10

func (w *connWriter) tryLock() bool { return w.mu.TryLock() }
func (w *connWriter) unlock()       { w.mu.Unlock() }

// offerLocked accepts p (whole frames) and writes what the socket takes now, after anything
// pending. It reports blocked when bytes are left pending: retry them before offering more.
func (w *connWriter) offerLocked(p []byte, now time.Time) (blocked bool, err error) {
	if w.err != nil || w.sealed {
		return false, w.err
	}
	blocked, err = w.retryLocked(now)
	switch {
	case err != nil || len(p) == 0:
		return blocked, err
	case blocked: // p is accepted all the same: it goes out after what is pending
		w.pending = append(w.pending, p...)
		return true, nil
	}
	n, err := w.tryWrite(p)
	if err != nil {
		return false, w.fail(len(p), err)
	}
	if n < len(p) {
		w.pending = append(w.pending[:0], p[n:]...)
		w.stuckSince.Store(now.UnixNano())
		return true, nil
	}
	return false, nil
}

// stuckFor is how long the socket has taken no bytes while some were pending (0: none pending).
func (w *connWriter) stuckFor(now time.Time) time.Duration {
	since := w.stuckSince.Load()
	if since == 0 {
		return 0
	}
	return max(now.Sub(time.Unix(0, since)), 0)
}

// retryLocked writes what is pending without waiting.
func (w *connWriter) retryLocked(now time.Time) (blocked bool, err error) {
	if w.err != nil || len(w.pending) == 0 {
		return false, w.err
	}
	n, err := w.tryWrite(w.pending)
	if err != nil {
		return false, w.fail(len(w.pending), err)
	}
	if n < len(w.pending) {
		w.pending = w.pending[:copy(w.pending, w.pending[n:])]
		if n > 0 {
			w.stuckSince.Store(now.UnixNano())
		}
		return true, nil
	}
	w.release()
	return false, nil
}

func (w *connWriter) release() {
	w.stuckSince.Store(0)
	if cap(w.pending) > pendingKeep {
		w.pending = nil
	} else {
		w.pending = w.pending[:0]
	}
}

func (w *connWriter) fail(n int, err error) error {
	w.err = fmt.Errorf("write %d bytes: %w", n, err)
	return w.err
}

// tryWrite is one non-blocking write(2): it returns how much the socket took (0 when it is full).
// A connection without an fd gets a write bounded by a millisecond instead.
func (w *connWriter) tryWrite(p []byte) (int, error) {
	if w.raw == nil {
		_ = w.conn.SetWriteDeadline(time.Now().Add(time.Millisecond))
		n, err := w.conn.Write(p)
		_ = w.conn.SetWriteDeadline(time.Time{})
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = nil
		}
		w.count(n)
		return n, err
	}
	var n int
	var werr error
	err := w.raw.Write(func(fd uintptr) bool {
		for {
			n, werr = unix.Write(int(fd), p)
			if werr != unix.EINTR {
				break
			}
		}
		return true // never wait for the poller: the flusher comes back
	})
	if errors.Is(werr, syscall.EAGAIN) {
		n, werr = 0, nil
	}
	if n < 0 {
		n = 0
	}
	if err == nil {
		err = werr
	}
	w.count(n)
	return n, err
}

func (w *connWriter) count(n int) {
	if n > 0 {
		w.written.Add(uint64(n))
		w.writes.Add(1)
	}
}

// seal stops data frames: what is offered from now on is dropped (the close frame comes next).
func (w *connWriter) seal() {
	w.mu.Lock()
	w.sealed = true
	w.mu.Unlock()
}

// Write is what coder/websocket's buffered writer flushes to (control frames). They go after what
// is pending: while the connection is open, without waiting (the flusher is told to come back
// for what the socket does not take); once sealed, blocking for at most closeTimeout, so that the
// close frame is out before coder/websocket waits for the peer's.
func (w *connWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if len(w.pending) == 0 {
		w.stuckSince.Store(time.Now().UnixNano())
	}
	w.pending = append(w.pending, p...)
	if w.sealed {
		_ = w.conn.SetWriteDeadline(time.Now().Add(closeTimeout))
		n, err := w.conn.Write(w.pending)
		w.count(n)
		_ = w.conn.SetWriteDeadline(time.Time{})
		w.release()
		if err != nil {
			return 0, w.fail(len(p), err)
		}
		return len(p), nil
	}
	if blocked, err := w.retryLocked(time.Now()); err != nil {
		return 0, err
	} else if blocked && w.onPending != nil {
		w.onPending()
	}
	return len(p), nil
}
