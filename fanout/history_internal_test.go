package fanout

import (
	"fmt"
	"testing"
)

// TestLagHistory: lines are found by number while they follow one another; trim drops what every
// lagging client is past; a full history adds nothing until it was taken whole, then starts again
// at the line being published.
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
	for n := 14; n < 14+historyBytes>>20; n++ { // fills it: the last add does not fit
		h.add(int64(n), frame(n))
	}
	if !h.full || h.bytes > historyBytes {
		t.Fatalf("full %v, %d bytes", h.full, h.bytes)
	}
	last := int64(14 + historyBytes>>20 - 1)
	if _, ok := h.get(last); ok {
		t.Fatalf("line %d was added to a full history", last)
	}
	h.trim(20)
	h.add(last+1, frame(int(last+1))) // room again, but the lines would not follow on
	if _, ok := h.get(last + 1); ok {
		t.Fatal("a full history took a line before it was emptied")
	}
	h.trim(last)
	h.add(last+2, frame(int(last+2)))
	if f, ok := h.get(last + 2); !ok || h.first != last+2 || f.cursor != fmt.Sprint(last+2) {
		t.Fatalf("after emptying, the history restarts at the next line: first %d, ok %v", h.first, ok)
	}
	h.add(last+5, frame(int(last+5))) // not the next line
	if h.first != last+5 || h.len() != 1 {
		t.Fatalf("a line that does not follow on restarts the history: first %d, len %d", h.first, h.len())
	}
}
