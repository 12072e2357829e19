package redisstream_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/redisstream"
	"github.com/shardeum/distributor/redisstream/redistest"
)

const prefix = "distributor:"

// Every line is appended once, in order, signed, across rotations and wrap-around, for every
// stream; a reader from the stream's start gets them all.
func TestIngressPublishesEveryLineOnce(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	dir := t.TempDir()
	ws := map[logreader.Stream]*writer{}
	cks := map[logreader.Stream]*checker{}
	for _, s := range logreader.Streams {
		ws[s] = newWriter(t, dir, s, 50, 6)
		ws[s].write(30) // before the ingress starts: published from the oldest line
		cks[s] = newChecker(t, c, prefix, s, "", 0)
	}
	startIngress(t, redisstream.IngressOptions{Client: c, Dir: dir})
	// The ingress has its readers open once it published the first lines. (Opening at the
	// oldest line while the writer creates its first files can misorder them: see the report
	// on logreader's chain walk before the first wrap.)
	for _, s := range logreader.Streams {
		cks[s].read(30, 20*time.Second)
	}
	for round := 0; round < 10; round++ {
		for _, s := range logreader.Streams {
			ws[s].write(70)
			// Read what was written before writing more: the writer deletes files two rotations
			// later, and the ingress must have read them by then.
			cks[s].read(ws[s].n-cks[s].next, 20*time.Second)
		}
	}
	for _, s := range logreader.Streams {
		if cks[s].next != ws[s].n {
			t.Errorf("%s: read %d, wrote %d", s, cks[s].next, ws[s].n)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A new ingress continues just after the last entry: nothing missing, nothing twice, and the
// IDs are those the first one would have given.
func TestIngressRestartContinues(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	dir := t.TempDir()
	w := newWriter(t, dir, logreader.Receipt, 40, 4)
	ck := newChecker(t, c, prefix, logreader.Receipt, "", 0)
	w.write(10)
	one := startIngress(t, redisstream.IngressOptions{Client: c, Dir: dir, Streams: []logreader.Stream{logreader.Receipt}})
	ck.read(10, 20*time.Second)
	w.write(90)
	ck.read(90, 20*time.Second)
	one.stop()
	w.write(30) // written while no ingress runs
	startIngress(t, redisstream.IngressOptions{Client: c, Dir: dir, Streams: []logreader.Stream{logreader.Receipt}})
	w.write(30)
	ck.read(60, 20*time.Second)
	n, err := c.XLen(context.Background(), prefix+"receipt").Result()
	if err != nil || n != 160 {
		t.Errorf("stream length %d (%v), want 160", n, err)
	}
}

// A reader opened at a cursor returns exactly the entries after it, on any reader; a cursor
// whose entry was trimmed is ErrCursorGone.
func TestReaderFromCursor(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	dir := t.TempDir()
	w := newWriter(t, dir, logreader.Cycle, 100, 100)
	ck := newChecker(t, c, prefix, logreader.Cycle, "", 0)
	w.write(50)
	startIngress(t, redisstream.IngressOptions{Client: c, Dir: dir, MaxLen: 300, Streams: []logreader.Stream{logreader.Cycle}})
	cursors := make([]string, 0, 250)
	for i := range 250 {
		if i == 50 {
			w.write(200)
		}
		ck.read(1, 20*time.Second)
		cursors = append(cursors, ck.last.Cursor)
	}
	for _, k := range []int{0, 1, 98, 99, 100, 150, 248} {
		from := newChecker(t, c, prefix, logreader.Cycle, cursors[k], k+1)
		from.read(249-k, 5*time.Second)
	}
	// At the end: a reader after the last entry waits for the next line.
	tailReader := newChecker(t, c, prefix, logreader.Cycle, cursors[249], 250)
	w.write(1)
	tailReader.read(1, 20*time.Second)

	// Push the first entries out of the retention (MAXLEN ~ 300 trims whole nodes of 100).
	for range 10 {
		w.write(100)
		ck.read(100+boolInt(ck.next == 250), 20*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := redisstream.Open(ctx, c, prefix, logreader.Cycle, cursors[0], redisstream.ReaderOptions{})
	if !errors.Is(err, redisstream.ErrCursorGone) {
		t.Fatalf("open at a trimmed cursor: reader %v, error %v; want ErrCursorGone", r != nil, err)
	}
	// A reader that falls behind the retention while reading gets it from Next.
	slow := newChecker(t, c, prefix, logreader.Cycle, ck.last.Cursor, ck.next)
	for range 10 {
		w.write(100)
		ck.read(100, 20*time.Second)
	}
	_, err = slow.r.Next(ctx)
	if !errors.Is(err, redisstream.ErrCursorGone) {
		t.Fatalf("Next behind the retention: %v, want ErrCursorGone", err)
	}

	// Close ends a Next waiting at the live end.
	waiting := newChecker(t, c, prefix, logreader.Cycle, "", 0)
	ended := make(chan error, 1)
	go func() {
		_, err := waiting.r.Next(context.Background())
		ended <- err
	}()
	waiting.r.Close()
	if err := <-ended; !errors.Is(err, redisstream.ErrClosed) {
		t.Errorf("Next after Close: %v, want ErrClosed", err)
	}
}

// A paced reader (SetReadEvery) hands out every entry once, in order, whether they arrive
// one at a time or many per round.
func TestPacedReaderLosesNothing(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	dir := t.TempDir()
	w := newWriter(t, dir, logreader.Receipt, 100, 6)
	w.write(1)
	ck := newChecker(t, c, prefix, logreader.Receipt, "", 0)
	ck.r.SetReadEvery(20 * time.Millisecond)
	startIngress(t, redisstream.IngressOptions{Client: c, Dir: dir, Streams: []logreader.Stream{logreader.Receipt}})
	ck.read(1, 20*time.Second)
	for round := 0; round < 20; round++ {
		w.write(1 + round*7)
		ck.read(w.n-ck.next, 20*time.Second)
	}
	if ck.next != w.n {
		t.Fatalf("read %d, wrote %d", ck.next, w.n)
	}
}
