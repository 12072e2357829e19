package fanout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/protocol"
	"github.com/shardeum/distributor/redisstream"
	"github.com/shardeum/distributor/redisstream/redistest"
)

// An edge is a child that reads the streams an ingress fills in Redis (FIREHOSE_SOURCE=redis)
// instead of the data-log files, and sends the frames as the ingress signed them. These tests
// run a real redis-server, an ingress following real data-log files, and a real child process.

// edge starts redis-server, an ingress on l's directory and a child reading Redis with extra
// configuration keys. The ingress is stopped when the test ends.
func edge(t *testing.T, l *logs, keys map[string]any) (*child.Process, *events, *redistest.Server, []byte) {
	t.Helper()
	srv := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: time.Second,
		ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { rc.Close() })
	cfgKeys := map[string]any{"FIREHOSE_SOURCE": config.FirehoseRedis, "REDIS_URL": srv.URL()}
	for k, v := range keys {
		cfgKeys[k] = v
	}
	cfg := configWith(t, l.dir, cfgKeys)
	c, err := config.FromJSON(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g, err := redisstream.NewIngress(redisstream.IngressOptions{Client: rc, Prefix: c.RedisStreamPrefix,
		MaxLen: int64(c.RedisStreamMaxLen), Dir: l.dir, Poll: 20 * time.Millisecond, Signer: c.Signer(),
		Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := g.Run(ctx); err != nil {
			t.Errorf("ingress: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	// The child starts at the live end of each stream: once the ingress has published what the
	// directory held, so that the test knows which lines are before it.
	for _, st := range []string{"cycle", "receipt", "originalTx"} {
		want := int64(l.seq[st])
		if want == 0 {
			continue
		}
		ev0 := time.Now()
		for {
			n, err := rc.XLen(context.Background(), c.RedisStreamPrefix+st).Result()
			if err == nil && n >= want {
				break
			}
			if time.Since(ev0) > 30*time.Second {
				t.Fatalf("the ingress did not publish the %d %s lines on disk: %d, %v", want, st, n, err)
			}
			time.Sleep(10 * time.Millisecond) // polling Redis: nothing to wait on
		}
	}
	for st, n := range l.seq {
		l.before[st] = n
	}
	ev := newEvents()
	return spawn(t, cfg, ev), ev, srv, cfg
}

// TestEdgeServesRedis: an edge's clients get every line the ingress published, signed by the
// ingress, in order; a client resumes from a cursor in the ring and from one older than the ring
// (read from the stream at its own position); the edge's stats name the stream it reads.
func TestEdgeServesRedis(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 1000, 10)
	l.pad = strings.Repeat("e", 1000)
	l.append("receipt", 1) // the directory exists and holds a line before the ingress starts
	p, ev, _, cfg := edge(t, l, nil)
	key := hashKey(t, cfg)
	fp := newFakeParent(t)
	ws, err := dialVia(t, fp, p, child.Handoff{ClientID: "a", Key: "a"})
	if err != nil {
		t.Fatal(err)
	}
	ev.waitConnected(t, "a")
	a := collect(t, ws, key)
	l.append("receipt", 2499) // the ring keeps about 750 of these
	l.append("cycle", 10)
	a.waitCount("receipt", 2499)
	a.waitCount("cycle", 10)
	fs := a.snapshot()
	assertRun(t, "live receipts", seqs(fs, "receipt"), 2, 2500)
	assertRun(t, "live cycles", seqs(fs, "cycle"), 1, 10)

	var st child.Stats
	ev.waitFor(t, "stats naming the stream", func() bool {
		var err error
		st, err = p.Stats()
		return err == nil
	})
	for _, rd := range st.Readers {
		if rd.Source != config.FirehoseRedis || !strings.HasPrefix(rd.Key, "distributor:") {
			t.Fatalf("reader stats %+v: want source redis and a stream key", rd)
		}
		if rd.Stream == "receipt" && (rd.LastID == "" || rd.Entries != 2499 || rd.NewestAt.IsZero()) {
			t.Fatalf("receipt reader stats %+v", rd)
		}
	}

	var receipts []rframe // receipts[i] is line i+2
	for _, f := range fs {
		if f.kind == "receipt" {
			receipts = append(receipts, f)
		}
	}
	for _, tc := range []struct {
		id    string
		after int // the last line the client processed
	}{{"ring", 2400}, {"stream", 10}} {
		ws, err := dialVia(t, fp, p, child.Handoff{ClientID: tc.id, Key: tc.id,
			Cursor: map[string]string{"receipt": receipts[tc.after-2].cursor}})
		if err != nil {
			t.Fatal(err)
		}
		r := collect(t, ws, key)
		total := l.seq["receipt"]
		r.waitCount("receipt", total-tc.after)
		l.append("receipt", 5)
		total += 5
		r.waitCount("receipt", total-tc.after)
		a.waitCount("receipt", total-1)
		assertRun(t, "resumed from "+tc.id, seqs(r.snapshot(), "receipt"), tc.after+1, total)
		ws.CloseNow()
		ev.waitClosed(t, tc.id)
	}
}

// TestEdgeCursorGoneAndRedisPause: a cursor older than the stream's retention gets 4404; while
// Redis is paused the edge keeps its client, reports Redis unreachable, and afterwards the
// client gets every line written meanwhile.
func TestEdgeCursorGoneAndRedisPause(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 1000, 10)
	l.append("receipt", 1)
	p, ev, srv, cfg := edge(t, l, map[string]any{"REDIS_STREAM_MAXLEN": 1000})
	key := hashKey(t, cfg)
	fp := newFakeParent(t)
	ws, err := dialVia(t, fp, p, child.Handoff{ClientID: "a", Key: "a"})
	if err != nil {
		t.Fatal(err)
	}
	ev.waitConnected(t, "a")
	a := collect(t, ws, key)
	appendPaced(l, a, 2999) // the edge's reader keeps up; the stream keeps about the last 1,000
	first := a.snapshot()[0].cursor

	old, err := dialVia(t, fp, p, child.Handoff{ClientID: "old", Key: "old", Cursor: map[string]string{"receipt": first}})
	if err != nil {
		t.Fatal(err)
	}
	code, reason := collect(t, old, key).waitEnd()
	if int(code) != protocol.CloseCursorGone {
		t.Fatalf("a cursor older than the stream's retention: close %d %q, want 4404", code, reason)
	}

	srv.Pause()
	l.append("receipt", 100) // the ingress waits for Redis; so does the edge
	ev.waitFor(t, "the edge reports Redis unreachable", func() bool {
		for _, pr := range ev.problems {
			if strings.Contains(pr, "Redis unreachable") {
				return true
			}
		}
		return false
	})
	srv.Resume()
	a.waitCount("receipt", 3099)
	assertRun(t, "through the pause", seqs(a.snapshot(), "receipt"), 2, 3100)
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, c := range ev.closed {
		if c.id == "a" {
			t.Fatalf("the live client was closed: %+v", c)
		}
	}
}

// TestEdgeSlowClientReadsTheStream: on an edge, a client that falls behind reads the Redis stream
// at its own position, and gets every line once, in order, when it reads again.
func TestEdgeSlowClientReadsTheStream(t *testing.T) {
	checkGoroutines(t)
	l := newLogs(t, 1000, 10)
	l.pad = strings.Repeat("s", 1000)
	l.append("receipt", 1)
	p, ev, _, cfg := edge(t, l, map[string]any{"CLIENT_QUEUE_FRAMES": 64})
	key := hashKey(t, cfg)
	fp := newFakeParent(t)
	fast := collectLight(t, dialSmall(t, fp, p, child.Handoff{ClientID: "fast", Key: "f"}), key)
	ev.waitConnected(t, "fast")
	slowWS := dialSmall(t, fp, p, child.Handoff{ClientID: "slow", Key: "s"})
	ev.waitConnected(t, "slow")
	writeUntil(t, l, p, fast, 3000, "slow client moved to the stream", func(st child.Stats) bool {
		c, _ := clientState(st, "slow")
		return st.MovedToLog >= 1 && c.State == child.StateLagging
	})
	appendPaced(l, fast, 200)
	total := l.seq["receipt"]
	slow := collect(t, slowWS, key)
	slow.waitCount("receipt", total-1)
	assertRun(t, "slow client", seqs(slow.snapshot(), "receipt"), 2, total)
	assertRun(t, "fast client", seqs(fast.snapshot(), "receipt"), 2, total)
}
