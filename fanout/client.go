package fanout

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/protocol"
)

const (
	clientReadMax  = 64 << 10 // collectors send nothing but control frames
	closeCodeNoWS  = 1002     // reported when the WebSocket handshake itself failed
	closeCodeWrite = 1006     // reported when the connection broke under a write
)

// client is one WebSocket subscriber inside a child.
type client struct {
	srv    *server
	info   child.ClientInfo
	cursor map[string]string
	raw    net.Conn
	pre    []byte
	q      *outQueue

	ctx    context.Context // cancelled when the client is torn down (aborts writes and catch-ups)
	cancel context.CancelFunc

	ws        *websocket.Conn
	out       *connWriter // every byte after the 101: the flusher's frames and ws's control frames
	sent      atomic.Uint64
	live      atomic.Bool // the 101 is out: the flusher may write frames
	blocked   bool        // out has bytes pending: in the flusher's blocked list (flusher only)
	marked    bool        // in the flusher's next round (under flusher.mu)
	failMu    sync.Mutex  // guards the write failure that closed the client, for its log line
	failErr   error
	failWhy   string
	failQuiet bool
	reportMu  sync.Mutex      // orders the connected and closed reports
	handshook bool            // the handshake is over (either way): a close is reported at once
	closing   context.Context // done once the client is closing, whoever closed it
	closeNow  context.CancelFunc
	closeOnce sync.Once
	closeCode int
	closeWhy  string
	sendClose bool // write a close frame (false when the peer or the network ended it)
	done      chan struct{}
}

func newClient(s *server, h child.Handoff, raw net.Conn, pre []byte, maxFrames int) *client {
	ctx, cancel := context.WithCancel(context.Background())
	closing, closeNow := context.WithCancel(context.Background())
	c := &client{
		srv:      s,
		info:     child.ClientInfo{ID: h.ClientID, Key: h.Key, Remote: h.Remote, ConnectedSince: time.Now()},
		cursor:   h.Cursor,
		raw:      raw,
		pre:      pre,
		q:        newOutQueue(maxFrames, maxQueueBytes),
		ctx:      ctx,
		cancel:   cancel,
		closing:  closing,
		closeNow: closeNow,
		done:     make(chan struct{}),
	}
	// Every byte after the 101 goes to the socket itself (conn, with the bytes read ahead, hides its fd).
	c.out = newConnWriter(raw, func() { s.flush.mark(c) })
	c.q.onPush = func() {
		if c.live.Load() {
			s.flush.mark(c)
		}
	}
	return c
}

// maxQueueBytes bounds a client's queue in bytes as well as frames (frames are shared, so this only
// matters for a client signed for alone during catch-up; it also stops one huge-line flood).
const maxQueueBytes = 256 << 20

func (c *client) isClosing() bool { return c.closing.Err() != nil }

// close starts closing the client (the first call wins) and reports it to the parent at once, or,
// during the WebSocket handshake, as soon as the handshake is over (see endHandshake); the close
// handshake then runs on a goroutine of its own (see run). Never blocks.
func (c *client) close(code int, reason string, sendFrame bool) {
	c.closeOnce.Do(func() {
		c.reportMu.Lock()
		defer c.reportMu.Unlock()
		c.closeCode, c.closeWhy, c.sendClose = code, reason, sendFrame
		c.closeNow()
		if c.handshook {
			c.srv.events.closed(c.info.ID, code, reason)
		}
	})
}

// endHandshake ends the handshake phase: it reports the client connected when the handshake
// succeeded, then its close if it was closed meanwhile (subscribed before the 101, it may already
// be: a bad cursor, a slow start, CloseClient). The parent never sees a close before the connect.
// It returns whether the client is open.
func (c *client) endHandshake(ok bool) bool {
	c.reportMu.Lock()
	defer c.reportMu.Unlock()
	if c.handshook {
		return !c.isClosing()
	}
	c.handshook = true
	if ok {
		c.srv.events.connected(c.info)
	}
	if c.isClosing() {
		c.srv.events.closed(c.info.ID, c.closeCode, c.closeWhy)
		return false
	}
	return true
}

func (c *client) handshakeFailed(err error) {
	c.srv.log.Warn("client handshake failed", "client", c.info.ID, "remote", c.info.Remote, "err", err)
	c.endHandshake(false)
	c.close(closeCodeNoWS, "handshake: "+err.Error(), false)
}

// run serves the client from handshake to teardown.
func (c *client) run() {
	defer c.teardown()
	req, conn, br, err := readRequest(c.raw, c.pre)
	c.pre = nil
	if err != nil {
		c.handshakeFailed(err)
		return
	}
	// Join the streams before the 101 goes out: a line published once the client can see it is
	// connected must reach it. Frames queue up until the writer starts; teardown leaves the streams
	// if the handshake fails.
	c.srv.feed.subscribe(c)
	ws, err := websocket.Accept(newHijackWriter(conn, br, c.out), req, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // the parent authenticated the upgrade; collectors send no Origin
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		c.handshakeFailed(err)
		return
	}
	ws.SetReadLimit(clientReadMax)
	c.ws = ws
	if !c.endHandshake(true) { // closed (CloseClient, shutdown, bad cursor) during the handshake
		c.finish()
		return
	}
	c.live.Store(true)
	c.srv.flush.mark(c) // frames queued before the 101
	// This goroutine reads until the connection ends; the flusher writes. A close decided anywhere
	// (the flusher, the parent, a stop, the read itself) runs the close handshake on a goroutine
	// started only then, which ends the read: a connected client costs one parked goroutine.
	finished := make(chan struct{})
	context.AfterFunc(c.closing, func() {
		defer close(finished)
		c.logWriteFailure()
		c.finish()
	})
	c.readLoop()
	<-finished
}

// readLoop discards what the client sends (answering pings and close frames) until it goes.
func (c *client) readLoop() {
	for {
		if _, _, err := c.ws.Read(c.ctx); err != nil {
			code, why := int(websocket.CloseStatus(err)), "client closed"
			var ce websocket.CloseError
			if errors.As(err, &ce) && ce.Reason != "" {
				why = "client closed: " + ce.Reason
			}
			if code == -1 {
				code, why = closeCodeWrite, fmt.Sprintf("connection lost: %v", err)
			}
			c.close(code, why, false)
			return
		}
	}
}

// writeFailed closes a client whose connection broke under a write: no close frame can follow,
// the client sees the connection end (1006). It is called by the flusher, which must never wait,
// so the log line is left to the goroutine that runs the close (logWriteFailure): a log write
// can block on a busy parent's stderr pipe.
func (c *client) writeFailed(err error) {
	c.failed(err, "write failed", closeCodeWrite, fmt.Sprintf("write failed: %v", err), false)
}

// stall closes a client that took no bytes at all for the stall timeout (1008). A slow client
// that takes anything is never closed: it reads the data log at its own position instead.
func (c *client) stall(d time.Duration) {
	if c.isClosing() {
		return
	}
	c.srv.stalled.Add(1)
	why := fmt.Sprintf("stalled: took no bytes for %s", d.Round(time.Second))
	c.failed(errStalled, why, protocol.CloseSlowConsumer, why+"; resume from your last cursor", true)
}

var errStalled = errors.New("client stalled")

// failed records why the flusher closed c, for logWriteFailure, and closes it.
func (c *client) failed(err error, why string, code int, reason string, sendFrame bool) {
	wasClosing := c.isClosing()
	c.failMu.Lock()
	if c.failErr == nil {
		c.failErr, c.failWhy, c.failQuiet = err, why, wasClosing
	}
	c.failMu.Unlock()
	c.close(code, reason, sendFrame)
}

// logWriteFailure logs, once the client is closing, the write failure that closed it, if any.
func (c *client) logWriteFailure() {
	c.failMu.Lock()
	err, why, quiet := c.failErr, c.failWhy, c.failQuiet
	c.failMu.Unlock()
	switch {
	case err == nil:
	case quiet: // it was closing anyway (the peer left, CloseClient, ...)
		c.srv.log.Debug("write failed while closing", "client", c.info.ID, "remote", c.info.Remote, "err", err)
	default:
		c.srv.log.Warn("client closed: "+why, "client", c.info.ID, "key", c.info.Key, "remote", c.info.Remote,
			"queued", c.q.depth(), "sent", c.sent.Load(), "err", err)
	}
}

// finish sends the close frame (when one is due) and releases the connection.
func (c *client) finish() {
	c.q.drop()
	c.out.seal() // the flusher may still hold frames for it: none may follow the close frame
	if c.sendClose {
		_ = c.ws.Close(websocket.StatusCode(c.closeCode), truncateReason(c.closeWhy))
	}
	_ = c.ws.CloseNow()
}

func (c *client) teardown() {
	c.endHandshake(false)                    // no-op unless it ended otherwise
	c.close(closeCodeWrite, "closed", false) // no-op unless nothing closed it yet
	c.cancel()
	_ = c.raw.Close()
	c.srv.feed.unsubscribe(c)
	c.srv.remove(c)
	close(c.done)
}

// truncateReason keeps a close reason within the 123 bytes a close frame allows.
func truncateReason(s string) string {
	if len(s) <= 123 {
		return s
	}
	s = s[:123]
	for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 {
		s = s[:len(s)-1]
	}
	return s
}

// stalledAfter is how long a client may take no bytes before /status calls it stalled: the
// stall timeout's half, at most 10 s.
func stalledAfter(timeout time.Duration) time.Duration { return min(timeout/2, 10*time.Second) }

func (c *client) stats(now time.Time, stallTimeout time.Duration) child.ClientStats {
	st := child.ClientStats{ID: c.info.ID, Key: c.info.Key, Remote: c.info.Remote,
		ConnectedSince: c.info.ConnectedSince, FramesSent: c.sent.Load(), QueueDepth: c.q.depth(),
		State: child.StateLive}
	st.BytesSent, st.Writes = c.out.written.Load(), c.out.writes.Load()
	if c.out.stuckFor(now) >= stalledAfter(stallTimeout) {
		st.State = child.StateStalled
	}
	return st
}
