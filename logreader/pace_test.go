package logreader_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	. "github.com/shardeum/distributor/logreader"
)

// heldRounds turns a paced reader's rounds into events: each time the reader is about to wait
// for a round, it reports the round and is held until the test lets it go.
type heldRounds struct {
	at   chan time.Time
	go_  chan struct{}
	stop chan struct{}
	once sync.Once
}

func holdRounds(t *testing.T, r *Reader) *heldRounds {
	h := &heldRounds{at: make(chan time.Time), go_: make(chan struct{}), stop: make(chan struct{})}
	r.SetRoundHook(func(round time.Time) {
		select {
		case h.at <- round:
		case <-h.stop:
			return
		}
		select {
		case <-h.go_:
		case <-h.stop:
		}
	})
	t.Cleanup(h.release) // before the reader's Close, which the hold would block
	return h
}

// next waits until the reader is held before a round and returns that round.
func (h *heldRounds) next(t *testing.T) time.Time {
	t.Helper()
	select {
	case round := <-h.at:
		return round
	case <-time.After(wait):
		t.Fatal("the paced reader did not come to wait for a round")
		return time.Time{}
	}
}

// let lets the held reader wait for its round and read.
func (h *heldRounds) let() { h.go_ <- struct{}{} }

// release stops holding the reader, for good.
func (h *heldRounds) release() { h.once.Do(func() { close(h.stop) }) }

// onGrid reports whether round is a point of this process's grid of rounds of every.
func onGrid(round time.Time, every time.Duration) bool {
	return (round.UnixNano()-int64(RoundPhase()%every))%int64(every) == 0
}

// nextLoop runs r.Next in a goroutine n times, delivering entries on the first channel and the
// error that ended it (nil after n) on the second; it is gone once the second has delivered.
func nextLoop(r *Reader, n int) (<-chan Entry, <-chan error) {
	entries, errc := make(chan Entry), make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for range n {
			e, err := r.Next(ctx)
			if err != nil {
				errc <- err
				return
			}
			entries <- e
		}
		errc <- nil
	}()
	return entries, errc
}

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

// Lines appended while a paced reader waits for its round all reach it in that round, in
// order and across rotations, with no wake-up between them: the lines of a round cost one
// wake-up. Each round it waits for is the next point of the process's grid.
func TestReadEveryReadsInRounds(t *testing.T) {
	const every, perRound, rounds = 20 * time.Millisecond, 10, 5
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 7, 10)
	r, _ := openT(t, Options{Dir: dir, Start: Oldest})
	r.SetReadEvery(every)
	h := holdRounds(t, r)
	entries, errc := nextLoop(r, perRound*rounds)
	var prev time.Time
	for k := range rounds {
		round := h.next(t)
		if !onGrid(round, every) || (!prev.IsZero() && round.Sub(prev) < every) {
			t.Fatalf("round %d starts at %v after one at %v: want the process's grid of %v, a round at least apart", k, round, prev, every)
		}
		prev = round
		appendN(t, w, k*perRound, perRound)
		h.let()
		for i := k * perRound; i < (k+1)*perRound; i++ {
			select {
			case e := <-entries:
				wantEntry(t, e, i)
			case round := <-h.at:
				t.Fatalf("the reader came to wait for round %v with entry %d unread", round, i)
			case err := <-errc:
				t.Fatalf("Next before entry %d: %v", i, err)
			case <-time.After(wait):
				t.Fatalf("entry %d did not come", i)
			}
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// While every reader of a directory reads in rounds, the directory is not watched: appended lines
// wake nobody. A reader that wants events again gets the watch back.
func TestPacedReadersLeaveTheDirectoryUnwatched(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 1000, 10)
	appendN(t, w, 0, 1)
	watched := func() bool { return slices.Contains(WatchedDirs(), dir) }
	r, _ := openT(t, Options{Dir: dir, Start: Oldest})
	if !watched() {
		t.Fatal("an open reader's directory is not watched")
	}
	r.SetReadEvery(50 * time.Millisecond)
	wantEntry(t, next(t, r, wait), 0)
	h := holdRounds(t, r)
	entries, errc := nextLoop(r, 1)
	h.next(t) // the reader waits in rounds
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
	h.release()
	// The reader's next wait is unpaced: it wants events again. Nothing announces that wait,
	// so the test looks until the watch is back.
	for deadline := time.Now().Add(wait); !watched(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the directory is not watched again after the reader stopped reading in rounds")
		}
	}
	appendN(t, w, 1, 1)
	select {
	case e := <-entries:
		wantEntry(t, e, 1)
	case err := <-errc:
		t.Fatalf("Next: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// Rounds of every start on one grid per process: each after t, at most every later.
func TestNextRoundIsOnTheProcessGrid(t *testing.T) {
	for _, every := range []time.Duration{time.Millisecond, 50 * time.Millisecond, 300 * time.Millisecond, 7 * time.Second} {
		phase := int64(RoundPhase() % every)
		for _, t0 := range []time.Time{time.Now(), time.Unix(1700000000, 123456789), time.Unix(0, int64(every)*5+phase)} {
			next := NextRound(t0, every)
			if !next.After(t0) || next.Sub(t0) > every || (next.UnixNano()-phase)%int64(every) != 0 {
				t.Errorf("nextRound(%v, %v) = %v: want the first point of the grid (phase %v) after it", t0, every, next, time.Duration(phase))
			}
		}
	}
}

// Paced readers of two streams in one process wait for the same rounds, however far apart they
// began: every round either waits for is a point of the process's one grid, so once both wait
// for the same round, the lines appended to each at once reach both in it (one wake-up of the
// process, where each on its own schedule would cost one each).
func TestPacedReadersShareRounds(t *testing.T) {
	const every = 50 * time.Millisecond
	dir := t.TempDir()
	wr, wc := mustWriter(t, dir, Receipt, 1000, 10), mustWriter(t, dir, Cycle, 1000, 10)
	appendN(t, wr, 0, 1)
	appendN(t, wc, 0, 1)
	type paced struct {
		s       Stream
		h       *heldRounds
		entries <-chan Entry
		errc    <-chan error
		round   time.Time
	}
	start := func(s Stream) *paced {
		r, _ := openT(t, Options{Dir: dir, Stream: s, Start: Live})
		r.SetReadEvery(every)
		p := &paced{s: s, h: holdRounds(t, r)}
		p.entries, p.errc = nextLoop(r, 1)
		p.round = p.h.next(t)
		return p
	}
	step := func(p *paced) {
		p.h.let()
		p.round = p.h.next(t)
	}
	a := start(Receipt)
	step(a) // the second reader begins a round or more after the first
	b := start(Cycle)
	for range 100 {
		if !onGrid(a.round, every) || !onGrid(b.round, every) {
			t.Fatalf("rounds %v (%s) and %v (%s): want points of the process's grid of %v", a.round, a.s, b.round, b.s, every)
		}
		if a.round.Equal(b.round) {
			break
		}
		if a.round.Before(b.round) {
			step(a)
		} else {
			step(b)
		}
	}
	if !a.round.Equal(b.round) {
		t.Fatalf("the readers never waited for the same round (%v and %v)", a.round, b.round)
	}
	appendN(t, wr, 1, 1)
	appendN(t, wc, 1, 1)
	a.h.let()
	b.h.let()
	for _, p := range []*paced{a, b} {
		select {
		case e := <-p.entries:
			wantEntry(t, e, 1)
		case round := <-p.h.at:
			t.Fatalf("%s reader came to wait for round %v after round %v without reading its line", p.s, round, p.round)
		case err := <-p.errc:
			t.Fatalf("%s: Next: %v", p.s, err)
		}
		if err := <-p.errc; err != nil {
			t.Fatal(err)
		}
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
