package quietio

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// ReadFrom writes what r holds to the connection. A *net.Buffers (a reply in pieces: the REST
// API's pages assembled from cached rows) goes out through writev(2) calls, made as Write makes
// its write(2) calls, and is consumed as net.Buffers.WriteTo consumes it; the pieces are never
// copied into one buffer. Any other reader goes to the TCPConn's ReadFrom (sendfile, splice, or
// a copy through its Write).
//
// net/http's ResponseWriter hands a body given to its ReadFrom here, after the header and the
// body's first 512 bytes.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if b, ok := r.(*net.Buffers); ok {
		return c.writeBuffers(b)
	}
	if err := c.Release(); err != nil {
		return 0, err
	}
	return c.TCPConn.ReadFrom(r)
}

// maxIovecs is the most pieces one writev(2) takes (IOV_MAX on Linux).
const maxIovecs = 1024

var iovecPool = sync.Pool{New: func() any { v := make([]syscall.Iovec, 0, 256); return &v }}

func (c *Conn) writeBuffers(b *net.Buffers) (int64, error) {
	iovp := iovecPool.Get().(*[]syscall.Iovec)
	defer func() { clear((*iovp)[:cap(*iovp)]); iovecPool.Put(iovp) }() // the pool must not keep our bytes alive
	var total int64
	var werr error
	held := c.held // sent first: what Hold kept
	c.holding = false
	err := c.raw.Write(func(fd uintptr) bool {
		for len(held) > 0 || len(*b) > 0 {
			iov := (*iovp)[:0]
			if len(held) > 0 {
				v := syscall.Iovec{Base: &held[0]}
				v.SetLen(len(held))
				iov = append(iov, v)
			}
			iov = fillIovecs(iov, *b)
			*iovp = iov
			n, err := writev(fd, iov)
			k := min(n, len(held))
			held = held[k:]
			total += int64(n - k)
			consume(b, n-k)
			if errors.Is(err, syscall.EAGAIN) {
				return false // wait until the socket can take more
			}
			if err != nil {
				werr = os.NewSyscallError("writev", err)
				return true
			}
		}
		return true
	})
	c.held = c.held[:0]
	return total, c.writeError("writev", err, werr)
}

// fillIovecs appends to iov the non-empty pieces at the front of b, at most maxIovecs of them.
// Empty pieces among those are left for consume to drop.
func fillIovecs(iov []syscall.Iovec, b net.Buffers) []syscall.Iovec {
	for _, p := range b {
		if len(iov) == maxIovecs {
			break
		}
		if len(p) == 0 {
			continue
		}
		v := syscall.Iovec{Base: &p[0]}
		v.SetLen(len(p))
		iov = append(iov, v)
	}
	return iov
}

// consume drops the first n bytes of b: the pieces written whole, and the front of the piece
// written in part. Empty pieces at the front go too, so an all-empty b ends empty.
func consume(b *net.Buffers, n int) {
	for len(*b) > 0 {
		p := (*b)[0]
		if len(p) > n {
			(*b)[0] = p[n:]
			return
		}
		n -= len(p)
		(*b)[0] = nil
		*b = (*b)[1:]
	}
}
