package fanout

import (
	"context"
	"sync"
	"testing"
)

// TestJobQueueOrderAndShrink: one consumer gets jobs in push order; the queue grows past a burst and
// gives the burst's buffer back once emptied.
func TestJobQueueOrderAndShrink(t *testing.T) {
	q := newJobQueue()
	jobs := make([]*job, 3*shrinkAbove)
	for i := range jobs {
		jobs[i] = &job{size: i}
		q.push(jobs[i])
	}
	for i := range jobs {
		if j := q.pop(context.Background()); j != jobs[i] {
			t.Fatalf("pop %d = job %d, want job %d", i, j.size, i)
		}
	}
	if len(q.buf) != 0 {
		t.Errorf("emptied queue keeps a buffer of %d", len(q.buf))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if j := q.pop(ctx); j != nil {
		t.Errorf("pop on an empty queue with a done context = %v, want nil", j)
	}
}

// TestJobQueueConsumers: several consumers, pushes interleaved with pops, every job taken exactly once
// and none left waiting (a consumer that took the token passes it on while jobs remain).
func TestJobQueueConsumers(t *testing.T) {
	q := newJobQueue()
	const n = 20000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	seen := make(map[*job]int)
	var wg sync.WaitGroup
	got := make(chan struct{}, n)
	for range 4 {
		wg.Go(func() {
			for {
				j := q.pop(ctx)
				if j == nil {
					return
				}
				mu.Lock()
				seen[j]++
				mu.Unlock()
				got <- struct{}{}
			}
		})
	}
	for i := range n {
		q.push(&job{size: i})
	}
	for range n {
		<-got
	}
	cancel()
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d distinct jobs taken, want %d", len(seen), n)
	}
	for j, c := range seen {
		if c != 1 {
			t.Fatalf("job %d taken %d times", j.size, c)
		}
	}
}

// TestReserveBoundsLines: the read-ahead holds at most readAheadLines lines (and readAheadBytes of
// them), whatever the queues could hold; released lines make room again.
func TestReserveBoundsLines(t *testing.T) {
	var h hub
	done, cancel := context.WithCancel(context.Background())
	cancel() // reserve answers at once when there is room, and gives up (false) when there is none
	for i := range readAheadLines {
		if !h.reserve(done, 1) {
			t.Fatalf("line %d of %d refused", i+1, readAheadLines)
		}
	}
	if h.reserve(done, 1) {
		t.Fatalf("line %d accepted past readAheadLines", readAheadLines+1)
	}
	h.release(1)
	if !h.reserve(done, 1) {
		t.Fatal("no room after a release")
	}
	var b hub
	if !b.reserve(done, readAheadBytes) || b.reserve(done, 1) {
		t.Fatal("a full readAheadBytes must leave no room for another byte")
	}
}
