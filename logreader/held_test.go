package logreader_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/shardeum/distributor/logreader"
)

// A reader that falls further behind with every file (it reads 200 lines while the writer
// writes 1,000) is lapped by the writer's old- deletions long before it catches up; the files
// it holds open keep every line, in order, with no gap reported.
func TestSlowReaderKeepsDeletedFiles(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 1000, 10)
	pad := strings.Repeat("x", 2000)
	line := func(i int) []byte { return fmt.Appendf(nil, `{"i":%d,"pad":"%s"}`, i, pad) }
	if err := w.Append(line(1)); err != nil {
		t.Fatal(err)
	}
	r, ps := openT(t, Options{Dir: dir, Start: Oldest, MaxFiles: 10})
	written, read := 1, 0
	check := func(e Entry) {
		t.Helper()
		read++
		if string(e.Line) != string(line(read)) {
			t.Fatalf("entry %d at %s is %.30q: lines lost (problems %v)", read, e.Pos, e.Line, ps.kinds())
		}
	}
	for round := 0; round < 16; round++ {
		for ; written < (round+1)*1000; written++ {
			if err := w.Append(line(written + 1)); err != nil {
				t.Fatal(err)
			}
		}
		for range 200 {
			check(next(t, r, wait))
		}
	}
	if first := oldestOnDisk(t, dir); first <= read+1 {
		t.Fatalf("line %d is still on disk (oldest %d): the writer did not lap the reader", read+1, first)
	}
	for read < written {
		check(next(t, r, wait))
	}
	if ks := ps.kinds(); len(ks) != 0 {
		t.Fatalf("problems reported: %v", ks)
	}
}

// oldestOnDisk returns the number of the oldest entry in any receipt file still on disk.
func oldestOnDisk(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	oldest := -1
	for _, e := range ents {
		if !Receipt.Owns(e.Name()) || strings.HasPrefix(e.Name(), "active-") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var i int
		if _, err := fmtSscan(b, &i); err == nil && (oldest < 0 || i < oldest) {
			oldest = i
		}
	}
	return oldest
}
