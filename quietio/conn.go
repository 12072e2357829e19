package quietio

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
)

// Listener wraps ln so that the TCP connections it accepts are Conns. Anything else it accepts
// (a Unix-domain connection) is returned as it is.
func Listener(ln net.Listener) net.Listener { return listener{ln} }

type listener struct{ net.Listener }

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		if raw, err := tc.SyscallConn(); err == nil {
			return &Conn{TCPConn: tc, raw: raw}, nil
		}
	}
	return c, nil
}

// Conn is a TCP connection whose writes are Write calls. Everything else is the TCPConn's own:
// reads, deadlines (a write waiting for a full socket ends at the write deadline, as it would
// through net.Conn), CloseWrite, and SyscallConn, through which the parent passes the
// descriptor of a WebSocket subscriber to a child.
type Conn struct {
	*net.TCPConn
	raw syscall.RawConn
	// While holding (Hold), Write keeps its bytes in held; the next ReadFrom of a *net.Buffers
	// sends them in its first writev, or Release writes them.
	holding bool
	held    []byte
}

// Hold makes Write keep what it is given, unwritten, until the next ReadFrom, which sends it in
// the same writev(2) as the pieces it writes, or Release. net/http writes a response's header
// (and the first 512 bytes of a body given to its ReadFrom) in a write of its own; held, they go
// out with the rest of the body in one system call, as one burst for the client to wake up to.
// Hold and the writes it holds must come from one goroutine (a handler), which must Release.
func (c *Conn) Hold() { c.holding = true }

// Release stops holding and writes what is still held.
func (c *Conn) Release() error {
	c.holding = false
	if len(c.held) == 0 {
		return nil
	}
	_, err := c.Write(c.held)
	c.held = c.held[:0]
	return err
}

// Write writes all of p, waiting in the runtime's poller while the socket is full. Outside a hold
// it is safe for concurrent use: each call holds the connection's write lock throughout, so the
// bytes of two calls never interleave.
func (c *Conn) Write(p []byte) (int, error) {
	if c.holding {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	done := 0
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		for done < len(p) {
			n, err := Write(fd, p[done:])
			done += n
			if errors.Is(err, syscall.EAGAIN) {
				return false // wait until the socket can take more
			}
			if err != nil {
				werr = os.NewSyscallError("write", err)
				return true
			}
		}
		return true
	})
	return done, c.writeError("write", err, werr)
}

// writeError is the error of a write as net.Conn gives it, one *net.OpError, or nil: pollErr is
// the poller's (a deadline, a closed connection), callErr the system call's.
func (c *Conn) writeError(op string, pollErr, callErr error) error {
	err := pollErr
	if err == nil {
		err = callErr
	}
	if err == nil {
		return nil
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: unwrapOp(err)}
}

// unwrapOp drops the OpError that net's RawConn puts around a poller error (a deadline, a closed
// connection), so that ours is the only one, as from net.Conn.Write.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err
	}
	return err
}

type connKey struct{}

// ConnContext is for http.Server.ConnContext: it records the connection of each request, for
// FromContext.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if qc, ok := c.(*Conn); ok {
		return context.WithValue(ctx, connKey{}, qc)
	}
	return ctx
}

// FromContext is the Conn a request came on, or nil (a server without ConnContext, a
// connection of another kind).
func FromContext(ctx context.Context) *Conn {
	c, _ := ctx.Value(connKey{}).(*Conn)
	return c
}
