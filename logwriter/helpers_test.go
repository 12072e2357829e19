package logwriter_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
)

// wait bounds how long a test waits for an entry (a bound, not a synchronisation).
const wait = 5 * time.Second

func mustWriter(t *testing.T, dir string, s logreader.Stream, maxEntries, maxFiles int) *logwriter.Writer {
	t.Helper()
	w, err := logwriter.NewWriter(dir, s, maxEntries, maxFiles)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func appendN(t *testing.T, w *logwriter.Writer, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := w.Append(fmt.Appendf(nil, `{"i":%d,"pad":"xxxxxxxxxxxxxxxx"}`, i)); err != nil {
			t.Fatal(err)
		}
	}
}

// problems collects what a reader reports.
type problems struct {
	mu   sync.Mutex
	list []error
}

func (p *problems) add(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, err)
}

func (p *problems) all() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.list...)
}

// openT opens a reader that the test closes at its end, collecting its problems.
func openT(t *testing.T, o logreader.Options) (*logreader.Reader, *problems) {
	t.Helper()
	ps := &problems{}
	o.OnProblem = ps.add
	r, err := logreader.Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, ps
}

// next reads one entry, failing the test if none comes within d.
func next(t *testing.T, r *logreader.Reader, d time.Duration) logreader.Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	e, err := r.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v (position %s)", err, r.Position())
	}
	return e
}

// expectNothing asserts that no entry comes within d.
func expectNothing(t *testing.T, r *logreader.Reader, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if e, err := r.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next: %q, %v; want nothing", e.Line, err)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
