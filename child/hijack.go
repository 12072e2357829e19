package child

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// handshakeLimit bounds the time a handed-off connection has to complete its upgrade request.
const handshakeLimit = 10 * time.Second

// prefixConn reads the bytes the parent already consumed before reading the connection itself, so
// that no byte the client sent is lost, however the request and what followed it were split.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// readRequest reads the upgrade request from pre followed by conn. The returned connection and reader
// hold whatever the client sent after the request.
func readRequest(conn net.Conn, pre []byte) (*http.Request, net.Conn, *bufio.Reader, error) {
	pc := &prefixConn{Conn: conn, r: io.MultiReader(bytes.NewReader(pre), conn)}
	br := bufio.NewReaderSize(pc, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(handshakeLimit))
	req, err := http.ReadRequest(br)
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read upgrade request: %w", err)
	}
	req.RemoteAddr = conn.RemoteAddr().String()
	return req, pc, br, nil
}

// hijackWriter is the http.ResponseWriter that websocket.Accept needs over a connection no
// http.Server owns: the 101 response is written by Hijack (Accept hijacks right after WriteHeader),
// anything else is written as a complete response.
type hijackWriter struct {
	conn     net.Conn
	br       *bufio.Reader
	out      io.Writer // what the WebSocket's bufio.Writer flushes to (a *corkWriter over conn)
	header   http.Header
	status   int
	hijacked bool
}

func newHijackWriter(conn net.Conn, br *bufio.Reader, out io.Writer) *hijackWriter {
	return &hijackWriter{conn: conn, br: br, out: out, header: make(http.Header)}
}

func (w *hijackWriter) Header() http.Header { return w.header }

func (w *hijackWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// Write sends a non-upgrade response (an error) in full, then the connection is closed by the caller.
func (w *hijackWriter) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.header.Set("Connection", "close")
	w.header.Set("Content-Length", fmt.Sprint(len(p)))
	if err := w.writeHead(); err != nil {
		return 0, err
	}
	return w.conn.Write(p)
}

func (w *hijackWriter) writeHead() error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", w.status, http.StatusText(w.status))
	if err := w.header.Write(&b); err != nil {
		return err
	}
	b.WriteString("\r\n")
	_ = w.conn.SetWriteDeadline(time.Now().Add(handshakeLimit))
	_, err := w.conn.Write(b.Bytes())
	_ = w.conn.SetWriteDeadline(time.Time{})
	return err
}

func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.status != http.StatusSwitchingProtocols {
		return nil, nil, errors.New("hijack without a 101 response")
	}
	if err := w.writeHead(); err != nil {
		return nil, nil, fmt.Errorf("write 101 response: %w", err)
	}
	w.hijacked = true
	return w.conn, bufio.NewReadWriter(w.br, bufio.NewWriter(w.out)), nil
}

// corkMax bounds what a cork holds: past it, the batch so far goes out at once.
const corkMax = 256 << 10

// corkWriter is what coder/websocket's buffered writer flushes to. coder/websocket flushes after
// every message, so a client would cost one write(2) per frame; while the client's writer goroutine
// writes a batch of frames the corkWriter is corked: flushed bytes are appended to a buffer and go
// out in one conn.Write when the batch ends (or the buffer passes corkMax). Outside a batch (pongs
// and close frames from the read goroutine) writes go straight through. Everything passes under
// one lock, so bytes reach the connection in the order they were flushed, whoever flushed them.
type corkWriter struct {
	conn    net.Conn
	timeout time.Duration // bounds each conn.Write of corked bytes

	mu     sync.Mutex
	corked bool
	buf    *[]byte // held bytes (from corkBufs) while corked
	err    error   // sticky: the connection broke under a corked write
}

func newCorkWriter(conn net.Conn, timeout time.Duration) *corkWriter {
	return &corkWriter{conn: conn, timeout: timeout}
}

func (w *corkWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if !w.corked {
		// coder/websocket bounds this write with its context (it closes the connection on expiry).
		return w.conn.Write(p)
	}
	if w.buf == nil {
		w.buf = corkBufs.Get().(*[]byte)
	}
	*w.buf = append(*w.buf, p...)
	if len(*w.buf) >= corkMax {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// cork starts a batch: writes are held until uncork.
func (w *corkWriter) cork() {
	w.mu.Lock()
	w.corked = true
	w.mu.Unlock()
}

// uncork ends a batch, writing what it held in one conn.Write within the timeout.
func (w *corkWriter) uncork() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.corked = false
	err := w.err
	if err == nil {
		err = w.flushLocked()
	}
	if w.buf != nil { // an idle client holds no buffer
		if cap(*w.buf) <= 2*corkMax { // not one that a huge frame grew
			*w.buf = (*w.buf)[:0]
			corkBufs.Put(w.buf)
		}
		w.buf = nil
	}
	return err
}

// corkBufs recycles cork buffers between batches (and clients).
var corkBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (w *corkWriter) flushLocked() error {
	if w.buf == nil || len(*w.buf) == 0 {
		return nil
	}
	n := len(*w.buf)
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	_, err := w.conn.Write(*w.buf)
	_ = w.conn.SetWriteDeadline(time.Time{})
	*w.buf = (*w.buf)[:0]
	if err != nil {
		w.err = fmt.Errorf("write %d bytes: %w", n, err)
		return w.err
	}
	return nil
}
