package redisstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/logwriter"
	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/redisstream"
	"github.com/shardeum/distributor/redisstream/redistest"
)

func signer(t testing.TB) protocol.Signer {
	t.Helper()
	hk, err := protocol.ParseHashKey(config.DefaultHashKey)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := protocol.ParseKeyPair(config.DefaultPublicKey, config.DefaultSecretKey)
	if err != nil {
		t.Fatal(err)
	}
	return protocol.Signer{HashKey: hk, Keys: kp}
}

func client(t testing.TB, srv *redistest.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

func quietLog() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// ingress runs an in-process Ingress until the test ends (or stop is called).
type runningIngress struct {
	*redisstream.Ingress
	cancel context.CancelFunc
	done   chan struct{}
}

func startIngress(t testing.TB, o redisstream.IngressOptions) *runningIngress {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quietLog()
	}
	o.Signer = signer(t)
	g, err := redisstream.NewIngress(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ri := &runningIngress{Ingress: g, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(ri.done)
		if err := g.Run(ctx); err != nil {
			t.Errorf("ingress: %v", err)
		}
	}()
	t.Cleanup(ri.stop)
	return ri
}

func (ri *runningIngress) stop() {
	ri.cancel()
	<-ri.done
}

// lineFor is the data-log line number n of a test.
func lineFor(s logreader.Stream, n int) []byte {
	return fmt.Appendf(nil, `{"stream":%q,"n":%d,"pad":"%0100d"}`, s, n, n)
}

// writer appends numbered lines to one stream, rotating every perFile lines.
type writer struct {
	t      testing.TB
	w      *logwriter.Writer
	stream logreader.Stream
	n      int
}

func newWriter(t testing.TB, dir string, s logreader.Stream, perFile, maxFiles int) *writer {
	t.Helper()
	w, err := logwriter.NewWriter(dir, s, perFile, maxFiles)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return &writer{t: t, w: w, stream: s}
}

func (w *writer) write(k int) {
	w.t.Helper()
	for range k {
		if err := w.w.Append(lineFor(w.stream, w.n)); err != nil {
			w.t.Fatal(err)
		}
		w.n++
	}
}

// checker reads a stream with a Reader and checks each record: signature, cursor, and that its
// line is the next number.
type checker struct {
	t    testing.TB
	r    *redisstream.Reader
	hk   protocol.HashKey
	next int
	last redisstream.Record
}

func newChecker(t testing.TB, c redis.UniversalClient, prefix string, s logreader.Stream, after string, next int) *checker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := redisstream.Open(ctx, c, prefix, s, after, redisstream.ReaderOptions{Logger: quietLog()})
	if err != nil {
		t.Fatalf("open reader of %s after %q: %v", s, after, err)
	}
	return &checker{t: t, r: r, hk: signer(t).HashKey, next: next}
}

// read reads k records, each within timeout.
func (ck *checker) read(k int, timeout time.Duration) {
	ck.t.Helper()
	for range k {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		rec, err := ck.r.Next(ctx)
		cancel()
		if err != nil {
			ck.t.Fatalf("record %d: %v", ck.next, err)
		}
		ck.check(rec)
	}
}

func (ck *checker) check(rec redisstream.Record) {
	ck.t.Helper()
	if err := protocol.VerifyJSON(ck.hk, rec.Frame); err != nil {
		ck.t.Fatalf("record %d (%s): signature: %v\n%s", ck.next, rec.ID, err, rec.Frame)
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(rec.Frame, &f); err != nil {
		ck.t.Fatal(err)
	}
	var cursor string
	json.Unmarshal(f["cursor"], &cursor)
	if cursor != rec.Cursor {
		ck.t.Fatalf("record %s: frame cursor %q, entry cursor %q", rec.ID, cursor, rec.Cursor)
	}
	var line struct{ N int }
	if err := json.Unmarshal(f[string(rec.Stream)], &line); err != nil {
		ck.t.Fatalf("record %s: %v", rec.ID, err)
	}
	if line.N != ck.next {
		ck.t.Fatalf("record %s (cursor %s): line %d, want %d", rec.ID, rec.Cursor, line.N, ck.next)
	}
	ck.next++
	ck.last = rec
}
