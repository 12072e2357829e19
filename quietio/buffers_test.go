package quietio_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// pieces cuts want into n pieces of varied sizes, with empty pieces among them.
func pieces(want []byte, n int) net.Buffers {
	var b net.Buffers
	for i := 0; i < n && len(want) > 0; i++ {
		size := min(len(want), 1+(i*7919)%(2*len(want)/(n-i)+1))
		if i%10 == 3 {
			b = append(b, nil)
		}
		if i == n-1 {
			size = len(want)
		}
		b = append(b, want[:size])
		want = want[size:]
	}
	return b
}

func TestReadFromWritesBuffersInOrderThroughAFullSocket(t *testing.T) {
	w, r := pair(t)
	want := pattern(32<<20, 7)
	b := pieces(want, 3000) // more pieces than one writev takes, more bytes than the sockets hold
	if len(b) <= 1024 {
		t.Fatalf("only %d pieces", len(b))
	}
	got := make(chan []byte, 1)
	go func() {
		all, err := io.ReadAll(io.LimitReader(r, int64(len(want))))
		if err != nil {
			t.Error(err)
		}
		got <- all
	}()
	n, err := w.ReadFrom(&b)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("ReadFrom = %d, %v; want %d, nil", n, err, len(want))
	}
	if len(b) != 0 {
		t.Errorf("%d pieces left in the buffers after ReadFrom: want them consumed", len(b))
	}
	if all := <-got; !bytes.Equal(all, want) {
		t.Fatalf("the reader got %d bytes, not the %d written, in order", len(all), len(want))
	}
}

func TestReadFromEndsAtTheWriteDeadline(t *testing.T) {
	w, _ := pair(t) // the client never reads
	if err := w.SetWriteDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	b := net.Buffers{make([]byte, 32<<20), make([]byte, 32<<20)}
	n, err := w.ReadFrom(&b)
	if !errors.Is(err, os.ErrDeadlineExceeded) || n >= 64<<20 {
		t.Fatalf("ReadFrom to a socket nobody reads = %d, %v; want fewer than %d bytes and os.ErrDeadlineExceeded", n, err, 64<<20)
	}
	var left int64
	for _, p := range b {
		left += int64(len(p))
	}
	if n+left != 64<<20 {
		t.Fatalf("%d bytes written and %d left in the buffers: want them to add up to %d", n, left, 64<<20)
	}
}

func TestReadFromOtherReaders(t *testing.T) {
	w, r := pair(t)
	want := "through the TCPConn's own ReadFrom"
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, int64(len(want))))
		got <- string(b)
	}()
	if n, err := w.ReadFrom(strings.NewReader(want)); err != nil || n != int64(len(want)) {
		t.Fatalf("ReadFrom = %d, %v", n, err)
	}
	if s := <-got; s != want {
		t.Fatalf("the reader got %q", s)
	}
}

func TestReadFromEmptyBuffers(t *testing.T) {
	w, _ := pair(t)
	b := net.Buffers{nil, {}, nil}
	if n, err := w.ReadFrom(&b); n != 0 || err != nil || len(b) != 0 {
		t.Fatalf("ReadFrom(empty pieces) = %d, %v, %d left; want 0, nil, 0", n, err, len(b))
	}
}
