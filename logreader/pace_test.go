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

// Rounds of every start on one grid per process: each after t, at most every later.
func TestNextRoundIsOnTheProcessGrid(t *testing.T) {
	for _, every := range []time.Duration{time.Millisecond, 50 * time.Millisecond, 300 * time.Millisecond, 7 * time.Second} {
		phase := int64(roundPhase % every)
		for _, t0 := range []time.Time{time.Now(), time.Unix(1700000000, 123456789), time.Unix(0, int64(every)*5+phase)} {
			next := nextRound(t0, every)
			if !next.After(t0) || next.Sub(t0) > every || (next.UnixNano()-phase)%int64(every) != 0 {
				t.Errorf("nextRound(%v, %v) = %v: want the first point of the grid (phase %v) after it", t0, every, next, time.Duration(phase))
			}
		}
	}
}

// Paced readers of two streams in one process wake in the same rounds, however far apart they
// began waiting: the line appended to each at once reaches both together. (Each on its own
// schedule, they would be half a round apart: one wake-up of the process each.)
func TestPacedReadersShareRounds(t *testing.T) {
	const every = 300 * time.Millisecond
	dir := t.TempDir()
	wr, wc := mustWriter(t, dir, Receipt, 1000, 10), mustWriter(t, dir, Cycle, 1000, 10)
	appendN(t, wr, 0, 1)
	appendN(t, wc, 0, 1)
	got := make(chan time.Time, 2)
	errc := make(chan error, 2)
	readOne := func(s Stream) {
		r, _ := openT(t, Options{Dir: dir, Stream: s, Start: Live})
		r.SetReadEvery(every)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			_, err := r.Next(ctx)
			got <- time.Now()
			errc <- err
		}()
	}
	readOne(Receipt)
	time.Sleep(every / 2) // not a wait for an event: it puts the second reader half a round later
	readOne(Cycle)
	time.Sleep(every / 3)
	appendN(t, wr, 1, 1)
	appendN(t, wc, 1, 1)
	a, b := <-got, <-got
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if d := b.Sub(a).Abs(); d > every/4 {
		t.Fatalf("the two readers read %v apart; paced at %v in one process, want the same round", d, every)
	}
}

// A paced reader of a stream not yet on disk looks for it once a round and reads it from its
// first line once it appears.
func TestPacedReaderOfALateStreamReadsItFromItsFirstLine(t *testing.T) {
	dir := t.TempDir()
	r, ps := openT(t, Options{Dir: dir, Start: Live})
	r.SetReadEvery(20 * time.Millisecond)
	expectNothing(t, r, 100*time.Millisecond) // several rounds with nothing on disk
	w := mustWriter(t, dir, Receipt, 3, 10)
	appendN(t, w, 0, 5) // across a rotation
	for i := range 5 {
		wantEntry(t, next(t, r, wait), i)
	}
	if len(ps.kinds()) != 0 {
		t.Fatalf("problems %v, want none", ps.kinds())
	}
}
