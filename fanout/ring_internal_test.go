package fanout

import (
	"fmt"
	"testing"
)

// TestRingKeepsEveryFrameAfterWrapping: once a stream has published more lines than its ring
// holds, every line still in the ring is there and a resume from any of them replays the rest.
// (Evicting after storing once cleared the newest frame, and a resume then crashed the child.)
func TestRingKeepsEveryFrameAfterWrapping(t *testing.T) {
	const size, published = 8, 29
	h := &hub{ring: make([]*frame, size), first: 1, index: map[string]int64{},
		subs: map[*client]struct{}{}, pending: map[*client]*catchup{}}
	for i := 1; i <= published; i++ {
		h.publish(fmt.Sprintf("c%d", i), []byte(fmt.Sprintf(`{"n":%d}`, i)))
	}
	if h.first != published-size+1 || h.seq != published {
		t.Fatalf("ring holds %d..%d, want %d..%d", h.first, h.seq, published-size+1, published)
	}
	for s := h.first; s <= h.seq; s++ {
		fr := h.ring[s%size]
		if fr == nil || fr.seq != s || h.index[fr.cursor] != s {
			t.Fatalf("ring slot of seq %d holds %+v", s, fr)
		}
	}
	c := &client{q: newOutQueue(size, 1<<20)}
	from, ok := h.ringFrom(c, fmt.Sprintf("c%d", published-3))
	if !ok {
		t.Fatal("a cursor still in the ring was not found there")
	}
	h.replayLocked(c, from+1)
	var got []*frame
	got = c.q.take(got, size)
	if len(got) != 3 || got[0].seq != published-2 || got[2].seq != published {
		t.Fatalf("replayed %d frames after c%d", len(got), published-3)
	}
}
