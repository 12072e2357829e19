package fanout

import (
	"fmt"
	"testing"
)

// TestRecentFramesEvictsOldestFirst: frames are found by cursor until recentBytes of newer ones
// push them out, oldest first; a cursor stored twice keeps its first frame.
func TestRecentFramesEvictsOldestFirst(t *testing.T) {
	var r recentFrames
	frame := make([]byte, 1000)
	n := recentBytes/len(frame) + 5000
	for i := range n {
		r.put(fmt.Sprint(i), frame)
	}
	kept := recentBytes / len(frame)
	if r.bytes > recentBytes || len(r.byCursor) != kept {
		t.Fatalf("%d frames, %d bytes kept; want %d frames within %d bytes", len(r.byCursor), r.bytes, kept, recentBytes)
	}
	for i := range n {
		if got := r.get(fmt.Sprint(i)) != nil; got != (i >= n-kept) {
			t.Fatalf("frame %d kept %v, want %v", i, got, i >= n-kept)
		}
	}
	other := []byte("other")
	r.put(fmt.Sprint(n-1), other)
	if string(r.get(fmt.Sprint(n-1))) == "other" {
		t.Fatal("a second put replaced the frame")
	}
	if len(r.order)-r.head != kept {
		t.Fatalf("order holds %d cursors, want %d", len(r.order)-r.head, kept)
	}
}
