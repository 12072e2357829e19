package logreader

import (
	"testing"
)

func TestFollowAcrossRotationAndWrap(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 5, 4)
	r, ps := openT(t, Options{Dir: dir, Start: Live})
	for i := 0; i < 200; i++ {
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
	appendN(t, w, 0, 37) // files: 8 rotations => wrapped twice
	r, ps := openT(t, Options{Dir: dir, Start: Oldest})
	first := next(t, r, wait)
	var i int
	if _, err := fmtSscan(first.Line, &i); err != nil {
		t.Fatal(err)
	}
	for j := i + 1; j < 37; j++ {
		wantEntry(t, next(t, r, wait), j)
	}
	if k := ps.kinds(); len(k) > 0 {
		t.Fatalf("problems: %v", k)
	}
	t.Logf("oldest entry on disk: %d", i)
}
