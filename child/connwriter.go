package child

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
)

// connWriter is the one way bytes reach a client's connection after the 101: the flusher offers
// it batches of data frames without ever blocking, and coder/websocket writes its control frames
// (pongs, the close frame) through Write. Everything passes under one lock, so frames never
// interleave and reach the connection in the order they were accepted, whoever wrote them.
//
// offer writes what the socket takes at once (one write(2), the fd is non-blocking) and keeps the
// rest as pending; the client's own goroutine then drains it with a blocking write bounded by
// timeout. A slow client therefore costs the flusher one failed write, never a wait.
type connWriter struct {
	conn    net.Conn
	raw     syscall.RawConn // nil when conn has no fd (net.Pipe in tests): drain writes every batch
	timeout time.Duration   // bounds each blocking write (drain, control frames)

	mu      sync.Mutex
	pending []byte // accepted, not yet on the connection
	sealed  bool   // the close frame is being written: no data frame may follow it
	err     error  // sticky: the connection broke
}

func newConnWriter(conn net.Conn, timeout time.Duration) *connWriter {
	w := &connWriter{conn: conn, timeout: timeout}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			w.raw = raw
		}
	}
	return w
}

// pendingKeep is the largest pending buffer kept for reuse once drained: a child with many
// clients that fell behind at once would otherwise hold up to flushBytes for each of them.
const pendingKeep = 16 << 10

// offer accepts p (a whole number of frames) for the connection. It reports blocked when part of p
// is left pending: the caller must then have drain run, and offer no more until it has.
func (w *connWriter) offer(p []byte) (blocked bool, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.err != nil:
		return false, w.err
	case w.sealed:
		return false, nil
	case len(w.pending) > 0 || w.raw == nil:
		w.pending = append(w.pending, p...)
		return true, nil
	}
	n, err := w.tryWrite(p)
	if err != nil {
		w.err = fmt.Errorf("write %d bytes: %w", len(p), err)
		return false, w.err
	}
	if n < len(p) {
		w.pending = append(w.pending[:0], p[n:]...)
		return true, nil
	}
	return false, nil
}

// tryWrite is one non-blocking write(2): it returns how much the socket took (0 when it is full).
func (w *connWriter) tryWrite(p []byte) (int, error) {
	var n int
	var werr error
	err := w.raw.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), p)
			if werr != syscall.EINTR {
				return true // never wait for the poller here: drain does that
			}
		}
	})
	if n < 0 {
		n = 0
	}
	if errors.Is(werr, syscall.EAGAIN) {
		werr = nil
	}
	if err == nil {
		err = werr
	}
	return n, err
}

// drain writes what is pending, blocking for at most timeout.
func (w *connWriter) drain() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.drainLocked()
}

func (w *connWriter) drainLocked() error {
	if w.err != nil || len(w.pending) == 0 {
		return w.err
	}
	n := len(w.pending)
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	_, err := w.conn.Write(w.pending)
	_ = w.conn.SetWriteDeadline(time.Time{})
	if cap(w.pending) > pendingKeep {
		w.pending = nil
	} else {
		w.pending = w.pending[:0]
	}
	if err != nil {
		w.err = fmt.Errorf("write %d bytes: %w", n, err)
	}
	return w.err
}

// seal stops data frames: what is offered from now on is dropped (the close frame comes next).
func (w *connWriter) seal() {
	w.mu.Lock()
	w.sealed = true
	w.mu.Unlock()
}

// Write is what coder/websocket's buffered writer flushes to (control frames): after what is
// pending, straight to the connection. coder/websocket bounds it with its context.
func (w *connWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.drainLocked(); err != nil {
		return 0, err
	}
	return w.conn.Write(p)
}
