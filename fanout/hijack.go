package fanout

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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

// withPrefix returns conn reading b first.
func withPrefix(conn net.Conn, b []byte) net.Conn {
	return &prefixConn{Conn: conn, r: io.MultiReader(bytes.NewReader(b), conn)}
}

// readRequest reads the upgrade request from pre followed by conn. The returned connection and reader
// hold whatever the client sent after the request.
func readRequest(conn net.Conn, pre []byte) (*http.Request, net.Conn, *bufio.Reader, error) {
	pc := withPrefix(conn, pre)
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
	out      io.Writer // what the WebSocket's bufio.Writer flushes to (the client's connWriter)
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
	// The upgrade request needed br's 4 KiB; what the WebSocket reads and writes from now on are
	// control frames (a data frame from a client is read and discarded, and the flusher writes the
	// data frames to the socket itself). Small buffers keep a client's memory to its socket: 7 KiB
	// less a client, which is 7 MB a thousand subscribers. What br read ahead goes before the
	// connection: the WebSocket keeps only its reader's buffered bytes, then reads the connection.
	conn := w.conn
	if n := w.br.Buffered(); n > 0 {
		rest, _ := w.br.Peek(n)
		conn = withPrefix(conn, bytes.Clone(rest))
	}
	r := bufio.NewReaderSize(conn, wsReadBuffer)
	return conn, bufio.NewReadWriter(r, bufio.NewWriterSize(w.out, wsWriteBuffer)), nil
}

// The WebSocket's buffers once the handshake is done. A control frame is at most 127 bytes.
const (
	wsReadBuffer  = 512
	wsWriteBuffer = 256
)
