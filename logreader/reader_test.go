package logreader_test

import (
	"context"
	"testing"
	"time"

	. "github.com/shardeum/distributor/logreader"
)

// TestFollowAcrossRotationAndWrap appends one entry at a time while the reader waits; the poll
// is off (1 h), so every wake-up, across 400 rotations and 100 wrap-arounds, comes from fsnotify.
func TestFollowAcrossRotationAndWrap(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 5, 4)
	r, ps := openT(t, Options{Dir: dir, Start: Live, Poll: time.Hour})
	for i := 0; i < 2000; i++ {
		appendN(t, w, i, 1)
		wantEntry(t, next(t, r, wait), i)
	}
	if k := ps.kinds(); len(k) > 0 {
		t.Fatalf("problems: %v", k)
	}
}

func TestOldestReadsOldFilesFirst(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 5, 4)
	// 37 entries, 5 per file, 4 files: on disk old-1 (20-24), old-2 (25-29), 3 (30-34), 4 (35-36).
	appendN(t, w, 0, 37)
	r, ps := openT(t, Options{Dir: dir, Start: Oldest})
	first := next(t, r, wait)
	var i int
	if _, err := fmtSscan(first.Line, &i); err != nil {
		t.Fatal(err)
	}
	if i != 20 {
		t.Fatalf("oldest entry read %d, want 20 (first line of old-receipt-log1.txt)", i)
	}
	if first.Pos.File != 1 {
		t.Fatalf("oldest entry in file %d", first.Pos.File)
	}
	for j := i + 1; j < 37; j++ {
		wantEntry(t, next(t, r, wait), j)
	}
	if k := ps.kinds(); len(k) > 0 {
		t.Fatalf("problems: %v", k)
	}
}

// TestWakeupsWhileWaiting: the reader runs in its own goroutine and is usually already blocked
// in Next when the next entry (and every rotation) is written. Polling is off, so a lost
// fsnotify wake-up would hang the reader and fail the test.
func TestWakeupsWhileWaiting(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 3, 10)
	r, ps := openT(t, Options{Dir: dir, Poll: time.Hour})
	const n = 1500
	got := make(chan Entry)
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			e, err := r.Next(context.Background())
			if err != nil {
				errc <- err
				return
			}
			got <- e
		}
		errc <- nil
	}()
	for i := 0; i < n; i++ {
		appendN(t, w, i, 1)
		select {
		case e := <-got:
			wantEntry(t, e, i)
		case err := <-errc:
			t.Fatalf("Next: %v", err)
		case <-time.After(5 * time.Second):
			r.Close() // unblocks the goroutine
			<-errc
			t.Fatalf("entry %d not delivered: a wake-up was lost (position %s)", i, r.Position())
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if k := ps.kinds(); len(k) > 0 {
		t.Fatalf("problems: %v", k)
	}
}
