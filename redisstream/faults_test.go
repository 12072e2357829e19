package redisstream_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/redisstream"
	"github.com/shardeum/distributor/redisstream/redistest"
)

// Redis paused (SIGSTOP) for 5 s while lines are written: the ingress waits and retries, and
// afterwards every line is in the stream once, in order.
func TestRedisPausedNothingLost(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	dir := t.TempDir()
	w := newWriter(t, dir, logreader.Receipt, 100, 10)
	ck := newChecker(t, c, prefix, logreader.Receipt, "", 0)
	g := startIngress(t, redisstream.IngressOptions{Client: c, Dir: dir, LeaseTTL: time.Second,
		Streams: []logreader.Stream{logreader.Receipt}})
	w.write(50)
	ck.read(50, 20*time.Second)
	srv.Pause()
	// A reader waits through the pause too.
	type result struct {
		rec redisstream.Record
		err error
	}
	first := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rec, err := ck.r.Next(ctx)
		first <- result{rec, err}
	}()
	w.write(150)
	time.Sleep(5 * time.Second) // the pause is the fault being tested, not a wait for an event
	srv.Resume()
	w.write(50)
	got := <-first
	if got.err != nil {
		t.Fatalf("Next through the pause: %v", got.err)
	}
	ck.check(got.rec)
	ck.read(199, 30*time.Second)
	n, err := c.XLen(context.Background(), prefix+"receipt").Result()
	if err != nil || n != 250 {
		t.Errorf("stream length %d (%v), want 250", n, err)
	}
	st := g.Status()
	if !st.Redis.Reachable || st.Streams[0].Cursor != ck.last.Cursor {
		t.Errorf("status after the pause: %+v (last cursor read %s)", st, ck.last.Cursor)
	}
}

// Redis restarted empty: the ingress refills the stream from the oldest line on disk under a new
// epoch, and a reader continues just after its cursor in the new history.
func TestRedisRestartRefills(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	dir := t.TempDir()
	w := newWriter(t, dir, logreader.Receipt, 100, 10)
	ck := newChecker(t, c, prefix, logreader.Receipt, "", 0)
	startIngress(t, redisstream.IngressOptions{Client: c, Dir: dir, LeaseTTL: time.Second,
		Streams: []logreader.Stream{logreader.Receipt}})
	w.write(10)
	ck.read(10, 20*time.Second) // the reader is open before rotations begin
	w.write(240)
	ck.read(240, 20*time.Second)
	before, err := redisstream.ParseID(ck.last.ID)
	if err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	w.write(30)
	ck.read(30, 30*time.Second)
	after, err := redisstream.ParseID(ck.last.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Epoch <= before.Epoch {
		t.Errorf("epoch after the reset %d, before %d: want a newer one", after.Epoch, before.Epoch)
	}
	// The refilled history holds everything on disk, from line 0.
	first, err := c.XRangeN(context.Background(), prefix+"receipt", "-", "+", 1).Result()
	if err != nil || len(first) != 1 {
		t.Fatalf("first entry: %v %v", first, err)
	}
	from := newChecker(t, c, prefix, logreader.Receipt, first[0].Values["cursor"].(string), 1)
	from.read(279, 20*time.Second)
	meta, err := c.HGetAll(context.Background(), prefix+"receipt:meta").Result()
	if err != nil || meta["epoch"] != meta["refilled"] || meta["epoch"] == "" {
		t.Errorf("meta after the refill: %v %v", meta, err)
	}
}

// After Redis lost the stream, a cursor whose data-log file is no longer on disk is gone once
// the refill is complete; a cursor still on disk continues.
func TestResetCursorGoneWithItsFile(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	dir := t.TempDir()
	w := newWriter(t, dir, logreader.Receipt, 50, 4)
	ck := newChecker(t, c, prefix, logreader.Receipt, "", 0)
	startIngress(t, redisstream.IngressOptions{Client: c, Dir: dir, LeaseTTL: time.Second,
		Streams: []logreader.Stream{logreader.Receipt}})
	w.write(1)
	ck.read(1, 20*time.Second)
	oldCursor := ck.last.Cursor
	for range 8 { // four files a round trip of the writer's numbers: file 1 is deleted
		w.write(50)
		ck.read(50, 20*time.Second)
	}
	srv.Restart()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := redisstream.Open(ctx, c, prefix, logreader.Receipt, oldCursor, redisstream.ReaderOptions{Logger: quietLog()})
	if err == nil {
		_, err = r.Next(ctx)
	}
	if !errors.Is(err, redisstream.ErrCursorGone) {
		t.Fatalf("cursor %s of a deleted file after the reset: %v, want ErrCursorGone", oldCursor, err)
	}
	w.write(5)
	ck.read(5, 30*time.Second)
}

// An ingress that starts before any data log exists publishes the first lines in the history it
// began: no reset on the way.
func TestIngressStartsOnEmptyDirectory(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	dir := t.TempDir()
	g := startIngress(t, redisstream.IngressOptions{Client: c, Dir: dir, Poll: 20 * time.Millisecond,
		Streams: []logreader.Stream{logreader.Receipt}})
	ck := newChecker(t, c, prefix, logreader.Receipt, "", 0)
	w := newWriter(t, dir, logreader.Receipt, 50, 4)
	w.write(10)
	ck.read(10, 20*time.Second)
	id, err := redisstream.ParseID(ck.last.ID)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := c.HGetAll(context.Background(), prefix+"receipt:meta").Result()
	if err != nil || meta["epoch"] != fmt.Sprint(id.Epoch) {
		t.Errorf("meta %v (%v), entries of epoch %d", meta, err, id.Epoch)
	}
	if st := g.Status(); st.Streams[0].Epoch != id.Epoch {
		t.Errorf("status epoch %d, entries of epoch %d", st.Streams[0].Epoch, id.Epoch)
	}
}

// logWatch is a slog handler that signals each message containing a word.
type logWatch struct {
	word string
	hit  chan string
}

func (l *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (l *logWatch) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, l.word) {
		select {
		case l.hit <- r.Message:
		default:
		}
	}
	return nil
}
func (l *logWatch) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logWatch) WithGroup(string) slog.Handler      { return l }

// An ingress whose lease another token holds appends nothing, stands by, and publishes the
// lines it missed once the lease is free again.
func TestFencedIngressAppendsNothing(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	dir := t.TempDir()
	w := newWriter(t, dir, logreader.Receipt, 100, 10)
	ck := newChecker(t, c, prefix, logreader.Receipt, "", 0)
	lost := &logWatch{word: "lease lost", hit: make(chan string, 1)}
	g := startIngress(t, redisstream.IngressOptions{Client: c, Dir: dir, LeaseTTL: time.Second,
		Logger: slog.New(lost), Streams: []logreader.Stream{logreader.Receipt}})
	w.write(20)
	ck.read(20, 20*time.Second)
	ctx := context.Background()
	if err := c.Set(ctx, redisstream.LeaseKey(prefix), "another-ingress", 0).Err(); err != nil {
		t.Fatal(err)
	}
	w.write(30)
	select {
	case <-lost.hit:
	case <-time.After(20 * time.Second):
		t.Fatal("the ingress did not notice that another token holds the lease")
	}
	if n, err := c.XLen(ctx, prefix+"receipt").Result(); err != nil || n != 20 {
		t.Fatalf("stream length %d (%v) while the lease is another's, want 20", n, err)
	}
	if st := g.Status(); st.Role != redisstream.RoleStandby || st.Lease.Held {
		t.Errorf("fenced ingress: role %s, lease held %v", st.Role, st.Lease.Held)
	}
	if err := c.Del(ctx, redisstream.LeaseKey(prefix)).Err(); err != nil {
		t.Fatal(err)
	}
	ck.read(30, 20*time.Second)
	w.write(5)
	ck.read(5, 20*time.Second)
}
