package logreader

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// A paced reader that is behind reads on without pausing: with a pace of an hour, 300 lines
// already written all come at once. A paced wait still ends with its context, and at Close.
func TestReadEveryNeverHoldsBackAReaderThatIsBehind(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 1000, 10)
	appendN(t, w, 0, 300)
	r, _ := openT(t, Options{Dir: dir, Start: Oldest})
	r.SetReadEvery(time.Hour)
	for i := range 300 {
		wantEntry(t, next(t, r, wait), i)
	}
	expectNothing(t, r, 100*time.Millisecond) // now in the hour's pause
	errc := make(chan error, 1)
	go func() {
		_, err := r.Next(context.Background())
		errc <- err
	}()
	r.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Next after Close: %v, want ErrClosed", err)
		}
	case <-time.After(wait):
		t.Fatal("Close did not end a paced wait")
	}
}

// Lines appended one by one while a paced reader waits reach it in rounds, at most one a pace,
// all of them and in order; unpaced, each line would be its own wake-up.
func TestReadEveryReadsInRounds(t *testing.T) {
	const every, lines = 200 * time.Millisecond, 40
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 1000, 10)
	r, _ := openT(t, Options{Dir: dir, Start: Oldest})
	r.SetReadEvery(every)
	got := make(chan time.Time, lines)
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for i := range lines {
			e, err := r.Next(ctx)
			if err != nil {
				errc <- err
				return
			}
			wantEntry(t, e, i)
			got <- time.Now()
		}
		errc <- nil
	}()
	tick := time.NewTicker(every / 10) // the load: a line every 20 ms
	defer tick.Stop()
	for i := range lines {
		<-tick.C
		appendN(t, w, i, 1)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	close(got)
	var first, prev time.Time
	rounds := 0
	for at := range got {
		if first.IsZero() {
			first = at
		}
		if prev.IsZero() || at.Sub(prev) > every/20 { // a round's lines come back to back

			rounds++
		}
		prev = at
	}
	if limit := int(prev.Sub(first)/every) + 4; rounds > limit { // + 4: stalls of a loaded machine

		t.Fatalf("%d lines came in %d rounds over %s; paced at %s, want at most %d", lines, rounds, prev.Sub(first), every, limit)
	}
}

// While every reader of a directory reads in rounds, the directory is not watched: appended lines
// wake nobody. A reader that wants events again gets the watch back.
func TestPacedReadersLeaveTheDirectoryUnwatched(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 1000, 10)
	appendN(t, w, 0, 1)
	watched := func() bool {
		hubMu.Lock()
		defer hubMu.Unlock()
		return hub != nil && slices.Contains(hub.w.WatchList(), dir)
	}
	r, _ := openT(t, Options{Dir: dir, Start: Oldest})
	if !watched() {
		t.Fatal("an open reader's directory is not watched")
	}
	r.SetReadEvery(50 * time.Millisecond)
	wantEntry(t, next(t, r, wait), 0)
	expectNothing(t, r, 100*time.Millisecond) // waits in rounds
	if watched() {
		t.Fatal("the directory is still watched while its only reader reads in rounds")
	}
	other, _ := openT(t, Options{Dir: dir, Stream: Cycle, Start: Oldest})
	if !watched() {
		t.Fatal("a reader that wants events did not get the directory watched")
	}
	other.Close()
	if watched() {
		t.Fatal("the directory is still watched after the reader that wanted events closed")
	}
	r.SetReadEvery(0)
	appendN(t, w, 1, 1)
	wantEntry(t, next(t, r, wait), 1)
	expectNothing(t, r, 50*time.Millisecond) // an unpaced wait
	if !watched() {
		t.Fatal("the directory is not watched again after the reader stopped reading in rounds")
	}
}
