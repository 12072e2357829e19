package logreader_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
)

// problems collects reported problems and lets a test wait for one of a kind.
type problems struct {
	mu   sync.Mutex
	list []*Problem
	ch   chan struct{}
}

func newProblems() *problems { return &problems{ch: make(chan struct{}, 1)} }

func (p *problems) add(err error) {
	var pr *Problem
	if !errors.As(err, &pr) {
		panic(fmt.Sprintf("OnProblem got %T, want *Problem", err))
	}
	p.mu.Lock()
	p.list = append(p.list, pr)
	p.mu.Unlock()
	select {
	case p.ch <- struct{}{}:
	default:
	}
}

func (p *problems) count(k ProblemKind) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, x := range p.list {
		if x.Kind == k {
			n++
		}
	}
	return n
}

func (p *problems) first(k ProblemKind) *Problem {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range p.list {
		if x.Kind == k {
			return x
		}
	}
	return nil
}

func (p *problems) kinds() []ProblemKind {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ks []ProblemKind
	for _, x := range p.list {
		ks = append(ks, x.Kind)
	}
	return ks
}

func openT(t *testing.T, o Options) (*Reader, *problems) {
	t.Helper()
	ps := newProblems()
	o.OnProblem = ps.add
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	if o.Stream == "" {
		o.Stream = Receipt
	}
	r, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, ps
}

// next reads one entry, failing the test if none comes within d (a bound, not a sync).
func next(t *testing.T, r *Reader, d time.Duration) Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	e, err := r.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v (position %s)", err, r.Position())
	}
	return e
}

// expectNothing asserts that no entry is available within d.
func expectNothing(t *testing.T, r *Reader, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	e, err := r.Next(ctx)
	if err == nil {
		t.Fatalf("Next returned %q, want nothing yet", e.Line)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next: %v, want deadline exceeded", err)
	}
}

func mustWriter(t *testing.T, dir string, s Stream, maxEntries, maxFiles int) *logwriter.Writer {
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
		if err := w.Append(entryLine(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func entryLine(i int) []byte { return fmt.Appendf(nil, `{"i":%d,"pad":"xxxxxxxxxxxxxxxx"}`, i) }

func wantEntry(t *testing.T, e Entry, i int) {
	t.Helper()
	if string(e.Line) != string(entryLine(i)) {
		t.Fatalf("got %q at %s, want entry %d", e.Line, e.Pos, i)
	}
}

const wait = 5 * time.Second

func fmtSscan(line []byte, i *int) (int, error) {
	return fmt.Sscanf(string(line), `{"i":%d,`, i)
}

// testLogger sends the reader's log to t.Log, so it shows only for failing tests.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
