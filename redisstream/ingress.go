package redisstream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/protocol"
)

// IngressOptions configure an Ingress. Client, Dir and Signer are required.
type IngressOptions struct {
	Client redis.UniversalClient
	Prefix string // REDIS_STREAM_PREFIX; default "distributor:"
	MaxLen int64  // REDIS_STREAM_MAXLEN; default 100000
	Dir    string // DATA_LOG_DIR
	Poll   time.Duration
	Signer protocol.Signer
	Logger *slog.Logger
	// LeaseTTL is how long the lease outlives its holder's last renewal (default 3 s). A standby
	// polls every LeaseTTL/6, so it takes over at most LeaseTTL*7/6 after the active one died.
	LeaseTTL time.Duration
	// BatchMax bounds the entries appended by one script call (default 256).
	BatchMax int
	// Streams defaults to logreader.Streams.
	Streams []logreader.Stream
}

// Ingress follows the data logs and appends every line, signed once, to the Redis streams,
// while it holds the lease; otherwise it stands by. See the package documentation.
type Ingress struct {
	o     IngressOptions
	log   *slog.Logger
	token string
	pubs  []*publisher

	role      atomic.Value // string: "standby", "active", "stopped"
	leaseFrom atomic.Int64 // Unix ms when the lease was taken, 0 when not held
	redisOK   redisState
}

// Roles an ingress reports.
const (
	RoleStandby = "standby"
	RoleActive  = "active"
	RoleStopped = "stopped"
)

var (
	errLeaseLost = errors.New("lease lost")
	errReset     = errors.New("stream reset")
)

// NewIngress checks o and prepares an ingress; Run starts it.
func NewIngress(o IngressOptions) (*Ingress, error) {
	if o.Client == nil || o.Dir == "" {
		return nil, errors.New("redisstream: ingress needs a Redis client and a data-log directory (DATA_LOG_DIR)")
	}
	if o.Prefix == "" {
		o.Prefix = "distributor:"
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 100000
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 3 * time.Second
	}
	if o.BatchMax <= 0 {
		o.BatchMax = 256
	}
	if len(o.Streams) == 0 {
		o.Streams = logreader.Streams
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	var tok [16]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, fmt.Errorf("redisstream: lease token: %w", err)
	}
	g := &Ingress{o: o, log: o.Logger.With("component", "ingress"), token: hex.EncodeToString(tok[:])}
	g.redisOK.log = g.log
	g.role.Store(RoleStandby)
	for _, s := range o.Streams {
		g.pubs = append(g.pubs, &publisher{g: g, stream: s, keys: KeysFor(o.Prefix, s), kind: protocol.Kind(s),
			log: g.log.With("stream", string(s))})
	}
	return g, nil
}

// Run stands by and publishes whenever it holds the lease, until ctx ends. It returns nil then,
// after releasing the lease if it held it.
func (g *Ingress) Run(ctx context.Context) error {
	defer g.role.Store(RoleStopped)
	for {
		if !g.acquire(ctx) {
			return nil
		}
		g.leaseFrom.Store(time.Now().UnixMilli())
		g.role.Store(RoleActive)
		g.log.Info("lease taken: publishing", "lease", LeaseKey(g.o.Prefix))
		lctx, cancel := context.WithCancelCause(ctx)
		var wg sync.WaitGroup
		wg.Add(1 + len(g.pubs))
		go func() { defer wg.Done(); g.renew(lctx, cancel) }()
		for _, p := range g.pubs {
			go func() { defer wg.Done(); p.run(lctx, cancel) }()
		}
		wg.Wait()
		cancel(nil)
		g.leaseFrom.Store(0)
		if ctx.Err() != nil {
			rctx, rcancel := context.WithTimeout(context.Background(), time.Second)
			releaseScript.Run(rctx, g.o.Client, []string{LeaseKey(g.o.Prefix)}, g.token)
			rcancel()
			return nil
		}
		g.role.Store(RoleStandby)
		g.log.Warn("lease lost: standing by", "lease", LeaseKey(g.o.Prefix), "why", context.Cause(lctx))
	}
}

// acquire waits until this ingress holds the lease (true) or ctx ends (false).
func (g *Ingress) acquire(ctx context.Context) bool {
	key := LeaseKey(g.o.Prefix)
	poll := g.o.LeaseTTL / 6
	bo := backoff{max: time.Second}
	for {
		ok, err := g.o.Client.SetNX(ctx, key, g.token, g.o.LeaseTTL).Result()
		if err == nil && !ok {
			// Our own lease, still alive after a renewal that failed for a moment.
			var n int64
			n, err = renewScript.Run(ctx, g.o.Client, []string{key}, g.token, g.o.LeaseTTL.Milliseconds()).Int64()
			ok = err == nil && n == 1
		}
		if ctx.Err() != nil {
			return false
		}
		g.redisOK.set(err)
		if ok {
			return true
		}
		wait := poll
		if err != nil {
			wait = bo.next()
		} else {
			bo.reset()
		}
		if !sleep(ctx, wait) {
			return false
		}
	}
}

// renew extends the lease every LeaseTTL/3. It cancels ctx when the lease is gone, or when no
// renewal succeeded for a whole LeaseTTL (another ingress may hold it by then).
func (g *Ingress) renew(ctx context.Context, cancel context.CancelCauseFunc) {
	key := LeaseKey(g.o.Prefix)
	last := time.Now()
	t := time.NewTicker(g.o.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := renewScript.Run(ctx, g.o.Client, []string{key}, g.token, g.o.LeaseTTL.Milliseconds()).Int64()
		if ctx.Err() != nil {
			return
		}
		g.redisOK.set(err)
		switch {
		case err == nil && n == 1:
			last = time.Now()
		case err == nil:
			cancel(fmt.Errorf("%w: %s is held by another ingress or expired", errLeaseLost, key))
			return
		case time.Since(last) > g.o.LeaseTTL:
			cancel(fmt.Errorf("%w: not renewed for %v (%v)", errLeaseLost, time.Since(last).Round(time.Millisecond), err))
			return
		}
	}
}

// publisher publishes one stream.
type publisher struct {
	g      *Ingress
	stream logreader.Stream
	kind   protocol.Kind
	keys   Keys
	log    *slog.Logger

	lastEpoch int64 // the newest epoch this process has seen for the stream

	mu        sync.Mutex
	st        StreamStatus
	pending   atomic.Int64 // lines read and signed, not yet appended
	headAt    atomic.Int64 // Unix ms the first line of the batch being appended was read, 0 when none
	published atomic.Int64
}

// item is one signed line waiting to be appended.
type item struct {
	id       ID
	pos      logreader.Position
	frame    []byte
	file     string // index field when this is the first line of its file
	refilled bool   // this line completes a refill
	marker   bool   // no line: only says the refill is complete
	readAt   int64  // Unix ms
}

// run publishes terms until the lease is lost or ctx ends.
func (p *publisher) run(ctx context.Context, cancel context.CancelCauseFunc) {
	bo := backoff{max: 2 * time.Second}
	for ctx.Err() == nil {
		err := p.term(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errLeaseLost):
			cancel(err)
			return
		case errors.Is(err, errReset):
			p.log.Warn("the stream is gone from Redis (Redis restarted?): refilling it from the oldest data-log line", "key", p.keys.Stream)
			bo.reset()
		case err != nil:
			p.log.Error("publishing stopped; retrying", "err", err)
			if !sleep(ctx, bo.next()) {
				return
			}
		}
	}
}

// tail is what Redis holds of a stream when a term begins.
type tail struct {
	last     ID
	cursor   logreader.Position
	epoch    int64 // meta epoch, 0 if none
	refilled int64 // meta refilled, 0 if none
}

func (p *publisher) readTail(ctx context.Context) (tail, error) {
	bo := backoff{max: time.Second}
	for {
		t, err := p.readTailOnce(ctx)
		if ctx.Err() != nil {
			return tail{}, ctx.Err()
		}
		if !isRedisDown(err) {
			return t, err
		}
		p.g.redisOK.set(err)
		if !sleep(ctx, bo.next()) {
			return tail{}, ctx.Err()
		}
	}
}

func (p *publisher) readTailOnce(ctx context.Context) (tail, error) {
	c := p.g.o.Client
	var last *redis.XMessageSliceCmd
	var meta *redis.SliceCmd
	_, err := c.Pipelined(ctx, func(pp redis.Pipeliner) error {
		last = pp.XRevRangeN(ctx, p.keys.Stream, "+", "-", 1)
		meta = pp.HMGet(ctx, p.keys.Meta, "epoch", "refilled")
		return nil
	})
	if err != nil && err != redis.Nil {
		return tail{}, err
	}
	p.g.redisOK.set(nil)
	var t tail
	if vs := meta.Val(); len(vs) == 2 {
		t.epoch, t.refilled = metaInt(vs[0]), metaInt(vs[1])
	}
	if es := last.Val(); len(es) == 1 {
		if t.last, err = ParseID(es[0].ID); err != nil {
			return tail{}, fmt.Errorf("last entry of %s: %w", p.keys.Stream, err)
		}
		cur, _ := es[0].Values[fieldCursor].(string)
		if t.cursor, err = logreader.ParsePosition(cur); err != nil || t.cursor.IsZero() {
			return tail{}, fmt.Errorf("last entry %s of %s has no valid cursor %q: %v", es[0].ID, p.keys.Stream, cur, err)
		}
	}
	return t, nil
}

func metaInt(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// term reads the stream's tail, opens the data logs just after it and appends until an error.
func (p *publisher) term(ctx context.Context) error {
	t, err := p.readTail(ctx)
	if err != nil {
		return err
	}
	o := p.g.o
	ro := logreader.Options{Dir: o.Dir, Stream: p.stream, Poll: o.Poll, Logger: p.log, WaitForDir: true}
	expect := false
	var cur ID // the last appended ID; its Gen and Epoch continue
	var curPos logreader.Position
	if t.last.IsZero() {
		// A new history: the stream was never written, or Redis lost it.
		epoch := max(time.Now().Unix(), p.lastEpoch+1, t.epoch+1)
		cur = ID{Epoch: epoch}
		ro.Start = logreader.Oldest
		t.epoch, t.refilled = epoch, 0
		p.log.Info("starting the stream's history from the oldest data-log line", "key", p.keys.Stream, "epoch", epoch)
	} else {
		expect = true
		cur, curPos = t.last, t.cursor
		ro.Start = logreader.After(t.cursor)
		if t.epoch == 0 {
			t.epoch = t.last.Epoch
		}
		p.log.Info("continuing after the stream's last entry", "key", p.keys.Stream, "id", t.last.String(), "cursor", t.cursor.String())
	}
	p.lastEpoch = max(p.lastEpoch, cur.Epoch)
	p.setStatus(func(s *StreamStatus) {
		s.Epoch, s.LastID, s.Cursor = cur.Epoch, idString(cur), curPos.String()
		s.Refilled = t.refilled == cur.Epoch
	})

	r, err := logreader.Open(ro)
	if errors.Is(err, logreader.ErrPositionGone) {
		p.log.Error("the last published line's file is gone from the data logs: continuing at the oldest line on disk; lines in between are missing", "cursor", t.cursor.String(), "err", err)
		ro.Start = logreader.Oldest
		r, err = logreader.Open(ro)
	}
	if err != nil {
		return err
	}
	defer r.Close()

	// Until the refill of this history is done, find where it ends: the newest line now.
	var target logreader.Position
	refilling := t.refilled != cur.Epoch
	if refilling {
		lo := ro
		lo.Start = logreader.Live
		lo.Logger = slog.New(slog.DiscardHandler)
		if lr, err := logreader.Open(lo); err == nil {
			target = lr.Position()
			lr.Close()
		}
	}

	rctx, rcancel := context.WithCancel(ctx)
	items := make(chan item, 4*o.BatchMax)
	readErr := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		readErr <- p.read(rctx, r, items, cur, curPos, refilling, target)
	}()
	defer func() {
		rcancel()
		r.Close()
		wg.Wait()
		p.pending.Store(0)
		p.headAt.Store(0)
	}()

	if refilling && target.IsZero() {
		// Nothing on disk to refill: the history is complete as it is.
		if err := p.appendBatch(ctx, nil, expect, cur.Epoch, true); err != nil {
			return err
		}
		p.setStatus(func(s *StreamStatus) { s.Refilled = true })
	}

	batch := make([]item, 0, o.BatchMax)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return fmt.Errorf("reading the data logs: %w", err)
		case it := <-items:
			batch = append(batch, it)
		}
	drain:
		for len(batch) < o.BatchMax {
			select {
			case it := <-items:
				batch = append(batch, it)
			default:
				break drain
			}
		}
		// The publisher takes lines as soon as they are queued, so the batch's first line is the
		// oldest one not yet in Redis.
		p.headAt.Store(batch[0].readAt)
		if err := p.appendBatch(ctx, batch, expect, cur.Epoch, false); err != nil {
			return err
		}
		p.headAt.Store(0)
		var last *item
		done, lines := false, 0
		for i := range batch {
			done = done || batch[i].refilled
			if !batch[i].marker {
				last, lines = &batch[i], lines+1
			}
		}
		expect = expect || lines > 0 // the stream exists from its first entry on
		p.pending.Add(-int64(lines))
		p.published.Add(int64(lines))
		p.setStatus(func(s *StreamStatus) {
			if last != nil {
				s.LastID, s.Cursor = last.id.String(), last.pos.String()
				s.LastAppend = time.Now().UTC().Format(time.RFC3339Nano)
			}
			s.Refilled = s.Refilled || done
		})
	}
}

// read signs every line the reader hands out and queues it with its ID.
func (p *publisher) read(ctx context.Context, r *logreader.Reader, out chan<- item, cur ID, curPos logreader.Position,
	refilling bool, target logreader.Position) error {
	signer := p.g.o.Signer
	seenTargetFile := false
	idle := max(2*p.g.o.Poll, 200*time.Millisecond)
	for {
		var e logreader.Entry
		var err error
		if refilling {
			// A reader that has nothing to hand out has read everything on disk: the refill is
			// complete even if the target line never comes (a file replaced meanwhile).
			ictx, cancel := context.WithTimeout(ctx, idle)
			e, err = r.Next(ictx)
			cancel()
			if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				refilling = false
				select {
				case out <- item{marker: true, refilled: true, readAt: time.Now().UnixMilli()}:
				case <-ctx.Done():
					return ctx.Err()
				}
				continue
			}
		} else {
			e, err = r.Next(ctx)
		}
		if err != nil {
			return err
		}
		frame, err := signer.Frame(p.kind, e.Line, e.Pos.String())
		if err != nil {
			p.log.Error("cannot sign a data-log line: skipped", "cursor", e.Pos.String(), "err", err)
			continue
		}
		it := item{pos: e.Pos, frame: frame, readAt: time.Now().UnixMilli()}
		if curPos.IsZero() || e.Pos.File != curPos.File || e.Pos.FP != curPos.FP || e.Pos.Line <= curPos.Line {
			cur.Gen++
			it.file = fileField(e.Pos)
		}
		if cur.Gen >= genLimit {
			return fmt.Errorf("more than %d data-log files in one history of %s", genLimit-1, p.keys.Stream)
		}
		cur.Line = e.Pos.Line
		it.id, curPos = cur, e.Pos
		if refilling {
			// target.FP is 0 when the newest file had no line yet: any line of it is past the target.
			inTarget := e.Pos.File == target.File && (e.Pos.FP == target.FP || target.Line == 0)
			if (inTarget && e.Pos.Line >= target.Line) || (seenTargetFile && !inTarget) {
				it.refilled, refilling = true, false
			}
			seenTargetFile = seenTargetFile || inTarget
		}
		p.pending.Add(1)
		select {
		case out <- it:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// appendBatch runs the append script until it succeeds, retrying while Redis is unreachable.
func (p *publisher) appendBatch(ctx context.Context, batch []item, expect bool, epoch int64, refilled bool) error {
	o := p.g.o
	args := make([]any, 0, 5+4*len(batch))
	exp := "0"
	if expect {
		exp = "1"
	}
	ref := ""
	for _, it := range batch {
		refilled = refilled || it.refilled
	}
	if refilled {
		ref = strconv.FormatInt(epoch, 10)
	}
	args = append(args, p.g.token, o.MaxLen, exp, epoch, ref)
	for _, it := range batch {
		if !it.marker {
			args = append(args, it.id.String(), it.pos.String(), it.frame, it.file)
		}
	}
	keys := []string{LeaseKey(o.Prefix), p.keys.Stream, p.keys.Files, p.keys.Meta}
	bo := backoff{max: time.Second}
	for {
		err := appendScript.Run(ctx, o.Client, keys, args...).Err()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case err == nil:
			p.g.redisOK.set(nil)
			return nil
		case strings.HasPrefix(err.Error(), "NOLEASE"):
			p.g.redisOK.set(nil)
			return fmt.Errorf("%w: %v", errLeaseLost, err)
		case strings.HasPrefix(err.Error(), "RESET"):
			p.g.redisOK.set(nil)
			return fmt.Errorf("%w: %v", errReset, err)
		case isRedisDown(err):
			p.g.redisOK.set(err)
		default:
			p.log.Error("appending to Redis failed; retrying", "key", p.keys.Stream, "err", err)
		}
		if !sleep(ctx, bo.next()) {
			return ctx.Err()
		}
	}
}

func (p *publisher) setStatus(f func(*StreamStatus)) {
	p.mu.Lock()
	f(&p.st)
	p.mu.Unlock()
}

func idString(id ID) string {
	if id.IsZero() || id.Line == 0 {
		return ""
	}
	return id.String()
}

// isRedisDown tells a connection problem (retry the same command) from an answer or our own
// error.
func isRedisDown(err error) bool {
	if err == nil || err == redis.Nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var re redis.Error
	if errors.As(err, &re) {
		// An answer; LOADING, BUSY and MASTERDOWN mean Redis cannot serve yet.
		msg := re.Error()
		return strings.HasPrefix(msg, "LOADING") || strings.HasPrefix(msg, "BUSY") || strings.HasPrefix(msg, "MASTERDOWN")
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, redis.ErrPoolTimeout)
}

// redisState logs once per change between reachable and unreachable.
type redisState struct {
	log   *slog.Logger
	mu    sync.Mutex
	down  bool
	since time.Time
	err   string
}

func (s *redisState) set(err error) {
	down := isRedisDown(err)
	if err != nil && !down {
		return // Redis answered
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if down == s.down && !s.since.IsZero() {
		return
	}
	was := s.down
	s.down, s.since = down, time.Now()
	s.err = ""
	if down {
		s.err = err.Error()
		s.log.Warn("Redis unreachable: retrying with backoff; the data-log readers wait", "err", err)
	} else if was {
		s.log.Info("Redis reachable again")
	}
}

func (s *redisState) get() (reachable bool, since time.Time, err string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.down && !s.since.IsZero(), s.since, s.err
}

// backoff doubles from 50 ms up to max.
type backoff struct {
	max time.Duration
	d   time.Duration
}

func (b *backoff) next() time.Duration {
	if b.d == 0 {
		b.d = 50 * time.Millisecond
	} else if b.d *= 2; b.d > b.max {
		b.d = b.max
	}
	return b.d
}

func (b *backoff) reset() { b.d = 0 }

// sleep waits d or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
