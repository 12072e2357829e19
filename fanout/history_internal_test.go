package fanout

import (
	"fmt"
	"testing"
)

// TestLagHistory: lines are found by number while they follow one another; trim drops what every
// lagging client is past; a full history makes room for the next line by dropping its oldest; a
// line that does not follow on starts it again.
func TestLagHistory(t *testing.T) {
	var h lagHistory
	frame := func(n int) *frame { return &frame{cursor: fmt.Sprint(n), data: make([]byte, 1<<20)} }
	for n := 10; n < 14; n++ {
		h.add(int64(n), frame(n))
	}
	if f, ok := h.get(12); !ok || f.cursor != "12" {
		t.Fatalf("get(12) = %v, %v", f, ok)
	}
	if _, ok := h.get(9); ok {
		t.Fatal("line 9 was never added")
	}
	h.trim(11)
	if _, ok := h.get(11); ok || h.len() != 2 {
		t.Fatalf("after trim(11): len %d, line 11 still there %v", h.len(), ok)
	}
	const fits = historyBytes >> 20 // frames of 1 MiB
	last := int64(12 + 3*fits)      // three histories' worth of lines, in order
	for n := int64(14); n <= last; n++ {
		h.add(n, frame(int(n)))
		if h.bytes > historyBytes {
			t.Fatalf("after line %d: %d bytes", n, h.bytes)
		}
	}
	if h.len() != fits || h.first != last-fits+1 {
		t.Fatalf("full: %d lines from %d, want the newest %d (from %d)", h.len(), h.first, fits, last-fits+1)
	}
	for _, n := range []int64{h.first, last} {
		if f, ok := h.get(n); !ok || f.cursor != fmt.Sprint(n) {
			t.Fatalf("get(%d) = %v, %v", n, f, ok)
		}
	}
	if _, ok := h.get(h.first - 1); ok {
		t.Fatal("a dropped line is still found")
	}
	h.add(last+5, frame(int(last+5))) // not the next line
	if h.first != last+5 || h.len() != 1 {
		t.Fatalf("a line that does not follow on restarts the history: first %d, len %d", h.first, h.len())
	}
	h.trim(last + 5)
	if h.len() != 0 || h.bytes != 0 {
		t.Fatalf("trimmed whole: len %d, %d bytes", h.len(), h.bytes)
	}
}
