package logreader_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	. "github.com/shardeum/distributor/logreader"
)

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestNoStateKeptAcrossRotations: after a thousand rotations and wrap-arounds the reader holds
// one file, one directory watch and a buffer of its normal size; closing it releases all.
func TestNoStateKeptAcrossRotations(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 3, 10)
	fds := openFDs(t)
	r, ps := openT(t, Options{Dir: dir})
	big := `{"big":"` + strings.Repeat("y", 3<<20) + `"}`
	if err := w.Append([]byte(big)); err != nil {
		t.Fatal(err)
	}
	if e := next(t, r, wait); len(e.Line) != len(big) {
		t.Fatal("big line")
	}
	for i := 0; i < 3000; i++ {
		appendN(t, w, i, 1)
		wantEntry(t, next(t, r, wait), i)
	}
	if got := len(WatchedDirs()); got != 1 {
		t.Errorf("%d watches, want 1", got)
	}
	if n := r.BufLen(); n > BufSize {
		t.Errorf("buffer still %d bytes after the big line", n)
	}
	if n := r.Reported(); n > 0 {
		t.Errorf("reported-set holds %d keys", n)
	}
	// The writer holds one file too; the reader one file, the inotify fd and its epoll/pipe fds.
	if got := openFDs(t); got > fds+5 {
		t.Errorf("%d fds open while reading, %d before: files or watches leak", got, fds)
	}
	r.Close()
	if SharedWatcher() {
		t.Error("the shared watcher outlived its last reader")
	}
	runtime.GC()
	if got := openFDs(t); got > fds {
		t.Errorf("%d fds open after Close, %d before", got, fds)
	}
	if len(ps.kinds()) > 0 {
		t.Fatalf("problems: %v", ps.kinds())
	}
}

// TestManyReadersShareOneWatcher: more readers than fs.inotify.max_user_instances (128 by
// default) all wake on fsnotify, because they share the process's one watcher.
func TestManyReadersShareOneWatcher(t *testing.T) {
	dir := t.TempDir()
	w := mustWriter(t, dir, Receipt, 1000, 10)
	var rs []*Reader
	var pss []*problems
	for i := 0; i < 150; i++ {
		r, ps := openT(t, Options{Dir: dir, Poll: time.Hour}) // no poll: only fsnotify can wake them
		rs, pss = append(rs, r), append(pss, ps)
	}
	// Readers block in Next (most of them before the append): only fsnotify can wake those.
	got := make(chan error, len(rs))
	for _, r := range rs {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			e, err := r.Next(ctx)
			if err == nil && string(e.Line) != string(entryLine(0)) {
				err = fmt.Errorf("got %q", e.Line)
			}
			got <- err
		}()
	}
	appendN(t, w, 0, 1)
	for range rs {
		if err := <-got; err != nil {
			t.Fatal(err)
		}
	}
	for i, ps := range pss {
		if k := ps.kinds(); len(k) > 0 {
			t.Fatalf("reader %d: problems %v", i, k)
		}
	}
	n := len(WatchedDirs())
	if n != 1 {
		t.Fatalf("%d watches for one directory", n)
	}
}
