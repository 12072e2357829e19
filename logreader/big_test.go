package logreader_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	. "github.com/shardeum/distributor/logreader"
)

// TestHundredThousandEntriesExactlyOnce is the acceptance test: 100,000 entries across the
// three streams, rotation every 1,000 entries, wrap-around at 10 files, while readers follow.
// Per stream one reader follows from the start without interruption and another is closed and
// reopened from its saved position (through its String form) every few thousand entries. Each
// must see every entry exactly once, in order, and no problem may be reported.
//
// Writers are throttled to stay within 4,000 entries of the slowest reader (sync.Cond, no
// sleeps): the reference writer does not wait, but letting it lap a reader (10 files back)
// would test deletion, not delivery. With -short the test writes 20,000 entries.
func TestHundredThousandEntriesExactlyOnce(t *testing.T) {
	total := map[Stream]int{Receipt: 60000, OriginalTx: 30000, Cycle: 10000}
	if testing.Short() {
		for s := range total {
			total[s] /= 5
		}
	}
	const maxEntries, maxFiles, lead = 1000, 10, 4000
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	type progress struct {
		mu   sync.Mutex
		cond *sync.Cond
		read [2]int // entries consumed by each reader
	}
	var wg, wakers sync.WaitGroup
	errs := make(chan error, 16)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
		cancel()
	}
	for _, s := range Streams {
		s, n := s, total[s]
		w := mustWriter(t, dir, s, maxEntries, maxFiles)
		pr := &progress{}
		pr.cond = sync.NewCond(&pr.mu)
		ps := newProblems()
		opts := Options{Dir: dir, Stream: s, OnProblem: ps.add, Logger: testLogger(t)}

		consume := func(idx int, r *Reader, restartEvery int) {
			defer wg.Done()
			defer func() { r.Close() }()
			for want := 0; want < n; want++ {
				e, err := r.Next(ctx)
				if err != nil {
					fail(fmt.Errorf("%s reader %d: Next at entry %d: %w (problems %v)", s, idx, want, err, ps.kinds()))
					return
				}
				if got := seqOf(e.Line); got != want || e.Stream != s {
					fail(fmt.Errorf("%s reader %d: got %s entry %d at %s, want %d", s, idx, e.Stream, got, e.Pos, want))
					return
				}
				if restartEvery > 0 && want%restartEvery == restartEvery-1 {
					saved := r.Position().String()
					r.Close()
					p, err := ParsePosition(saved)
					if err == nil {
						o := opts
						o.Start = After(p)
						r, err = Open(o)
					}
					if err != nil {
						fail(fmt.Errorf("%s reader %d: reopen at %s: %w", s, idx, saved, err))
						return
					}
				}
				pr.mu.Lock()
				pr.read[idx] = want + 1
				pr.cond.Broadcast()
				pr.mu.Unlock()
			}
			if k := ps.kinds(); len(k) > 0 {
				fail(fmt.Errorf("%s: problems reported: %v", s, k))
			}
		}
		for idx, every := range []int{0, 3331} {
			r, err := Open(opts) // Live on a fresh directory: from the first entry
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go consume(idx, r, every)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			line := make([]byte, 0, 256)
			for i := 0; i < n; i++ {
				pr.mu.Lock()
				for i-min(pr.read[0], pr.read[1]) > lead && ctx.Err() == nil {
					pr.cond.Wait()
				}
				pr.mu.Unlock()
				if ctx.Err() != nil {
					return
				}
				line = append(line[:0], `{"seq":`...)
				line = strconv.AppendInt(line, int64(i), 10)
				line = append(line, `,"stream":"`...)
				line = append(line, s...)
				line = append(line, `","pad":"0123456789abcdef0123456789abcdef0123456789abcdef"}`...)
				if err := w.Append(line); err != nil {
					fail(err)
					return
				}
			}
		}()
		wakers.Add(1)
		go func() { // wake a throttled writer when the test is cancelled
			defer wakers.Done()
			<-ctx.Done()
			pr.mu.Lock()
			pr.cond.Broadcast()
			pr.mu.Unlock()
		}()
	}
	wg.Wait()
	cancel()
	wakers.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// seqOf extracts N from a line starting {"seq":N,
func seqOf(line []byte) int {
	const prefix = `{"seq":`
	if len(line) < len(prefix) || string(line[:len(prefix)]) != prefix {
		return -1
	}
	n := 0
	for _, c := range line[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
