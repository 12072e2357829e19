package fanout

import (
	"bytes"
	"io"
	"net"
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

// smallTCPPair is tcpPair with fixed small buffers on both ends (no autotuning): once the
// socket is full, it stays full until the peer reads.
func smallTCPPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	a, b := tcpPair(t)
	if err := a.SetWriteBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
	if err := b.SetReadBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
	return a, b
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

func (w *connWriter) offer(p []byte, now time.Time) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.offerLocked(p, now)
}

func (w *connWriter) retry(now time.Time) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.retryLocked(now)
}

// fill offers chunks to a peer that reads nothing until the socket is full.
func fill(t *testing.T, w *connWriter, want *bytes.Buffer) {
	t.Helper()
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4<<10) // 64 KiB per offer
	for i := 0; i < 128; i++ {
		blocked, err := w.offer(chunk, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if want != nil {
			want.Write(chunk)
		}
		if blocked {
			return
		}
	}
	t.Fatal("8 MiB offered to a peer that reads nothing, and the socket never filled")
}

// TestConnWriterOffer: on a socket with room an offer is written at once; on a full one the rest
// is kept and later offers go after it; a control frame written meanwhile does not wait
// and follows everything accepted before it; retries deliver it all in order once the peer reads.
func TestConnWriterOffer(t *testing.T) {
	a, b := smallTCPPair(t)
	pendingCalls := 0
	w := newConnWriter(a, func() { pendingCalls++ })
	if w.raw == nil {
		t.Fatal("a TCP connection has no raw fd")
	}
	if blocked, err := w.offer([]byte("first"), time.Now()); blocked || err != nil {
		t.Fatalf("offer on an empty socket: blocked %v, err %v", blocked, err)
	}
	var want bytes.Buffer
	want.WriteString("first")
	fill(t, w, &want)
	if _, err := w.offer([]byte("next"), time.Now()); err != nil { // after the pending bytes
		t.Fatal(err)
	}
	want.WriteString("next")
	if _, err := w.Write([]byte("PONG")); err != nil { // returns: nobody reads b yet
		t.Fatal(err)
	}
	if pendingCalls != 1 {
		t.Fatalf("a control frame on a full socket called onPending %d times; want one call", pendingCalls)
	}
	want.WriteString("PONG")
	got := readAll(b, want.Len())
	for {
		blocked, err := w.retry(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !blocked {
			break
		}
		time.Sleep(time.Millisecond) // the flusher's next round
	}
	if g := <-got; !bytes.Equal(g, want.Bytes()) {
		t.Fatalf("read %d bytes, want %d in order", len(g), want.Len())
	}
}

// TestConnWriterStuck: a peer that takes nothing never fails the connection here; stuckFor says
// since when it took nothing, and starts again once it takes bytes. Once sealed, offers are
// dropped and Write waits for its bytes to go out.
func TestConnWriterStuck(t *testing.T) {
	a, b := smallTCPPair(t)
	w := newConnWriter(a, nil)
	if d := w.stuckFor(time.Now()); d != 0 {
		t.Fatalf("stuckFor with nothing pending: %v", d)
	}
	var want bytes.Buffer
	fill(t, w, &want)
	// Retries an hour apart: still blocked, never failed. The kernel may move a little of the
	// send buffer along meanwhile (that is progress: stuckFor counts from the last retry then).
	at := time.Now()
	for range 3 {
		at = at.Add(time.Hour)
		if blocked, err := w.retry(at); !blocked || err != nil {
			t.Fatalf("retry an hour later: blocked %v, err %v; want still blocked, no error", blocked, err)
		}
	}
	if d := w.stuckFor(at.Add(time.Hour)); d < time.Hour {
		t.Fatalf("stuckFor an hour after the last retry: %v", d)
	}
	got := readAll(b, want.Len())
	for {
		blocked, err := w.retry(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !blocked {
			break
		}
		if d := w.stuckFor(time.Now()); d >= time.Minute {
			t.Fatalf("the peer is reading, and stuckFor is still %v", d)
		}
		time.Sleep(time.Millisecond) // the flusher's next round
	}
	if g := <-got; !bytes.Equal(g, want.Bytes()) {
		t.Fatalf("read %d bytes, want %d in order", len(g), want.Len())
	}
	if d := w.stuckFor(time.Now()); d != 0 {
		t.Fatalf("stuckFor once everything was written: %v", d)
	}
	if n := w.written.Load(); n != uint64(want.Len()) {
		t.Fatalf("written counts %d bytes, want %d", n, want.Len())
	}

	c, d := tcpPair(t)
	w = newConnWriter(c, nil)
	w.seal()
	if blocked, err := w.offer([]byte("dropped"), time.Now()); blocked || err != nil {
		t.Fatalf("offer after seal: blocked %v, err %v", blocked, err)
	}
	got = readAll(d, 5)
	if _, err := w.Write([]byte("close")); err != nil {
		t.Fatal(err)
	}
	if g := <-got; string(g) != "close" {
		t.Fatalf("after seal the peer read %q, want only the close frame", g)
	}
}

// TestConnWriterNoFD: a connection without a file descriptor (net.Pipe) gets bounded writes,
// retried until the peer has read everything, in order.
func TestConnWriterNoFD(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := newConnWriter(a, nil)
	if blocked, err := w.offer([]byte("one"), time.Now()); !blocked || err != nil {
		t.Fatalf("offer on a pipe nobody reads: blocked %v, err %v", blocked, err)
	}
	got := readAll(b, 3)
	for blocked := true; blocked; {
		var err error
		if blocked, err = w.retry(time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if g := <-got; string(g) != "one" {
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

// TestRetryDelay: blocked clients are retried soon when few are blocked, no more often than every
// retryMax when many are (each retry is a write per client), and never before the coalescing delay.
func TestRetryDelay(t *testing.T) {
	fl := newFlusher()
	if d := fl.retryDelay(); d != retryMin {
		t.Errorf("no client blocked: %v, want %v", d, retryMin)
	}
	fl.blocked = make([]*client, 25)
	if d := fl.retryDelay(); d != retryMin+25*retryPerClient {
		t.Errorf("25 blocked: %v, want %v", d, retryMin+25*retryPerClient)
	}
	fl.blocked = make([]*client, 5000)
	if d := fl.retryDelay(); d != retryMax {
		t.Errorf("5,000 blocked: %v, want %v", d, retryMax)
	}
	fl.setDelay(300 * time.Millisecond)
	if d := fl.retryDelay(); d != 300*time.Millisecond {
		t.Errorf("paced at 300ms: %v, want the pace", d)
	}
}
