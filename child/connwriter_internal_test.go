package child

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns both ends of a real loopback TCP connection.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

// readAll reads exactly n bytes from c in the background.
func readAll(c net.Conn, n int) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, n)
		k, _ := io.ReadFull(c, buf)
		got <- buf[:k]
	}()
	return got
}

// TestConnWriterOffer: on a socket with room, an offer is written at once; on a full one (the peer
// does not read) the rest is kept, later offers queue behind it, a control frame written meanwhile
// follows everything accepted before it, and drain delivers it all in order.
func TestConnWriterOffer(t *testing.T) {
	a, b := tcpPair(t)
	if err := a.SetWriteBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
	w := newConnWriter(a, 5*time.Second)
	if w.raw == nil {
		t.Fatal("a TCP connection has no raw fd")
	}
	if blocked, err := w.offer([]byte("first")); blocked || err != nil {
		t.Fatalf("offer on an empty socket: blocked %v, err %v", blocked, err)
	}
	var want bytes.Buffer
	want.WriteString("first")
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB per offer
	blocked := false
	for i := 0; i < 64 && !blocked; i++ {
		var err error
		if blocked, err = w.offer(chunk); err != nil {
			t.Fatal(err)
		}
		want.Write(chunk)
	}
	if !blocked {
		t.Fatal("4 MiB offered to a peer that reads nothing, and the socket never filled")
	}
	if b2, err := w.offer([]byte("queued")); !b2 || err != nil {
		t.Fatalf("offer while blocked: blocked %v, err %v (want it queued behind the pending bytes)", b2, err)
	}
	want.WriteString("queued")
	got := readAll(b, want.Len()+len("PONG"))
	if _, err := w.Write([]byte("PONG")); err != nil { // drains first, so it is the last thing read
		t.Fatal(err)
	}
	want.WriteString("PONG")
	if err := w.drain(); err != nil {
		t.Fatal(err)
	}
	if g := <-got; !bytes.Equal(g, want.Bytes()) {
		t.Fatalf("read %d bytes, want %d in order", len(g), want.Len())
	}
}

// TestConnWriterStuck: a peer that never reads makes drain fail after the timeout, and the writer
// stays failed; after seal, offers are dropped.
func TestConnWriterStuck(t *testing.T) {
	a, _ := tcpPair(t)
	w := newConnWriter(a, 200*time.Millisecond)
	chunk := make([]byte, 256<<10)
	for blocked := false; !blocked; {
		var err error
		if blocked, err = w.offer(chunk); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	err := w.drain()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("drain with nobody reading: %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the write timed out after %v, want about 200ms", d)
	}
	if _, err := w.offer([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("offer after the failure: %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write after the failure: %v", err)
	}

	c, d := tcpPair(t)
	w = newConnWriter(c, time.Second)
	w.seal()
	if blocked, err := w.offer([]byte("dropped")); blocked || err != nil {
		t.Fatalf("offer after seal: blocked %v, err %v", blocked, err)
	}
	got := readAll(d, 5)
	if _, err := w.Write([]byte("close")); err != nil {
		t.Fatal(err)
	}
	if g := <-got; string(g) != "close" {
		t.Fatalf("after seal the peer read %q, want only the close frame", g)
	}
}

// TestConnWriterNoFD: a connection without a file descriptor (net.Pipe) gets every offer through
// drain, in order.
func TestConnWriterNoFD(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := newConnWriter(a, time.Second)
	for _, s := range []string{"one", "two"} {
		if blocked, err := w.offer([]byte(s)); !blocked || err != nil {
			t.Fatalf("offer %q on a pipe: blocked %v, err %v (want it left to drain)", s, blocked, err)
		}
	}
	got := readAll(b, 6)
	if err := w.drain(); err != nil {
		t.Fatal(err)
	}
	if g := <-got; string(g) != "onetwo" {
		t.Fatalf("read %q", g)
	}
}

// TestAppendTextMessage: the three RFC 6455 payload length encodings.
func TestAppendTextMessage(t *testing.T) {
	for _, tc := range []struct {
		n    int
		head []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xFF, 0xFF}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	} {
		data := bytes.Repeat([]byte("x"), tc.n)
		got := appendTextMessage([]byte("prev"), data)
		want := append(append([]byte("prev"), tc.head...), data...)
		if !bytes.Equal(got, want) {
			t.Errorf("length %d: header % x, want % x", tc.n, got[4:4+len(tc.head)], tc.head)
		}
	}
}
