package quietio_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/shardeum/distributor/quietio"
)

// unread is how many bytes have reached r and wait to be read. A loopback write(2) delivers its
// bytes to the peer before it returns, so this tells at once whether a write happened.
func unread(t *testing.T, r *net.TCPConn) int {
	t.Helper()
	raw, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var ierr error
	if err := raw.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil || ierr != nil {
		t.Fatal(err, ierr)
	}
	return n
}

func readN(t *testing.T, r *net.TCPConn, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHeldWritesGoOutWithTheBuffers(t *testing.T) {
	w, r := pair(t)
	w.Hold()
	if _, err := w.Write([]byte("HTTP/1.1 200 OK\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if n := unread(t, r); n != 0 {
		t.Fatalf("%d bytes reached the peer while held", n)
	}
	b := net.Buffers{[]byte("body "), nil, []byte("in pieces")}
	if n, err := w.ReadFrom(&b); err != nil || n != int64(len("body in pieces")) {
		t.Fatalf("ReadFrom = %d, %v: want the pieces' 14 bytes (not the held ones), nil", n, err)
	}
	if s := readN(t, r, len("HTTP/1.1 200 OK\r\n\r\nbody in pieces")); s != "HTTP/1.1 200 OK\r\n\r\nbody in pieces" {
		t.Fatalf("the peer got %q", s)
	}
	// ReadFrom ended the hold: writes go out at once again.
	if _, err := w.Write([]byte("next")); err != nil || unread(t, r) != 4 {
		t.Fatalf("a write after the hold ended did not go out: %v", err)
	}
	if err := w.Release(); err != nil || unread(t, r) != 4 {
		t.Fatalf("Release with nothing held wrote something: %v", err)
	}
}

func TestReleaseWritesWhatIsHeld(t *testing.T) {
	w, r := pair(t)
	w.Hold()
	for _, p := range []string{"a short reply", ", in two writes"} {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if n := unread(t, r); n != 0 {
		t.Fatalf("%d bytes reached the peer while held", n)
	}
	if err := w.Release(); err != nil {
		t.Fatal(err)
	}
	if s := readN(t, r, len("a short reply, in two writes")); s != "a short reply, in two writes" {
		t.Fatalf("the peer got %q", s)
	}
}

func TestHeldWritesGoFirstBeforeOtherReaders(t *testing.T) {
	w, r := pair(t)
	w.Hold()
	w.Write([]byte("held, "))
	if _, err := w.ReadFrom(strings.NewReader("then the reader")); err != nil {
		t.Fatal(err)
	}
	if s := readN(t, r, len("held, then the reader")); s != "held, then the reader" {
		t.Fatalf("the peer got %q", s)
	}
}

func TestConnContext(t *testing.T) {
	w, _ := pair(t)
	if c := quietio.FromContext(quietio.ConnContext(context.Background(), w)); c != w {
		t.Fatalf("FromContext = %p, want the Conn %p", c, w)
	}
	var other net.Conn = w.TCPConn
	if c := quietio.FromContext(quietio.ConnContext(context.Background(), other)); c != nil {
		t.Fatal("FromContext gave a Conn for a plain TCP connection")
	}
}
