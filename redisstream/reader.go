package redisstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardeum/distributor/logreader"
)

// ErrCursorGone is wrapped by the error Next returns when the entries just after the reader's
// cursor are no longer in the stream: trimmed by MAXLEN, or their file was gone from the data
// logs when the ingress refilled a lost stream. A WebSocket server closes such a client with
// 4404, as it does for a rotated-away file.
var ErrCursorGone = errors.New("cursor older than the stream's retention")

// Record is one stream entry as the ingress stored it.
type Record struct {
	Stream logreader.Stream
	ID     string // the Redis entry ID
	Cursor string // the data-log position (logreader.Position.String()), also inside Frame
	Frame  []byte // the signed frame, to send as it is
}

// ReaderOptions tune a Reader; the zero value is usable.
type ReaderOptions struct {
	Count  int64         // entries fetched per round trip (default 256)
	Block  time.Duration // XREAD BLOCK per wait (default 1 s); Next waits longer by repeating it
	Logger *slog.Logger
	// OnDown, if set, is called (from Next) when Redis becomes unreachable, with the error, and
	// with nil when it is reachable again: once per change, as the reader logs it.
	OnDown func(err error)
}

// Position parses the record's cursor.
func (rec Record) Position() (logreader.Position, error) { return logreader.ParsePosition(rec.Cursor) }

// Reader reads one stream from just after a cursor (or from its live end) and hands out every
// entry once, in order; see the package documentation. Next is called from one goroutine.
type Reader struct {
	c      redis.UniversalClient
	keys   Keys
	stream logreader.Stream
	o      ReaderOptions
	log    *slog.Logger

	resolved bool
	cursor   logreader.Position // of the last record handed out, or the start
	last     ID                 // its ID; zero: before the first entry
	buf      []redis.XMessage
	down     bool // Redis was unreachable at the last try (logged once)
	// readEvery paces the reader (SetReadEvery): it fetches at most once per readEvery, so that
	// a busy stream costs one round trip a round, not one an entry. lastFetch is its last fetch.
	readEvery atomic.Int64
	lastFetch time.Time

	closeCtx context.Context // cancelled by Close
	close    context.CancelFunc
}

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("redisstream: reader closed")

// Close makes a waiting Next return ErrClosed (within the XREAD BLOCK time at most) and every
// later one too. The Redis client is the caller's, and stays open.
func (r *Reader) Close() error {
	r.close()
	return nil
}

// Open prepares a reader of stream under prefix that starts just after cursor after (a
// logreader.Position string; "" is the live end of the stream). A malformed cursor is an error
// at once; one older than the retention is reported by Open when Redis answers, else by the
// first Next.
func Open(ctx context.Context, c redis.UniversalClient, prefix string, stream logreader.Stream, after string, o ReaderOptions) (*Reader, error) {
	if _, err := logreader.ParseStream(string(stream)); err != nil {
		return nil, err
	}
	pos, err := logreader.ParsePosition(after)
	if err != nil {
		return nil, err
	}
	if o.Count <= 0 {
		o.Count = 256
	}
	if o.Block <= 0 {
		o.Block = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	r := &Reader{c: c, keys: KeysFor(prefix, stream), stream: stream, o: o, cursor: pos,
		log: o.Logger.With("component", "redisstream", "stream", string(stream))}
	r.closeCtx, r.close = context.WithCancel(context.Background())
	if err := r.resolve(ctx); err != nil && !isRedisDown(err) {
		return nil, err
	}
	return r, nil
}

// SetReadEvery makes the reader fetch from Redis at most once every d (0: as soon as it has
// handed out what it fetched). The first entry after a quiet spell still arrives at once (the
// reader waits for it with XREAD BLOCK); what follows it waits for the round. Safe to call
// while another goroutine is in Next.
func (r *Reader) SetReadEvery(d time.Duration) { r.readEvery.Store(int64(max(d, 0))) }

// Cursor is the cursor of the last record handed out (or the starting one).
func (r *Reader) Cursor() string { return r.cursor.String() }

// LastID is the ID of the last record handed out, "" before the first when it is not known.
func (r *Reader) LastID() string { return idString(r.last) }

// resolve finds the ID the reader continues after.
func (r *Reader) resolve(ctx context.Context) error {
	if r.resolved {
		return nil
	}
	if r.cursor.IsZero() {
		// Live: after the stream's newest entry now (or from its first if it is empty).
		es, err := r.c.XRevRangeN(ctx, r.keys.Stream, "+", "-", 1).Result()
		if err != nil {
			return err
		}
		if len(es) == 1 {
			id, err := ParseID(es[0].ID)
			if err != nil {
				return err
			}
			cur, _ := es[0].Values[fieldCursor].(string)
			pos, err := logreader.ParsePosition(cur)
			if err != nil {
				return fmt.Errorf("redisstream: entry %s of %s: %w", es[0].ID, r.keys.Stream, err)
			}
			r.last, r.cursor = id, pos
		}
		r.resolved = true
		return nil
	}
	id, ok, err := r.locate(ctx, r.cursor)
	if err != nil {
		return err
	}
	if !ok {
		return nil // the history is being refilled: resolve again later
	}
	r.last, r.resolved = id, true
	return nil
}

// locate maps a cursor to its entry's ID through the file index and checks the entry is still
// in the stream. ok is false while a refill may still bring the cursor's file.
func (r *Reader) locate(ctx context.Context, pos logreader.Position) (ID, bool, error) {
	var ms *redis.StringCmd
	var meta *redis.SliceCmd
	var first *redis.XMessageSliceCmd
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		ms = p.HGet(ctx, r.keys.Files, fileField(pos))
		meta = p.HMGet(ctx, r.keys.Meta, "epoch", "refilled")
		first = p.XRangeN(ctx, r.keys.Stream, "-", "+", 1)
		return nil
	})
	if err != nil && err != redis.Nil {
		return ID{}, false, err
	}
	var epoch, refilled int64
	if vs := meta.Val(); len(vs) == 2 {
		epoch, refilled = metaInt(vs[0]), metaInt(vs[1])
	}
	if ms.Err() == redis.Nil {
		if epoch == 0 || refilled != epoch {
			return ID{}, false, nil
		}
		return ID{}, false, r.gone(pos, "its data-log file is not in the stream")
	}
	id, err := ParseID(ms.Val() + "-" + fmt.Sprint(pos.Line))
	if err != nil {
		return ID{}, false, err
	}
	fs := first.Val()
	if len(fs) == 0 {
		return ID{}, false, nil // emptied under us: a refill follows
	}
	fid, err := ParseID(fs[0].ID)
	if err != nil {
		return ID{}, false, err
	}
	if id.Less(fid) {
		return ID{}, false, r.gone(pos, "its entry "+id.String()+" was trimmed (the oldest is "+fs[0].ID+")")
	}
	return id, true, nil
}

func (r *Reader) gone(pos logreader.Position, why string) error {
	return fmt.Errorf("redisstream: %s: cursor %s: %w: %s", r.keys.Stream, pos, ErrCursorGone, why)
}

// Next returns the entry after the last one, waiting for it as long as ctx allows. While Redis
// is unreachable it retries (with capped backoff) and skips nothing. Errors: ctx's, and one
// wrapping ErrCursorGone.
func (r *Reader) Next(ctx context.Context) (Record, error) {
	if r.closeCtx.Err() != nil {
		return Record{}, ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(r.closeCtx, cancel)
	defer stop()
	rec, err := r.next(ctx)
	if err != nil && r.closeCtx.Err() != nil {
		return Record{}, ErrClosed
	}
	return rec, err
}

func (r *Reader) next(ctx context.Context) (Record, error) {
	bo := backoff{max: time.Second}
	for {
		if len(r.buf) > 0 {
			m := r.buf[0]
			r.buf = r.buf[1:]
			return r.record(m)
		}
		if every := time.Duration(r.readEvery.Load()); every > 0 {
			if !sleep(ctx, time.Until(r.lastFetch.Add(every))) {
				return Record{}, ctx.Err()
			}
		}
		r.lastFetch = time.Now()
		err := r.fetch(ctx)
		if ctx.Err() != nil {
			return Record{}, ctx.Err()
		}
		if err == nil {
			bo.reset()
			r.setDown(nil)
			continue
		}
		if !isRedisDown(err) {
			return Record{}, err
		}
		r.setDown(err)
		if !sleep(ctx, bo.next()) {
			return Record{}, ctx.Err()
		}
	}
}

func (r *Reader) setDown(err error) {
	down := err != nil
	if down == r.down {
		return
	}
	r.down = down
	if down {
		r.log.Warn("Redis unreachable: waiting, nothing is skipped", "key", r.keys.Stream, "err", err)
	} else {
		r.log.Info("Redis reachable again", "key", r.keys.Stream)
	}
	if r.o.OnDown != nil {
		r.o.OnDown(err)
	}
}

func (r *Reader) record(m redis.XMessage) (Record, error) {
	id, err := ParseID(m.ID)
	if err != nil {
		return Record{}, err
	}
	cur, _ := m.Values[fieldCursor].(string)
	frame, _ := m.Values[fieldFrame].(string)
	pos, err := logreader.ParsePosition(cur)
	if err != nil || frame == "" {
		return Record{}, fmt.Errorf("redisstream: entry %s of %s has no valid cursor and frame (%v)", m.ID, r.keys.Stream, err)
	}
	r.last, r.cursor = id, pos
	return Record{Stream: r.stream, ID: m.ID, Cursor: cur, Frame: []byte(frame)}, nil
}

// fetch fills buf with the entries after r.last, or waits up to Block for some. It returns nil
// having fetched nothing when the wait ended or the position was re-resolved.
func (r *Reader) fetch(ctx context.Context) error {
	if !r.resolved {
		if err := r.resolve(ctx); err != nil {
			return err
		}
		if !r.resolved {
			return r.wait(ctx, "0-0")
		}
	}
	// The entries after last, and whether last itself is still there: if it is, nothing between
	// it and them was trimmed (Redis trims from the front), in one atomic step.
	var after, self *redis.XMessageSliceCmd
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		after = p.XRangeN(ctx, r.keys.Stream, "("+r.last.String(), "+", r.o.Count)
		if !r.last.IsZero() {
			self = p.XRangeN(ctx, r.keys.Stream, r.last.String(), r.last.String(), 1)
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return err
	}
	es := after.Val()
	if self != nil && len(self.Val()) == 0 {
		// Our last entry is gone: trimmed, or the stream lost (Redis restarted) and refilled
		// under a new epoch.
		if len(es) > 0 {
			if id, _ := ParseID(es[0].ID); id.Epoch == r.last.Epoch {
				return r.gone(r.cursor, "its entry "+r.last.String()+" was trimmed (the oldest is "+es[0].ID+")")
			}
		}
		id, ok, err := r.locate(ctx, r.cursor)
		if err != nil {
			return err
		}
		if !ok {
			return r.wait(ctx, "0-0")
		}
		if id == r.last {
			// The cursor's line is not in Redis yet (a cursor from a node reading the files
			// directly can be ahead of the ingress): wait for it.
			return r.wait(ctx, r.last.String())
		}
		if id.Epoch != r.last.Epoch {
			r.log.Warn("the stream's history was reset (Redis lost it and the ingress refilled it): continuing after the cursor in the new history",
				"key", r.keys.Stream, "cursor", r.cursor.String(), "old", r.last.String(), "new", id.String())
		}
		r.last = id
		return nil
	}
	if len(es) > 0 {
		r.buf = es
		return nil
	}
	return r.wait(ctx, r.last.String())
}

// wait blocks until an entry after id arrives or Block passes.
func (r *Reader) wait(ctx context.Context, id string) error {
	err := r.c.XRead(ctx, &redis.XReadArgs{Streams: []string{r.keys.Stream, id}, Count: 1, Block: r.o.Block}).Err()
	if err == redis.Nil {
		return nil
	}
	return err
}
