package quietio_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shardeum/distributor/quietio"
)

// pair returns a Conn accepted through Listener on loopback, and the client end dialled to it.
// Writes of tens of MiB fill both socket buffers (at most a few MiB each), so they must wait for
// the reader. (Shrinking the buffers instead makes loopback TCP crawl: 50 KB/s at 4 KiB.)
func pair(t *testing.T) (*quietio.Conn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	qln := quietio.Listener(ln)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := qln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	c := <-accepted
	if c == nil {
		t.FailNow()
	}
	t.Cleanup(func() { c.Close() })
	qc, ok := c.(*quietio.Conn)
	if !ok {
		t.Fatalf("Listener accepted a %T from TCP, want *quietio.Conn", c)
	}
	return qc, client.(*net.TCPConn)
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i%251)
	}
	return b
}

func TestConnWritesAllOfALargeBufferThroughAFullSocket(t *testing.T) {
	w, r := pair(t)
	want := pattern(32<<20, 0) // far more than both socket buffers: the write must wait for the reader
	got := make(chan []byte, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, int64(len(want))))
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	n, err := w.Write(want)
	if err != nil || n != len(want) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(want))
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the reader got %d bytes, not the %d written, in order", len(b), len(want))
	}
}

func TestConcurrentWritesDoNotInterleave(t *testing.T) {
	w, r := pair(t)
	const size = 16 << 20
	var wg sync.WaitGroup
	for _, seed := range []byte{'a', 'b'} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.Write(bytes.Repeat([]byte{seed}, size)); err != nil {
				t.Error(err)
			}
		}()
	}
	b, err := io.ReadAll(io.LimitReader(r, 2*size))
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	first, second := b[:size], b[size:]
	if !bytes.Equal(first, bytes.Repeat(first[:1], size)) || !bytes.Equal(second, bytes.Repeat(second[:1], size)) || first[0] == second[0] {
		t.Fatalf("two writes of %d bytes each interleaved on the connection", size)
	}
}

func TestWriteEndsAtTheWriteDeadline(t *testing.T) {
	w, _ := pair(t) // the client never reads
	if err := w.SetWriteDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 64<<20)
	n, err := w.Write(p)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n >= len(p) {
		t.Fatalf("Write to a socket nobody reads = %d, %v; want fewer than %d bytes and os.ErrDeadlineExceeded", n, err, len(p))
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "write" || errors.As(op.Err, new(*net.OpError)) {
		t.Fatalf("error %#v: want one *net.OpError with Op write, as net.Conn.Write gives", err)
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	w, _ := pair(t)
	w.Close()
	if _, err := w.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close: %v, want net.ErrClosed", err)
	}
}

func TestWriteToAPeerThatHasGoneFails(t *testing.T) {
	w, r := pair(t)
	if err := r.SetLinger(0); err != nil { // close with a reset: our next write fails at once
		t.Fatal(err)
	}
	r.Close()
	var err error
	for i := 0; i < 100 && err == nil; i++ { // the first writes may land before the reset arrives
		_, err = w.Write(make([]byte, 64<<10))
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Write to a reset connection: %v, want ECONNRESET or EPIPE", err)
	}
}

func TestListenerKeepsTheDescriptorReachable(t *testing.T) {
	w, _ := pair(t)
	// The parent passes a subscriber's descriptor to a child through SyscallConn.
	var c net.Conn = w
	sc, ok := c.(syscall.Conn)
	if !ok {
		t.Fatal("a quietio.Conn does not implement syscall.Conn")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd uintptr
	if err := raw.Control(func(f uintptr) { fd = f }); err != nil || fd == 0 {
		t.Fatalf("Control: fd %d, %v", fd, err)
	}
}

func TestListenerPassesOtherConnectionsThrough(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := quietio.Listener(ln).Accept()
		accepted <- c
	}()
	client, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c := <-accepted
	if c == nil {
		t.Fatal("Accept failed")
	}
	defer c.Close()
	if _, ok := c.(*net.UnixConn); !ok {
		t.Fatalf("Listener turned a Unix-domain connection into a %T", c)
	}
}

func TestWriteOfNothing(t *testing.T) {
	if n, err := quietio.Write(^uintptr(0), nil); n != 0 || err != nil {
		t.Fatalf("Write(nil) = %d, %v; want 0, nil without a system call", n, err)
	}
}
