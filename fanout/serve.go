package fanout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shardeum/distributor/child"
	"github.com/shardeum/distributor/config"
	"github.com/shardeum/distributor/logreader"
	"github.com/shardeum/distributor/protocol"
)

const (
	// Recent frames per stream kept for resume, and at most this many bytes of them. Every child
	// holds its own ring, so this is paid once per child (20 times in scenario D, where 2,048
	// receipts were 40 % of a child's heap): a reconnect within the ring is served
	// from memory, an older cursor from disk by a catch-up reader (correct, just more work).
	ringFrames     = 2048
	ringBytes      = 1 << 20
	reopenInterval = time.Second
	// A stream's reader reads this far ahead of signing (lines, and bytes of them), so that a
	// writer's burst cannot lap it (rotate away files it has not read yet) while frames are signed.
	// 16 MiB is one of an archiver's 10,000-receipt files; the reader also holds the files after
	// the one it reads open (logreader). Read-ahead is a burst's peak memory: 32 MiB put burst at
	// its 200 MB goal, 16 MiB at 168 MB (BENCHMARKS.md).
	readAheadLines = 65536
	readAheadBytes = 16 << 20
)

// hubFeed is the child's feed: one hub per stream, each with its own reader.
type hubFeed struct {
	s      *server
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	signer atomic.Pointer[protocol.Signer]
	dir    string // DATA_LOG_DIR, as the child was started with
	source string // config.FirehoseFiles or config.FirehoseRedis
	where  string // where the source is, for errors and logs
	open   sourceOpener
	// closeSource releases what the readers share (the Redis client); nil for the files.
	closeSource func() error
	hubs        []*hub
	// work holds lines read and not yet signed, of every stream, for the signing workers. A reader
	// never waits for room here: only for its own hub's bounds (hub.reserve).
	work *jobQueue
	wg   sync.WaitGroup
	// readEvery paces the live readers (Pace): they look for new lines at most this often.
	readEvery atomic.Int64
	// catchUpCPU holds a token for each catch-up reader signing a line: together they use at most
	// half the child's processors, so lagging clients cannot starve the shared stream.
	catchUpCPU chan struct{}
}

// pace sets how often the live readers look for new lines (0: as soon as a line is written).
func (f *hubFeed) pace(every time.Duration) {
	f.readEvery.Store(int64(every))
	for _, h := range f.hubs {
		f.paceSource(h.source())
	}
}

func (f *hubFeed) paceSource(src Source) {
	if p, ok := src.(paceable); ok {
		p.SetReadEvery(time.Duration(f.readEvery.Load()))
	}
}

// openFeed configures the child from the parent's config JSON and starts a reader per stream, each
// at the live end of its stream.
func openFeed(s *server, raw []byte) (feed, limits, error) {
	cfg, err := config.FromJSON(raw)
	if err != nil {
		return nil, limits{}, err
	}
	f := &hubFeed{s: s, log: s.log, dir: cfg.DataLogDir, where: cfg.DataLogDir}
	if cfg.FirehoseSource == config.FirehoseRedis {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, limits{}, fmt.Errorf("REDIS_URL: %w", err)
		}
		rc := redis.NewClient(opts)
		f.closeSource = rc.Close
		f.source, f.where = config.FirehoseRedis, fmt.Sprintf("Redis %s (streams %s*)", opts.Addr, cfg.RedisStreamPrefix)
		f.open = redisOpener(rc, cfg.RedisStreamPrefix, s.log, f.sourceDown)
	} else {
		poll := time.Duration(cfg.FileStreamIntervalMS) * time.Millisecond
		f.source = config.FirehoseFiles
		f.open = dataLogOpener(cfg.DataLogDir, poll, s.log, func(st logreader.Stream, err error) {
			s.events.problem(string(st), err.Error())
		})
	}
	fd, lim, err := f.start(cfg)
	if err != nil && f.closeSource != nil {
		_ = f.closeSource()
	}
	return fd, lim, err
}

// sourceDown records that a live reader's Redis became unreachable (err) or reachable again (nil):
// the hub is failing meanwhile (ReaderStats.Err, /is-healthy), and the parent is told once.
func (f *hubFeed) sourceDown(st logreader.Stream, err error) {
	h := f.hub(string(st))
	if h == nil {
		return
	}
	if err == nil {
		h.mu.Lock()
		h.lastErr = ""
		h.mu.Unlock()
		return
	}
	msg := "Redis unreachable: " + err.Error()
	h.mu.Lock()
	h.lastErr, h.lastProb = msg, msg
	h.mu.Unlock()
	f.s.events.problem(string(st), msg)
}

func (f *hubFeed) start(cfg *config.Config) (feed, limits, error) {
	f.setSigner(cfg)
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.catchUpCPU = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))
	for _, st := range logreader.Streams {
		src, err := f.open(st, "", true)
		if err != nil {
			for _, h := range f.hubs {
				_ = h.src.Close()
			}
			f.cancel()
			return nil, limits{}, fmt.Errorf("open %s reader of %s: %w", st, f.where, err)
		}
		h := newHub(f, st, src)
		f.hubs = append(f.hubs, h)
	}
	f.work = newJobQueue()
	for range runtime.GOMAXPROCS(0) {
		f.wg.Add(1)
		go f.signLoop()
	}
	for _, h := range f.hubs {
		f.wg.Add(2)
		go h.read()
		go h.run()
	}
	return f, limitsOf(cfg), nil
}

// setSigner signs from now on with cfg's key, through the shared signature table if there is one.
func (f *hubFeed) setSigner(cfg *config.Config) protocol.Signer {
	signer := cfg.Signer()
	if f.s.sigs != nil {
		signer.Cache = f.s.sigs
	}
	f.signer.Store(&signer)
	return signer
}

func limitsOf(cfg *config.Config) limits {
	lim := limits{queueFrames: cfg.ClientQueueFrames, stallTimeout: time.Duration(cfg.ClientStallTimeoutMS) * time.Millisecond}
	if lim.queueFrames <= 0 {
		lim.queueFrames = config.DefaultClientQueueFrames
	}
	if lim.stallTimeout <= 0 {
		lim.stallTimeout = config.DefaultClientStallTimeoutMS * time.Millisecond
	}
	return lim
}

func (f *hubFeed) hub(stream string) *hub {
	for _, h := range f.hubs {
		if string(h.stream) == stream {
			return h
		}
	}
	return nil
}

// subscribe starts delivery to a client whose WebSocket is open: live for streams without a cursor,
// resumed after the cursor for the others. A cursor naming no stream, or malformed, closes the
// client with CloseCursorGone (it should resume without it).
func (f *hubFeed) subscribe(c *client) {
	after := make(map[*hub]string, len(c.cursor))
	for stream, cur := range c.cursor {
		h := f.hub(stream)
		if h == nil {
			c.close(protocol.CloseCursorGone, truncateReason(fmt.Sprintf("resume cursor names no stream %q", stream)), true)
			return
		}
		if cur == "" {
			continue
		}
		pos, err := logreader.ParsePosition(cur)
		if err != nil {
			c.close(protocol.CloseCursorGone, truncateReason(fmt.Sprintf("resume cursor for %s is malformed", stream)), true)
			return
		}
		after[h] = pos.String()
	}
	for _, h := range f.hubs {
		h.join(c, after[h])
	}
}

// lag fills in c's state and lag from its most lagging stream.
func (f *hubFeed) lag(c *client, now time.Time, st *child.ClientStats) {
	for _, h := range f.hubs {
		lines, age, lagging := h.lag(c, now)
		if !lagging {
			continue
		}
		if st.State == child.StateLive {
			st.State = child.StateLagging
		}
		if lines < 0 || st.LagLines < 0 {
			st.LagLines = -1
		} else {
			st.LagLines = max(st.LagLines, lines)
		}
		st.LagSeconds = max(st.LagSeconds, age.Seconds())
	}
}

func (f *hubFeed) unsubscribe(c *client) {
	for _, h := range f.hubs {
		h.leave(c)
	}
}

func (f *hubFeed) stats() []child.ReaderStats {
	out := make([]child.ReaderStats, 0, len(f.hubs))
	for _, h := range f.hubs {
		out = append(out, h.stats())
	}
	return out
}

func (f *hubFeed) reload(raw []byte) error {
	cfg, err := config.FromJSON(raw)
	if err != nil {
		return err
	}
	signer := f.setSigner(cfg)
	f.s.mu.Lock()
	f.s.setLimits(limitsOf(cfg))
	f.s.mu.Unlock()
	if cfg.DataLogDir != f.dir && f.source == config.FirehoseFiles {
		f.log.Warn("DATA_LOG_DIR changed; this child keeps reading the old directory until it is replaced",
			"old", f.dir, "new", cfg.DataLogDir)
	}
	f.log.Info("configuration reloaded", "signer", signer.Keys.PublicHex)
	return nil
}

// inFlight reports lines read and not yet published, of any stream (they are released once
// published: hub.release).
func (f *hubFeed) inFlight() bool {
	for _, h := range f.hubs {
		h.aheadMu.Lock()
		n := h.aheadLines
		h.aheadMu.Unlock()
		if n > 0 {
			return true
		}
	}
	return false
}

func (f *hubFeed) stop() {
	f.cancel()
	for _, h := range f.hubs {
		h.closeSource()
	}
	f.wg.Wait()
	if f.closeSource != nil {
		_ = f.closeSource()
	}
}

// job is one line read and waiting to be signed (by any worker) and published (by its hub, in the
// order the lines were read).
type job struct {
	kind   protocol.Kind
	cursor string
	line   []byte // the line (logreader.Entry.Line: ours to keep); nil once signed
	size   int    // len(line), counted against readAheadBytes until the line is published
	data   []byte // the signed frame, or nil when the line could not be signed (err)
	err    error
	done   chan struct{} // closed once signed
}

// signLoop signs lines for every stream until the feed stops; the hubs publish them in order.
func (f *hubFeed) signLoop() {
	defer f.wg.Done()
	for {
		j := f.work.pop(f.ctx)
		if j == nil {
			return
		}
		j.data, j.err = f.signer.Load().Frame(j.kind, j.line, j.cursor)
		j.line = nil
		close(j.done)
	}
}

// hub is one stream: its reader, its ring of recent frames and its subscribers.
type hub struct {
	f      *hubFeed
	stream logreader.Stream
	kind   protocol.Kind

	srcMu sync.Mutex
	src   Source

	// Lines read ahead, in read order, waiting to be signed and published (at most readAheadLines
	// of them and readAheadBytes of their bytes: see reserve).
	jobs       *jobQueue
	startPos   string // the first reader's position before its first line ("" if unknown)
	aheadMu    sync.Mutex
	aheadLines int
	aheadBytes int
	aheadSpace chan struct{} // closed (and dropped) when lines are released: see reserve

	mu        sync.Mutex
	ring      []*frame // ring[seq%len(ring)] for seq in [first, seq]
	ringBytes int
	first     int64
	seq       int64
	index     map[string]int64 // cursor -> seq of the newest frame with it
	subs      map[*client]struct{}
	pending   map[*client]*catchup
	recent    recentFrames // frames catch-ups signed lately (under mu)
	history   lagHistory   // what was published while clients lag (under mu)
	pos       string       // cursor of the last line published
	entries   uint64       // lines published (skipped ones too): a line's number in this hub
	newestAt  time.Time
	marks     []lineMark // when some lines were published, one a second at most: see publishedAt
	lastErr   string     // the reader's failure, until a replacement reader is open
	lastProb  string     // the last failure, kept after recovery (for /status)
}

func newHub(f *hubFeed, st logreader.Stream, src Source) *hub {
	pos := ""
	if p, ok := src.(cursorer); ok {
		pos = p.Cursor()
	}
	return &hub{pos: pos, startPos: pos, jobs: newJobQueue(),
		f: f, stream: st, kind: protocol.Kind(st), src: src,
		ring: make([]*frame, ringFrames), first: 1,
		index: make(map[string]int64), subs: make(map[*client]struct{}), pending: make(map[*client]*catchup),
	}
}

func (h *hub) source() Source {
	h.srcMu.Lock()
	defer h.srcMu.Unlock()
	return h.src
}

func (h *hub) closeSource() {
	h.srcMu.Lock()
	defer h.srcMu.Unlock()
	if h.src != nil {
		_ = h.src.Close()
	}
}

// read reads the stream ahead of signing, as fast as the disk allows within readAheadLines and
// readAheadBytes, and hands each line to the signing workers and (in order) to run.
func (h *hub) read() {
	defer h.f.wg.Done()
	ctx := h.f.ctx
	last := h.startPos // cursor of the last line read: a replacement reader resumes after it
	for {
		e, err := h.source().Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			last = h.readerFailed(ctx, err, last)
			continue
		}
		j := &job{kind: h.kind, cursor: e.Cursor, line: e.Line, size: len(e.Line), done: make(chan struct{})}
		if e.Frame != nil { // signed by the ingress: nothing to do but publish it in order
			j.line, j.data, j.size = nil, e.Frame, len(e.Frame)
			close(j.done)
		}
		last = j.cursor
		if !h.reserve(ctx, j.size) {
			return
		}
		h.jobs.push(j)
		if j.data == nil {
			h.f.work.push(j)
		}
	}
}

// reserve waits until one more line of n bytes fits in the read-ahead (one line always fits).
func (h *hub) reserve(ctx context.Context, n int) bool {
	for {
		h.aheadMu.Lock()
		if h.aheadLines == 0 || (h.aheadLines < readAheadLines && h.aheadBytes+n <= readAheadBytes) {
			h.aheadLines++
			h.aheadBytes += n
			h.aheadMu.Unlock()
			return true
		}
		if h.aheadSpace == nil {
			h.aheadSpace = make(chan struct{})
		}
		space := h.aheadSpace
		h.aheadMu.Unlock()
		select {
		case <-space:
		case <-ctx.Done():
			return false
		}
	}
}

func (h *hub) release(n int) {
	h.aheadMu.Lock()
	h.aheadLines--
	h.aheadBytes -= n
	if h.aheadSpace != nil {
		close(h.aheadSpace)
		h.aheadSpace = nil
	}
	h.aheadMu.Unlock()
}

// run publishes the stream's lines in the order they were read, each once it is signed.
func (h *hub) run() {
	defer h.f.wg.Done()
	ctx := h.f.ctx
	for {
		j := h.jobs.pop(ctx)
		if j == nil {
			return
		}
		select {
		case <-j.done:
		case <-ctx.Done():
			return
		}
		if j.err != nil {
			msg := fmt.Sprintf("line at %s skipped: %v", j.cursor, j.err)
			h.f.log.Warn("data-log line skipped", "stream", h.stream, "cursor", j.cursor, "err", j.err)
			h.f.s.events.problem(string(h.stream), msg)
		}
		h.publish(j.cursor, j.data)
		h.release(j.size)
	}
}

// readerFailed reports a reader error and replaces the reader, after last, the last line read
// (the lines read ahead are still published), or live if that is gone: the gap is reported. It
// returns the position the reader now stands at.
func (h *hub) readerFailed(ctx context.Context, err error, last string) string {
	msg := fmt.Sprintf("reader failed: %v", err)
	h.f.log.Error("data-log reader failed", "stream", h.stream, "err", err)
	h.mu.Lock()
	h.lastErr, h.lastProb = msg, msg
	h.mu.Unlock()
	h.f.s.events.problem(string(h.stream), msg)
	t := time.NewTimer(reopenInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return last
	case <-t.C:
	}
	src, err := h.f.open(h.stream, last, true)
	if err != nil && last != "" {
		lost := fmt.Sprintf("cannot resume after %s (%v); reading live: lines in between are lost", last, err)
		h.f.s.events.problem(string(h.stream), lost)
		h.mu.Lock()
		h.lastProb = lost
		h.mu.Unlock()
		src, err = h.f.open(h.stream, "", true)
		if err == nil {
			last = ""
			if p, ok := src.(cursorer); ok {
				last = p.Cursor()
			}
		}
	}
	if err != nil {
		h.f.log.Error("data-log reader cannot be reopened; retrying", "stream", h.stream, "err", err)
		return last // retried on the next round
	}
	h.f.paceSource(src)
	h.srcMu.Lock()
	old := h.src
	h.src = src
	h.srcMu.Unlock()
	_ = old.Close()
	if ctx.Err() != nil {
		_ = src.Close()
		return last
	}
	h.mu.Lock()
	h.lastErr = "" // healthy again; lastProb keeps what happened
	h.mu.Unlock()
	h.f.log.Info("data-log reader replaced", "stream", h.stream, "after", last)
	return last
}

// publish appends a frame to the ring and queues it for every live subscriber; data nil means the
// line at cursor was skipped (it still moves resuming clients along). A subscriber whose queue is
// full moves to the data log: it is fed from then on by a catch-up reader of its own, started just
// after the last line it was queued.
func (h *hub) publish(cursor string, data []byte) {
	var moved, cut []*client
	now := time.Now()
	h.mu.Lock()
	prev, prevIndex := h.pos, int64(h.entries)
	fr := &frame{cursor: cursor, data: data} // without data (a skipped line) it only enters the history
	if data != nil {
		h.seq++
		// Free the slot the new frame takes before storing it: evicting after the store would
		// clear the new frame itself once the ring has wrapped.
		for h.seq-h.first+1 > int64(len(h.ring)) {
			h.evict()
		}
		fr.seq = h.seq
		h.ring[h.seq%int64(len(h.ring))] = fr
		h.ringBytes += len(data)
		h.index[cursor] = h.seq
		for h.ringBytes > ringBytes && h.first < h.seq {
			h.evict()
		}
		for c := range h.subs {
			if c.isClosing() {
				delete(h.subs, c)
				continue
			}
			if !c.q.push(fr) {
				delete(h.subs, c)
				if h.toLogLocked(c, prev, prevIndex) {
					moved = append(moved, c)
				} else {
					cut = append(cut, c)
				}
			}
		}
	}
	// Resuming clients whose catch-up reader is ahead of this hub join when the hub reaches the
	// last line their reader sent: everything after it comes from the hub.
	slowest, lagging := int64(-1), false
	for c, cu := range h.pending {
		if cu.lastSent == cursor {
			h.f.log.Debug("hub reached a catch-up", "client", c.info.ID, "stream", h.stream)
			h.joinedLocked(c, cu)
			cu.cancel()
			continue
		}
		if cu.moved && cu.index >= 0 && (!lagging || cu.index < slowest) {
			slowest, lagging = cu.index, true
		}
	}
	h.pos = cursor
	h.entries++
	if lagging {
		h.history.trim(slowest)
		h.history.add(int64(h.entries), fr)
	} else if h.history.len() > 0 {
		h.history.reset()
	}
	h.newestAt = now
	if n := len(h.marks); n == 0 || now.Sub(h.marks[n-1].at) >= time.Second {
		if n >= maxMarks {
			h.marks = append(h.marks[:0], h.marks[n/2:]...)
		}
		h.marks = append(h.marks, lineMark{line: int64(h.entries), at: now})
	}
	h.mu.Unlock()
	for _, c := range moved {
		h.f.log.Info("client fell behind; reading the data log at its own position", "client", c.info.ID,
			"key", c.info.Key, "remote", c.info.Remote, "stream", h.stream, "after", prev, "queued", c.q.depth())
	}
	for _, c := range cut {
		h.f.log.Warn("client fell behind and the stream has no position to read it from; closing", "client", c.info.ID,
			"key", c.info.Key, "remote", c.info.Remote, "stream", h.stream)
		c.close(protocol.CloseSlowConsumer, "slow consumer: the stream cannot be re-read here; resume from your last cursor", true)
	}
}

// lineMark records that line (a hub line number) was published at at.
type lineMark struct {
	line int64
	at   time.Time
}

// maxMarks bounds a hub's marks: about an hour of a busy stream at one a second.
const maxMarks = 4096

// publishedAt is about when line n was published (at most a second early), or the oldest time
// known when it is older than every mark (h.mu held).
func (h *hub) publishedAt(n int64) time.Time {
	i := sort.Search(len(h.marks), func(i int) bool { return h.marks[i].line > n })
	if i == 0 {
		if len(h.marks) == 0 {
			return time.Time{}
		}
		return h.marks[0].at
	}
	return h.marks[i-1].at
}

// toLogLocked moves c, which could not take the line after prev (the prevIndex-th), to a catch-up
// reader started just after prev. It reports false when the hub cannot do that (no position).
func (h *hub) toLogLocked(c *client, prev string, prevIndex int64) bool {
	if prev == "" || h.f.ctx.Err() != nil {
		return false
	}
	if _, err := logreader.ParsePosition(prev); err != nil {
		return false
	}
	h.f.s.movedToLog.Add(1)
	h.startCatchUpLocked(c, &catchup{lastSent: prev, index: prevIndex, moved: true})
	return true
}

// joinedLocked ends c's catch-up on this stream: the hub's broadcast feeds it from now on.
func (h *hub) joinedLocked(c *client, cu *catchup) {
	delete(h.pending, c)
	h.subs[c] = struct{}{}
	cu.joined = true
	if cu.moved {
		h.f.s.rejoined.Add(1)
	}
}

// lag reports whether c is fed by a catch-up reader on this stream, and how far behind it is:
// lines published and not yet queued for it (-1: unknown, a resume cursor) and the age of the
// first of them.
func (h *hub) lag(c *client, now time.Time) (lines int64, age time.Duration, lagging bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cu := h.pending[c]
	if cu == nil {
		return 0, 0, false
	}
	if cu.index < 0 {
		return -1, 0, true
	}
	lines = int64(h.entries) - cu.index
	if lines > 0 {
		if at := h.publishedAt(cu.index + 1); !at.IsZero() {
			age = max(now.Sub(at), 0)
		}
	}
	return lines, age, true
}

func (h *hub) evict() {
	i := h.first % int64(len(h.ring))
	fr := h.ring[i]
	h.ring[i] = nil
	if fr != nil {
		h.ringBytes -= len(fr.data)
		if h.index[fr.cursor] == h.first {
			delete(h.index, fr.cursor)
		}
	}
	h.first++
}

// replayLocked queues ring frames from seq on; the caller checked there is room.
func (h *hub) replayLocked(c *client, from int64) {
	for s := from; s <= h.seq; s++ {
		c.q.pushForce(h.ring[s%int64(len(h.ring))])
	}
}

// roomFor is how many ring frames a joining client may take at once: half its free room, so that its
// other streams keep room and the join itself never makes it a slow consumer.
func roomFor(c *client) int { return max(c.q.free()/2, 1) }

// ringFrom returns the seq of the ring frame with cursor, if it is there and the frames from it on
// fit in c's queue.
func (h *hub) ringFrom(c *client, cursor string) (int64, bool) {
	seq, ok := h.index[cursor]
	if !ok || seq < h.first {
		return 0, false
	}
	return seq, int(h.seq-seq+1) <= roomFor(c)
}

// join starts delivery of this stream to c: live when after is "", else everything after that cursor.
func (h *hub) join(c *client, after string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.isClosing() {
		return
	}
	if after == "" {
		h.subs[c] = struct{}{}
		return
	}
	if seq, ok := h.index[after]; ok && seq >= h.first && int(h.seq-seq) <= roomFor(c) {
		h.replayLocked(c, seq+1)
		h.subs[c] = struct{}{}
		return
	}
	if h.f.ctx.Err() != nil { // stopping: the client is being closed anyway
		return
	}
	h.f.log.Debug("resuming from disk", "client", c.info.ID, "stream", h.stream, "cursor", after)
	h.startCatchUpLocked(c, &catchup{lastSent: after, index: -1})
}

// startCatchUpLocked starts feeding c from a reader of its own, just after cu.lastSent.
func (h *hub) startCatchUpLocked(c *client, cu *catchup) {
	ctx, cancel := context.WithCancel(c.ctx)
	stopWithFeed := context.AfterFunc(h.f.ctx, cancel)
	cu.cancel = cancel
	h.pending[c] = cu
	h.f.wg.Add(1)
	go func() {
		defer h.f.wg.Done()
		defer stopWithFeed()
		defer cancel()
		h.catchUp(ctx, c, cu)
	}()
}

func (h *hub) leave(c *client) {
	h.mu.Lock()
	delete(h.subs, c)
	if cu := h.pending[c]; cu != nil {
		cu.cancel()
		delete(h.pending, c)
	}
	h.mu.Unlock()
}

// catchup is a client's own reader on one stream, until it (re)joins the hub: a client that
// resumed from a cursor older than the ring, or that fell behind the broadcast (moved).
type catchup struct {
	lastSent string // cursor of the last line queued for the client (or its resume cursor)
	index    int64  // the hub's number of the line at lastSent; -1 when unknown (a resume cursor)
	moved    bool   // the client fell behind the broadcast (not a resume)
	joined   bool
	cancel   context.CancelFunc
}

// catchUp feeds c from its own reader, started after pos, until its reader reaches a line still in
// the hub's ring (then the rest comes from the ring and c joins the broadcast), or the hub reaches
// the last line the reader sent (publish joins c). It reads only as fast as c drains its queue
// (lowWait), so however far behind c is, it holds a few frames in memory. Frames are signed for
// c alone (or their signatures found in the shared table). Both checks happen under the hub's
// lock, so each line reaches c exactly once.
func (h *hub) catchUp(ctx context.Context, c *client, cu *catchup) {
	var src Source // opened after cu.lastSent when the history does not have c's next line
	defer func() {
		if src != nil {
			_ = src.Close()
		}
	}()
	for {
		for wait := c.q.lowWait(); wait != nil; wait = c.q.lowWait() {
			select {
			case <-wait:
			case <-ctx.Done():
				return
			}
		}
		switch took, done := h.fromHistory(c, cu); {
		case done:
			return
		case took:
			if src != nil { // it stands before what the history gave: reopened when needed
				_ = src.Close()
				src = nil
			}
			continue
		}
		if src == nil {
			var err error
			if src, err = h.f.open(h.stream, cu.lastSent, false); err != nil {
				h.catchUpFailed(c, cu, err)
				return
			}
		}
		e, err := src.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			h.catchUpFailed(c, cu, err)
			return
		}
		cursor, data := e.Cursor, e.Frame
		// The ring first: a line still there needs no signing, and c joins the broadcast at it.
		// Then the frames other catch-ups signed lately: clients that fell behind together read
		// the same lines, and each is signed once between them.
		h.mu.Lock()
		if h.overLocked(c, cu) || h.joinAtRingLocked(c, cu, cursor) {
			h.mu.Unlock()
			return
		}
		if data == nil {
			data = h.recent.get(cursor)
		}
		h.mu.Unlock()
		var ferr error
		if data == nil {
			var ok bool
			if data, ferr, ok = h.signCatchUp(ctx, e.Line, cursor); !ok {
				return
			}
		}
		h.mu.Lock()
		if h.overLocked(c, cu) { // the hub reached c's last line meanwhile: it joined
			h.mu.Unlock()
			return
		}
		if ferr != nil {
			data = nil // a line that cannot be signed is skipped, as the hub skipped it
		} else if e.Frame == nil {
			h.recent.put(cursor, data)
		}
		h.advanceLocked(c, cu, &frame{cursor: cursor, data: data})
		h.mu.Unlock()
	}
}

// overLocked reports whether cu no longer feeds c: c joined the broadcast, or left (h.mu held).
func (h *hub) overLocked(c *client, cu *catchup) bool { return cu.joined || h.pending[c] != cu }

// joinAtRingLocked joins c to the broadcast at the line at cursor when the ring holds it and the
// frames from it on fit in c's queue (h.mu held).
func (h *hub) joinAtRingLocked(c *client, cu *catchup, cursor string) bool {
	seq, ok := h.ringFrom(c, cursor)
	if !ok {
		return false
	}
	h.f.log.Debug("catch-up met the ring", "client", c.info.ID, "stream", h.stream, "ring_frames", h.seq-seq+1)
	h.replayLocked(c, seq)
	h.joinedLocked(c, cu)
	return true
}

// advanceLocked moves c's catch-up past the line of fr, queueing fr unless it has no data (a
// skipped line) (h.mu held).
func (h *hub) advanceLocked(c *client, cu *catchup, fr *frame) {
	if fr.data != nil {
		c.q.pushForce(fr)
	}
	cu.lastSent = fr.cursor
	if cu.index >= 0 {
		cu.index++
	}
}

// fromHistory queues c's next lines from the stream's history (the frames the hub published
// while c lagged), up to what lowWait lets a catch-up queue, or joins c to the broadcast when the
// ring holds the rest. It reports whether it took any, and done when the catch-up is over.
func (h *hub) fromHistory(c *client, cu *catchup) (took, done bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.overLocked(c, cu) {
		return false, true
	}
	for n := 0; cu.index >= 0 && n < lowFrames; n++ {
		fr, ok := h.history.get(cu.index + 1)
		if !ok {
			break
		}
		if fr.data != nil && h.joinAtRingLocked(c, cu, fr.cursor) {
			return true, true
		}
		h.advanceLocked(c, cu, fr)
		took = true
	}
	return took, false
}

// signCatchUp signs a catch-up line once a token of the feed's catch-up share is free. It reports
// false when ctx ended first.
func (h *hub) signCatchUp(ctx context.Context, line []byte, cursor string) ([]byte, error, bool) {
	select {
	case h.f.catchUpCPU <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, false
	}
	defer func() { <-h.f.catchUpCPU }()
	data, err := h.f.signer.Load().Frame(h.kind, line, cursor)
	return data, err, true
}

func (h *hub) catchUpFailed(c *client, cu *catchup, err error) {
	now := time.Now()
	lines, age, _ := h.lag(c, now)
	h.mu.Lock()
	if h.pending[c] == cu {
		delete(h.pending, c)
	}
	h.mu.Unlock()
	switch {
	case errors.Is(err, errGone) && cu.moved:
		h.f.s.lapped.Add(1)
		h.f.log.Warn("client lapped: the writer rotated its next line away; closing", "client", c.info.ID,
			"key", c.info.Key, "remote", c.info.Remote, "stream", h.stream, "after", cu.lastSent,
			"lag_lines", lines, "lag_seconds", age.Seconds(), "err", err)
		c.close(protocol.CloseCursorGone, truncateReason(fmt.Sprintf("lapped on %s: %d lines (%s) behind, the next one was rotated away; resume without a cursor",
			h.stream, lines, age.Round(time.Second))), true)
	case errors.Is(err, errGone):
		h.f.log.Info("resume cursor gone", "client", c.info.ID, "stream", h.stream, "cursor", cu.lastSent, "err", err)
		c.close(protocol.CloseCursorGone, truncateReason(fmt.Sprintf("resume cursor for %s is no longer on disk; resume without it", h.stream)), true)
	default:
		h.f.log.Error("catch-up reader failed", "client", c.info.ID, "stream", h.stream, "cursor", cu.lastSent, "err", err)
		c.close(protocol.CloseInternal, truncateReason(fmt.Sprintf("cannot read %s from the data log: %v", h.stream, err)), true)
	}
}

func (h *hub) stats() child.ReaderStats {
	src := h.source()
	h.mu.Lock()
	st := child.ReaderStats{Stream: string(h.stream), Position: h.pos, Err: h.lastErr, LastErr: h.lastProb,
		Entries: h.entries, NewestAt: h.newestAt, Source: h.f.source}
	h.mu.Unlock()
	if s, ok := src.(*streamSource); ok {
		st.Key, st.LastID = s.Key(), s.LastID()
	}
	return st
}
