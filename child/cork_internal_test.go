package child

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// writeCounter is a net.Conn that counts the Write calls reaching it.
type writeCounter struct {
	net.Conn
	mu     sync.Mutex
	writes int
}

func (c *writeCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *writeCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// TestCorkWriter: outside a batch bytes go straight through; a batch reaches the connection in one
// write (or one per corkMax), in the order it was written, also when another goroutine writes
// during it; a write that does not complete within the timeout fails, and stays failed.
func TestCorkWriter(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	conn := &writeCounter{Conn: a}
	w := newCorkWriter(conn, 200*time.Millisecond)
	got := make(chan []byte, 1)
	read := func(n int) {
		buf := make([]byte, n)
		_, err := io.ReadFull(b, buf)
		if err != nil {
			t.Error(err)
		}
		got <- buf
	}

	go read(3)
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if g := <-got; string(g) != "abc" || conn.count() != 1 {
		t.Fatalf("uncorked: read %q after %d writes", g, conn.count())
	}

	w.cork()
	var want bytes.Buffer
	for i := 0; i < 100; i++ {
		p := bytes.Repeat([]byte{byte('a' + i%26)}, 100)
		want.Write(p)
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { // a control frame from the read goroutine, mid-batch: it follows the batch's bytes
		defer close(done)
		if _, err := w.Write([]byte("PONG")); err != nil {
			t.Error(err)
		}
	}()
	<-done
	want.WriteString("PONG")
	if conn.count() != 1 {
		t.Fatalf("corked writes reached the connection: %d writes", conn.count())
	}
	go read(want.Len())
	if err := w.uncork(); err != nil {
		t.Fatal(err)
	}
	if g := <-got; !bytes.Equal(g, want.Bytes()) || conn.count() != 2 {
		t.Fatalf("batch: %d writes, bytes in order: %v", conn.count()-1, bytes.Equal(g, want.Bytes()))
	}

	// Past corkMax the batch so far goes out at once.
	w.cork()
	big := bytes.Repeat([]byte("x"), corkMax)
	go read(len(big) + 1)
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	if conn.count() != 3 {
		t.Fatalf("a corked batch of corkMax bytes was not written: %d writes", conn.count())
	}
	if _, err := w.Write([]byte("y")); err != nil {
		t.Fatal(err)
	}
	if err := w.uncork(); err != nil {
		t.Fatal(err)
	}
	if g := <-got; len(g) != len(big)+1 || g[len(g)-1] != 'y' || conn.count() != 4 {
		t.Fatalf("after corkMax: %d bytes, %d writes", len(g), conn.count())
	}

	// Nobody reads: the batch's write times out, and the writer stays failed.
	w.cork()
	if _, err := w.Write([]byte("stuck")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := w.uncork()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("uncork with nobody reading: %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the write timed out after %v, want about 200ms", d)
	}
	if _, err := w.Write([]byte("more")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write after the failure: %v", err)
	}
}
