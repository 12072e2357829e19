package collector

import (
	"io"
	"net"
	"testing"
)

// A subscriber's connection buffer, touched at creation, reads what the connection carries and
// nothing of the zeros it was touched with.
func TestBufferedConnReadsOnlyTheConnection(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := newBufferedConn(b, 1<<10)
	if n := c.r.Buffered(); n != 0 {
		t.Fatalf("%d bytes buffered before any read, want 0", n)
	}
	want := "first frame, then the rest"
	go func() {
		a.Write([]byte(want))
		a.Close()
	}()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != want {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}
